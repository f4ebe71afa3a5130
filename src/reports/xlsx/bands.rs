//! The colours of the SPEC §5.3 bands (`low`, `medium`, `high`), one palette
//! for the table's band cells and the charts' bars, so that a reader matches
//! a red bar to a red cell at a glance.
//!
//! Band cells get conditional formats, not fixed fills: a user sees them in
//! Excel's "Conditional Formatting" manager, keeps them when rows are edited
//! or sorted, and a corrected band recolours itself.

use datafusion::arrow::datatypes::Schema;
use rust_xlsxwriter::{Color, ConditionalFormatCell, ConditionalFormatCellRule, Format, Worksheet};

use super::col_num;
use crate::reports::ReportError;

/// A band of SPEC §5.3 and its colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// `low` (төмен / низкий).
    Low,
    /// `medium` (орташа / средний).
    Medium,
    /// `high` (жоғары / высокий): the required level is met.
    High,
}

impl Band {
    /// Every band, lowest first.
    pub const ALL: [Band; 3] = [Band::Low, Band::Medium, Band::High];

    /// The band spelt `text` in a result (`low`, `medium`, `high`).
    pub fn parse(text: &str) -> Option<Band> {
        Band::ALL.into_iter().find(|b| b.as_str() == text)
    }

    /// The SQL spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Low => "low",
            Band::Medium => "medium",
            Band::High => "high",
        }
    }

    /// The fill of a bar or a marker of this band (red, amber, green).
    pub fn bar_color(self) -> Color {
        match self {
            Band::Low => Color::RGB(0xD9_4B_4B),
            Band::Medium => Color::RGB(0xF0_B4_29),
            Band::High => Color::RGB(0x3C_A5_5C),
        }
    }

    /// The fill of a table cell of this band: a light tint of the bar
    /// colour, so the text stays readable.
    pub fn cell_fill(self) -> Color {
        match self {
            Band::Low => Color::RGB(0xFF_C7_CE),
            Band::Medium => Color::RGB(0xFF_EB_9C),
            Band::High => Color::RGB(0xC6_EF_CE),
        }
    }

    /// The text colour on [`Band::cell_fill`].
    pub fn cell_font(self) -> Color {
        match self {
            Band::Low => Color::RGB(0x9C_00_06),
            Band::Medium => Color::RGB(0x9C_57_00),
            Band::High => Color::RGB(0x00_61_00),
        }
    }
}

/// The bar colour of a band cell's text; grey for a NULL or unknown band
/// (a unit whose every student is exempt has no band).
pub fn bar_color_of(text: Option<&str>) -> Color {
    text.and_then(Band::parse)
        .map_or(Color::RGB(0xA6_A6_A6), Band::bar_color)
}

/// Whether `column` holds a band: `band`, `*_band` or `*_band_from|to`.
pub fn is_band_column(column: &str) -> bool {
    column == "band" || column.ends_with("_band") || column.contains("_band_")
}

/// Adds the three band conditional formats to every band column of
/// `schema`, over the data rows `first_row..=last_row`. Nothing when there
/// are no data rows.
pub fn add_band_formats(
    worksheet: &mut Worksheet,
    schema: &Schema,
    first_row: u32,
    last_row: Option<u32>,
) -> Result<(), ReportError> {
    let Some(last_row) = last_row else {
        return Ok(());
    };
    for (col, field) in schema.fields().iter().enumerate() {
        if !is_band_column(field.name()) {
            continue;
        }
        let col = col_num(col)?;
        for band in Band::ALL {
            let format = Format::new()
                .set_background_color(band.cell_fill())
                .set_font_color(band.cell_font());
            let rule = ConditionalFormatCell::new()
                .set_rule(ConditionalFormatCellRule::EqualTo(band.as_str()))
                .set_format(format);
            worksheet.add_conditional_format(first_row, col, last_row, col, &rule)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_columns_are_recognised_by_name() {
        for yes in [
            "band",
            "quality_band",
            "performance_band",
            "quality_band_from",
            "performance_band_to",
        ] {
            assert!(is_band_column(yes), "{yes}");
        }
        for no in ["bands", "band_count", "knowledge_quality", "husband"] {
            assert!(!is_band_column(no), "{no}");
        }
    }

    #[test]
    fn bands_parse_and_null_is_grey() {
        assert_eq!(Band::parse("medium"), Some(Band::Medium));
        assert_eq!(Band::parse("Medium"), None);
        assert_eq!(bar_color_of(Some("high")), Band::High.bar_color());
        assert_eq!(bar_color_of(None), Color::RGB(0xA6_A6_A6));
        assert_eq!(bar_color_of(Some("?")), Color::RGB(0xA6_A6_A6));
    }
}
