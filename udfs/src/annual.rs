//! The annual mark of SPEC §4.5: the `FINAL` column if set, else `YEAR`.

/// The annual mark of a student in a subject.
///
/// `FINAL` (Қорытынды) wins when it holds a mark; when it is NULL, empty or
/// only whitespace (never set, or cleared — SPEC §6) the `YEAR` (Жыл) mark is
/// used as it is, which may itself be absent. Neither value is normalised:
/// that is `parse_mark`'s job.
pub fn annual_mark<'a>(final_mark: Option<&'a str>, year_mark: Option<&'a str>) -> Option<&'a str> {
    match final_mark {
        Some(mark) if !mark.trim().is_empty() => Some(mark),
        _ => year_mark,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_wins_when_set() {
        assert_eq!(annual_mark(Some("5"), Some("4")), Some("5"));
        assert_eq!(annual_mark(Some("ЕСП"), None), Some("ЕСП"));
        assert_eq!(annual_mark(Some("2"), Some("")), Some("2"));
    }

    #[test]
    fn empty_or_missing_final_falls_back_to_year() {
        assert_eq!(annual_mark(None, Some("4")), Some("4"));
        assert_eq!(annual_mark(Some(""), Some("4")), Some("4"));
        assert_eq!(annual_mark(Some("  \t"), Some("3")), Some("3"));
    }

    #[test]
    fn year_is_returned_as_it_is() {
        assert_eq!(annual_mark(None, None), None);
        assert_eq!(annual_mark(Some(""), None), None);
        assert_eq!(annual_mark(Some(" "), Some("")), Some(""));
    }
}
