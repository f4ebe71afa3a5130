//! A student's status for one period (SPEC §3), as a fold over marks.
//!
//! The state is five bits, one per mark class seen, so an aggregate over
//! millions of groups keeps one byte per group.

use crate::mark::{Mark, MarkClass};

/// A student's status for a period (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Has a failing mark (`2`, `1`, `А/Ө`, `УА/Ө`, `ЕСЖ`).
    Low,
    /// Worst mark is a `3`.
    Satisfactory,
    /// Worst mark is a `4`.
    Good,
    /// Only `5` / `ЕСП` (besides neutral marks).
    Excellent,
    /// Only `БОС` / `О/Ж`.
    Exempt,
    /// No mark at all.
    Ungraded,
}

impl Status {
    /// Every status, from the worst.
    pub const ALL: [Status; 6] = [
        Status::Low,
        Status::Satisfactory,
        Status::Good,
        Status::Excellent,
        Status::Exempt,
        Status::Ungraded,
    ];

    /// The SQL name of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Low => "low",
            Status::Satisfactory => "satisfactory",
            Status::Good => "good",
            Status::Excellent => "excellent",
            Status::Exempt => "exempt",
            Status::Ungraded => "ungraded",
        }
    }

    /// Parses an SQL status name.
    pub fn from_name(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// The classes of marks seen so far for one student and period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct StatusBits(u8);

impl StatusBits {
    const FAILING: u8 = 1;
    const SATISFACTORY: u8 = 1 << 1;
    const GOOD: u8 = 1 << 2;
    const TOP: u8 = 1 << 3;
    const NEUTRAL: u8 = 1 << 4;

    /// The state of a student with no marks.
    pub const EMPTY: StatusBits = StatusBits(0);

    /// The raw bits, for storing as aggregate state.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Rebuilds a state from [`StatusBits::bits`].
    pub fn from_bits(bits: u8) -> StatusBits {
        StatusBits(bits & 0b1_1111)
    }

    /// Adds one mark.
    // Folding a mark into the state is not arithmetic: no `std::ops::Add`.
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn add(self, mark: Mark) -> StatusBits {
        self.add_class(mark.class())
    }

    /// Adds one mark by its class.
    #[inline]
    pub fn add_class(self, class: MarkClass) -> StatusBits {
        let bit = match class {
            MarkClass::Failing => Self::FAILING,
            MarkClass::Satisfactory => Self::SATISFACTORY,
            MarkClass::Good => Self::GOOD,
            MarkClass::Top => Self::TOP,
            MarkClass::Neutral => Self::NEUTRAL,
        };
        StatusBits(self.0 | bit)
    }

    /// Combines the marks seen by two partial states.
    #[inline]
    pub fn merge(self, other: StatusBits) -> StatusBits {
        StatusBits(self.0 | other.0)
    }

    /// The status: the first rule of SPEC §3 that matches.
    #[inline]
    pub fn status(self) -> Status {
        let b = self.0;
        if b & Self::FAILING != 0 {
            Status::Low
        } else if b & Self::SATISFACTORY != 0 {
            Status::Satisfactory
        } else if b & Self::GOOD != 0 {
            Status::Good
        } else if b & Self::TOP != 0 {
            Status::Excellent
        } else if b & Self::NEUTRAL != 0 {
            Status::Exempt
        } else {
            Status::Ungraded
        }
    }
}

/// The status of a student with these marks.
pub fn status_of<I: IntoIterator<Item = Mark>>(marks: I) -> Status {
    marks
        .into_iter()
        .fold(StatusBits::EMPTY, StatusBits::add)
        .status()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Mark::*;

    #[test]
    fn spec_section_3_cases() {
        assert_eq!(status_of([Five, Four, One]), Status::Low);
        assert_eq!(status_of([Five, TemporarilyNotAttested]), Status::Low);
        assert_eq!(status_of([Five, NotAttested, Exempt]), Status::Low);
        assert_eq!(status_of([NotCredited, Five]), Status::Low);
        assert_eq!(status_of([Two]), Status::Low);
        assert_eq!(status_of([Five, Four, Three]), Status::Satisfactory);
        assert_eq!(status_of([Five, Four, Credited]), Status::Good);
        assert_eq!(status_of([Five, Credited, Exempt]), Status::Excellent);
        assert_eq!(status_of([Credited, Credited]), Status::Excellent);
        assert_eq!(status_of([Exempt]), Status::Exempt);
        assert_eq!(status_of([NotStudied, Exempt]), Status::Exempt);
        assert_eq!(status_of([]), Status::Ungraded);
    }

    #[test]
    fn merge_is_order_free() {
        let a = StatusBits::EMPTY.add(Five).add(Exempt);
        let b = StatusBits::EMPTY.add(Four);
        assert_eq!(a.merge(b).status(), Status::Good);
        assert_eq!(b.merge(a), a.merge(b));
        assert_eq!(StatusBits::from_bits(a.bits()), a);
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::from_name(s.as_str()), Some(s));
        }
        assert_eq!(Status::from_name("top"), None);
    }
}
