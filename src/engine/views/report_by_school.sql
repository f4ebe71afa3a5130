-- SPEC §5.1/§5.2: one row per academic_year × period × school × parallel,
-- counted from the materialised per-student statuses (one small row per
-- student and period), never from the raw marks.
SELECT
    academic_year,
    period,
    region_id,
    district_id,
    school_id,
    parallel,
    students,
    CASE WHEN parallel <> 1 THEN excellent END AS excellent,
    CASE WHEN parallel <> 1 THEN good END AS good,
    CASE WHEN parallel <> 1 THEN satisfactory END AS satisfactory,
    CASE WHEN parallel <> 1 THEN low END AS low,
    exempt,
    ungraded,
    -- 100.0 * num / den: the fraction is decided exactly, and NULL when
    -- the denominator is 0 (SPEC §5).
    CASE WHEN parallel <> 1 AND students > 0
        THEN 100.0 * (excellent + good) / students END AS quality_pct,
    CASE WHEN parallel <> 1 AND students > 0
        THEN 100.0 * (excellent + good + satisfactory) / students END AS performance_pct,
    CASE WHEN period = 'YEAR' THEN marks_count END AS marks_count
FROM (
    SELECT
        academic_year,
        period,
        region_id,
        district_id,
        school_id,
        parallel,
        sum(CASE WHEN status <> 'exempt' THEN 1 ELSE 0 END) AS students,
        sum(CASE WHEN status = 'excellent' THEN 1 ELSE 0 END) AS excellent,
        sum(CASE WHEN status = 'good' THEN 1 ELSE 0 END) AS good,
        sum(CASE WHEN status = 'satisfactory' THEN 1 ELSE 0 END) AS satisfactory,
        sum(CASE WHEN status = 'low' THEN 1 ELSE 0 END) AS low,
        sum(CASE WHEN status = 'exempt' THEN 1 ELSE 0 END) AS exempt,
        sum(CASE WHEN status = 'ungraded' THEN 1 ELSE 0 END) AS ungraded,
        sum(marks_count) AS marks_count
    FROM student_status
    GROUP BY academic_year, period, region_id, district_id, school_id, parallel
) AS counts
