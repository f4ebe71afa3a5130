//! The header parser on hand-written files, and the embedded catalog
//! against the `queries/` directory.

use super::*;

const GOOD: &str = "\
-- title: Grading completeness
-- title_kk: Бағалаудың толықтығы
-- title_ru: Полнота выставления оценок
-- answers: the share of ungraded students per unit,
--   for the weekly monitoring
-- For: governing bodies
-- params: year, period unit
-- Free text: not a header line, since the header has ended.
-- $ignored placeholders in comments
SELECT $year, $period, $unit_level, '$not_a_placeholder' AS \"$nor_this\"
/* $nor_in_a_block */
FROM t WHERE $region_id IS NULL;
";

#[test]
fn a_full_header_parses() {
    let q = CannedQuery::parse("completeness", GOOD).unwrap();
    assert_eq!(q.name, "completeness");
    assert_eq!(q.title, "Grading completeness");
    assert_eq!(q.title_kk, "Бағалаудың толықтығы");
    assert_eq!(q.title_ru, "Полнота выставления оценок");
    assert_eq!(
        q.answers,
        "the share of ungraded students per unit, for the weekly monitoring"
    );
    assert_eq!(q.audience, "governing bodies");
    assert_eq!(q.params, vec![Param::Year, Param::Period, Param::Unit]);
    assert_eq!(q.params_text(), "year period unit");
    assert!(q.takes(Param::Unit) && !q.takes(Param::From));
    assert_eq!(
        q.description,
        "Free text: not a header line, since the header has ended.\n$ignored placeholders in comments"
    );
    assert!(q.sql.ends_with("$region_id IS NULL"), "{}", q.sql);
}

#[test]
fn placeholders_skip_comments_and_quotes() {
    let found: Vec<String> = placeholders(GOOD).into_iter().collect();
    assert_eq!(found, ["period", "region_id", "unit_level", "year"]);
}

#[test]
fn titles_default_and_params_may_be_empty() {
    let q = CannedQuery::parse("x", "-- title: Regions\n-- params:\nSELECT 1").unwrap();
    assert_eq!(q.title_kk, "Regions");
    assert_eq!(q.title_ru, "Regions");
    assert!(q.params.is_empty());
    assert_eq!(q.params_text(), "(none)");
    assert_eq!(q.answers, "");
}

fn header_error(text: &'static str) -> String {
    match CannedQuery::parse("broken", text) {
        Err(err @ ReportError::Header { .. }) => {
            let message = err.to_string();
            assert!(message.starts_with("queries/broken.sql: "), "{message}");
            message
        }
        other => panic!("expected a header error, got {other:?}"),
    }
}

#[test]
fn missing_or_bad_header_lines_name_the_file() {
    let no_title = header_error("-- Quarterly report: a draft.\n-- params: year\nSELECT $year");
    assert!(no_title.contains("`-- title:`"), "{no_title}");
    let no_params = header_error("-- title: T\nSELECT 1");
    assert!(no_params.contains("`-- params:`"), "{no_params}");
    let unknown = header_error("-- title: T\n-- params: year month\nSELECT $year");
    assert!(unknown.contains("\"month\""), "{unknown}");
    let twice = header_error("-- title: T\n-- params: year year\nSELECT $year");
    assert!(twice.contains("twice"), "{twice}");
    let dup = header_error("-- title: T\n-- title: U\n-- params:\nSELECT 1");
    assert!(
        dup.contains("`-- title:`") && dup.contains("twice"),
        "{dup}"
    );
}

#[test]
fn placeholders_must_match_the_declared_params() {
    let undeclared = header_error("-- title: T\n-- params: year\nSELECT $year, $period");
    assert!(
        undeclared.contains("$period") && undeclared.contains("`period`"),
        "{undeclared}"
    );
    let unused = header_error("-- title: T\n-- params: year unit\nSELECT $year");
    assert!(
        unused.contains("`unit`") && unused.contains("$school_id"),
        "{unused}"
    );
    let unknown = header_error("-- title: T\n-- params:\nSELECT $month");
    assert!(unknown.contains("$month"), "{unknown}");
    let positional = header_error("-- title: T\n-- params:\nSELECT $1");
    assert!(positional.contains("$1"), "{positional}");
}

#[test]
fn the_catalog_lists_exactly_the_files_of_queries() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|file| file.strip_suffix(".sql").map(str::to_string))
        .collect();
    on_disk.sort();
    let listed: Vec<&str> = SOURCES.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        listed, on_disk,
        "SOURCES in src/reports/catalog.rs must list every queries/*.sql, sorted"
    );
    for (name, text) in SOURCES {
        let on_disk = std::fs::read_to_string(dir.join(format!("{name}.sql"))).unwrap();
        assert_eq!(*text, on_disk, "{name}: rebuild to embed the current file");
    }
}

#[test]
fn every_embedded_query_has_a_full_header() {
    let queries = canned_queries().unwrap();
    assert_eq!(queries.len(), SOURCES.len());
    for q in queries {
        for (key, value) in [
            ("title", &q.title),
            ("title_kk", &q.title_kk),
            ("title_ru", &q.title_ru),
            ("answers", &q.answers),
            ("for", &q.audience),
        ] {
            assert!(!value.is_empty(), "{}: empty `-- {key}:`", q.name);
        }
        assert_ne!(q.title_kk, q.title, "{}: title_kk is missing", q.name);
        assert_ne!(q.title_ru, q.title, "{}: title_ru is missing", q.name);
    }
}

#[test]
fn find_names_the_known_reports() {
    let first = SOURCES[0].0;
    assert_eq!(find(first).unwrap().name, first);
    let err = find("no_such_report").unwrap_err();
    let message = err.to_string();
    assert!(message.contains("\"no_such_report\""), "{message}");
    assert!(message.contains(first), "{message}");
}
