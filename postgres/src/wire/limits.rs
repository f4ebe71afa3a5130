//! The size a statement may have, checked before anything deep is built.
//!
//! sqlparser reads a chain of operators (`1+1+…`, `a OR b OR …`, `UNION
//! ALL` after `UNION ALL`) in a loop, so its nesting limit never sees them,
//! but the tree it builds is as deep as the chain is long, and every later
//! walk of it — rewriting, planning, evaluating, dropping — recurses once
//! per level: 3,000 terms overflowed a thread's stack and took the server
//! down. So the text is measured first from its tokens (a flat walk), and
//! a statement that passes is then measured as a tree by a walk that stops
//! at the limit. Whatever passes both is shallow enough for the 32 MiB
//! stacks of the server's threads.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Select, Statement, Value, ValueWithSpan, Visit, Visitor,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::ParserError;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use datafusion_postgres::pgwire::error::PgWireError;

use crate::sqlstate::{code, user_error};

/// The longest query text, in bytes.
pub(crate) const MAX_QUERY_BYTES: usize = 1 << 20;
/// The most statements in one simple Query.
pub(crate) const MAX_STATEMENTS: usize = 1_000;
/// The most operators and keywords in one statement.
pub(crate) const MAX_OPERATORS: usize = 10_000;
/// The deepest nesting of expressions, and the most set operations
/// (`UNION`, `INTERSECT`, `EXCEPT`) in one statement.
pub(crate) const MAX_DEPTH: usize = 1_000;
/// The deepest nesting of parentheses, brackets, subqueries and `CASE`.
///
/// sqlparser gives up past 50 levels of its own recursion, and where a
/// keyword may also be a name (`CASE`, `CAST`, `INTERVAL`) it then reads
/// the keyword as a column name instead of failing: 100 nested `CASE`
/// answered 42703 "No field named case". One level of nesting costs its
/// recursion at most two steps, beyond two for the statement, so text
/// within this limit is always parsed as written.
pub(crate) const MAX_NESTING: usize = 24;
/// The most entries of a select list (PostgreSQL's limit).
pub const MAX_COLUMNS: usize = 1_664;

fn too_complex(message: String) -> PgWireError {
    user_error(code::STATEMENT_TOO_COMPLEX, message)
}

/// Checks `sql` as text: its length, its number of statements and each
/// statement's operators and set operations. Text that does not tokenize
/// passes, for the parser to report.
pub(crate) fn check_text(sql: &str) -> Result<(), PgWireError> {
    if sql.len() > MAX_QUERY_BYTES {
        return Err(user_error(
            code::PROGRAM_LIMIT_EXCEEDED,
            format!(
                "statement is too long: {} bytes (the limit is {MAX_QUERY_BYTES})",
                sql.len()
            ),
        ));
    }
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize() else {
        return Ok(());
    };
    let (mut statements, mut operators, mut set_operations) = (0usize, 0usize, 0usize);
    let (mut nesting, mut open_cases) = (0usize, 0usize);
    let mut in_statement = false;
    for token in &tokens {
        match token {
            Token::Whitespace(_) | Token::EOF => continue,
            Token::SemiColon => {
                in_statement = false;
                operators = 0;
                set_operations = 0;
                nesting = 0;
                open_cases = 0;
                continue;
            }
            _ => {}
        }
        if !in_statement {
            in_statement = true;
            statements += 1;
            if statements > MAX_STATEMENTS {
                return Err(user_error(
                    code::PROGRAM_LIMIT_EXCEEDED,
                    format!(
                        "too many statements in one query (the limit is {MAX_STATEMENTS}): \
                         send them in several"
                    ),
                ));
            }
        }
        match token {
            Token::LParen | Token::LBracket => nesting += 1,
            Token::RParen | Token::RBracket => nesting = nesting.saturating_sub(1),
            Token::Word(word) if word.keyword == Keyword::CASE => {
                nesting += 1;
                open_cases += 1;
            }
            // `END` closes a `CASE`; alone it is a statement (COMMIT).
            Token::Word(word) if word.keyword == Keyword::END && open_cases > 0 => {
                nesting -= 1;
                open_cases -= 1;
            }
            _ => {}
        }
        if nesting > MAX_NESTING {
            return Err(too_complex(format!(
                "statement is too complex: parentheses, subqueries or CASE nest more than \
                 {MAX_NESTING} deep"
            )));
        }
        match token {
            Token::Word(word) if word.keyword == Keyword::NoKeyword => {}
            Token::Word(word) => {
                operators += 1;
                if matches!(
                    word.keyword,
                    Keyword::UNION | Keyword::INTERSECT | Keyword::EXCEPT
                ) {
                    set_operations += 1;
                }
            }
            Token::Comma
            | Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::EscapedStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::HexStringLiteral(_)
            | Token::Placeholder(_)
            | Token::LParen
            | Token::RParen
            | Token::Period => {}
            _ => operators += 1,
        }
        if operators > MAX_OPERATORS {
            return Err(too_complex(format!(
                "statement is too complex: more than {MAX_OPERATORS} operators and keywords"
            )));
        }
        if set_operations > MAX_DEPTH {
            return Err(too_complex(format!(
                "statement is too complex: more than {MAX_DEPTH} UNION, INTERSECT or EXCEPT"
            )));
        }
    }
    Ok(())
}

/// Checks what the parser made of the text: nesting past the parser's own
/// limit (parentheses, subqueries, `CASE` in `CASE`) is too complex, not a
/// syntax error; parsed statements are checked by [`check_statement`].
pub(crate) fn check_parsed(
    parsed: &Result<Vec<Statement>, ParserError>,
) -> Result<(), PgWireError> {
    match parsed {
        Ok(statements) => statements.iter().try_for_each(check_statement),
        Err(ParserError::RecursionLimitExceeded) => Err(too_complex(
            "statement is too complex: parentheses, subqueries or CASE nest too deep".into(),
        )),
        // The parser that runs next reports it.
        Err(_) => Ok(()),
    }
}

/// Checks a parsed statement: how deep its expressions nest, how long its
/// select lists are, and that its numbers fit their type.
pub(crate) fn check_statement(statement: &Statement) -> Result<(), PgWireError> {
    let mut walk = Measure { depth: 0 };
    match statement.visit(&mut walk) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(err) => Err(err),
    }
}

/// Counts expression nesting on the way down; stops past the limit.
struct Measure {
    depth: usize,
}

impl Visitor for Measure {
    type Break = PgWireError;

    fn pre_visit_expr(&mut self, _: &Expr) -> ControlFlow<PgWireError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return ControlFlow::Break(too_complex(format!(
                "statement is too complex: expressions nest more than {MAX_DEPTH} deep"
            )));
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, _: &Expr) -> ControlFlow<PgWireError> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    /// A literal past `double precision` would be read as infinity.
    fn pre_visit_value(&mut self, value: &ValueWithSpan) -> ControlFlow<PgWireError> {
        if let Value::Number(digits, _) = &value.value
            && digits.parse::<f64>().is_ok_and(f64::is_infinite)
        {
            return ControlFlow::Break(user_error(
                code::NUMERIC_OUT_OF_RANGE,
                format!("\"{digits}\" is out of range for type double precision"),
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<PgWireError> {
        if select.projection.len() > MAX_COLUMNS {
            return ControlFlow::Break(user_error(
                code::TOO_MANY_COLUMNS,
                format!("target lists can have at most {MAX_COLUMNS} entries"),
            ));
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::parser::Parser;

    fn code_of(result: Result<(), PgWireError>) -> String {
        match result {
            Ok(()) => "ok".into(),
            Err(PgWireError::UserError(info)) => info.code.clone(),
            Err(other) => format!("{other}"),
        }
    }

    fn tree(sql: &str) -> String {
        let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
        code_of(statements.iter().try_for_each(check_statement))
    }

    fn chain(op: &str, n: usize) -> String {
        vec!["1"; n].join(op)
    }

    #[test]
    fn text_limits_count_what_makes_trees_deep() {
        assert_eq!(code_of(check_text("SELECT 1; SELECT 2")), "ok");
        assert_eq!(code_of(check_text(&"SELECT 1;".repeat(1_000))), "ok");
        assert_eq!(code_of(check_text(&"SELECT 1;".repeat(1_001))), "54000");
        assert_eq!(
            code_of(check_text(&format!(
                "SELECT {}",
                "x".repeat(MAX_QUERY_BYTES)
            ))),
            "54000"
        );
        let and = format!("SELECT 1 WHERE {}", vec!["a = 1"; 5_000].join(" AND "));
        assert_eq!(code_of(check_text(&and)), "54001");
        // Literals, names and commas are not operators: long IN lists pass.
        let list = format!("SELECT 1 WHERE a IN ({})", chain(", ", 50_000));
        assert_eq!(code_of(check_text(&list)), "ok");
        let unions = vec!["SELECT 1"; 1_002].join(" UNION ALL ");
        assert_eq!(code_of(check_text(&unions)), "54001");
        let cases = |n: usize| {
            format!(
                "SELECT {} 1 {}",
                "CASE WHEN true THEN ".repeat(n),
                "END ".repeat(n)
            )
        };
        assert_eq!(code_of(check_text(&cases(MAX_NESTING))), "ok");
        assert_eq!(code_of(check_text(&cases(MAX_NESTING + 1))), "54001");
        let nested = |n: usize| format!("SELECT {}1{}", "(SELECT ".repeat(n), ")".repeat(n));
        assert_eq!(code_of(check_text(&nested(MAX_NESTING))), "ok");
        assert_eq!(code_of(check_text(&nested(MAX_NESTING + 1))), "54001");
        assert_eq!(code_of(check_text("BEGIN; SELECT 1; END")), "ok");
        // Counted per statement.
        let many = format!("SELECT {};", chain("+", 4_000)).repeat(5);
        assert_eq!(code_of(check_text(&many)), "ok");
    }

    #[test]
    fn trees_deeper_than_the_limit_are_refused_at_the_limit() {
        // The server's threads have 32 MiB stacks; a test thread has 2.
        std::thread::Builder::new()
            .stack_size(32 << 20)
            .spawn(trees)
            .unwrap()
            .join()
            .unwrap();
    }

    fn trees() {
        assert_eq!(tree(&format!("SELECT {}", chain("+", MAX_DEPTH))), "ok");
        assert_eq!(tree(&format!("SELECT {}", chain("+", 3_000))), "54001");
        assert_eq!(tree(&format!("SELECT {}", chain("||", 2_000))), "54001");
        assert_eq!(tree("SELECT 1e400::float8"), "22003");
        assert_eq!(tree("SELECT 1e300::float8, -1.5e-400"), "ok");
        let parens = format!("SELECT {}1{}", "(".repeat(100), ")".repeat(100));
        let parsed = Parser::parse_sql(&PostgreSqlDialect {}, &parens);
        assert_eq!(code_of(check_parsed(&parsed)), "54001");
        let columns = format!("SELECT {}", chain(", ", MAX_COLUMNS + 1));
        assert_eq!(tree(&columns), "54011");
        assert_eq!(tree(&format!("SELECT {}", chain(", ", MAX_COLUMNS))), "ok");
    }
}
