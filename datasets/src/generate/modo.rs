//! MODO (ББЖМ), SPEC §9: grades 4 and 9 tested every April in about a
//! quarter of the eligible schools, drawn within clusters; scores correlate
//! with the students' ability.

use chrono::NaiveDate;

use super::World;
use super::marks::{flags, grade_effect, stream};
use super::rng::{Stream, Tag, hash_unit, key};
use super::roster::YearRoster;
use super::schools::{Locality, School, SchoolLang, SchoolType};
use super::skeleton::Skeleton;

/// `(domain, max score, difficulty offset)` of each tested grade.
pub(crate) fn domains(grade: i32) -> [(&'static str, u32, f64); 3] {
    if grade == 4 {
        [("reading", 10, 0.4), ("math", 12, 0.1), ("science", 8, 0.2)]
    } else {
        [
            ("reading", 30, -0.1),
            ("math", 13, -0.5),
            ("science", 32, -0.3),
        ]
    }
}

/// Share of the eligible schools drawn each year.
const DRAW_SHARE: f64 = 0.25;
/// Share of a tested grade absent on the day.
const ABSENT: f64 = 0.04;

/// Whether `school` may be drawn in `year` (SPEC §9's exclusions).
pub(crate) fn eligible(school: &School, sk: &Skeleton, year: i32, min_students: u32) -> bool {
    use SchoolType::*;
    let kind_ok = matches!(
        school.school_type,
        General | Gymnasium | Lyceum | SchoolGymnasium | SchoolLyceum | Specialized
    );
    let internet_ok = school.internet_mbps.is_some_and(|m| m >= 4.0);
    kind_ok && internet_ok && sk.planned(year, 4) + sk.planned(year, 9) >= min_students
}

/// The cluster a school is drawn in: locality, type, size band, language.
fn cluster(school: &School, sk: &Skeleton, year: i32) -> [i64; 4] {
    let size: u32 = (0..=12).map(|p| sk.planned(year, p)).sum();
    let band = match size {
        0..300 => 0,
        300..1000 => 1,
        _ => 2,
    };
    let lang = match school.language {
        SchoolLang::Kk => 0,
        SchoolLang::Ru => 1,
        SchoolLang::Mixed => 2,
        SchoolLang::Other => 3,
    };
    [
        i64::from(school.locality == Locality::Urban),
        school.school_type as i64,
        band,
        lang,
    ]
}

/// For each generated year, the indices of the schools drawn.
///
/// Within each cluster the schools are ordered by a seeded hash and the
/// first `round(25 % · n)` taken (rounded up or down at random). If no school
/// is drawn although some are eligible (tiny datasets), the first by hash is.
pub(crate) fn draw(
    world: &World,
    eligible: &[Vec<bool>],
    clusters: &[Vec<[i64; 4]>],
) -> Vec<Vec<usize>> {
    let mut out = Vec::with_capacity(world.years.len());
    for (yi, &year) in world.years.iter().enumerate() {
        let mut pool: Vec<([i64; 4], u64, usize)> = (0..world.schools.len())
            .filter(|&i| eligible[i][yi])
            .map(|i| {
                (
                    clusters[i][yi],
                    key(
                        world.seed,
                        Tag::ModoDraw,
                        &[i64::from(year), world.schools[i].id],
                    ),
                    i,
                )
            })
            .collect();
        pool.sort_unstable();
        let mut chosen = Vec::new();
        let mut start = 0;
        while start < pool.len() {
            let c = pool[start].0;
            let end = start + pool[start..].iter().take_while(|x| x.0 == c).count();
            let n = (end - start) as f64;
            let mut cluster_key = vec![i64::from(year)];
            cluster_key.extend_from_slice(&c);
            let take = (n * DRAW_SHARE + hash_unit(world.seed, Tag::ModoDraw, &cluster_key)).floor()
                as usize;
            chosen.extend(pool[start..end].iter().take(take).map(|x| x.2));
            start = end;
        }
        if chosen.is_empty()
            && let Some(first) = pool.iter().min_by_key(|x| x.1)
        {
            chosen.push(first.2);
        }
        chosen.sort_unstable();
        out.push(chosen);
    }
    out
}

/// Eligibility and cluster of a school for every year.
pub(crate) fn assess(world: &World, school: &School, sk: &Skeleton) -> (Vec<bool>, Vec<[i64; 4]>) {
    world
        .years
        .iter()
        .map(|&y| {
            (
                eligible(school, sk, y, world.rates.modo_min_students),
                cluster(school, sk, y),
            )
        })
        .unzip()
}

/// One MODO result row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ModoRow {
    pub(crate) student_id: i64,
    pub(crate) year: i32,
    pub(crate) grade: i32,
    pub(crate) domain: &'static str,
    pub(crate) score: f64,
    pub(crate) max_score: f64,
}

/// The results of one school's tested students in one year: the students of
/// grades 4 and 9 in the school on 15 April, less the exempt and the absent.
pub(crate) fn results(
    world: &World,
    year_index: usize,
    roster: &YearRoster,
    out: &mut Vec<ModoRow>,
) {
    let year = world.years[year_index];
    let Some(test_day) = NaiveDate::from_ymd_opt(year + 1, 4, 15) else {
        return;
    };
    let mut tested: Vec<_> = roster
        .placements
        .iter()
        .filter(|p| matches!(p.parallel, 4 | 9) && p.segments.iter().any(|s| s.active_on(test_day)))
        .collect();
    tested.sort_by_key(|p| p.student.id);
    for p in tested {
        let f = flags(&mut stream(world.seed, p.student.id, year), &world.rates);
        let mut rng = Stream::new(world.seed, Tag::Modo, &[p.student.id, i64::from(year)]);
        if f.exempt_all || rng.chance(ABSENT) {
            continue;
        }
        let level = f64::from(p.student.ability) + f.drift + grade_effect(p.parallel) - 0.3;
        for (domain, max, offset) in domains(p.parallel) {
            let prob = 1.0 / (1.0 + (-(1.1 * level + offset)).exp());
            let score = (0..max).filter(|_| rng.chance(prob)).count();
            out.push(ModoRow {
                student_id: p.student.id,
                year,
                grade: p.parallel,
                domain,
                score: score as f64,
                max_score: f64::from(max),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxima_follow_the_spec() {
        let total = |g| domains(g).iter().map(|d| d.1).sum::<u32>();
        assert_eq!(total(4), 30);
        assert_eq!(total(9), 75);
        assert_eq!(domains(9).map(|d| d.0), ["reading", "math", "science"]);
    }
}
