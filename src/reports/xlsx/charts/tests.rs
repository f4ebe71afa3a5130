//! Hand-made tiny results written as workbooks, unzipped, and their chart
//! parts read: each chart's series must cover exactly the table's data
//! rows (rows 3.. below the two header rows), in the right columns, with
//! bilingual names and the band colours.

use std::io::{Cursor, Read};
use std::sync::Arc;

use calamine::{Data, Reader, Xlsx};
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{Field, Schema};

use super::super::workbook;
use super::*;

fn text(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn ints(values: &[Option<i64>]) -> ArrayRef {
    Arc::new(Int64Array::from(values.to_vec()))
}

fn floats(values: &[Option<f64>]) -> ArrayRef {
    Arc::new(Float64Array::from(values.to_vec()))
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, array)| array).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

/// The parts of a written workbook: its bytes, and the XML of every part
/// whose path starts with `prefix`, sorted by path.
struct Written {
    bytes: Vec<u8>,
}

impl Written {
    fn new(report: &str, rows: &RecordBatch) -> Written {
        let schema = rows.schema();
        let (mut workbook, n) =
            workbook(report, "title", &schema, std::slice::from_ref(rows)).unwrap();
        assert_eq!(n, rows.num_rows());
        Written {
            bytes: workbook.save_to_buffer().unwrap(),
        }
    }

    fn parts(&self, prefix: &str) -> Vec<(String, String)> {
        let mut zip = zip::ZipArchive::new(Cursor::new(&self.bytes)).unwrap();
        let mut parts = Vec::new();
        for i in 0..zip.len() {
            let mut file = zip.by_index(i).unwrap();
            let name = file.name().unwrap().to_string();
            if name.starts_with(prefix) && name.ends_with(".xml") {
                let mut xml = String::new();
                file.read_to_string(&mut xml).unwrap();
                parts.push((name, xml));
            }
        }
        parts.sort();
        parts
    }

    /// The chart parts' XML, in the order the charts were added.
    fn charts(&self) -> Vec<String> {
        let mut charts = self.parts("xl/charts/chart");
        // chart10 sorts before chart2 as text: order by number.
        charts.sort_by_key(|(name, _)| {
            name.trim_start_matches("xl/charts/chart")
                .trim_end_matches(".xml")
                .parse::<u32>()
                .unwrap()
        });
        charts.into_iter().map(|(_, xml)| xml).collect()
    }

    fn sheet(&self) -> String {
        self.parts("xl/worksheets/sheet1.xml").remove(0).1
    }

    fn cells(&self, sheet: &str) -> calamine::Range<Data> {
        let mut xlsx: Xlsx<_> = Xlsx::new(Cursor::new(self.bytes.clone())).unwrap();
        xlsx.worksheet_range(sheet).unwrap()
    }
}

/// Every `<c:f>` reference of a chart part, in order: series names are
/// literal text, so these are the categories and values.
fn refs(xml: &str) -> Vec<&str> {
    xml.split("<c:f>")
        .skip(1)
        .filter_map(|s| s.split("</c:f>").next())
        .collect()
}

/// The fill colours of a chart's data points (`<c:dPt>`), in order.
fn point_colors(xml: &str) -> Vec<&str> {
    xml.split("<c:dPt>")
        .skip(1)
        .filter_map(|s| s.split("<a:srgbClr val=\"").nth(1))
        .filter_map(|s| s.get(..6))
        .collect()
}

/// A region's indicator dynamics over one academic year: 5 periods.
fn dynamics() -> RecordBatch {
    let five = |v: &str| text(&[Some(v); 5]);
    batch(vec![
        ("academic_year", ints(&[Some(2023); 5])),
        ("academic_year_label", five("2023-2024")),
        (
            "period",
            text(&[Some("Q1"), Some("Q2"), Some("Q3"), Some("Q4"), Some("YEAR")]),
        ),
        (
            "period_order",
            ints(&[
                Some(20231),
                Some(20232),
                Some(20233),
                Some(20234),
                Some(20235),
            ]),
        ),
        ("level", five("region")),
        ("unit_id", ints(&[Some(2); 5])),
        (
            "performance_level",
            floats(&[Some(90.0), Some(95.0), None, Some(97.5), Some(99.0)]),
        ),
        (
            "performance_band",
            text(&[
                Some("medium"),
                Some("high"),
                None,
                Some("high"),
                Some("high"),
            ]),
        ),
        (
            "knowledge_quality",
            floats(&[Some(38.0), Some(40.0), None, Some(86.0), Some(50.0)]),
        ),
        (
            "quality_band",
            text(&[
                Some("low"),
                Some("medium"),
                None,
                Some("high"),
                Some("medium"),
            ]),
        ),
        ("n_total", ints(&[Some(20); 5])),
        ("n_exempt", ints(&[Some(0); 5])),
        ("n_ungraded", ints(&[Some(0); 5])),
        ("n_excellent", ints(&[Some(2); 5])),
        ("n_good", ints(&[Some(5); 5])),
        ("n_satisfactory", ints(&[Some(11); 5])),
        ("n_low", ints(&[Some(2); 5])),
        ("required_performance_pct", floats(&[Some(95.0); 5])),
        ("required_quality_pct", floats(&[Some(86.0); 5])),
    ])
}

#[test]
fn dynamics_lines_and_status_shares_cover_exactly_the_table_rows() {
    let written = Written::new("indicator_dynamics", &dynamics());
    let cells = written.cells("indicator_dynamics");
    assert_eq!(cells.height(), 2 + 5, "two header rows, five periods");
    assert_eq!(cells.get((6, 2)), Some(&Data::String("YEAR".into())));

    let charts = written.charts();
    assert_eq!(charts.len(), 2);
    let (lines, shares) = (&charts[0], &charts[1]);
    // Categories: the year label and the period (B:C), two levels; values:
    // performance (G), its required level (R), quality (I), its required
    // level (S); rows 3..7 exactly.
    let cats = "indicator_dynamics!$B$3:$C$7";
    assert_eq!(
        refs(lines),
        vec![
            cats,
            "indicator_dynamics!$G$3:$G$7",
            cats,
            "indicator_dynamics!$R$3:$R$7",
            cats,
            "indicator_dynamics!$I$3:$I$7",
            cats,
            "indicator_dynamics!$S$3:$S$7",
        ]
    );
    assert!(lines.contains("<c:lineChart>"), "{lines}");
    // Each period's marker in its band's colour: performance (medium, high,
    // none, high, high), then quality (low, medium, none, high, medium).
    let (low, medium, high, none) = ("D94B4B", "F0B429", "3CA55C", "A6A6A6");
    assert_eq!(
        point_colors(lines),
        vec![
            medium, high, none, high, high, low, medium, none, high, medium
        ]
    );
    assert!(lines.contains("<c:multiLvlStrRef>"), "two category levels");
    assert!(
        lines.contains("<a:prstDash val=\"dash\"/>"),
        "required levels dashed"
    );
    for name in [
        "Үлгерім деңгейі / Уровень успеваемости",
        "Білім сапасы / Качество знаний",
        "Үлгерім: талап етілетін / Успеваемость: требуемый",
        "Сапа: талап етілетін / Качество: требуемое",
        "Үлгерім деңгейі мен білім сапасының динамикасы",
        "Динамика уровня успеваемости и качества знаний",
        "Кезең",
        "Период",
    ] {
        assert!(lines.contains(name), "{name} in {lines}");
    }
    // Status shares: excellent, good, satisfactory, low (N..Q).
    assert_eq!(
        refs(shares),
        vec![
            cats,
            "indicator_dynamics!$N$3:$N$7",
            cats,
            "indicator_dynamics!$O$3:$O$7",
            cats,
            "indicator_dynamics!$P$3:$P$7",
            cats,
            "indicator_dynamics!$Q$3:$Q$7",
        ]
    );
    assert!(shares.contains("<c:grouping val=\"percentStacked\"/>"));
    for name in ["Үздік / Отличники", "Үлгерімі төмен / Неуспевающие"]
    {
        assert!(shares.contains(name), "{name}");
    }
}

#[test]
fn band_cells_carry_the_three_conditional_formats() {
    let written = Written::new("indicator_dynamics", &dynamics());
    let sheet = written.sheet();
    // performance_band (H) and quality_band (J), over the data rows.
    for sqref in ["H3:H7", "J3:J7"] {
        let block = sheet
            .split(&format!("<conditionalFormatting sqref=\"{sqref}\">"))
            .nth(1)
            .unwrap_or_else(|| panic!("no conditional format on {sqref}: {sheet}"));
        let block = block.split("</conditionalFormatting>").next().unwrap();
        for band in ["low", "medium", "high"] {
            assert!(
                block.contains(&format!("<formula>\"{band}\"</formula>")),
                "{sqref} {band}: {block}"
            );
        }
    }
    assert_eq!(sheet.matches("<conditionalFormatting").count(), 2);
    // The fills of the three bands are in the styles' dxf part.
    let styles = written.parts("xl/styles.xml").remove(0).1;
    for fill in ["FFC7CE", "FFEB9C", "C6EFCE"] {
        assert!(styles.contains(fill), "{fill}");
    }
}

/// A region with two districts and three schools, ranked by quality.
fn rankings() -> RecordBatch {
    let levels = [
        Some("district"),
        Some("district"),
        Some("school"),
        Some("school"),
        Some("school"),
    ];
    batch(vec![
        ("level", text(&levels)),
        ("region_id", ints(&[Some(2); 5])),
        ("region_kk", text(&[Some("Абай облысы"); 5])),
        ("region_ru", text(&[Some("Абайская область"); 5])),
        (
            "district_id",
            ints(&[Some(7), Some(8), Some(8), Some(7), Some(8)]),
        ),
        (
            "district_kk",
            text(&[Some("Аягөз"), Some("Үржар"), None, None, None]),
        ),
        (
            "district_ru",
            text(&[Some("Аягоз"), Some("Урджар"), None, None, None]),
        ),
        (
            "school_id",
            ints(&[None, None, Some(31), Some(30), Some(32)]),
        ),
        (
            "school_kk",
            text(&[None, None, Some("№31"), Some("№30"), Some("№32")]),
        ),
        (
            "school_ru",
            text(&[None, None, Some("№31"), Some("№30"), Some("№32")]),
        ),
        (
            "n_total",
            ints(&[Some(40), Some(30), Some(10), Some(20), Some(10)]),
        ),
        (
            "knowledge_quality",
            floats(&[Some(90.0), Some(50.0), Some(45.0), Some(35.0), None]),
        ),
        (
            "quality_band",
            text(&[
                Some("high"),
                Some("medium"),
                Some("high"),
                Some("medium"),
                None,
            ]),
        ),
        (
            "quality_rank",
            ints(&[Some(1), Some(2), Some(1), Some(2), None]),
        ),
    ])
}

#[test]
fn rankings_chart_each_block_in_band_colours() {
    let written = Written::new("rankings", &rankings());
    let charts = written.charts();
    assert_eq!(charts.len(), 2, "the districts, then the schools");
    // Districts: rows 3..4, names in F, quality in L.
    assert_eq!(
        refs(&charts[0]),
        vec!["rankings!$F$3:$F$4", "rankings!$L$3:$L$4"]
    );
    // Schools: rows 5..7, names in I.
    assert_eq!(
        refs(&charts[1]),
        vec!["rankings!$I$5:$I$7", "rankings!$L$5:$L$7"]
    );
    assert_eq!(point_colors(&charts[0]), vec!["3CA55C", "F0B429"]);
    // A school with no value (every student exempt) is grey.
    assert_eq!(point_colors(&charts[1]), vec!["3CA55C", "F0B429", "A6A6A6"]);
    assert!(charts[0].contains("<c:barDir val=\"bar\"/>"));
    assert!(
        charts[0].contains("<c:orientation val=\"maxMin\"/>"),
        "rank 1 on top"
    );
    assert!(charts[0].contains("Абай облысы: аудандар білім сапасы бойынша"));
    assert!(charts[1].contains("Абайская область: школы по качеству знаний"));
}

#[test]
fn period_comparison_charts_the_units_one_level_down() {
    let levels = [
        Some("region"),
        Some("district"),
        Some("district"),
        Some("school"),
    ];
    let rows = batch(vec![
        ("level", text(&levels)),
        ("unit_id", ints(&[Some(2), Some(7), Some(8), Some(30)])),
        (
            "name_kk",
            text(&[
                Some("Абай облысы"),
                Some("Аягөз"),
                Some("Үржар"),
                Some("№30"),
            ]),
        ),
        ("quality_from_pct", floats(&[Some(50.0); 4])),
        ("quality_to_pct", floats(&[Some(60.0); 4])),
        (
            "quality_band_to",
            text(&[Some("medium"), Some("low"), Some("high"), Some("high")]),
        ),
        ("performance_from_pct", floats(&[Some(90.0); 4])),
        ("performance_to_pct", floats(&[Some(96.0); 4])),
        ("performance_band_to", text(&[Some("high"); 4])),
    ]);
    let written = Written::new("period_comparison", &rows);
    let charts = written.charts();
    assert_eq!(charts.len(), 2, "quality, performance");
    let names = "period_comparison!$C$4:$C$5";
    assert_eq!(
        refs(&charts[0]),
        vec![
            names,
            "period_comparison!$D$4:$D$5",
            names,
            "period_comparison!$E$4:$E$5"
        ]
    );
    assert_eq!(
        refs(&charts[1]),
        vec![
            names,
            "period_comparison!$G$4:$G$5",
            names,
            "period_comparison!$H$4:$H$5"
        ]
    );
    assert_eq!(point_colors(&charts[0]), vec!["D94B4B", "3CA55C"]);
    assert!(charts[0].contains("Базалық кезең / Базовый период"));
    assert!(charts[1].contains("Уровень успеваемости: районы, два периода"));
}

#[test]
fn indicator_blocks_show_value_beside_required_level() {
    let two = |v: &str| text(&[Some(v); 2]);
    let rows = batch(vec![
        ("level", two("region")),
        ("name_kk", two("Абай облысы")),
        ("name_ru", two("Абайская область")),
        ("indicator", text(&[Some("performance"), Some("quality")])),
        (
            "indicator_kk",
            text(&[Some("Үлгерім деңгейі"), Some("Білім сапасы")]),
        ),
        (
            "indicator_ru",
            text(&[Some("Уровень успеваемости"), Some("Качество знаний")]),
        ),
        ("value_pct", floats(&[Some(96.0), Some(39.0)])),
        ("band", text(&[Some("high"), Some("low")])),
        ("required_pct", floats(&[Some(95.0), Some(86.0)])),
        ("schools", ints(&[Some(3); 2])),
        ("schools_meeting", ints(&[Some(2), Some(1)])),
        ("schools_not_meeting", ints(&[Some(1), Some(2)])),
    ]);
    let written = Written::new("indicator_blocks", &rows);
    let charts = written.charts();
    assert_eq!(charts.len(), 2);
    let cats = "indicator_blocks!$E$3:$F$4";
    assert_eq!(
        refs(&charts[0]),
        vec![
            cats,
            "indicator_blocks!$G$3:$G$4",
            cats,
            "indicator_blocks!$I$3:$I$4"
        ]
    );
    assert_eq!(point_colors(&charts[0]), vec!["3CA55C", "D94B4B"]);
    assert!(charts[0].contains("Абай облысы / Абайская область"));
    assert_eq!(
        refs(&charts[1]),
        vec![
            cats,
            "indicator_blocks!$K$3:$K$4",
            cats,
            "indicator_blocks!$L$3:$L$4"
        ]
    );
}

#[test]
fn other_reports_and_empty_tables_have_no_charts() {
    let written = Written::new("quarterly_report", &dynamics());
    assert!(written.charts().is_empty());
    let empty = dynamics().slice(0, 0);
    let written = Written::new("indicator_dynamics", &empty);
    assert!(written.charts().is_empty());
    assert!(!written.sheet().contains("<conditionalFormatting"));
}
