//! Who sees what (SPEC §8): the scope a user's queries run in.

use std::fmt;
use std::str::FromStr;

/// The part of the country a user may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Every school in the country.
    Ministry,
    /// Every school, with student ids replaced by pseudonyms.
    Researcher,
    /// The schools of every district of one region.
    Region(i64),
    /// The schools of one district.
    District(i64),
    /// One school.
    School(i64),
}

/// A scope that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?} (expected ministry, researcher, region:ID, district:ID or school:ID)")]
pub struct ScopeParseError(pub String);

impl FromStr for Scope {
    type Err = ScopeParseError;

    fn from_str(text: &str) -> Result<Scope, ScopeParseError> {
        let bad = || ScopeParseError(text.to_string());
        match text.trim() {
            "ministry" => return Ok(Scope::Ministry),
            "researcher" => return Ok(Scope::Researcher),
            _ => {}
        }
        let (kind, id) = text.trim().split_once(':').ok_or_else(bad)?;
        let id: i64 = id.trim().parse().map_err(|_| bad())?;
        match kind.trim() {
            "region" => Ok(Scope::Region(id)),
            "district" => Ok(Scope::District(id)),
            "school" => Ok(Scope::School(id)),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Ministry => f.write_str("ministry"),
            Scope::Researcher => f.write_str("researcher"),
            Scope::Region(id) => write!(f, "region:{id}"),
            Scope::District(id) => write!(f, "district:{id}"),
            Scope::School(id) => write!(f, "school:{id}"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_bad_ones_are_named() {
        for text in [
            "ministry",
            "researcher",
            "region:3",
            "district:301",
            "school:30105",
        ] {
            assert_eq!(text.parse::<Scope>().unwrap().to_string(), text);
        }
        assert_eq!(" district: 7 ".parse::<Scope>(), Ok(Scope::District(7)));
        for bad in ["", "country", "region", "region:x", "town:3", "school:1.5"] {
            let err = bad.parse::<Scope>().unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }
}
