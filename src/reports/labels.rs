//! Kazakh and Russian header labels for result columns, and which columns
//! are percentages.
//!
//! The workbook a report author pastes into the National Report carries two
//! header rows, Kazakh then Russian. [`labels`] (the table `labels.tsv`)
//! maps a column's SQL name to both; a column without an entry is headed by
//! its SQL name in both rows.
//! The wording follows the source documents (`seeds/000_…txt`): Nбар, Nбос,
//! Nү.т., Nүз, Nү.ж. are the seed's own symbols.

use std::sync::LazyLock;

/// The label table, `labels.tsv` beside this file: one line per column,
/// `column<TAB>Kazakh<TAB>Russian`, sorted by column (a unit test checks
/// it); lines starting with `#` are comments.
const LABELS_TSV: &str = include_str!("labels.tsv");

/// `(column, Kazakh label, Russian label)` of every labelled column, sorted
/// by column name.
pub fn labels() -> &'static [(&'static str, &'static str, &'static str)] {
    static LABELS: LazyLock<Vec<(&'static str, &'static str, &'static str)>> =
        LazyLock::new(|| {
            LABELS_TSV
                .lines()
                .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
                .filter_map(|line| {
                    let mut fields = line.split('\t');
                    Some((fields.next()?, fields.next()?, fields.next()?))
                })
                .collect()
        });
    &LABELS
}

/// The `(Kazakh, Russian)` labels of `column`, if it has any.
pub fn label(column: &str) -> Option<(&'static str, &'static str)> {
    let labels = labels();
    labels
        .binary_search_by(|(name, _, _)| (*name).cmp(column))
        .ok()
        .map(|i| (labels[i].1, labels[i].2))
}

/// The `(Kazakh, Russian)` header of `column`: its labels, or its SQL name
/// in both rows when it has none.
pub fn header(column: &str) -> (&str, &str) {
    label(column).unwrap_or((column, column))
}

/// Whether `column` holds a percentage (0–100), which the workbook shows as
/// a `0.0%` cell of value/100. The rule is on the name, so that queries can
/// opt in by naming: a column is a percentage when its name ends with
/// `_pct` or `_share`, starts with `share_`, or is `performance_level` or
/// `knowledge_quality` (the §5.3 indicators).
pub fn is_percentage(column: &str) -> bool {
    column.ends_with("_pct")
        || column.ends_with("_share")
        || column.starts_with("share_")
        || column == "performance_level"
        || column == "knowledge_quality"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_sorted_unique_and_complete() {
        // Every line of the table is one label of three fields.
        let lines: Vec<&str> = LABELS_TSV
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .collect();
        for line in &lines {
            assert_eq!(line.split('\t').count(), 3, "{line:?}");
        }
        assert_eq!(labels().len(), lines.len());
        assert!(labels().len() > 100);
        for pair in labels().windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} ≥ {}", pair[0].0, pair[1].0);
        }
        for (name, kk, ru) in labels() {
            assert!(!kk.trim().is_empty() && !ru.trim().is_empty(), "{name}");
            assert_eq!(label(name), Some((*kk, *ru)));
        }
    }

    /// Every column of the §11 views and of the name columns reports add.
    #[test]
    fn the_view_and_name_columns_are_labelled() {
        let report_by_school = "academic_year period region_id district_id school_id parallel \
            students excellent good satisfactory low exempt ungraded quality_pct \
            performance_pct marks_count";
        let indicators = "academic_year period level unit_id n_total n_exempt n_low \
            n_excellent n_good n_ungraded performance_level performance_band \
            knowledge_quality quality_band schools schools_meeting_performance \
            schools_meeting_quality";
        let student_status = "academic_year period region_id district_id school_id class_id \
            parallel student_id status marks_count locality language school_type";
        let mark_audit = "academic_year period region_id district_id school_id class_id \
            student_id subject_id kind old_mark new_mark recorded_at end_date days_late";
        let names = "region_kk region_ru district_kk district_ru school_kk school_ru \
            name_kk name_ru row_level subject_kk subject_ru";
        for column in [
            report_by_school,
            indicators,
            student_status,
            mark_audit,
            names,
        ]
        .iter()
        .flat_map(|cols| cols.split_whitespace())
        {
            assert!(label(column).is_some(), "{column} has no label");
        }
    }

    #[test]
    fn headers_fall_back_to_the_sql_name() {
        assert_eq!(header("quality_pct"), ("Сапа, %", "Качество, %"));
        assert_eq!(
            header("n_total"),
            ("Оқушылар саны (Nбар)", "Всего учащихся (Nбар)")
        );
        assert_eq!(
            header("mystery_column"),
            ("mystery_column", "mystery_column")
        );
    }

    #[test]
    fn percentages_are_recognised_by_name() {
        for yes in [
            "quality_pct",
            "performance_pct",
            "performance_level",
            "knowledge_quality",
            "share_ungraded",
            "ungraded_share",
        ] {
            assert!(is_percentage(yes), "{yes}");
        }
        for no in [
            "students",
            "performance_band",
            "quality_band",
            "pct_students",
            "shares",
            "n_total",
        ] {
            assert!(!is_percentage(no), "{no}");
        }
    }
}
