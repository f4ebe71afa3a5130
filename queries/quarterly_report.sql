-- Quarterly performance report (SPEC §5.2, Тоқсан бойынша үлгерім есебі).
-- For: national-report authors and governing bodies.
-- Answers: per school × parallel, the students and their statuses for one
-- quarter, with the quality and performance percentages, and roll-up rows per
-- district, region and the country (school_id / district_id / region_id NULL
-- on the roll-ups, `row_level` says which).
-- Parameters: $year (academic year by start year, e.g. 2024), $period
-- ('Q1'..'Q4'); $region_id, $district_id, $school_id narrow the report to a
-- unit (NULL: no narrowing).
WITH rows AS (
    SELECT r.*
    FROM report_by_school r
    WHERE r.academic_year = $year
      AND r.period = $period
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
        region_id, district_id, school_id, parallel,
        sum(students) AS students,
        sum(excellent) AS excellent,
        sum(good) AS good,
        sum(satisfactory) AS satisfactory,
        sum(low) AS low,
        sum(exempt) AS exempt,
        sum(ungraded) AS ungraded,
        -- Parallel 1 is counted only in `students` (SPEC §4.4): the
        -- percentages of a roll-up are over the other parallels.
        sum(CASE WHEN parallel <> 1 THEN students ELSE 0 END) AS graded_students
    FROM rows
    GROUP BY ROLLUP (region_id, district_id, school_id), parallel
)
SELECT
    row_level,
    rolled.region_id, rg.name_kk AS region_kk, rg.name_ru AS region_ru,
    rolled.district_id, d.name_kk AS district_kk, d.name_ru AS district_ru,
    rolled.school_id, s.name_kk AS school_kk, s.name_ru AS school_ru,
    parallel, students, excellent, good, satisfactory, low, exempt, ungraded,
    CASE WHEN graded_students > 0
        THEN 100.0 * (excellent + good) / graded_students END AS quality_pct,
    CASE WHEN graded_students > 0
        THEN 100.0 * (excellent + good + satisfactory) / graded_students END AS performance_pct
FROM rolled
LEFT JOIN regions rg ON rg.region_id = rolled.region_id
LEFT JOIN districts d ON d.district_id = rolled.district_id
LEFT JOIN schools s ON s.school_id = rolled.school_id
ORDER BY rolled.region_id NULLS LAST, rolled.district_id NULLS LAST,
         rolled.school_id NULLS LAST, parallel
