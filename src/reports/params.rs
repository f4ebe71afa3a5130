//! The parameters of a canned query: what a report declares it takes
//! ([`Param`]) and the values a user gives ([`ReportParams`]), parsed from
//! their command-line spellings.

use std::fmt;
use std::str::FromStr;

use super::ReportError;

/// A parameter a canned query may declare in its `-- params:` header line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Param {
    /// `year`: the academic year, bound to `$year`.
    Year,
    /// `period`: `Q1`..`Q4` or `YEAR`, bound to `$period`.
    Period,
    /// `from`: the base period of a comparison, bound to `$from_year` and
    /// `$from_period`.
    From,
    /// `unit`: the country, a region, a district or a school, bound to
    /// `$unit_level`, `$unit_id`, `$region_id`, `$district_id`, `$school_id`.
    Unit,
}

impl Param {
    /// Every parameter, in the order they are listed.
    pub const ALL: [Param; 4] = [Param::Year, Param::Period, Param::From, Param::Unit];

    /// The name used in the `-- params:` header line.
    pub fn name(self) -> &'static str {
        match self {
            Param::Year => "year",
            Param::Period => "period",
            Param::From => "from",
            Param::Unit => "unit",
        }
    }

    /// The command-line flag that sets it.
    pub fn flag(self) -> &'static str {
        match self {
            Param::Year => "--year",
            Param::Period => "--period",
            Param::From => "--from",
            Param::Unit => "--unit",
        }
    }

    /// The SQL placeholders (without `$`) the runner binds for it.
    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            Param::Year => &["year"],
            Param::Period => &["period"],
            Param::From => &["from_year", "from_period"],
            Param::Unit => &[
                "unit_level",
                "unit_id",
                "region_id",
                "district_id",
                "school_id",
            ],
        }
    }

    /// The parameter whose placeholder is `placeholder` (without `$`).
    pub fn of_placeholder(placeholder: &str) -> Option<Param> {
        Param::ALL
            .into_iter()
            .find(|p| p.placeholders().contains(&placeholder))
    }

    /// The parameter named `name` in a header (`year`, `period`, …).
    pub fn from_name(name: &str) -> Option<Param> {
        Param::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A reporting period of an academic year (SPEC §11 spells them `Q1`–`Q4`,
/// `YEAR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    /// First quarter.
    Q1,
    /// Second quarter.
    Q2,
    /// Third quarter.
    Q3,
    /// Fourth quarter.
    Q4,
    /// The whole academic year (annual marks).
    Year,
}

impl Period {
    /// The SQL spelling: `Q1`..`Q4`, `YEAR`.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Q1 => "Q1",
            Period::Q2 => "Q2",
            Period::Q3 => "Q3",
            Period::Q4 => "Q4",
            Period::Year => "YEAR",
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Period {
    type Err = ReportError;

    /// Parses `Q1`..`Q4` or `YEAR`, in any letter case.
    fn from_str(text: &str) -> Result<Period, ReportError> {
        match text.trim().to_ascii_uppercase().as_str() {
            "Q1" => Ok(Period::Q1),
            "Q2" => Ok(Period::Q2),
            "Q3" => Ok(Period::Q3),
            "Q4" => Ok(Period::Q4),
            "YEAR" => Ok(Period::Year),
            _ => Err(ReportError::BadPeriod(text.to_string())),
        }
    }
}

/// One period of one academic year, e.g. `2023:Q4` (the base of a
/// comparison, `--from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeriodRef {
    /// The academic year by its start year.
    pub year: i32,
    /// The period within it.
    pub period: Period,
}

impl PeriodRef {
    /// The period before this one: the previous quarter, Q1's is the
    /// previous year's Q4, and the year's is the previous year.
    pub fn previous(self) -> PeriodRef {
        let (year, period) = match self.period {
            Period::Q1 => (self.year - 1, Period::Q4),
            Period::Q2 => (self.year, Period::Q1),
            Period::Q3 => (self.year, Period::Q2),
            Period::Q4 => (self.year, Period::Q3),
            Period::Year => (self.year - 1, Period::Year),
        };
        PeriodRef { year, period }
    }
}

impl fmt::Display for PeriodRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.year, self.period)
    }
}

impl FromStr for PeriodRef {
    type Err = ReportError;

    /// Parses `YEAR:PERIOD`, e.g. `2023:Q4` or `2022:YEAR`.
    fn from_str(text: &str) -> Result<PeriodRef, ReportError> {
        let bad = || ReportError::BadFrom(text.to_string());
        let (year, period) = text.trim().split_once(':').ok_or_else(bad)?;
        let year = year.trim().parse::<i32>().map_err(|_| bad())?;
        let period = period.parse::<Period>().map_err(|_| bad())?;
        Ok(PeriodRef { year, period })
    }
}

/// The unit a report is about: the whole country or one governing body or
/// school.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Unit {
    /// The whole country (the ministry's view).
    #[default]
    Country,
    /// One region, by `region_id`.
    Region(i64),
    /// One district, by `district_id`.
    District(i64),
    /// One school, by `school_id`.
    School(i64),
}

impl Unit {
    /// `country`, `region`, `district` or `school` (`$unit_level`).
    pub fn level(self) -> &'static str {
        match self {
            Unit::Country => "country",
            Unit::Region(_) => "region",
            Unit::District(_) => "district",
            Unit::School(_) => "school",
        }
    }

    /// The unit's id (`$unit_id`), `None` for the country.
    pub fn id(self) -> Option<i64> {
        match self {
            Unit::Country => None,
            Unit::Region(id) | Unit::District(id) | Unit::School(id) => Some(id),
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id() {
            None => f.write_str(self.level()),
            Some(id) => write!(f, "{}:{id}", self.level()),
        }
    }
}

impl FromStr for Unit {
    type Err = ReportError;

    /// Parses `country`, `region:ID`, `district:ID` or `school:ID` (level in
    /// any letter case; ID a positive integer).
    fn from_str(text: &str) -> Result<Unit, ReportError> {
        let bad = || ReportError::BadUnit(text.to_string());
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case("country") {
            return Ok(Unit::Country);
        }
        let (level, id) = trimmed.split_once(':').ok_or_else(bad)?;
        let id = id.trim().parse::<i64>().map_err(|_| bad())?;
        if id <= 0 {
            return Err(bad());
        }
        match level.trim().to_ascii_lowercase().as_str() {
            "region" => Ok(Unit::Region(id)),
            "district" => Ok(Unit::District(id)),
            "school" => Ok(Unit::School(id)),
            _ => Err(bad()),
        }
    }
}

/// What `--unit` asks for: one unit, or every region, each in a sheet of
/// its own (`region:*`, for a workbook only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitChoice {
    /// One unit.
    One(Unit),
    /// Every region of the data, one after the other.
    EveryRegion,
}

impl FromStr for UnitChoice {
    type Err = ReportError;

    /// Parses `region:*` (level in any letter case), or one [`Unit`].
    fn from_str(text: &str) -> Result<UnitChoice, ReportError> {
        match text.trim().split_once(':') {
            Some((level, "*")) if level.trim().eq_ignore_ascii_case("region") => {
                Ok(UnitChoice::EveryRegion)
            }
            _ => text.parse().map(UnitChoice::One),
        }
    }
}

/// The values of a report's parameters: `None` means "not given" before
/// [`resolve_defaults`](super::resolve_defaults), and "the report does not
/// take it" after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportParams {
    /// `--year`: the academic year by its start year.
    pub year: Option<i32>,
    /// `--period`: the period of that year.
    pub period: Option<Period>,
    /// `--from`: the base period of a comparison.
    pub from: Option<PeriodRef>,
    /// `--unit`: the unit the report is about.
    pub unit: Option<Unit>,
}

impl ReportParams {
    /// The parameters that have a value, in [`Param::ALL`] order.
    pub fn given(&self) -> Vec<Param> {
        let mut given = Vec::new();
        if self.year.is_some() {
            given.push(Param::Year);
        }
        if self.period.is_some() {
            given.push(Param::Period);
        }
        if self.from.is_some() {
            given.push(Param::From);
        }
        if self.unit.is_some() {
            given.push(Param::Unit);
        }
        given
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_in_any_case_and_reject_others() {
        assert_eq!("Q3".parse::<Period>().unwrap(), Period::Q3);
        assert_eq!(" q1 ".parse::<Period>().unwrap(), Period::Q1);
        assert_eq!("year".parse::<Period>().unwrap(), Period::Year);
        let err = "Q5".parse::<Period>().unwrap_err();
        assert!(err.to_string().contains("\"Q5\""), "{err}");
        assert!("".parse::<Period>().is_err());
        assert!("Q".parse::<Period>().is_err());
    }

    #[test]
    fn units_parse() {
        assert_eq!("country".parse::<Unit>().unwrap(), Unit::Country);
        assert_eq!("district:12".parse::<Unit>().unwrap(), Unit::District(12));
        assert_eq!("region:2".parse::<Unit>().unwrap(), Unit::Region(2));
        assert_eq!("School:900".parse::<Unit>().unwrap(), Unit::School(900));
        assert_eq!(Unit::District(12).to_string(), "district:12");
        assert_eq!(Unit::Country.id(), None);
        assert_eq!(Unit::School(5).level(), "school");
    }

    #[test]
    fn bad_units_are_named_in_the_error() {
        for bad in [
            "town:3",
            "region",
            "region:",
            "region:x",
            "region:-1",
            "region:0",
            "district:1.5",
            "countries",
            "",
        ] {
            let err = bad.parse::<Unit>().unwrap_err();
            assert!(
                matches!(&err, ReportError::BadUnit(v) if v == bad),
                "{bad}: {err}"
            );
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn every_region_is_region_star() {
        for every in ["region:*", " Region:* "] {
            assert_eq!(
                every.parse::<UnitChoice>().unwrap(),
                UnitChoice::EveryRegion
            );
        }
        assert_eq!(
            "region:2".parse::<UnitChoice>().unwrap(),
            UnitChoice::One(Unit::Region(2))
        );
        assert_eq!(
            "country".parse::<UnitChoice>().unwrap(),
            UnitChoice::One(Unit::Country)
        );
        // Only regions have a `*`: a sheet per district or school is not a
        // workbook anyone reads.
        for bad in ["district:*", "school:*", "*", "region:**"] {
            let err = bad.parse::<UnitChoice>().unwrap_err();
            assert!(
                matches!(&err, ReportError::BadUnit(v) if v == bad),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn base_periods_parse() {
        assert_eq!(
            "2023:Q4".parse::<PeriodRef>().unwrap(),
            PeriodRef {
                year: 2023,
                period: Period::Q4
            }
        );
        assert_eq!(
            "2022:year".parse::<PeriodRef>().unwrap().period,
            Period::Year
        );
        for bad in ["2023", "2023:Q5", "Q4:2023", "x:Q1", ":Q1"] {
            let err = bad.parse::<PeriodRef>().unwrap_err();
            assert!(matches!(&err, ReportError::BadFrom(v) if v == bad), "{err}");
        }
    }

    #[test]
    fn the_period_before_q1_is_the_previous_years_q4() {
        let at = |year, period| PeriodRef { year, period };
        assert_eq!(at(2024, Period::Q1).previous(), at(2023, Period::Q4));
        assert_eq!(at(2024, Period::Q2).previous(), at(2024, Period::Q1));
        assert_eq!(at(2024, Period::Q3).previous(), at(2024, Period::Q2));
        assert_eq!(at(2024, Period::Q4).previous(), at(2024, Period::Q3));
        assert_eq!(at(2024, Period::Year).previous(), at(2023, Period::Year));
    }

    #[test]
    fn placeholders_map_back_to_their_param() {
        for p in Param::ALL {
            assert_eq!(Param::from_name(p.name()), Some(p));
            for ph in p.placeholders() {
                assert_eq!(Param::of_placeholder(ph), Some(p));
            }
        }
        assert_eq!(Param::of_placeholder("month"), None);
        let given = ReportParams {
            period: Some(Period::Q1),
            unit: Some(Unit::Country),
            ..ReportParams::default()
        };
        assert_eq!(given.given(), vec![Param::Period, Param::Unit]);
    }
}
