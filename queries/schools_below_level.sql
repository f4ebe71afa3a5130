-- title: Schools below the required level
-- title_kk: Талап етілетін деңгейге жетпеген мектептер
-- title_ru: Школы ниже требуемого уровня
-- answers: the unit's schools that do not reach the school-level required
--   value of the performance level (≥ 95) or of the knowledge quality
--   (≥ 40) in a period, with their values, bands and which indicator(s) they miss
-- for: national-report authors, regional administrations, district departments
-- params: year period unit
--
-- The list behind schools_not_meeting of indicator_blocks.sql: a school
-- meets a level exactly when its school-level band is `high` (SPEC §5.3); a
-- school whose value is NULL (all its students in parallels ≥ 2 exempt)
-- does not meet it and is listed. `below` is `performance`, `quality` or
-- `both`. Schools with no active student in parallels ≥ 2 have no
-- indicator row and are not listed.
WITH school_rows AS (
    SELECT
        i.*,
        d.region_id,
        rg.name_kk AS region_kk,
        rg.name_ru AS region_ru,
        s.district_id,
        d.name_kk AS district_kk,
        d.name_ru AS district_ru,
        s.name_kk AS school_kk,
        s.name_ru AS school_ru,
        coalesce(i.performance_band = 'high', false) AS meets_performance,
        coalesce(i.quality_band = 'high', false) AS meets_quality
    FROM indicators i
    JOIN schools s ON s.school_id = i.unit_id
    JOIN districts d ON d.district_id = s.district_id
    JOIN regions rg ON rg.region_id = d.region_id
    WHERE i.academic_year = $year
      AND i.period = $period
      AND i.level = 'school'
      AND ($region_id IS NULL OR d.region_id = $region_id)
      AND ($district_id IS NULL OR s.district_id = $district_id)
      AND ($school_id IS NULL OR i.unit_id = $school_id)
)
SELECT
    b.academic_year,
    b.period,
    b.region_id,
    b.region_kk,
    b.region_ru,
    b.district_id,
    b.district_kk,
    b.district_ru,
    b.unit_id AS school_id,
    b.school_kk,
    b.school_ru,
    CASE
        WHEN NOT b.meets_performance AND NOT b.meets_quality THEN 'both'
        WHEN NOT b.meets_performance THEN 'performance'
        ELSE 'quality'
    END AS below,
    b.performance_level,
    b.performance_band,
    b.meets_performance,
    b.knowledge_quality,
    b.quality_band,
    b.meets_quality,
    b.n_total,
    b.n_exempt,
    b.n_low,
    b.n_excellent,
    b.n_good,
    b.n_ungraded
FROM school_rows b
WHERE NOT (b.meets_performance AND b.meets_quality)
ORDER BY b.region_id, b.district_id, b.unit_id
