//! The tiny dataset's hand-laid schools.

use super::geography::{DistrictInfo, region};
use super::names::{rural_name, urban_name, village};
use super::rng::{Stream, Tag};
use super::schools::{Locality, Pilot, School, SchoolLang, SchoolType};

/// The tiny dataset's six schools: Astana's Есіл district (three urban
/// schools), Akmola's Бурабай district (a rural and a small rural school) and
/// the city of Көкшетау, chosen so that every feature the tests and the
/// documentation rely on occurs.
pub(crate) fn tiny_schools(seed: u64, districts: &[DistrictInfo]) -> Vec<School> {
    let find = |region_id: i64, kk: &str| {
        districts
            .iter()
            .find(|d| d.region_id == region_id && d.name_kk == kk)
            .map(|d| d.id)
            .unwrap_or(1)
    };
    let esil = find(18, "Есіл ауданы");
    let burabay = find(2, "Бурабай ауданы");
    let kokshetau = find(2, "Көкшетау қаласы");
    let mut rng = Stream::new(seed, Tag::Schools, &[0]);
    struct Plan {
        district: i64,
        region: i64,
        urban: bool,
        language: SchoolLang,
        t: SchoolType,
        size: u32,
        grades: (i32, i32),
        parallel0: bool,
        cap: u32,
        internet: Option<f64>,
        pilot: Option<(Pilot, i32)>,
        small: bool,
    }
    let plans = [
        Plan {
            district: esil,
            region: 18,
            urban: true,
            language: SchoolLang::Kk,
            t: SchoolType::Gymnasium,
            size: 110,
            grades: (1, 11),
            parallel0: true,
            cap: 8,
            internet: Some(100.0),
            pilot: None,
            small: false,
        },
        Plan {
            district: esil,
            region: 18,
            urban: true,
            language: SchoolLang::Ru,
            t: SchoolType::General,
            size: 90,
            grades: (1, 11),
            parallel0: false,
            cap: 8,
            internet: Some(50.0),
            pilot: Some((Pilot::OtherJournal, 5)),
            small: false,
        },
        Plan {
            district: esil,
            region: 18,
            urban: true,
            language: SchoolLang::Mixed,
            t: SchoolType::SchoolLyceum,
            size: 80,
            grades: (1, 11),
            parallel0: false,
            cap: 10,
            internet: Some(20.0),
            pilot: Some((Pilot::HalfYear, 10)),
            small: false,
        },
        Plan {
            district: burabay,
            region: 2,
            urban: false,
            language: SchoolLang::Kk,
            t: SchoolType::General,
            size: 60,
            grades: (1, 11),
            parallel0: true,
            cap: 6,
            internet: Some(6.0),
            pilot: None,
            small: false,
        },
        Plan {
            district: burabay,
            region: 2,
            urban: false,
            language: SchoolLang::Kk,
            t: SchoolType::General,
            size: 30,
            grades: (1, 9),
            parallel0: false,
            cap: 100,
            internet: None,
            pilot: None,
            small: true,
        },
        Plan {
            district: kokshetau,
            region: 2,
            urban: true,
            language: SchoolLang::Ru,
            t: SchoolType::General,
            size: 70,
            grades: (1, 11),
            parallel0: false,
            cap: 8,
            internet: Some(20.0),
            pilot: None,
            small: false,
        },
    ];
    let mut numbers: Vec<(i64, i64)> = Vec::new();
    let mut schools: Vec<School> = plans
        .iter()
        .map(|p| {
            let k = numbers.iter().filter(|(d, _)| *d == p.district).count() as i64 + 1;
            numbers.push((p.district, k));
            let effect =
                region(p.region).map_or(0.0, |r| r.effect) + p.t.effect() + 0.18 * rng.normal();
            let (name_kk, name_ru) = if p.urban {
                urban_name(&mut rng, p.t, (k * 3 + 1) as u32, "", "")
            } else {
                rural_name(p.t, p.small, &village(&mut rng, 0.3))
            };
            School {
                id: p.district * 1000 + k,
                district_id: p.district,
                region_id: p.region,
                name_kk,
                name_ru,
                locality: if p.urban {
                    Locality::Urban
                } else {
                    Locality::Rural
                },
                language: p.language,
                school_type: p.t,
                internet_mbps: p.internet,
                small: p.small,
                size: p.size,
                grades: p.grades,
                parallel0: p.parallel0,
                class_cap: p.cap,
                effect,
                kk_share: 0.5,
                pilot: p.pilot,
            }
        })
        .collect();
    // Emission order is region, district, school: ids ascend in it.
    schools.sort_by_key(|s| s.id);
    schools
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::geography::all_districts;

    #[test]
    fn tiny_has_every_kind_of_school_it_promises() {
        let s = tiny_schools(1, &all_districts());
        assert_eq!(s.len(), 6);
        assert!(s.iter().any(|x| x.small && x.locality == Locality::Rural));
        assert!(s.iter().any(|x| !x.small && x.locality == Locality::Rural));
        assert!(s.iter().any(|x| x.locality == Locality::Urban));
        assert!(s.iter().any(|x| x.parallel0));
        assert!(
            s.iter()
                .any(|x| matches!(x.pilot, Some((Pilot::OtherJournal, _))))
        );
        assert!(
            s.iter()
                .any(|x| matches!(x.pilot, Some((Pilot::HalfYear, _))))
        );
        assert!(s.windows(2).all(|w| w[0].id < w[1].id));
    }
}
