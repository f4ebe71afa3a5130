//! What a school is, as the `schools` table and the generator's rules see
//! it: locality, language of instruction, type, and the pilot that keeps
//! one class outside the reports.

/// `schools.locality`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Locality {
    Urban,
    Rural,
}

impl Locality {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Locality::Urban => "urban",
            Locality::Rural => "rural",
        }
    }
}

/// `schools.language`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum SchoolLang {
    Kk,
    Ru,
    Mixed,
    Other,
}

impl SchoolLang {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SchoolLang::Kk => "kk",
            SchoolLang::Ru => "ru",
            SchoolLang::Mixed => "mixed",
            SchoolLang::Other => "other",
        }
    }
}

/// `schools.school_type`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum SchoolType {
    General,
    Gymnasium,
    Lyceum,
    SchoolGymnasium,
    SchoolLyceum,
    Specialized,
    Evening,
    International,
    Autonomous,
    Correctional,
    Sanatorium,
    Other,
}

impl SchoolType {
    pub(crate) fn as_str(self) -> &'static str {
        use SchoolType::*;
        match self {
            General => "general",
            Gymnasium => "gymnasium",
            Lyceum => "lyceum",
            SchoolGymnasium => "school_gymnasium",
            SchoolLyceum => "school_lyceum",
            Specialized => "specialized",
            Evening => "evening",
            International => "international",
            Autonomous => "autonomous",
            Correctional => "correctional",
            Sanatorium => "sanatorium",
            Other => "other",
        }
    }

    /// How much better (or worse) than a general school its students do.
    pub(crate) fn effect(self) -> f64 {
        use SchoolType::*;
        match self {
            General | Other => 0.0,
            Gymnasium => 0.75,
            Lyceum => 0.85,
            SchoolGymnasium => 0.55,
            SchoolLyceum => 0.6,
            Specialized => 0.7,
            Autonomous => 1.2,
            International => 0.9,
            Evening => -0.7,
            Correctional => -0.5,
            Sanatorium => -0.2,
        }
    }
}

/// A class that departs from the criteria-based, quarterly norm and is
/// therefore outside the reports (SPEC §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pilot {
    /// One class per year keeps another journal type.
    OtherJournal,
    /// One class per year is assessed by half-years.
    HalfYear,
}
