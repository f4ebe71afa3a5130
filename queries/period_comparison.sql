-- title: Period comparison of the indicators
-- title_kk: Көрсеткіштерді кезеңдер бойынша салыстыру
-- title_ru: Сравнение показателей по периодам
-- answers: per school and governing body within the unit, the knowledge quality
--   and the performance level in a base period ($from_year/$from_period)
--   and in a compared period ($year/$period), and their change in percentage points
-- for: researchers, national-report authors, regional administrations, district departments
-- params: year period from unit
--
-- Units within the unit: a region unit gives the region, its districts and
-- their schools; the country gives every level; a school gives itself.
-- A unit with an indicator row in only one of the periods has a row with the
-- other period's columns NULL and a NULL change. `*_change` is compared
-- minus base in percentage points (not a relative change), NULL when either
-- value is NULL. Each period's value uses the
-- bands of the unit's level (SPEC §5.3). Both periods' figures are read in
-- one pass over `indicators` and folded per unit (a period compared with
-- itself gives 0 change). The country's unit_id is NULL: units are matched
-- on coalesce(unit_id, 0) (ids are positive) so the join stays a hash join.
WITH units AS (
    SELECT
        'country' AS level, CAST(NULL AS BIGINT) AS unit_id,
        'Қазақстан Республикасы' AS name_kk, 'Республика Казахстан' AS name_ru,
        CAST(NULL AS BIGINT) AS region_id,
        CAST(NULL AS VARCHAR) AS region_kk, CAST(NULL AS VARCHAR) AS region_ru,
        CAST(NULL AS BIGINT) AS district_id,
        CAST(NULL AS VARCHAR) AS district_kk, CAST(NULL AS VARCHAR) AS district_ru,
        CAST(NULL AS BIGINT) AS school_id
    UNION ALL
    SELECT
        'region', r.region_id AS unit_id, r.name_kk AS name_kk, r.name_ru AS name_ru,
        r.region_id AS region_id, r.name_kk AS region_kk, r.name_ru AS region_ru,
        NULL, NULL, NULL,
        NULL
    FROM regions r
    UNION ALL
    SELECT
        'district', d.district_id AS unit_id, d.name_kk AS name_kk, d.name_ru AS name_ru,
        d.region_id, r.name_kk AS region_kk, r.name_ru AS region_ru,
        d.district_id AS district_id, d.name_kk AS district_kk, d.name_ru AS district_ru,
        NULL
    FROM districts d
    JOIN regions r ON r.region_id = d.region_id
    UNION ALL
    SELECT
        'school', s.school_id AS unit_id, s.name_kk AS name_kk, s.name_ru AS name_ru,
        d.region_id, r.name_kk AS region_kk, r.name_ru AS region_ru,
        s.district_id, d.name_kk AS district_kk, d.name_ru AS district_ru,
        s.school_id AS school_id
    FROM schools s
    JOIN districts d ON d.district_id = s.district_id
    JOIN regions r ON r.region_id = d.region_id
),
scoped_units AS (
    SELECT *
    FROM units u
    WHERE ($region_id IS NULL OR u.region_id = $region_id)
      AND ($district_id IS NULL OR u.district_id = $district_id)
      AND ($school_id IS NULL OR u.school_id = $school_id)
),
compared AS (
    SELECT
        i.level,
        i.unit_id,
        max(CASE WHEN i.academic_year = $from_year AND i.period = $from_period
            THEN i.n_total END) AS n_total_from,
        max(CASE WHEN i.academic_year = $year AND i.period = $period
            THEN i.n_total END) AS n_total_to,
        max(CASE WHEN i.academic_year = $from_year AND i.period = $from_period
            THEN i.knowledge_quality END) AS quality_from_pct,
        max(CASE WHEN i.academic_year = $year AND i.period = $period
            THEN i.knowledge_quality END) AS quality_to_pct,
        max(CASE WHEN i.academic_year = $from_year AND i.period = $from_period
            THEN i.quality_band END) AS quality_band_from,
        max(CASE WHEN i.academic_year = $year AND i.period = $period
            THEN i.quality_band END) AS quality_band_to,
        max(CASE WHEN i.academic_year = $from_year AND i.period = $from_period
            THEN i.performance_level END) AS performance_from_pct,
        max(CASE WHEN i.academic_year = $year AND i.period = $period
            THEN i.performance_level END) AS performance_to_pct,
        max(CASE WHEN i.academic_year = $from_year AND i.period = $from_period
            THEN i.performance_band END) AS performance_band_from,
        max(CASE WHEN i.academic_year = $year AND i.period = $period
            THEN i.performance_band END) AS performance_band_to
    FROM indicators i
    WHERE (i.academic_year = $from_year AND i.period = $from_period)
       OR (i.academic_year = $year AND i.period = $period)
    GROUP BY i.level, i.unit_id
)
SELECT
    u.level,
    u.unit_id,
    u.name_kk,
    u.name_ru,
    u.region_id,
    u.region_kk,
    u.region_ru,
    u.district_id,
    u.district_kk,
    u.district_ru,
    c.n_total_from,
    c.n_total_to,
    c.quality_from_pct,
    c.quality_to_pct,
    c.quality_to_pct - c.quality_from_pct AS quality_change,
    c.quality_band_from,
    c.quality_band_to,
    c.performance_from_pct,
    c.performance_to_pct,
    c.performance_to_pct - c.performance_from_pct AS performance_change,
    c.performance_band_from,
    c.performance_band_to
FROM compared c
JOIN scoped_units u
  ON u.level = c.level
 AND coalesce(u.unit_id, 0) = coalesce(c.unit_id, 0)
ORDER BY
    CASE u.level WHEN 'country' THEN 0 WHEN 'region' THEN 1 WHEN 'district' THEN 2 ELSE 3 END,
    u.region_id NULLS FIRST,
    u.district_id NULLS FIRST,
    u.unit_id NULLS FIRST
