//! The charts of one unit's indicators: their dynamics over periods
//! (`indicator_dynamics`) and the indicator blocks of one period
//! (`indicator_blocks`).

use rust_xlsxwriter::{
    Chart, ChartAxisCrossing, ChartLine, ChartLineDashType, ChartMarker, ChartMarkerType,
    ChartPoint, ChartType, Color,
};

use super::super::bands::{Band, bar_color_of};
use super::{CHART_HEIGHT, Table, band_points, both, fill, new_chart};
use crate::reports::ReportError;

/// Line colours of the two indicators (their required levels are dashed
/// lines of the same colour).
const PERFORMANCE_COLOR: Color = Color::RGB(0x2E_75_B6);
const QUALITY_COLOR: Color = Color::RGB(0xC0_5A_1A);
/// Status colours of the stacked shares, best first.
const STATUS_COLORS: [(&str, &str, &str, Color); 4] = [
    ("n_excellent", "Үздік", "Отличники", Color::RGB(0x1E_84_49)),
    ("n_good", "Жақсы", "Хорошисты", Color::RGB(0x7D_CE_A0)),
    (
        "n_satisfactory",
        "Орташа",
        "Удовлетворительно",
        Color::RGB(0xF0_B4_29),
    ),
    (
        "n_low",
        "Үлгерімі төмен",
        "Неуспевающие",
        Color::RGB(0xD9_4B_4B),
    ),
];
/// The lines' chart is taller: four legend entries below it.
const LINES_HEIGHT: u32 = 460;
/// The grey of a required level drawn as a bar.
const REQUIRED_COLOR: Color = Color::RGB(0x80_80_80);

/// `indicator_dynamics`: the two indicators with their required levels as
/// lines over the periods, and the status shares as stacked columns per
/// period (shares of the students with a status of the four: exempt and
/// ungraded students are left out, as in the seed's status table). The x axis is the academic year and the period (two category
/// levels) when those columns are side by side, else the period.
pub(super) fn dynamics_charts(table: &Table<'_>) -> Result<Vec<(Chart, u32)>, ReportError> {
    let rows = 0..table.len();
    let Some(period) = table.col("period") else {
        return Ok(Vec::new());
    };
    let first_cat = match table.col("academic_year_label") {
        Some(year) if year + 1 == period => year,
        _ => period,
    };
    let categories = table.span(first_cat, period, &rows)?;
    let mut charts = Vec::new();

    let (mut lines, height) = new_chart(
        Chart::new(ChartType::Line),
        "Үлгерім деңгейі мен білім сапасының динамикасы\nДинамика уровня успеваемости и качества знаний",
        LINES_HEIGHT,
    );
    let series = [
        (
            "performance_level",
            both("Үлгерім деңгейі", "Уровень успеваемости"),
            PERFORMANCE_COLOR,
            Some("performance_band"),
        ),
        (
            "required_performance_pct",
            both("Үлгерім: талап етілетін", "Успеваемость: требуемый"),
            PERFORMANCE_COLOR,
            None,
        ),
        (
            "knowledge_quality",
            both("Білім сапасы", "Качество знаний"),
            QUALITY_COLOR,
            Some("quality_band"),
        ),
        (
            "required_quality_pct",
            both("Сапа: талап етілетін", "Качество: требуемое"),
            QUALITY_COLOR,
            None,
        ),
    ];
    let mut drawn = 0;
    // An indicator's line has a marker per period filled with that
    // period's band colour (ringed in the line's colour; Excel draws them,
    // LibreOffice 7.4 keeps the series' own marker); a required level (no
    // band) is a dashed line without markers.
    for (column, name, color, band) in series {
        let Some(col) = table.col(column) else {
            continue;
        };
        let mut line = ChartLine::new();
        line.set_color(color)
            .set_width(if band.is_some() { 2.25 } else { 1.5 });
        let mut marker = ChartMarker::new();
        let mut points = Vec::new();
        match band {
            Some(band) => {
                marker
                    .set_type(ChartMarkerType::Circle)
                    .set_size(7)
                    .set_format(&mut fill(color));
                points = band_markers(&table.texts(band)?, color);
            }
            None => {
                line.set_dash_type(ChartLineDashType::Dash);
                marker.set_none();
            }
        }
        lines
            .add_series()
            .set_categories(&categories)
            .set_values(&table.range(col, &rows)?)
            .set_name(name.as_str())
            .set_format(&mut line)
            .set_marker(&marker)
            .set_points(&points);
        drawn += 1;
    }
    if drawn > 0 {
        percent_axis(&mut lines, "Мәні, %\nЗначение, %");
        lines.x_axis().set_name("Кезең\nПериод");
        charts.push((lines, height));
    }

    let (mut shares, height) = new_chart(
        Chart::new(ChartType::ColumnPercentStacked),
        "Оқушылардың мәртебелер бойынша үлесі\nДоли учащихся по статусам",
        CHART_HEIGHT,
    );
    let mut drawn = 0;
    for (column, kk, ru, color) in STATUS_COLORS {
        let Some(col) = table.col(column) else {
            continue;
        };
        shares
            .add_series()
            .set_categories(&categories)
            .set_values(&table.range(col, &rows)?)
            .set_name(both(kk, ru).as_str())
            .set_format(&mut fill(color))
            .set_gap(60);
        drawn += 1;
    }
    if drawn > 0 {
        shares.y_axis().set_num_format("0%");
        shares.y_axis().set_name("Үлесі, %\nДоля, %");
        shares.x_axis().set_name("Кезең\nПериод");
        charts.push((shares, height));
    }
    Ok(charts)
}

/// `indicator_blocks`: each indicator's value (coloured by its band) beside
/// its required level, and, for a governing body, how many of its schools
/// reach the school-level required value and how many do not.
pub(super) fn block_charts(table: &Table<'_>) -> Result<Vec<(Chart, u32)>, ReportError> {
    let rows = 0..table.len();
    let (Some(kk), Some(value)) = (table.col("indicator_kk"), table.col("value_pct")) else {
        return Ok(Vec::new());
    };
    // Kazakh and Russian indicator names as two category levels.
    let last_cat = match table.col("indicator_ru") {
        Some(ru) if ru == kk + 1 => ru,
        _ => kk,
    };
    let categories = table.span(kk, last_cat, &rows)?;
    let unit_kk = table.texts("name_kk")?.into_iter().flatten().next();
    let unit_ru = table.texts("name_ru")?.into_iter().flatten().next();
    let unit = match (unit_kk, unit_ru) {
        (Some(kk), Some(ru)) => format!("{kk} / {ru}: "),
        _ => String::new(),
    };
    let mut charts = Vec::new();

    let (mut values, height) = new_chart(
        Chart::new(ChartType::Column),
        &format!("{unit}көрсеткіштер блогы\nблоки показателей"),
        CHART_HEIGHT,
    );
    values
        .add_series()
        .set_categories(&categories)
        .set_values(&table.range(value, &rows)?)
        .set_name(both("Көрсеткіш мәні", "Значение показателя").as_str())
        .set_points(&band_points(&table.texts("band")?))
        .set_gap(80);
    if let Some(required) = table.col("required_pct") {
        values
            .add_series()
            .set_categories(&categories)
            .set_values(&table.range(required, &rows)?)
            .set_name(both("Талап етілетін деңгей", "Требуемый уровень").as_str())
            .set_format(&mut fill(REQUIRED_COLOR));
    }
    percent_axis(&mut values, "Мәні, %\nЗначение, %");
    // The value's bars have their band's colours: a single legend swatch
    // would show none of them.
    values.legend().delete_entries(&[0]);
    charts.push((values, height));

    let counts = (
        table.col("schools_meeting"),
        table.col("schools_not_meeting"),
    );
    if let (Some(meeting), Some(not_meeting)) = counts
        && table.any_value("schools", &rows)
    {
        let (mut schools, height) = new_chart(
            Chart::new(ChartType::BarStacked),
            "Мектептердің талап етілетін деңгейге жетуі\nДостижение школами требуемого уровня",
            CHART_HEIGHT,
        );
        schools
            .add_series()
            .set_categories(&categories)
            .set_values(&table.range(meeting, &rows)?)
            .set_name(both("Жеткен мектептер", "Достигли").as_str())
            .set_format(&mut fill(Band::High.bar_color()))
            .set_gap(60);
        schools
            .add_series()
            .set_categories(&categories)
            .set_values(&table.range(not_meeting, &rows)?)
            .set_name(both("Жетпеген мектептер", "Не достигли").as_str())
            .set_format(&mut fill(Band::Low.bar_color()));
        // A bar chart's x axis is its horizontal, value axis.
        schools
            .x_axis()
            .set_name("Мектептер саны\nЧисло школ")
            .set_num_format("0");
        // The first indicator on top, as in the table.
        schools
            .y_axis()
            .set_reverse()
            .set_crossing(ChartAxisCrossing::Max);
        charts.push((schools, height));
    }
    Ok(charts)
}

/// One marker format per band text: filled with the band's colour, ringed
/// in `ring` (the line's colour).
fn band_markers(bands: &[Option<String>], ring: Color) -> Vec<ChartPoint> {
    bands
        .iter()
        .map(|band| {
            let mut format = fill(bar_color_of(band.as_deref()));
            format.set_border(ChartLine::new().set_color(ring).set_width(1.25));
            ChartPoint::new().set_format(&mut format)
        })
        .collect()
}

/// A value axis from 0% to 100% named `name`: the table's percentages are
/// fractions shown as `0.0%`.
pub(super) fn percent_axis(chart: &mut Chart, name: &str) {
    percent_axis_of(chart, name, false);
}

/// [`percent_axis`], on the x axis when `horizontal`: a bar chart's value
/// axis is its x axis.
pub(super) fn percent_axis_of(chart: &mut Chart, name: &str, horizontal: bool) {
    let axis = if horizontal {
        chart.x_axis()
    } else {
        chart.y_axis()
    };
    axis.set_min(0.0)
        .set_max(1.0)
        .set_num_format("0%")
        .set_name(name);
}
