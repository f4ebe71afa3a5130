//! The marks of SPEC §2: canonical codes, accepted spellings and classes.
//!
//! This is the one place that knows how a mark is spelled. Ingest, the SQL
//! functions and the generator all go through [`parse_mark`].

use std::fmt;

/// A final mark, by its canonical (Kazakh) code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mark {
    /// `5`, excellent.
    Five,
    /// `4`, good.
    Four,
    /// `3`, satisfactory.
    Three,
    /// `2`, unsatisfactory.
    Two,
    /// `1`, unsatisfactory.
    One,
    /// `А/Ө`, not attested.
    NotAttested,
    /// `УА/Ө`, temporarily not attested.
    TemporarilyNotAttested,
    /// `ЕСП`, credited (pass).
    Credited,
    /// `ЕСЖ`, not credited (fail).
    NotCredited,
    /// `БОС`, exempt.
    Exempt,
    /// `О/Ж`, did not study.
    NotStudied,
}

/// The class of a mark (SPEC §2, last column), which decides a student's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarkClass {
    /// `5`, `ЕСП`.
    Top,
    /// `4`.
    Good,
    /// `3`.
    Satisfactory,
    /// `2`, `1`, `А/Ө`, `УА/Ө`, `ЕСЖ`.
    Failing,
    /// `БОС`, `О/Ж`: counted neither for nor against the student.
    Neutral,
}

impl MarkClass {
    /// The SQL name of the class, as `mark_class()` returns it.
    pub fn as_str(self) -> &'static str {
        match self {
            MarkClass::Top => "top",
            MarkClass::Good => "good",
            MarkClass::Satisfactory => "satisfactory",
            MarkClass::Failing => "failing",
            MarkClass::Neutral => "neutral",
        }
    }
}

impl Mark {
    /// Every mark, in the order of SPEC §2's table.
    pub const ALL: [Mark; 11] = [
        Mark::Five,
        Mark::Four,
        Mark::Three,
        Mark::Two,
        Mark::One,
        Mark::NotAttested,
        Mark::TemporarilyNotAttested,
        Mark::Credited,
        Mark::NotCredited,
        Mark::Exempt,
        Mark::NotStudied,
    ];

    /// The canonical code shown in reports and stored in Parquet.
    pub fn code(self) -> &'static str {
        match self {
            Mark::Five => "5",
            Mark::Four => "4",
            Mark::Three => "3",
            Mark::Two => "2",
            Mark::One => "1",
            Mark::NotAttested => "А/Ө",
            Mark::TemporarilyNotAttested => "УА/Ө",
            Mark::Credited => "ЕСП",
            Mark::NotCredited => "ЕСЖ",
            Mark::Exempt => "БОС",
            Mark::NotStudied => "О/Ж",
        }
    }

    /// The spellings SPEC §2 accepts for this mark (canonical first).
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Mark::Five => &["5"],
            Mark::Four => &["4"],
            Mark::Three => &["3"],
            Mark::Two => &["2"],
            Mark::One => &["1"],
            Mark::NotAttested => &["А/Ө", "АӨ", "н/а", "на"],
            Mark::TemporarilyNotAttested => &["УА/Ө", "УА/А", "УАӨ", "в/н/а", "вна"],
            Mark::Credited => &["ЕСП", "зач", "зачтено", "зачёт", "зачет", "зчт", "зч"],
            Mark::NotCredited => &["ЕСЖ", "незач", "не зачтено", "незачёт", "незачет", "нз"],
            Mark::Exempt => &["БОС", "осв", "освобождён", "освобожден"],
            Mark::NotStudied => &["О/Ж", "ОЖ", "н/и", "не изучал"],
        }
    }

    /// The class of the mark.
    pub fn class(self) -> MarkClass {
        match self {
            Mark::Five | Mark::Credited => MarkClass::Top,
            Mark::Four => MarkClass::Good,
            Mark::Three => MarkClass::Satisfactory,
            Mark::Two
            | Mark::One
            | Mark::NotAttested
            | Mark::TemporarilyNotAttested
            | Mark::NotCredited => MarkClass::Failing,
            Mark::Exempt | Mark::NotStudied => MarkClass::Neutral,
        }
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// How an input spelling reached its mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Spelling {
    /// The canonical code or one of SPEC §2's aliases (case and surrounding
    /// whitespace aside).
    Accepted,
    /// Only after folding look-alike letters (Latin `A`/`O` for Cyrillic
    /// `А`/`О`, `О` for `Ө`, `ё` for `е`) or inner whitespace: counted and
    /// reported by ingest.
    LookAlike,
}

/// An input mark that matches no accepted spelling.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown mark code {value:?}: expected one of 5, 4, 3, 2, 1, А/Ө, УА/Ө, ЕСП, ЕСЖ, БОС, О/Ж or an accepted alias (SPEC §2)"
)]
pub struct UnknownMark {
    /// The value as it was given.
    pub value: String,
}

impl sapa_sqlstate::SqlState for UnknownMark {
    fn sqlstate(&self) -> &'static str {
        sapa_sqlstate::code::INVALID_TEXT_REPRESENTATION
    }
}

/// Parses one mark as it arrives from an export.
///
/// Returns `Ok(None)` for an empty (or all-whitespace) value, which means "no
/// final mark yet" or a cleared mark (SPEC §2, §6).
pub fn parse_mark(raw: &str) -> Result<Option<(Mark, Spelling)>, UnknownMark> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let lower = trimmed.to_lowercase();
    for mark in Mark::ALL {
        if mark.aliases().iter().any(|a| a.to_lowercase() == lower) {
            return Ok(Some((mark, Spelling::Accepted)));
        }
    }
    let key = fold(trimmed);
    for mark in Mark::ALL {
        if mark.aliases().iter().any(|a| fold(a) == key) {
            return Ok(Some((mark, Spelling::LookAlike)));
        }
    }
    Err(UnknownMark {
        value: raw.to_string(),
    })
}

/// Folds a spelling to a comparison key: look-alike Latin letters become
/// Cyrillic, `Ө` and `О` become one letter, `ё` becomes `е`, whitespace goes.
fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            'A' | 'a' => 'а',
            'B' => 'в',
            'C' | 'c' => 'с',
            'E' | 'e' => 'е',
            'H' => 'н',
            'K' | 'k' => 'к',
            'M' => 'м',
            'O' | 'o' | 'Ө' | 'ө' | 'Ɵ' | 'ɵ' => 'о',
            'P' | 'p' => 'р',
            'T' => 'т',
            'X' | 'x' => 'х',
            'Y' | 'y' => 'у',
            'Ё' | 'ё' => 'е',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The mark spelled `raw`, tuned for stored data (which holds canonical
/// codes): canonical codes without further work, then any spelling
/// [`parse_mark`] accepts. `Ok(None)` for an empty value.
#[inline]
pub fn lookup_mark(raw: &str) -> Result<Option<Mark>, UnknownMark> {
    let canonical = match raw {
        "5" => Mark::Five,
        "4" => Mark::Four,
        "3" => Mark::Three,
        "2" => Mark::Two,
        "1" => Mark::One,
        "А/Ө" => Mark::NotAttested,
        "УА/Ө" => Mark::TemporarilyNotAttested,
        "ЕСП" => Mark::Credited,
        "ЕСЖ" => Mark::NotCredited,
        "БОС" => Mark::Exempt,
        "О/Ж" => Mark::NotStudied,
        _ => return parse_mark(raw).map(|parsed| parsed.map(|(mark, _)| mark)),
    };
    Ok(Some(canonical))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> (Mark, Spelling) {
        match parse_mark(raw) {
            Ok(Some(m)) => m,
            other => panic!("{raw:?} gave {other:?}"),
        }
    }

    #[test]
    fn every_alias_maps_to_its_mark() {
        for mark in Mark::ALL {
            for alias in mark.aliases() {
                assert_eq!(parsed(alias), (mark, Spelling::Accepted), "{alias}");
                assert_eq!(parsed(&alias.to_uppercase()).0, mark, "{alias} upper");
                assert_eq!(parsed(&format!("  {alias}\t")).0, mark, "{alias} padded");
            }
        }
    }

    #[test]
    fn look_alikes_are_normalised_and_flagged() {
        // Latin O for Ө, Latin A for А, Cyrillic О for Ө.
        assert_eq!(parsed("А/O"), (Mark::NotAttested, Spelling::LookAlike));
        assert_eq!(parsed("A/Ө"), (Mark::NotAttested, Spelling::LookAlike));
        assert_eq!(parsed("А/О"), (Mark::NotAttested, Spelling::LookAlike));
        assert_eq!(parsed("A/O"), (Mark::NotAttested, Spelling::LookAlike));
        assert_eq!(
            parsed("УА/O"),
            (Mark::TemporarilyNotAttested, Spelling::LookAlike)
        );
        assert_eq!(
            parsed("УАО"),
            (Mark::TemporarilyNotAttested, Spelling::LookAlike)
        );
        assert_eq!(parsed("O/Ж"), (Mark::NotStudied, Spelling::LookAlike));
        assert_eq!(parsed("EСП"), (Mark::Credited, Spelling::LookAlike));
        assert_eq!(parsed("БOC"), (Mark::Exempt, Spelling::LookAlike));
        assert_eq!(parsed("А / Ө"), (Mark::NotAttested, Spelling::LookAlike));
    }

    #[test]
    fn case_and_whitespace_are_not_look_alikes() {
        assert_eq!(parsed(" зачёт "), (Mark::Credited, Spelling::Accepted));
        assert_eq!(parsed("ЗАЧЕТ"), (Mark::Credited, Spelling::Accepted));
        assert_eq!(
            parsed("Не Зачтено"),
            (Mark::NotCredited, Spelling::Accepted)
        );
        assert_eq!(parsed("бос"), (Mark::Exempt, Spelling::Accepted));
    }

    #[test]
    fn empty_is_no_mark() {
        assert_eq!(parse_mark(""), Ok(None));
        assert_eq!(parse_mark("   "), Ok(None));
    }

    #[test]
    fn unknown_codes_are_errors_naming_the_value() {
        for bad in ["6", "0", "55", "5+", "x", "А/", "зачтен", "4.0"] {
            let err = parse_mark(bad).expect_err(bad);
            assert_eq!(err.value, bad);
            assert!(err.to_string().contains(&format!("{bad:?}")));
        }
    }

    #[test]
    fn classes_follow_spec_table() {
        use MarkClass::*;
        let expected = [
            Top,
            Good,
            Satisfactory,
            Failing,
            Failing,
            Failing,
            Failing,
            Top,
            Failing,
            Neutral,
            Neutral,
        ];
        for (mark, class) in Mark::ALL.into_iter().zip(expected) {
            assert_eq!(mark.class(), class, "{mark}");
        }
    }
}
