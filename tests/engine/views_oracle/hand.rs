//! Hand-written rows appended to the generated CSVs so that every edge of
//! SPEC §3–§5 occurs, with the view rows they must give, computed by hand.
//!
//! Region 90 holds districts 900 (schools 900001, 900002) and 901 (school
//! 901001); all classes are of 2024 (calendar of the generator: Q1 ends
//! 2024-10-25, Q2 2024-12-27, Q4 2025-05-25). Subjects 901 and 902 are
//! certified, 903 is not.
//!
//! Classes: 9001 and 9002 (parallel 5), 9003 (parallel 0), 9004 (parallel 1)
//! of school 900001; 9005 (`other` journal, parallel 7), 9006 (`half_year`,
//! parallel 8), 9007 (parallel 6) of school 900002; 9008 (parallel 3) and
//! 9009 (parallel 1) of school 901001.
//!
//! Students:
//! - 900001: Q2 mark changed 3 → 5 (latest wins); YEAR 5 and 4.
//! - 900002: membership ends on Q1's end date: counted in Q1, gone after.
//! - 900003: starts the day after Q1's end: no Q1 row despite a Q1 `2`.
//! - 900004: moves 9001 → 9002 on 2024-11-16; the `2`s left in 9001 for Q2
//!   and YEAR do not count.
//! - 900005: FINAL 2 then cleared → annual falls back to YEAR 4; FINAL 5 over
//!   YEAR 3 in the other subject: YEAR `good`; Q2 only `О/Ж`: exempt.
//! - 900006: non-certified marks (a `2` in Q1, only those in Q2 and YEAR).
//! - 900007: exempt-only (aliases `осв`, `О/Ж`, `БОС`).
//! - 900008: never marked (ungraded).
//! - 900009 (parallel 0), 900010 and 900011 (parallel 1), 900017 (parallel 1).
//! - 900012 and 900013: in the `other` and `half_year` classes: no rows.
//! - 900014: good in Q1, `А/Ө` (low) in Q2.
//! - 900015, 900016: the only parallel ≥ 2 students of school 901001, exempt
//!   in Q1 and YEAR: NULL indicators there.

use std::fs::OpenOptions;
use std::path::Path;

const REGIONS: &str = "region_id,name_kk,name_ru
90,Сынақ облысы,Тестовая область
";

const DISTRICTS: &str = "district_id,region_id,name_kk,name_ru
900,90,Бірінші аудан,Первый район
901,90,Екінші аудан,Второй район
";

const SCHOOLS: &str =
    "school_id,district_id,name_kk,name_ru,locality,language,school_type,internet_mbps
900001,900,№ 1 сынақ мектебі,Тестовая школа № 1,urban,kk,general,10
900002,900,№ 2 сынақ мектебі,Тестовая школа № 2,rural,ru,general,
901001,901,№ 3 сынақ мектебі,Тестовая школа № 3,rural,kk,general,4
";

const SUBJECTS: &str = "subject_id,name_kk,name_ru,certified
901,Сынақ пәні А,Тестовый предмет А,true
902,Сынақ пәні Б,Тестовый предмет Б,true
903,Сынақ пәні В,Тестовый предмет В,false
";

const CLASSES: &str = "class_id,school_id,academic_year,parallel,letter,journal_type,period_type
9001,900001,2024,5,А,criterial,quarter
9002,900001,2024,5,Б,criterial,quarter
9003,900001,2024,0,А,criterial,quarter
9004,900001,2024,1,А,criterial,quarter
9005,900002,2024,7,А,other,quarter
9006,900002,2024,8,А,criterial,half_year
9007,900002,2024,6,А,criterial,quarter
9008,901001,2024,3,А,criterial,quarter
9009,901001,2024,1,А,criterial,quarter
";

const ENROLLMENTS: &str = "student_id,class_id,active_from,active_to
900001,9001,2024-09-02,
900002,9001,2024-09-02,2024-10-25
900003,9001,2024-10-26,
900004,9001,2024-09-02,2024-11-15
900004,9002,2024-11-16,
900005,9001,2024-09-02,
900006,9001,2024-09-02,
900007,9001,2024-09-02,
900008,9001,2024-09-02,
900009,9003,2024-09-02,
900010,9004,2024-09-02,
900011,9004,2024-09-02,
900012,9005,2024-09-02,
900013,9006,2024-09-02,
900014,9007,2024-09-02,
900015,9008,2024-09-02,
900016,9008,2024-09-02,
900017,9009,2024-09-02,
";

const MARKS: &str = "student_id,class_id,subject_id,period,mark,recorded_at
900001,9001,901,Q1,5,2024-10-24
900001,9001,902,Q1,зачтено,2024-10-24T12:00:00
900001,9001,901,Q2,3,2024-12-20T09:00:00
900001,9001,901,Q2,5,2024-12-27T10:00:00
900001,9001,902,Q2,5,2024-12-26
900001,9001,901,YEAR,5,2025-05-23
900001,9001,902,YEAR,4,2025-05-23
900002,9001,901,Q1,4,2024-10-25T18:00:00
900003,9001,901,Q1,2,2024-10-24
900003,9001,901,Q2,3,2024-12-26
900004,9001,901,Q1,4,2024-10-24
900004,9001,901,Q2,2,2024-11-10
900004,9002,901,Q2,5,2024-12-26
900004,9001,901,YEAR,2,2024-11-14
900004,9002,901,YEAR,5,2025-05-23
900005,9001,901,Q1,5,2024-10-24
900005,9001,902,Q2,О/Ж,2024-12-26
900005,9001,901,YEAR,4,2025-05-23
900005,9001,901,FINAL,2,2025-05-28
900005,9001,901,FINAL,,2025-05-29
900005,9001,902,YEAR,3,2025-05-23
900005,9001,902,FINAL,5,2025-05-28
900006,9001,901,Q1,5,2024-10-24
900006,9001,903,Q1,2,2024-10-24
900006,9001,903,Q2,3,2024-12-26
900006,9001,903,YEAR,2,2025-05-23
900007,9001,901,Q1,осв,2024-10-24
900007,9001,902,Q1,О/Ж,2024-10-24
900007,9001,901,Q2,БОС,2024-12-26
900007,9001,901,YEAR,БОС,2025-05-23
900009,9003,901,Q1,3,2024-10-24
900010,9004,901,Q1,5,2024-10-24
900010,9004,901,YEAR,5,2025-05-23
900012,9005,901,Q1,2,2024-10-24
900013,9006,901,Q1,2,2024-10-24
900014,9007,901,Q1,4,2024-10-24
900014,9007,902,Q1,5,2024-10-24
900014,9007,901,Q2,А/Ө,2024-12-26
900015,9008,901,Q1,осв,2024-10-24
900015,9008,901,YEAR,БОС,2025-05-23
900016,9008,902,Q1,БОС,2024-10-24
900016,9008,902,YEAR,БОС,2025-05-23
900017,9009,901,Q1,5,2024-10-24
";

/// Appends the hand-written rows to the CSVs of `dir`, each in the column
/// order of the file's own header.
pub fn append(dir: &Path) {
    for (file, rows) in [
        ("regions.csv", REGIONS),
        ("districts.csv", DISTRICTS),
        ("schools.csv", SCHOOLS),
        ("subjects.csv", SUBJECTS),
        ("classes.csv", CLASSES),
        ("enrollments.csv", ENROLLMENTS),
        ("marks.csv", MARKS),
    ] {
        let path = dir.join(file);
        let header = csv::Reader::from_path(&path)
            .unwrap()
            .headers()
            .unwrap()
            .clone();
        let mut ours = csv::Reader::from_reader(rows.as_bytes());
        let our_header = ours.headers().unwrap().clone();
        let order: Vec<Option<usize>> = header
            .iter()
            .map(|h| our_header.iter().position(|o| o == h))
            .collect();
        let out = OpenOptions::new().append(true).open(&path).unwrap();
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(out);
        for rec in ours.records() {
            let rec = rec.unwrap();
            writer
                .write_record(order.iter().map(|i| i.map_or("", |i| &rec[i])))
                .unwrap();
        }
        writer.flush().unwrap();
    }
}

/// The hand students' `student_status` rows:
/// student|period|class_id|parallel|status, ordered by student and period.
pub const STATUSES: &[&str] = &[
    "900001|Q1|9001|5|excellent",
    "900001|Q2|9001|5|excellent",
    "900001|Q3|9001|5|ungraded",
    "900001|Q4|9001|5|ungraded",
    "900001|YEAR|9001|5|good",
    "900002|Q1|9001|5|good",
    "900003|Q2|9001|5|satisfactory",
    "900003|Q3|9001|5|ungraded",
    "900003|Q4|9001|5|ungraded",
    "900003|YEAR|9001|5|ungraded",
    "900004|Q1|9001|5|good",
    "900004|Q2|9002|5|excellent",
    "900004|Q3|9002|5|ungraded",
    "900004|Q4|9002|5|ungraded",
    "900004|YEAR|9002|5|excellent",
    "900005|Q1|9001|5|excellent",
    "900005|Q2|9001|5|exempt",
    "900005|Q3|9001|5|ungraded",
    "900005|Q4|9001|5|ungraded",
    "900005|YEAR|9001|5|good",
    "900006|Q1|9001|5|excellent",
    "900006|Q2|9001|5|ungraded",
    "900006|Q3|9001|5|ungraded",
    "900006|Q4|9001|5|ungraded",
    "900006|YEAR|9001|5|ungraded",
    "900007|Q1|9001|5|exempt",
    "900007|Q2|9001|5|exempt",
    "900007|Q3|9001|5|ungraded",
    "900007|Q4|9001|5|ungraded",
    "900007|YEAR|9001|5|exempt",
    "900008|Q1|9001|5|ungraded",
    "900008|Q2|9001|5|ungraded",
    "900008|Q3|9001|5|ungraded",
    "900008|Q4|9001|5|ungraded",
    "900008|YEAR|9001|5|ungraded",
    "900009|Q1|9003|0|satisfactory",
    "900009|Q2|9003|0|ungraded",
    "900009|Q3|9003|0|ungraded",
    "900009|Q4|9003|0|ungraded",
    "900009|YEAR|9003|0|ungraded",
    "900010|Q1|9004|1|excellent",
    "900010|Q2|9004|1|ungraded",
    "900010|Q3|9004|1|ungraded",
    "900010|Q4|9004|1|ungraded",
    "900010|YEAR|9004|1|excellent",
    "900011|Q1|9004|1|ungraded",
    "900011|Q2|9004|1|ungraded",
    "900011|Q3|9004|1|ungraded",
    "900011|Q4|9004|1|ungraded",
    "900011|YEAR|9004|1|ungraded",
    "900014|Q1|9007|6|good",
    "900014|Q2|9007|6|low",
    "900014|Q3|9007|6|ungraded",
    "900014|Q4|9007|6|ungraded",
    "900014|YEAR|9007|6|ungraded",
    "900015|Q1|9008|3|exempt",
    "900015|Q2|9008|3|ungraded",
    "900015|Q3|9008|3|ungraded",
    "900015|Q4|9008|3|ungraded",
    "900015|YEAR|9008|3|exempt",
    "900016|Q1|9008|3|exempt",
    "900016|Q2|9008|3|ungraded",
    "900016|Q3|9008|3|ungraded",
    "900016|Q4|9008|3|ungraded",
    "900016|YEAR|9008|3|exempt",
    "900017|Q1|9009|1|excellent",
    "900017|Q2|9009|1|ungraded",
    "900017|Q3|9009|1|ungraded",
    "900017|Q4|9009|1|ungraded",
    "900017|YEAR|9009|1|ungraded",
];

/// `report_by_school` of the hand schools for Q1, Q2 and YEAR 2024:
/// period|school|parallel|students|excellent|good|satisfactory|low|exempt|
/// ungraded|quality_pct|performance_pct|marks_count.
pub const REPORT: &[&str] = &[
    "Q1|900001|0|1|0|0|1|0|0|0|0.000000|100.000000|NULL",
    "Q1|900001|1|2|NULL|NULL|NULL|NULL|0|1|NULL|NULL|NULL",
    // 900001, 900002 (ends on the end date), 900004 (still in 9001),
    // 900005, 900006, 900008; 900007 exempt; 900003 not yet there.
    "Q1|900001|5|6|3|2|0|0|1|1|83.333333|83.333333|NULL",
    // The `other` and `half_year` classes (parallels 7, 8) have no rows.
    "Q1|900002|6|1|0|1|0|0|0|0|100.000000|100.000000|NULL",
    "Q1|901001|1|1|NULL|NULL|NULL|NULL|0|0|NULL|NULL|NULL",
    // Only exempt students: students = 0, percentages NULL.
    "Q1|901001|3|0|0|0|0|0|2|0|NULL|NULL|NULL",
    "Q2|900001|0|1|0|0|0|0|0|1|0.000000|0.000000|NULL",
    "Q2|900001|1|2|NULL|NULL|NULL|NULL|0|2|NULL|NULL|NULL",
    // 900001, 900004 excellent; 900003 satisfactory; 900006, 900008
    // ungraded; 900005, 900007 exempt: quality exactly 40.
    "Q2|900001|5|5|2|0|1|0|2|2|40.000000|60.000000|NULL",
    "Q2|900002|6|1|0|0|0|1|0|0|0.000000|0.000000|NULL",
    "Q2|901001|1|1|NULL|NULL|NULL|NULL|0|1|NULL|NULL|NULL",
    "Q2|901001|3|2|0|0|0|0|0|2|0.000000|0.000000|NULL",
    "YEAR|900001|0|1|0|0|0|0|0|1|0.000000|0.000000|0",
    // Parallel 1 keeps marks_count (900010's one annual mark).
    "YEAR|900001|1|2|NULL|NULL|NULL|NULL|0|1|NULL|NULL|1",
    // marks: 900001 2, 900004 1 (not the old class's), 900005 2, 900007 1
    // (БОС, exempt included), 900006 0 (non-certified only).
    "YEAR|900001|5|6|1|2|0|0|1|3|50.000000|50.000000|6",
    "YEAR|900002|6|1|0|0|0|0|0|1|0.000000|0.000000|0",
    "YEAR|901001|1|1|NULL|NULL|NULL|NULL|0|1|NULL|NULL|0",
    "YEAR|901001|3|0|0|0|0|0|2|0|NULL|NULL|2",
];

/// `indicators` of the hand units for Q1, Q2 and YEAR 2024:
/// period|level|unit_id|n_total|n_exempt|n_low|n_excellent|n_good|
/// n_ungraded|performance_level|performance_band|knowledge_quality|
/// quality_band|schools|schools_meeting_performance|schools_meeting_quality,
/// ordered by period, level, unit.
pub const INDICATORS: &[&str] = &[
    // 6/7 = 85.71: `medium` by the governing-body bands (high from 86).
    "Q1|district|900|8|1|0|3|3|1|100.000000|high|85.714286|medium|2|2|2",
    "Q1|district|901|2|2|0|0|0|0|NULL|NULL|NULL|NULL|1|0|0",
    "Q1|region|90|10|3|0|3|3|1|100.000000|high|85.714286|medium|3|2|2",
    // Parallels 0 and 1 left out: 7 students, not 10.
    "Q1|school|900001|7|1|0|3|2|1|100.000000|high|83.333333|high|NULL|NULL|NULL",
    "Q1|school|900002|1|0|0|0|1|0|100.000000|high|100.000000|high|NULL|NULL|NULL",
    "Q1|school|901001|2|2|0|0|0|0|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
    "Q2|district|900|8|2|1|2|0|2|83.333333|medium|33.333333|low|2|1|1",
    "Q2|district|901|2|0|0|0|0|2|100.000000|high|0.000000|low|1|1|0",
    "Q2|region|90|10|2|1|2|0|4|87.500000|medium|25.000000|low|3|2|1",
    // Quality exactly 40: `high` at school level.
    "Q2|school|900001|7|2|0|2|0|2|100.000000|high|40.000000|high|NULL|NULL|NULL",
    "Q2|school|900002|1|0|1|0|0|0|0.000000|low|0.000000|low|NULL|NULL|NULL",
    "Q2|school|901001|2|0|0|0|0|2|100.000000|high|0.000000|low|NULL|NULL|NULL",
    "YEAR|district|900|8|1|0|1|2|4|100.000000|high|42.857143|medium|2|2|1",
    "YEAR|district|901|2|2|0|0|0|0|NULL|NULL|NULL|NULL|1|0|0",
    "YEAR|region|90|10|3|0|1|2|4|100.000000|high|42.857143|medium|3|2|1",
    "YEAR|school|900001|7|1|0|1|2|3|100.000000|high|50.000000|high|NULL|NULL|NULL",
    "YEAR|school|900002|1|0|0|0|0|1|100.000000|high|0.000000|low|NULL|NULL|NULL",
    "YEAR|school|901001|2|2|0|0|0|0|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
];
