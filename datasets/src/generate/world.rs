//! The fixed frame of a run: the years and their calendars, the geography,
//! the schools and their district neighbours, and the scale's event rates.

use super::calendar::AcademicCalendar;
use super::geography::{DistrictInfo, REGION_SCALE_REGION, REGIONS, RegionProfile, all_districts};
use super::schools::{self, School};
use super::skeleton::{Skeleton, TooManyClasses};
use super::{GenerateError, GenerateOptions, Scale};

/// Event rates of a scale.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rates {
    /// Students leaving a school between two years (besides graduation).
    pub(crate) attrition: f64,
    /// Students transferring to the district's next school during a year.
    pub(crate) transfer: f64,
    /// Students changing class within their school during a year.
    pub(crate) class_change: f64,
    /// Students leaving the system during a year.
    pub(crate) dropout: f64,
    pub(crate) exempt_all: f64,
    pub(crate) pe_exempt: f64,
    pub(crate) not_studied: f64,
    pub(crate) not_attested: f64,
    pub(crate) temp_not_attested: f64,
    /// Marks first set after the period's end.
    pub(crate) late: f64,
    /// Marks with an earlier, different version.
    pub(crate) changed: f64,
    /// Marks cleared by a later empty version.
    pub(crate) cleared: f64,
    /// Fewest students in grades 4 and 9 for a school to enter the MODO draw.
    pub(crate) modo_min_students: u32,
}

/// Everything fixed before the rosters: the geography, the schools, the years.
pub(crate) struct World {
    pub(crate) seed: u64,
    pub(crate) rates: Rates,
    pub(crate) years: Vec<i32>,
    pub(crate) calendars: Vec<AcademicCalendar>,
    pub(crate) regions: Vec<&'static RegionProfile>,
    pub(crate) districts: Vec<DistrictInfo>,
    pub(crate) schools: Vec<School>,
    /// For each school, the previous and next school of its district
    /// (cyclically): where transfers come from and go to.
    pub(crate) neighbours: Vec<(Option<usize>, Option<usize>)>,
}

impl World {
    pub(crate) fn build(opts: &GenerateOptions) -> Result<World, GenerateError> {
        let (start, end) = (*opts.years.start(), *opts.years.end());
        let calendars: Option<Vec<AcademicCalendar>> =
            opts.years.clone().map(AcademicCalendar::of).collect();
        let calendars = match calendars {
            Some(c) if !c.is_empty() => c,
            _ => return Err(GenerateError::Years { start, end }),
        };
        let all = all_districts();
        let (regions, schools): (Vec<&'static RegionProfile>, Vec<School>) = match opts.scale {
            Scale::Tiny => {
                let schools = super::tiny::tiny_schools(opts.seed, &all);
                (
                    REGIONS
                        .iter()
                        .filter(|r| schools.iter().any(|s| s.region_id == r.id))
                        .collect(),
                    schools,
                )
            }
            Scale::Region => {
                let r: Vec<&RegionProfile> = REGIONS
                    .iter()
                    .filter(|r| r.id == REGION_SCALE_REGION)
                    .collect();
                let schools = r
                    .iter()
                    .flat_map(|r| schools::region_schools(opts.seed, r, &all))
                    .collect();
                (r, schools)
            }
            Scale::National => (
                REGIONS.iter().collect(),
                REGIONS
                    .iter()
                    .flat_map(|r| schools::region_schools(opts.seed, r, &all))
                    .collect(),
            ),
        };
        let districts: Vec<DistrictInfo> = all
            .into_iter()
            .filter(|d| match opts.scale {
                Scale::Tiny => schools.iter().any(|s| s.district_id == d.id),
                _ => regions.iter().any(|r| r.id == d.region_id),
            })
            .collect();
        let mut neighbours = vec![(None, None); schools.len()];
        let mut start_idx = 0;
        while start_idx < schools.len() {
            let d = schools[start_idx].district_id;
            let end_idx = start_idx
                + schools[start_idx..]
                    .iter()
                    .take_while(|s| s.district_id == d)
                    .count();
            let k = end_idx - start_idx;
            if k >= 2 {
                for j in 0..k {
                    neighbours[start_idx + j] = (
                        Some(start_idx + (j + k - 1) % k),
                        Some(start_idx + (j + 1) % k),
                    );
                }
            }
            start_idx = end_idx;
        }
        Ok(World {
            seed: opts.seed,
            rates: opts.scale.rates(),
            years: opts.years.clone().collect(),
            calendars,
            regions,
            districts,
            schools,
            neighbours,
        })
    }

    /// The class skeleton of school `index`.
    pub(crate) fn skeleton(&self, index: usize) -> Result<Skeleton, TooManyClasses> {
        Skeleton::of(self.seed, &self.schools[index], &self.years)
    }
}
