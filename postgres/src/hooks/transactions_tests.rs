use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::*;

/// Runs `sql` against `open` in `status`: `None` when the next hooks
/// answer, else the tag or the SQLSTATE.
fn run(open: &Open, sql: &str, status: TransactionStatus) -> Option<String> {
    let statement = Parser::parse_sql(&PostgreSqlDialect {}, sql)
        .unwrap()
        .remove(0);
    answer(&statement, status, open).map(|r| match r {
        Ok(Response::Execution(tag)) => format!("{tag:?}"),
        Ok(Response::TransactionStart(tag)) => format!("start {tag:?}"),
        Ok(Response::TransactionEnd(tag)) => format!("end {tag:?}"),
        Ok(_) => "other".to_string(),
        Err(e) => match e {
            PgWireError::UserError(info) => info.code.clone(),
            other => format!("{other:?}"),
        },
    })
}

use TransactionStatus::{Error, Idle, Transaction};
use datafusion_postgres::pgwire::error::PgWireError;

#[test]
fn savepoints_are_kept_and_found_newest_first() {
    let open = Open::default();
    assert!(
        run(&open, "SAVEPOINT a", Transaction)
            .unwrap()
            .contains("SAVEPOINT")
    );
    assert!(
        run(&open, "SAVEPOINT B", Transaction)
            .unwrap()
            .contains("SAVEPOINT")
    );
    assert!(
        run(&open, "SAVEPOINT a", Transaction)
            .unwrap()
            .contains("SAVEPOINT")
    );
    assert_eq!(*open.names(), ["a", "b", "a"]);
    // Unquoted names fold; a quoted one keeps its case.
    assert!(
        run(&open, "ROLLBACK TO SAVEPOINT b", Transaction)
            .unwrap()
            .contains("ROLLBACK")
    );
    assert_eq!(
        *open.names(),
        ["a", "b"],
        "rolling back to b keeps b, drops later ones"
    );
    assert_eq!(
        run(&open, "ROLLBACK TO \"B\"", Transaction).unwrap(),
        "3B001"
    );
    assert!(
        run(&open, "RELEASE SAVEPOINT b", Transaction)
            .unwrap()
            .contains("RELEASE")
    );
    assert_eq!(*open.names(), ["a"], "releasing b drops b itself");
    assert_eq!(run(&open, "RELEASE b", Transaction).unwrap(), "3B001");
    assert!(
        run(&open, "RELEASE a", Transaction)
            .unwrap()
            .contains("RELEASE")
    );
    assert!(open.names().is_empty());
}

#[test]
fn outside_a_block_savepoint_statements_fail_as_in_postgres() {
    let open = Open::default();
    assert_eq!(run(&open, "SAVEPOINT a", Idle).unwrap(), "25P01");
    assert_eq!(run(&open, "RELEASE a", Idle).unwrap(), "25P01");
    assert_eq!(run(&open, "ROLLBACK TO a", Idle).unwrap(), "25P01");
    assert!(open.names().is_empty());
}

#[test]
fn an_aborted_block_refuses_all_but_its_ends_and_a_known_savepoint() {
    let open = Open::default();
    run(&open, "SAVEPOINT a", Transaction);
    for sql in [
        "SELECT 1",
        "SHOW timezone",
        "SET x = 1",
        "SAVEPOINT b",
        "RELEASE a",
        "BEGIN",
    ] {
        assert_eq!(run(&open, sql, Error).as_deref(), Some("25P02"), "{sql}");
    }
    // A name never opened is 3B001 even there.
    assert_eq!(run(&open, "ROLLBACK TO nope", Error).unwrap(), "3B001");
    assert_eq!(*open.names(), ["a"]);
    // COMMIT ends it as a rollback.
    let end = run(&open, "COMMIT", Error).unwrap();
    assert!(end.starts_with("end") && end.contains("ROLLBACK"), "{end}");
    assert!(open.names().is_empty());
}

#[test]
fn a_new_block_starts_without_the_old_ones_savepoints() {
    let open = Open::default();
    run(&open, "SAVEPOINT a", Transaction);
    let end = run(&open, "COMMIT", Transaction).unwrap();
    assert!(end.starts_with("end") && end.contains("COMMIT"), "{end}");
    assert!(run(&open, "BEGIN", Idle).unwrap().starts_with("start"));
    assert_eq!(run(&open, "ROLLBACK TO a", Transaction).unwrap(), "3B001");
    // A nested BEGIN keeps the block and its savepoints.
    run(&open, "SAVEPOINT c", Transaction);
    assert!(
        !run(&open, "BEGIN", Transaction)
            .unwrap()
            .starts_with("start")
    );
    assert_eq!(*open.names(), ["c"]);
    for sql in ["ROLLBACK", "END", "ROLLBACK WORK"] {
        let end = run(&open, sql, Transaction).unwrap();
        assert!(end.starts_with("end"), "{sql}: {end}");
    }
    assert!(open.names().is_empty());
    assert!(run(&open, "SELECT 1", Transaction).is_none());
}
