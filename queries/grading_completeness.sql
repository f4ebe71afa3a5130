-- title: Grading completeness
-- title_kk: Бағалаудың толықтығы
-- title_ru: Полнота выставления оценок
-- answers: per school, district and region within the unit (and the country),
--   the share of counted students who have no final mark yet in a
--   period (status `ungraded`), worst first: the weekly monitoring of marking
-- for: ministry, regional administrations, district departments (weekly monitoring)
-- params: year period unit
--
-- ungraded_pct = n_ungraded / n_total × 100 over the students the
-- indicators count (SPEC §5.3: active at the period's end, parallels ≥ 2,
-- exempt ones included in n_total); NULL when n_total is 0. An ungraded
-- student raises the performance level and lowers the knowledge quality
-- (SPEC §5.3), which is why completeness is watched before reading them.
-- Rows are grouped by level (country, regions, districts, schools) and,
-- within a level, worst first (highest share, then most ungraded students).
-- The country's unit_id is NULL: units are matched on coalesce(unit_id, 0)
-- (ids are positive) so the join stays a hash join.
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
    i.n_total,
    i.n_ungraded,
    CASE WHEN i.n_total > 0 THEN 100.0 * i.n_ungraded / i.n_total END AS ungraded_pct
FROM indicators i
JOIN scoped_units u
  ON u.level = i.level
 AND coalesce(u.unit_id, 0) = coalesce(i.unit_id, 0)
WHERE i.academic_year = $year
  AND i.period = $period
ORDER BY
    CASE u.level WHEN 'country' THEN 0 WHEN 'region' THEN 1 WHEN 'district' THEN 2 ELSE 3 END,
    ungraded_pct DESC NULLS LAST,
    i.n_ungraded DESC,
    u.unit_id NULLS FIRST
