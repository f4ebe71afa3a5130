//! Native Excel charts beside a report's table, for the reports a National
//! Report author draws: the indicator dynamics over periods, the indicator
//! blocks of a governing body, its districts or schools ranked, and two
//! periods compared.
//!
//! Every series is a reference to the table's own cells (never a copy of
//! the numbers), so an author who corrects a figure sees the chart follow.
//! Titles, series and axis names are in Kazakh and Russian, as the table's
//! two header rows are. Bars of a unit are coloured by its band (the
//! palette of [`bands`](super::bands)); those colours are set when the
//! workbook is written, the band cells themselves recolour on edit.

mod dynamics;
mod units;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use rust_xlsxwriter::{
    Chart, ChartFont, ChartFormat, ChartLegendPosition, ChartPoint, ChartRange, ChartSolidFill,
    Worksheet,
};

use super::col_num;
use crate::reports::ReportError;

/// Charts side by side beside the table, and the pixels between them.
const CHARTS_PER_ROW: usize = 2;
const GAP: u32 = 16;
/// Default chart size in pixels: two charts side by side are as wide as a
/// landscape A4 page's printable width, so a printed chart is never cut.
const CHART_WIDTH: u32 = 440;
const CHART_HEIGHT: u32 = 360;
/// Title font size (points): two lines, Kazakh then Russian.
const TITLE_SIZE: u8 = 12;
/// A horizontal bar chart grows with its bars, up to this height.
const BAR_PIXELS: u32 = 22;
const MAX_CHART_HEIGHT: u32 = 2_400;
/// Excel's default column width (characters) and its pixels.
const DEFAULT_WIDTH: f64 = 8.43;
const DEFAULT_WIDTH_PIXELS: u32 = 64;
/// At most this many charts on one sheet: a country-wide ranking has two
/// per region (40); more would be more than anyone reads on one sheet
/// (`--unit region:*` gives each region a sheet of its own).
const MAX_CHARTS: usize = 40;

/// A report's table as written on its sheet: where its data rows are, and
/// its values, for choosing what to chart.
pub(super) struct Table<'a> {
    /// The sheet's name, as chart ranges refer to it.
    pub(super) sheet: &'a str,
    /// Every data row in one batch.
    pub(super) rows: &'a RecordBatch,
    /// The worksheet row of the first data row (below the header rows).
    pub(super) first_row: u32,
}

impl Table<'_> {
    /// Number of data rows.
    fn len(&self) -> usize {
        self.rows.num_rows()
    }

    /// The index of the column called `name`.
    fn col(&self, name: &str) -> Option<usize> {
        self.rows.schema().index_of(name).ok()
    }

    /// The worksheet row of data row `index`.
    fn row(&self, index: usize) -> u32 {
        self.first_row + index as u32
    }

    /// The cells of column `col` over data rows `rows` (a half-open range of
    /// data row indices), as a chart range.
    fn range(&self, col: usize, rows: &std::ops::Range<usize>) -> Result<ChartRange, ReportError> {
        self.span(col, col, rows)
    }

    /// The cells of columns `first..=last` over data rows `rows`: a
    /// multi-level category range when the columns differ.
    fn span(
        &self,
        first: usize,
        last: usize,
        rows: &std::ops::Range<usize>,
    ) -> Result<ChartRange, ReportError> {
        Ok(ChartRange::new_from_range(
            self.sheet,
            self.row(rows.start),
            col_num(first)?,
            self.row(rows.end.saturating_sub(1)),
            col_num(last)?,
        ))
    }

    /// Column `name` as text, one entry per data row (NULL as `None`); all
    /// `None` when there is no such column.
    fn texts(&self, name: &str) -> Result<Vec<Option<String>>, ReportError> {
        let Some(col) = self.col(name) else {
            return Ok(vec![None; self.len()]);
        };
        let column = cast(self.rows.column(col), &DataType::Utf8)?;
        Ok(column
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect())
    }

    /// Whether column `name` has a non-NULL value in data rows `rows`.
    fn any_value(&self, name: &str, rows: &std::ops::Range<usize>) -> bool {
        self.col(name).is_some_and(|col| {
            let column = self.rows.column(col);
            rows.clone().any(|i| column.is_valid(i))
        })
    }
}

/// Adds the charts of report `report` beside `table`, whose columns end at
/// `width`; returns how many. Reports without charts get none, and so does
/// an empty table.
pub(super) fn add_charts(
    worksheet: &mut Worksheet,
    report: &str,
    table: &Table<'_>,
    width: usize,
) -> Result<usize, ReportError> {
    if table.len() == 0 {
        return Ok(0);
    }
    let mut charts = match report {
        "indicator_dynamics" => dynamics::dynamics_charts(table)?,
        "indicator_blocks" => dynamics::block_charts(table)?,
        "rankings" => units::ranking_charts(table)?,
        "period_comparison" => units::comparison_charts(table)?,
        _ => Vec::new(),
    };
    charts.truncate(MAX_CHARTS);
    // One empty column between the table and the charts, two charts a
    // row from the first data row down, placed by pixel offsets.
    let col = col_num(width + 1)?;
    let mut y = 0;
    for row in charts.chunks(CHARTS_PER_ROW) {
        let mut x = 0;
        for (chart, _) in row {
            worksheet.insert_chart_with_offset(table.first_row, col, chart, x, y)?;
            x += CHART_WIDTH + GAP;
        }
        y += row.iter().map(|(_, height)| *height).max().unwrap_or(0) + GAP;
    }
    // The columns under the charts get Excel's default width written out:
    // LibreOffice's own default is wider and would stretch the charts,
    // which are anchored to cells.
    let covered = (CHARTS_PER_ROW as u32 * (CHART_WIDTH + GAP)).div_ceil(DEFAULT_WIDTH_PIXELS) + 1;
    for c in 0..covered {
        worksheet.set_column_width(col_num(width + 1 + c as usize)?, DEFAULT_WIDTH)?;
    }
    Ok(charts.len())
}

/// A chart with its title and size; returns it with its height.
fn new_chart(chart: Chart, title: &str, height: u32) -> (Chart, u32) {
    let mut chart = chart;
    let height = height.min(MAX_CHART_HEIGHT);
    chart
        .title()
        .set_name(title)
        .set_font(ChartFont::new().set_size(TITLE_SIZE).set_bold());
    chart.set_width(CHART_WIDTH).set_height(height);
    chart.legend().set_position(ChartLegendPosition::Bottom);
    (chart, height)
}

/// A solid fill of `color`.
fn fill(color: rust_xlsxwriter::Color) -> ChartFormat {
    let mut format = ChartFormat::new();
    format.set_solid_fill(ChartSolidFill::new().set_color(color));
    format
}

/// One point per band text, filled with its band's colour.
fn band_points(bands: &[Option<String>]) -> Vec<ChartPoint> {
    bands
        .iter()
        .map(|band| {
            ChartPoint::new().set_format(&mut fill(super::bands::bar_color_of(band.as_deref())))
        })
        .collect()
}

/// `kk / ru`: one bilingual label.
fn both(kk: &str, ru: &str) -> String {
    format!("{kk} / {ru}")
}

#[cfg(test)]
mod tests;
