//! `sapa report --format xlsx` charts end to end on the generated tiny
//! dataset: `--unit region:*` gives a sheet per region, and every chart
//! reference of a sheet covers exactly that sheet's data rows, in the
//! columns the chart is about (the workbook is unzipped to read the chart
//! parts; calamine reads the cells).

use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};

use crate::support::{data, parse_csv, query_csv, sapa, sapa_fails, sapa_ok};

/// The XML of every chart part of the workbook at `path`.
fn chart_parts(path: &Path) -> Vec<String> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut charts = Vec::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).unwrap();
        if file.name().unwrap().starts_with("xl/charts/chart") {
            let mut xml = String::new();
            file.read_to_string(&mut xml).unwrap();
            charts.push(xml);
        }
    }
    charts
}

/// The `<c:f>` references of a chart part, in order.
fn chart_refs(xml: &str) -> Vec<String> {
    xml.split("<c:f>")
        .skip(1)
        .filter_map(|s| s.split("</c:f>").next())
        .map(String::from)
        .collect()
}

/// `A` → 0, `S` → 18 (one-letter columns: the reports are narrower).
fn col_index(letters: &str) -> u32 {
    assert_eq!(letters.len(), 1, "{letters}");
    u32::from(letters.as_bytes()[0] - b'A')
}

#[test]
fn every_region_gets_a_sheet_whose_charts_cover_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dynamics.xlsx");
    let out = sapa(&[
        "report",
        "indicator_dynamics",
        "--data",
        data(),
        "--unit",
        "region:*",
        "--format",
        "xlsx",
        "--out",
        path.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");

    let (_, regions) = query_csv("SELECT region_id, name_kk FROM regions ORDER BY region_id");
    assert!(regions.len() >= 2, "the tiny data has regions: {regions:?}");
    assert!(
        stderr.contains(&format!("in {} sheets", regions.len())),
        "{stderr}"
    );
    let mut workbook: Xlsx<_> = open_workbook(&path).unwrap();
    let sheets: Vec<String> = regions
        .iter()
        .map(|r| format!("{} {}", r[0], r[1]).chars().take(31).collect())
        .collect();
    assert_eq!(workbook.sheet_names(), sheets);

    let charts = chart_parts(&path);
    assert_eq!(charts.len(), 2 * regions.len(), "two charts per region");
    for (region, sheet) in regions.iter().zip(&sheets) {
        // Hand-counted from the view: one row per period of the region.
        let (_, count) = query_csv(&format!(
            "SELECT count(*) FROM indicators WHERE level = 'region' AND unit_id = {}",
            region[0]
        ));
        let periods: u32 = count[0][0].parse().unwrap();
        assert_eq!(periods, 10, "two years of Q1..Q4 and YEAR");
        let range = workbook.worksheet_range(sheet).unwrap();
        assert_eq!(range.height() as u32, 2 + periods, "{sheet}");
        assert_eq!(
            range.get_value((3, 4)),
            Some(&Data::String("region".into())),
            "{sheet}: the level column"
        );

        // The sheet's charts: each reference is `'SHEET'!$X$3:$Y$12`, the
        // data rows exactly; the values' columns are headed as expected.
        let prefix = format!("'{sheet}'!");
        let mine: Vec<&String> = charts.iter().filter(|c| c.contains(&prefix)).collect();
        assert_eq!(mine.len(), 2, "{sheet}");
        let mut value_headers = Vec::new();
        for chart in &mine {
            for reference in chart_refs(chart) {
                let cells = reference.strip_prefix(&prefix).unwrap();
                let (first, last) = cells.split_once(':').unwrap();
                let parts = |cell: &str| {
                    let cell = cell.trim_start_matches('$');
                    let (col, row) = cell.split_once('$').unwrap();
                    (col.to_string(), row.parse::<u32>().unwrap())
                };
                let ((first_col, first_row), (last_col, last_row)) = (parts(first), parts(last));
                assert_eq!((first_row, last_row), (3, 2 + periods), "{reference}");
                if first_col == last_col {
                    let header = range.get_value((0, col_index(&first_col))).unwrap();
                    value_headers.push(header.to_string());
                } else {
                    // The categories: the year label and the period.
                    assert_eq!((first_col.as_str(), last_col.as_str()), ("B", "C"));
                }
            }
        }
        assert_eq!(
            value_headers,
            [
                "Үлгерім деңгейі, %",
                "Үлгерім деңгейінің талап етілетін мәні, %",
                "Білім сапасы, %",
                "Білім сапасының талап етілетін мәні, %",
                "Үздіктер (Nүз)",
                "Үлгерімі жақсылар (Nү.ж.)",
                "Үлгерімі орташалар",
                "Үлгерімі төмендер (Nү.т.)",
            ],
            "{sheet}"
        );
    }
}

#[test]
fn every_region_needs_a_workbook_and_a_report_with_a_unit() {
    let err = sapa_fails(&[
        "report",
        "indicator_dynamics",
        "--data",
        data(),
        "--unit",
        "region:*",
        "--format",
        "csv",
    ]);
    assert!(err.contains("needs --format xlsx"), "{err}");
    let err = sapa_fails(&[
        "report",
        "national_statistics",
        "--data",
        data(),
        "--unit",
        "region:*",
        "--format",
        "xlsx",
    ]);
    assert!(err.contains("does not take --unit"), "{err}");
    let err = sapa_fails(&["report", "indicator_dynamics", "--unit", "district:*"]);
    assert!(err.contains("district:*"), "{err}");
}

/// The letter of column `index` (the reports are narrower than 26 columns).
fn letter(index: usize) -> char {
    char::from(b'A' + u8::try_from(index).unwrap())
}

#[test]
fn rankings_chart_each_level_of_a_region_in_the_tables_order() {
    let (_, min) = query_csv("SELECT min(region_id) FROM regions");
    let unit = format!("region:{}", min[0][0]);
    let args = |format: &str| {
        [
            "report",
            "rankings",
            "--data",
            data(),
            "--unit",
            &unit,
            "--year",
            "2024",
            "--period",
            "Q2",
            "--format",
            format,
        ]
        .map(String::from)
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rankings.xlsx");
    let mut xlsx = args("xlsx").to_vec();
    xlsx.extend(["--out".to_string(), path.to_str().unwrap().to_string()]);
    sapa_ok(&xlsx.iter().map(String::as_str).collect::<Vec<_>>());
    let csv = sapa_ok(&args("csv").each_ref().map(String::as_str));
    let (header, rows) = parse_csv(&csv);
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();

    // Computed here from the CSV: one chart per run of equal level
    // (the region's districts, then its schools), the names of that level
    // as categories and the knowledge quality as values, over exactly the
    // run's rows (data row i is worksheet row i + 3).
    let mut expected = Vec::new();
    let mut start = 0;
    for i in 1..=rows.len() {
        if i < rows.len() && rows[i][at("level")] == rows[start][at("level")] {
            continue;
        }
        let names = letter(at(&format!("{}_kk", rows[start][at("level")])));
        let quality = letter(at("knowledge_quality"));
        let (first, last) = (start + 3, i + 2);
        expected.push(vec![
            format!("rankings!${names}${first}:${names}${last}"),
            format!("rankings!${quality}${first}:${quality}${last}"),
        ]);
        start = i;
    }
    assert_eq!(expected.len(), 2, "districts and schools: {rows:?}");
    let charts = chart_parts(&path);
    let refs: Vec<Vec<String>> = charts.iter().map(|c| chart_refs(c)).collect();
    assert_eq!(refs, expected);

    // Each bar in its band's colour, in the table's order.
    let band = at("quality_band");
    let color = |band: &str| match band {
        "low" => "D94B4B",
        "medium" => "F0B429",
        "high" => "3CA55C",
        _ => "A6A6A6",
    };
    let mut rows = rows.iter();
    for chart in &charts {
        for point in chart.split("<c:dPt>").skip(1) {
            let row = rows.next().unwrap();
            assert!(
                point.contains(&format!("<a:srgbClr val=\"{}\"", color(&row[band]))),
                "{row:?}: {point}"
            );
        }
    }
    assert!(rows.next().is_none(), "a coloured bar per row");

    // calamine reads the table: the two header rows, then exactly the rows
    // the charts cover.
    let mut workbook: Xlsx<_> = open_workbook(&path).unwrap();
    let range = workbook.worksheet_range("rankings").unwrap();
    assert_eq!(range.height(), 2 + charts_rows(&expected));
}

/// Data rows the charts cover, from their expected references.
fn charts_rows(expected: &[Vec<String>]) -> usize {
    expected
        .iter()
        .map(|refs| {
            let cells = refs[0].split('!').nth(1).unwrap();
            let (first, last) = cells.split_once(':').unwrap();
            let row = |cell: &str| cell.rsplit('$').next().unwrap().parse::<usize>().unwrap();
            row(last) - row(first) + 1
        })
        .sum()
}
