-- title: Annual performance report
-- title_kk: Оқу жылы бойынша үлгерім есебі
-- title_ru: Отчёт об успеваемости за учебный год
-- answers: per school × parallel, the students at the end of the academic year
--   and their statuses (excellent, good, satisfactory, low, exempt,
--   ungraded), the quality and performance percentages and the number of annual
--   marks (SPEC §5.1), with roll-up rows per district, region and country
-- for: national-report authors, regional administrations, district departments, schools
-- params: year unit
--
-- Period 'YEAR': the annual mark is FINAL if set, else YEAR (the
-- `report_by_school` view applies SPEC §4). `row_level` says what a row is
-- (`school`, `district`, `region`, `country`); ids and names of the levels
-- above the row are NULL. Every level also has an "all parallels" row with
-- `parallel` NULL, sorted after its parallels: the seed's report lists
-- parallels only, the total is what a report author pastes as "Барлығы".
-- Roll-ups re-apply the parallel-1 rule (SPEC §4.4): parallel 1 counts in
-- `students`, `exempt`, `ungraded` and `marks_count` only, so the
-- percentages of an "all parallels" row are over the students of the other
-- parallels, and the class counts of a parallel-1 row stay NULL.
-- A unit (--unit) narrows the rows to its schools and drops the roll-ups
-- above the unit: a district's report has no region or country row, which
-- would otherwise be the district again under a wrong name (SPEC §8).
WITH report AS (
    SELECT r.*
    FROM report_by_school r
    WHERE r.academic_year = $year
      AND r.period = 'YEAR'
      AND ($region_id IS NULL OR r.region_id = $region_id)
      AND ($district_id IS NULL OR r.district_id = $district_id)
      AND ($school_id IS NULL OR r.school_id = $school_id)
),
rolled AS (
    SELECT
        CASE
            WHEN grouping(region_id) = 1 THEN 'country'
            WHEN grouping(district_id) = 1 THEN 'region'
            WHEN grouping(school_id) = 1 THEN 'district'
            ELSE 'school'
        END AS row_level,
        region_id,
        district_id,
        school_id,
        parallel,
        sum(students) AS students,
        sum(excellent) AS excellent,
        sum(good) AS good,
        sum(satisfactory) AS satisfactory,
        sum(low) AS low,
        sum(exempt) AS exempt,
        sum(ungraded) AS ungraded,
        -- The denominator of the percentages: parallel 1 is left out.
        sum(CASE WHEN parallel <> 1 THEN students ELSE 0 END) AS graded_students,
        sum(marks_count) AS marks_count
    FROM report
    GROUP BY ROLLUP (region_id, district_id, school_id), ROLLUP (parallel)
)
SELECT
    rolled.row_level,
    rolled.region_id,
    rg.name_kk AS region_kk,
    rg.name_ru AS region_ru,
    rolled.district_id,
    d.name_kk AS district_kk,
    d.name_ru AS district_ru,
    rolled.school_id,
    s.name_kk AS school_kk,
    s.name_ru AS school_ru,
    rolled.parallel,
    rolled.students,
    rolled.excellent,
    rolled.good,
    rolled.satisfactory,
    rolled.low,
    rolled.exempt,
    rolled.ungraded,
    CASE WHEN rolled.graded_students > 0
        THEN 100.0 * (rolled.excellent + rolled.good) / rolled.graded_students
    END AS quality_pct,
    CASE WHEN rolled.graded_students > 0
        THEN 100.0 * (rolled.excellent + rolled.good + rolled.satisfactory)
            / rolled.graded_students
    END AS performance_pct,
    rolled.marks_count
FROM rolled
LEFT JOIN regions rg ON rg.region_id = rolled.region_id
LEFT JOIN districts d ON d.district_id = rolled.district_id
LEFT JOIN schools s ON s.school_id = rolled.school_id
WHERE rolled.row_level = 'school'
   OR (rolled.row_level = 'district' AND $school_id IS NULL)
   OR (rolled.row_level = 'region' AND $school_id IS NULL AND $district_id IS NULL)
   OR (rolled.row_level = 'country'
       AND $school_id IS NULL AND $district_id IS NULL AND $region_id IS NULL)
ORDER BY rolled.region_id NULLS LAST,
         rolled.district_id NULLS LAST,
         rolled.school_id NULLS LAST,
         rolled.parallel NULLS LAST
