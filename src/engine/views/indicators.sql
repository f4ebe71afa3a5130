-- SPEC §5.3: the "performance level" and "knowledge quality" indicators for
-- every school and governing body (district, region, country), per
-- academic_year × period, from the per-school counts (`school_counts`,
-- materialised at ingest from the statuses; the "as of" functions give it
-- their dated counts).
-- Parallels 0 and 1 are left out entirely. A governing body's value is
-- pooled over its students and banded with the governing-body bands; it also
-- counts its schools and those whose school-level band is `high`.
WITH schools AS (
    SELECT
        *,
        indicator_band('performance', 'school', performance_level) AS performance_band,
        indicator_band('quality', 'school', knowledge_quality) AS quality_band
    FROM (
        SELECT
            *,
            CASE WHEN n_total - n_exempt > 0
                THEN 100.0 * (n_total - n_exempt - n_low) / (n_total - n_exempt) END
                AS performance_level,
            CASE WHEN n_total - n_exempt > 0
                THEN 100.0 * (n_excellent + n_good) / (n_total - n_exempt) END
                AS knowledge_quality
        FROM school_counts
    ) AS school_values
),
-- Every level in one aggregation over the school rows (GROUPING SETS), so
-- the statuses are read once: a school's own grouping set sums its one row.
rolled AS (
    SELECT
        academic_year, period, region_id, district_id, school_id,
        grouping(school_id) AS above_school,
        grouping(district_id) AS above_district,
        grouping(region_id) AS above_region,
        sum(n_total) AS n_total,
        sum(n_exempt) AS n_exempt,
        sum(n_low) AS n_low,
        sum(n_excellent) AS n_excellent,
        sum(n_good) AS n_good,
        sum(n_ungraded) AS n_ungraded,
        count(*) AS schools,
        sum(CASE WHEN performance_band = 'high' THEN 1 ELSE 0 END) AS schools_meeting_performance,
        sum(CASE WHEN quality_band = 'high' THEN 1 ELSE 0 END) AS schools_meeting_quality
    FROM schools
    GROUP BY GROUPING SETS (
        (academic_year, period, region_id, district_id, school_id),
        (academic_year, period, region_id, district_id),
        (academic_year, period, region_id),
        (academic_year, period)
    )
),
units AS (
    SELECT
        *,
        CASE WHEN above_school = 0 THEN 'school'
             WHEN above_district = 0 THEN 'district'
             WHEN above_region = 0 THEN 'region'
             ELSE 'country' END AS level,
        CASE WHEN above_school = 0 THEN school_id
             WHEN above_district = 0 THEN district_id
             WHEN above_region = 0 THEN region_id END AS unit_id,
        CASE WHEN n_total - n_exempt > 0
            THEN 100.0 * (n_total - n_exempt - n_low) / (n_total - n_exempt) END
            AS performance_level,
        CASE WHEN n_total - n_exempt > 0
            THEN 100.0 * (n_excellent + n_good) / (n_total - n_exempt) END
            AS knowledge_quality
    FROM rolled
)
SELECT
    -- academic_year and period are in every grouping set, so never NULL,
    -- though the schema says nullable (as PostgreSQL says of every view
    -- column); left bare so filters on them reach the Parquet scan.
    academic_year, period, level, unit_id,
    n_total, n_exempt, n_low, n_excellent, n_good, n_ungraded,
    performance_level, indicator_band('performance', level, performance_level) AS performance_band,
    knowledge_quality, indicator_band('quality', level, knowledge_quality) AS quality_band,
    CASE WHEN level <> 'school' THEN schools END AS schools,
    CASE WHEN level <> 'school' THEN schools_meeting_performance END AS schools_meeting_performance,
    CASE WHEN level <> 'school' THEN schools_meeting_quality END AS schools_meeting_quality
FROM units
