//! The charts of a governing body's units: its districts or schools ranked
//! by knowledge quality (`rankings`), and their indicators in two periods
//! (`period_comparison`). One horizontal bar per unit, coloured by its band,
//! in the table's order (the first row on top).

use std::ops::Range;

use rust_xlsxwriter::{Chart, ChartAxisCrossing, ChartType, Color};

use super::dynamics::percent_axis_of;
use super::{BAR_PIXELS, CHART_HEIGHT, Table, band_points, both, fill, new_chart};
use crate::reports::ReportError;

/// Height of a bar chart's title, legend and axis beside its bars.
const BAR_CHART_FRAME: u32 = 140;
/// The base period's bars, drawn behind the compared period's band colours.
const BASE_COLOR: Color = Color::RGB(0xBF_BF_BF);
/// The compared period's legend swatch (its bars have their band colours).
const COMPARED_COLOR: Color = Color::RGB(0x59_59_59);

/// `(plural kk, plural ru)` of a unit level, for titles.
fn level_names(level: &str) -> (&'static str, &'static str) {
    match level {
        "region" => ("облыстар", "области"),
        "district" => ("аудандар", "районы"),
        "school" => ("мектептер", "школы"),
        _ => ("бірліктер", "единицы"),
    }
}

/// The runs of consecutive rows with equal `keys`, as data row ranges.
fn runs<K: PartialEq>(keys: &[K]) -> Vec<Range<usize>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if keys[run.start] == *key => run.end = i + 1,
            _ => runs.push(i..i + 1),
        }
    }
    runs
}

/// A horizontal bar chart of `rows` units, first row on top.
fn bar_chart(chart_type: ChartType, title: &str, rows: &Range<usize>) -> (Chart, u32) {
    let bars = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    let height = (BAR_CHART_FRAME + bars.saturating_mul(BAR_PIXELS)).max(CHART_HEIGHT);
    let (mut chart, height) = new_chart(Chart::new(chart_type), title, height);
    // A bar chart's y axis is its vertical, category axis: reversed, the
    // table's first row is the top bar; the value axis then crosses it at
    // its last category, so it stays at the bottom.
    chart
        .y_axis()
        .set_reverse()
        .set_crossing(ChartAxisCrossing::Max);
    (chart, height)
}

/// `rankings`: per region and level (the table's row blocks), the
/// districts' or schools' knowledge quality in rank order, each bar in its
/// band's colour.
pub(super) fn ranking_charts(table: &Table<'_>) -> Result<Vec<(Chart, u32)>, ReportError> {
    let Some(quality) = table.col("knowledge_quality") else {
        return Ok(Vec::new());
    };
    let levels = table.texts("level")?;
    let regions = table.texts("region_id")?;
    let region_kk = table.texts("region_kk")?;
    let region_ru = table.texts("region_ru")?;
    let bands = table.texts("quality_band")?;
    let keys: Vec<_> = levels.iter().zip(&regions).collect();
    let mut charts = Vec::new();
    for rows in runs(&keys) {
        let level = levels[rows.start].as_deref().unwrap_or_default();
        let Some(names) = table.col(&format!("{level}_kk")) else {
            continue;
        };
        let (kk, ru) = level_names(level);
        let region = |names: &[Option<String>]| names[rows.start].clone().unwrap_or_default();
        let title = format!(
            "{}: {kk} білім сапасы бойынша\n{}: {ru} по качеству знаний",
            region(&region_kk),
            region(&region_ru)
        );
        let (mut chart, height) = bar_chart(ChartType::Bar, &title, &rows);
        chart
            .add_series()
            .set_categories(&table.range(names, &rows)?)
            .set_values(&table.range(quality, &rows)?)
            .set_name(both("Білім сапасы", "Качество знаний").as_str())
            .set_points(&band_points(&bands[rows.clone()]))
            .set_gap(40);
        chart.legend().set_hidden();
        percent_axis_of(&mut chart, "Білім сапасы, %\nКачество знаний, %", true);
        charts.push((chart, height));
    }
    Ok(charts)
}

/// `period_comparison`: the units one level below the top of the table
/// (a region's districts, the country's regions, a district's schools),
/// each indicator in the base and the compared period, the compared bars in
/// their band's colour. Nothing when the table has a single level.
pub(super) fn comparison_charts(table: &Table<'_>) -> Result<Vec<(Chart, u32)>, ReportError> {
    let levels = table.texts("level")?;
    let Some(rows) = runs(&levels).into_iter().nth(1) else {
        return Ok(Vec::new());
    };
    let Some(names) = table.col("name_kk") else {
        return Ok(Vec::new());
    };
    let (kk, ru) = level_names(levels[rows.start].as_deref().unwrap_or_default());
    let indicators = [
        ("quality", "Білім сапасы", "Качество знаний"),
        ("performance", "Үлгерім деңгейі", "Уровень успеваемости"),
    ];
    let mut charts = Vec::new();
    for (indicator, name_kk, name_ru) in indicators {
        let columns = (
            table.col(&format!("{indicator}_from_pct")),
            table.col(&format!("{indicator}_to_pct")),
        );
        let (Some(from), Some(to)) = columns else {
            continue;
        };
        let title = format!("{name_kk}: {kk}, екі кезең\n{name_ru}: {ru}, два периода");
        let (mut chart, height) = bar_chart(ChartType::Bar, &title, &rows);
        let categories = table.range(names, &rows)?;
        chart
            .add_series()
            .set_categories(&categories)
            .set_values(&table.range(from, &rows)?)
            .set_name(both("Базалық кезең", "Базовый период").as_str())
            .set_format(&mut fill(BASE_COLOR))
            .set_gap(40);
        let bands = table.texts(&format!("{indicator}_band_to"))?;
        chart
            .add_series()
            .set_categories(&categories)
            .set_values(&table.range(to, &rows)?)
            .set_name(
                both(
                    "Салыстырылатын кезең (түсі — санаты)",
                    "Сравниваемый период (цвет — категория)",
                )
                .as_str(),
            )
            // The legend shows the series' own fill, not its bars' band
            // colours: a neutral one, explained by the name.
            .set_format(&mut fill(COMPARED_COLOR))
            .set_points(&band_points(&bands[rows.clone()]));
        percent_axis_of(&mut chart, "Мәні, %\nЗначение, %", true);
        charts.push((chart, height));
    }
    Ok(charts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_group_consecutive_equal_keys() {
        assert_eq!(runs(&["a", "a", "b", "a"]), vec![0..2, 2..3, 3..4]);
        assert_eq!(runs::<&str>(&[]), Vec::<Range<usize>>::new());
        assert_eq!(runs(&[1]), vec![0..1]);
    }
}
