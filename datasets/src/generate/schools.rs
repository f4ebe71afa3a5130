//! Schools: drawn per region to match its profile (counts, rural share, small
//! schools, languages, types), or laid out by hand for the tiny dataset.

use super::geography::{DistrictInfo, RegionProfile, UnitKind};
use super::names::{rural_name, urban_name, village};
use super::rng::{Stream, Tag};

pub(crate) use super::school_kinds::{Locality, Pilot, SchoolLang, SchoolType};

/// A school and everything its rosters are drawn from.
#[derive(Debug, Clone)]
pub(crate) struct School {
    pub(crate) id: i64,
    pub(crate) district_id: i64,
    pub(crate) region_id: i64,
    pub(crate) name_kk: String,
    pub(crate) name_ru: String,
    pub(crate) locality: Locality,
    pub(crate) language: SchoolLang,
    pub(crate) school_type: SchoolType,
    pub(crate) internet_mbps: Option<f64>,
    /// A small rural school (малокомплектная): one small class per grade.
    pub(crate) small: bool,
    /// Planned students in its grades (beyond parallel 0) in the first year.
    pub(crate) size: u32,
    /// The first and last parallel it teaches (beyond parallel 0).
    pub(crate) grades: (i32, i32),
    /// Whether it runs a pre-school parallel 0.
    pub(crate) parallel0: bool,
    /// The most students a class takes.
    pub(crate) class_cap: u32,
    /// The ability offset of its students: region, type and its own.
    pub(crate) effect: f64,
    /// For a mixed school, the share of students taught in Kazakh.
    pub(crate) kk_share: f64,
    /// A class outside the reports it runs every year, and in which parallel.
    pub(crate) pilot: Option<(Pilot, i32)>,
}

/// Probability weights of the school types, by kind of school.
const URBAN_TYPES: [(SchoolType, f64); 11] = [
    (SchoolType::General, 0.715),
    (SchoolType::Gymnasium, 0.08),
    (SchoolType::SchoolGymnasium, 0.07),
    (SchoolType::Lyceum, 0.04),
    (SchoolType::SchoolLyceum, 0.04),
    (SchoolType::Specialized, 0.03),
    (SchoolType::Evening, 0.012),
    (SchoolType::International, 0.006),
    (SchoolType::Correctional, 0.004),
    (SchoolType::Sanatorium, 0.002),
    (SchoolType::Other, 0.001),
];
const RURAL_TYPES: [(SchoolType, f64); 7] = [
    (SchoolType::General, 0.955),
    (SchoolType::SchoolGymnasium, 0.012),
    (SchoolType::Gymnasium, 0.003),
    (SchoolType::SchoolLyceum, 0.008),
    (SchoolType::Specialized, 0.016),
    (SchoolType::Evening, 0.004),
    (SchoolType::Correctional, 0.002),
];

/// Relative size of an urban school against a rural (non-small) one.
const URBAN_WEIGHT: f64 = 2.6;
/// Average students of a small school.
const SMALL_AVERAGE: f64 = 65.0;

/// Draws the schools of one region, in id order (by district, then number).
pub(crate) fn region_schools(
    seed: u64,
    profile: &RegionProfile,
    districts: &[DistrictInfo],
) -> Vec<School> {
    let mut rng = Stream::new(seed, Tag::Schools, &[profile.id]);
    let units: Vec<&DistrictInfo> = districts
        .iter()
        .filter(|d| d.region_id == profile.id)
        .collect();
    let total = profile.schools as usize;
    let urban_units: Vec<usize> = (0..units.len())
        .filter(|&i| units[i].kind != UnitKind::District)
        .collect();
    let rural_units: Vec<usize> = (0..units.len())
        .filter(|&i| units[i].kind == UnitKind::District)
        .collect();
    let n_urban = if rural_units.is_empty() {
        total
    } else {
        ((total as f64 * profile.urban).round() as usize)
            .clamp(urban_units.len(), total - rural_units.len())
    };
    let n_rural = total - n_urban;
    let n_small = (n_rural as f64 * profile.small).round() as usize;
    // Cities: the regional centre holds most urban schools; city districts share equally.
    let urban_weights: Vec<f64> = urban_units
        .iter()
        .map(|&i| if units[i].capital { 6.0 } else { 1.0 } * (0.8 + 0.4 * rng.unit()))
        .collect();
    let rural_weights: Vec<f64> = rural_units.iter().map(|_| 0.6 + 0.8 * rng.unit()).collect();
    let mut per_unit = vec![0usize; units.len()];
    for (i, n) in urban_units.iter().zip(apportion(n_urban, &urban_weights)) {
        per_unit[*i] = n;
    }
    for (i, n) in rural_units.iter().zip(apportion(n_rural, &rural_weights)) {
        per_unit[*i] = n;
    }
    // Which rural schools are small: a shuffled flag list over the region.
    let mut small_flags: Vec<bool> = (0..n_rural).map(|i| i < n_small).collect();
    rng.shuffle(&mut small_flags);
    let students = f64::from(profile.students_k) * 1000.0;
    let normal_rural = (n_rural - n_small) as f64;
    let per_weight = (students - n_small as f64 * SMALL_AVERAGE).max(0.0)
        / (normal_rural + URBAN_WEIGHT * n_urban as f64).max(1.0);
    let russian_villages = profile.languages[2];

    let mut schools = Vec::with_capacity(total);
    let mut rural_seen = 0usize;
    for (ui, unit) in units.iter().enumerate() {
        let urban = unit.kind != UnitKind::District;
        for k in 0..per_unit[ui] {
            let id = unit.id * 1000 + k as i64 + 1;
            let small = !urban && small_flags.get(rural_seen).copied().unwrap_or(false);
            if !urban {
                rural_seen += 1;
            }
            let school_type = if small {
                SchoolType::General
            } else if urban && unit.capital && k == 0 || profile.is_city && k == 0 && ui < 2 {
                // A Nazarbayev Intellectual School in every regional centre (two
                // in the cities of republican significance).
                SchoolType::Autonomous
            } else if urban {
                pick(&mut rng, &URBAN_TYPES)
            } else {
                pick(&mut rng, &RURAL_TYPES)
            };
            let locality = if urban {
                Locality::Urban
            } else {
                Locality::Rural
            };
            let language = draw_language(&mut rng, profile, school_type, small);
            let base = if small {
                SMALL_AVERAGE
            } else if urban {
                per_weight * URBAN_WEIGHT
            } else {
                per_weight
            };
            // Log-normal spread with mean 1.
            let spread = (0.45 * rng.normal() - 0.101).exp();
            let mut size = (base * spread)
                .round()
                .max(if urban { 150.0 } else { 80.0 }) as u32;
            let grades = match school_type {
                SchoolType::Evening => {
                    size = rng.range(60, 250) as u32;
                    (10, 12)
                }
                SchoolType::Autonomous => {
                    size = rng.range(650, 950) as u32;
                    (7, 12)
                }
                SchoolType::Correctional | SchoolType::Sanatorium | SchoolType::International => {
                    size = rng.range(120, 400) as u32;
                    (1, 11)
                }
                _ if small => match rng.weighted(&[0.15, 0.45, 0.40]) {
                    0 => (1, 4),
                    1 => (1, 9),
                    _ => (1, 11),
                },
                _ => (1, 11),
            };
            let parallel0 = match school_type {
                SchoolType::General => rng.chance(if small {
                    0.3
                } else if urban {
                    0.15
                } else {
                    0.35
                }),
                _ => false,
            };
            let class_cap = if small {
                100
            } else if urban {
                30
            } else {
                22
            };
            // No locality term: urban schools do better through their types
            // (most gymnasiums and lyceums are urban) and their regions.
            let effect = profile.effect + school_type.effect() + 0.18 * rng.normal();
            let internet_mbps = draw_internet(&mut rng, urban, small);
            let pilot = if matches!(school_type, SchoolType::Evening | SchoolType::International)
                || small
            {
                None
            } else if rng.chance(0.01) {
                Some((Pilot::OtherJournal, rng.range(2, 9) as i32))
            } else if rng.chance(0.006) {
                Some((Pilot::HalfYear, rng.range(10, 11) as i32))
            } else {
                None
            };
            let (name_kk, name_ru) = if urban {
                let base_kk = unit
                    .name_kk
                    .trim_end_matches(" қаласы")
                    .trim_end_matches(" ауданы");
                let base_ru = unit.name_ru.trim_start_matches("город ");
                urban_name(&mut rng, school_type, k as u32 + 1, base_kk, base_ru)
            } else {
                let v = village(&mut rng, russian_villages);
                rural_name(school_type, small, &v)
            };
            schools.push(School {
                id,
                district_id: unit.id,
                region_id: profile.id,
                name_kk,
                name_ru,
                locality,
                language,
                school_type,
                internet_mbps,
                small,
                size,
                grades,
                parallel0,
                class_cap,
                effect,
                kk_share: 0.35 + 0.4 * rng.unit(),
                pilot,
            });
        }
    }
    schools
}

fn pick<T: Copy>(rng: &mut Stream, table: &[(T, f64)]) -> T {
    let weights: Vec<f64> = table.iter().map(|(_, w)| *w).collect();
    table[rng.weighted(&weights)].0
}

fn draw_language(rng: &mut Stream, p: &RegionProfile, t: SchoolType, small: bool) -> SchoolLang {
    match t {
        SchoolType::Autonomous => return SchoolLang::Mixed,
        SchoolType::International => return SchoolLang::Other,
        _ => {}
    }
    let [kk, mixed, ru] = p.languages;
    let other = (1.0 - kk - mixed - ru).max(0.0);
    // Small schools more often teach in one language.
    let mixed = if small { mixed * 0.6 } else { mixed * 1.25 };
    let weights = [kk, mixed, ru, other];
    match rng.weighted(&weights) {
        0 => SchoolLang::Kk,
        1 => SchoolLang::Mixed,
        2 => SchoolLang::Ru,
        _ => SchoolLang::Other,
    }
}

fn draw_internet(rng: &mut Stream, urban: bool, small: bool) -> Option<f64> {
    if rng.chance(0.07) {
        return None;
    }
    let tiers: &[(f64, f64)] = if urban {
        &[
            (4.0, 0.04),
            (10.0, 0.1),
            (20.0, 0.2),
            (50.0, 0.3),
            (100.0, 0.3),
            (200.0, 0.06),
        ]
    } else if small {
        &[
            (1.0, 0.12),
            (2.0, 0.18),
            (4.0, 0.2),
            (6.0, 0.15),
            (10.0, 0.2),
            (20.0, 0.15),
        ]
    } else {
        &[
            (1.0, 0.04),
            (2.0, 0.08),
            (4.0, 0.13),
            (6.0, 0.15),
            (10.0, 0.25),
            (20.0, 0.22),
            (50.0, 0.13),
        ]
    };
    Some(pick(rng, tiers))
}

/// Splits `n` items over `weights` by largest remainder, at least one each
/// when there are enough items.
fn apportion(n: usize, weights: &[f64]) -> Vec<usize> {
    if weights.is_empty() {
        return Vec::new();
    }
    let base = if n >= weights.len() { 1 } else { 0 };
    let rest = n - base * weights.len();
    let total: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| rest as f64 * w / total).collect();
    let mut out: Vec<usize> = exact.iter().map(|x| base + x.floor() as usize).collect();
    let mut left = n - out.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    for i in order {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::geography::{REGIONS, all_districts};

    #[test]
    fn apportion_keeps_the_total_and_gives_everyone_one() {
        assert_eq!(apportion(10, &[1.0, 1.0, 2.0]), vec![3, 3, 4]);
        assert_eq!(apportion(2, &[1.0, 1.0, 1.0]).iter().sum::<usize>(), 2);
        assert_eq!(apportion(7, &[5.0, 0.1]), vec![6, 1]);
        assert!(apportion(3, &[]).is_empty());
    }

    #[test]
    fn national_schools_look_like_kazakhstans() {
        let districts = all_districts();
        let schools: Vec<School> = REGIONS
            .iter()
            .flat_map(|r| region_schools(9, r, &districts))
            .collect();
        let n = schools.len() as f64;
        let share =
            |f: &dyn Fn(&School) -> bool| schools.iter().filter(|s| f(s)).count() as f64 / n;
        assert!((7_400.0..=8_000.0).contains(&n), "{n} schools");
        let rural = share(&|s| s.locality == Locality::Rural);
        assert!((0.64..=0.72).contains(&rural), "rural {rural}");
        let small = schools.iter().filter(|s| s.small).count();
        assert!((2_500..=3_100).contains(&small), "{small} small schools");
        let kk = share(&|s| s.language == SchoolLang::Kk);
        let mixed = share(&|s| s.language == SchoolLang::Mixed);
        let ru = share(&|s| s.language == SchoolLang::Ru);
        assert!((0.48..=0.56).contains(&kk), "kk {kk}");
        assert!((0.26..=0.35).contains(&mixed), "mixed {mixed}");
        assert!((0.12..=0.20).contains(&ru), "ru {ru}");
        let general = share(&|s| s.school_type == SchoolType::General);
        assert!((0.85..=0.91).contains(&general), "general {general}");
        let gym = share(&|s| {
            matches!(
                s.school_type,
                SchoolType::Gymnasium | SchoolType::SchoolGymnasium
            )
        });
        assert!((0.04..=0.08).contains(&gym), "gymnasiums {gym}");
        assert!(schools.iter().any(|s| s.internet_mbps.is_none()));
        let students: f64 = schools.iter().map(|s| f64::from(s.size)).sum();
        assert!((3.4e6..=4.2e6).contains(&students), "{students} students");
        let mut ids: Vec<i64> = schools.iter().map(|s| s.id).collect();
        let sorted = ids.clone();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids, sorted, "ids unique and ascending in emission order");
    }
}
