//! The class structure of a school over the generated years: which classes
//! exist, in which language, and how many students each is planned for.
//!
//! It depends only on the school's own attributes and the seed, never on
//! rosters, so a neighbouring school can consult it (to place a transferring
//! student) without any cycle.

use super::rng::{Tag, hash_unit};
use super::schools::{Pilot, School, SchoolLang, SchoolType};
use super::subjects::Lang;

/// Grade shares of grades 1–11 (per cent of students), and grade 12.
const GRADE_SHARES: [f64; 13] = [
    0.0, 9.0, 9.8, 10.2, 10.3, 10.0, 9.8, 9.6, 9.3, 9.0, 6.3, 5.6, 5.0,
];

const KK_LETTERS: [&str; 16] = [
    "А", "Ә", "Б", "В", "Г", "Ғ", "Д", "Е", "Ж", "З", "И", "К", "Қ", "Л", "М", "Н",
];
const RU_LETTERS: [&str; 16] = [
    "А", "Б", "В", "Г", "Д", "Е", "Ж", "З", "И", "К", "Л", "М", "Н", "О", "П", "Р",
];

/// Class ids are `school_id * CLASS_ID_SPAN + n`.
pub(crate) const CLASS_ID_SPAN: i64 = 10_000;

/// `classes.journal_type`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Journal {
    Criterial,
    Other,
}

/// `classes.period_type`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PeriodType {
    Quarter,
    HalfYear,
}

/// One class of one academic year.
#[derive(Debug, Clone)]
pub(crate) struct ClassSpec {
    pub(crate) id: i64,
    pub(crate) year: i32,
    pub(crate) parallel: i32,
    pub(crate) letter: String,
    pub(crate) journal: Journal,
    pub(crate) period: PeriodType,
}

impl ClassSpec {
    /// A criteria-based quarterly class: the only kind transfers go to.
    pub(crate) fn regular(&self) -> bool {
        self.journal == Journal::Criterial && self.period == PeriodType::Quarter
    }
}

/// The classes of one year, parallel and language, and their planned size.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) year: i32,
    pub(crate) parallel: i32,
    pub(crate) lang: Lang,
    pub(crate) target: u32,
    /// Indices into [`Skeleton::classes`].
    pub(crate) classes: std::ops::Range<usize>,
}

/// A school's classes over the generated years, in id order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Skeleton {
    pub(crate) classes: Vec<ClassSpec>,
    pub(crate) groups: Vec<Group>,
}

/// Raised when a school would need more class ids than its span holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("school {school_id} needs more than {max} classes over the generated years")]
pub(crate) struct TooManyClasses {
    pub(crate) school_id: i64,
    pub(crate) max: i64,
}

impl Skeleton {
    /// The skeleton of `school` for academic `years`.
    pub(crate) fn of(
        seed: u64,
        school: &School,
        years: &[i32],
    ) -> Result<Skeleton, TooManyClasses> {
        let mut sk = Skeleton::default();
        let letters: &[&str] = if school.language == SchoolLang::Ru {
            &RU_LETTERS
        } else {
            &KK_LETTERS
        };
        let share_sum: f64 = (school.grades.0..=school.grades.1).map(grade_share).sum();
        for &year in years {
            let parallels = school
                .parallel0
                .then_some(0)
                .into_iter()
                .chain(school.grades.0..=school.grades.1);
            for parallel in parallels {
                let total = planned(seed, school, year, parallel, share_sum);
                let split: Vec<(Lang, u32)> = match school.language {
                    SchoolLang::Ru => vec![(Lang::Ru, total)],
                    SchoolLang::Kk | SchoolLang::Other => vec![(Lang::Kk, total)],
                    SchoolLang::Mixed => {
                        let kk = ((f64::from(total) * school.kk_share).round() as u32).max(1);
                        vec![(Lang::Kk, kk), (Lang::Ru, total.saturating_sub(kk).max(1))]
                    }
                };
                let first_in_parallel = sk.classes.len();
                for (lang, target) in split {
                    let n = target.div_ceil(school.class_cap).max(1) as usize;
                    let start = sk.classes.len();
                    for _ in 0..n {
                        let local = sk.classes.len() as i64 + 1;
                        if local >= CLASS_ID_SPAN {
                            return Err(TooManyClasses {
                                school_id: school.id,
                                max: CLASS_ID_SPAN - 1,
                            });
                        }
                        let k = sk.classes.len() - first_in_parallel;
                        let letter = match letters.get(k) {
                            Some(l) => (*l).to_string(),
                            None => format!("{}{}", letters[k % letters.len()], k / letters.len()),
                        };
                        sk.classes.push(ClassSpec {
                            id: school.id * CLASS_ID_SPAN + local,
                            year,
                            parallel,
                            letter,
                            journal: if school.school_type == SchoolType::International {
                                Journal::Other
                            } else {
                                Journal::Criterial
                            },
                            period: if school.school_type == SchoolType::Evening {
                                PeriodType::HalfYear
                            } else {
                                PeriodType::Quarter
                            },
                        });
                    }
                    sk.groups.push(Group {
                        year,
                        parallel,
                        lang,
                        target,
                        classes: start..sk.classes.len(),
                    });
                }
                // The pilot class is the parallel's last one.
                if let Some((pilot, p)) = school.pilot
                    && p == parallel
                    && let Some(c) = sk.classes.last_mut()
                {
                    match pilot {
                        Pilot::OtherJournal => c.journal = Journal::Other,
                        Pilot::HalfYear => c.period = PeriodType::HalfYear,
                    }
                }
            }
        }
        Ok(sk)
    }

    /// The groups of `year`.
    pub(crate) fn groups_of(&self, year: i32) -> impl Iterator<Item = &Group> {
        self.groups.iter().filter(move |g| g.year == year)
    }

    /// The group of `year`, `parallel` and `lang`, if the school has one.
    pub(crate) fn group(&self, year: i32, parallel: i32, lang: Lang) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| g.year == year && g.parallel == parallel && g.lang == lang)
    }

    /// Indices of the regular classes of `year`, `parallel` and `lang`.
    pub(crate) fn regular_classes(&self, year: i32, parallel: i32, lang: Lang) -> Vec<usize> {
        self.group(year, parallel, lang)
            .map(|g| {
                g.classes
                    .clone()
                    .filter(|&i| self.classes[i].regular())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Planned students of `year` in `parallel`.
    pub(crate) fn planned(&self, year: i32, parallel: i32) -> u32 {
        self.groups
            .iter()
            .filter(|g| g.year == year && g.parallel == parallel)
            .map(|g| g.target)
            .sum()
    }
}

fn grade_share(parallel: i32) -> f64 {
    GRADE_SHARES
        .get(parallel.clamp(0, 12) as usize)
        .copied()
        .unwrap_or(0.0)
}

/// Planned students of a parallel: the school's size spread over its grades
/// by the national grade shares, with a per-cohort wobble (a cohort keeps its
/// relative size as it moves up) and slow growth of the school population.
fn planned(seed: u64, school: &School, year: i32, parallel: i32, share_sum: f64) -> u32 {
    let cohort = i64::from(year - parallel);
    let wobble = hash_unit(seed, Tag::Cohort, &[school.id, cohort]);
    if parallel == 0 {
        let u = hash_unit(seed, Tag::Cohort, &[school.id, i64::from(year), -1]);
        return if school.small {
            3 + (u * 6.0) as u32
        } else {
            8 + (u * 13.0) as u32
        };
    }
    if school.small {
        return 3 + (wobble * 10.0) as u32;
    }
    let growth = 1.015f64.powi(year - 2021);
    let x = f64::from(school.size) * grade_share(parallel) / share_sum.max(1.0)
        * (0.85 + 0.3 * wobble)
        * growth;
    (x.round() as u32).max(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::schools::{Locality, School};

    pub(crate) fn school(language: SchoolLang, size: u32, cap: u32) -> School {
        School {
            id: 5001,
            district_id: 5,
            region_id: 1,
            name_kk: String::new(),
            name_ru: String::new(),
            locality: Locality::Urban,
            language,
            school_type: SchoolType::General,
            internet_mbps: None,
            small: false,
            size,
            grades: (1, 11),
            parallel0: true,
            class_cap: cap,
            effect: 0.0,
            kk_share: 0.5,
            pilot: Some((Pilot::OtherJournal, 3)),
        }
    }

    #[test]
    fn classes_follow_the_plan() {
        let s = school(SchoolLang::Mixed, 1200, 30);
        let sk = Skeleton::of(1, &s, &[2021, 2022]).unwrap();
        // Parallels 0..=11 in both languages, both years.
        assert_eq!(sk.groups.len(), 2 * 12 * 2);
        assert!(sk.classes.windows(2).all(|w| w[0].id + 1 == w[1].id));
        assert_eq!(sk.classes[0].id, 5001 * CLASS_ID_SPAN + 1);
        for g in &sk.groups {
            let n = g.classes.len() as u32;
            assert_eq!(n, g.target.div_ceil(30).max(1), "{g:?}");
        }
        let g5 = sk.planned(2021, 5);
        // 1200 * 10.0 / 98.9 = 121, wobbled by at most ±15 %.
        assert!((103..=140).contains(&g5), "{g5}");
        let third: Vec<&ClassSpec> = sk
            .classes
            .iter()
            .filter(|c| c.year == 2021 && c.parallel == 3)
            .collect();
        assert_eq!(third.iter().filter(|c| !c.regular()).count(), 1);
        assert!(!third.last().unwrap().regular());
        let letters: Vec<&str> = third.iter().map(|c| c.letter.as_str()).collect();
        assert_eq!(letters[..2], ["А", "Ә"]);
        assert!(
            sk.regular_classes(2021, 3, Lang::Ru).len()
                < sk.group(2021, 3, Lang::Ru).unwrap().classes.len()
        );
    }
}
