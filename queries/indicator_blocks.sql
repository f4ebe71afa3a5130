-- title: Indicator blocks: performance level and knowledge quality
-- title_kk: Көрсеткіштер блогы: үлгерім деңгейі және білім сапасы
-- title_ru: Блоки показателей: уровень успеваемости и качество знаний
-- answers: for one governing body (the unit; the country by default) and one
--   period, one row per indicator (performance level, knowledge
--   quality): its value and band, whether it meets the required level, the
--   student counts it is computed from, the number of the body's schools, the %
--   of them that reach the school-level required value and the number that do not
-- for: national-report authors, ministry, regional administrations, district departments
-- params: year period unit
--
-- SPEC §5.3 as the `indicators` view computes it: parallels ≥ 2, pooled over
-- the body's students, banded with the governing-body bands. `value_pct` is
-- the indicator, `required_pct` the threshold for the unit's own level
-- (body: performance ≥ 95, quality ≥ 86; a school unit gets the school
-- thresholds), `school_required_pct` the one its schools are held to
-- (95 / 40). They are shown for the reader only: `meets_required` and the
-- school counts follow the bands (a value meets its level exactly when its
-- band is `high`; a NULL value never does). The school counts are
-- NULL for a school unit; schools_meeting_pct is NULL when there are no
-- schools. No row when the unit has no active student in parallels ≥ 2.
-- An absent or 'country' $unit_level means the country.
WITH unit_row AS (
    SELECT i.*
    FROM indicators i
    WHERE i.academic_year = $year
      AND i.period = $period
      AND (
          (($unit_level IS NULL OR $unit_level = 'country') AND i.level = 'country')
          OR (i.level = $unit_level AND i.unit_id = $unit_id)
      )
),
blocks AS (
    SELECT
        academic_year, period, level, unit_id,
        'performance' AS indicator,
        'Үлгерім деңгейі' AS indicator_kk,
        'Уровень успеваемости' AS indicator_ru,
        performance_level AS value_pct,
        performance_band AS band,
        95.0 AS required_pct,
        95.0 AS school_required_pct,
        n_total, n_exempt, n_low, n_excellent, n_good, n_ungraded,
        schools,
        schools_meeting_performance AS schools_meeting
    FROM unit_row
    UNION ALL
    SELECT
        academic_year, period, level, unit_id,
        'quality' AS indicator,
        'Білім сапасы' AS indicator_kk,
        'Качество знаний' AS indicator_ru,
        knowledge_quality AS value_pct,
        quality_band AS band,
        CASE WHEN level = 'school' THEN 40.0 ELSE 86.0 END AS required_pct,
        40.0 AS school_required_pct,
        n_total, n_exempt, n_low, n_excellent, n_good, n_ungraded,
        schools,
        schools_meeting_quality AS schools_meeting
    FROM unit_row
)
SELECT
    b.academic_year,
    b.period,
    b.level,
    b.unit_id,
    CASE b.level
        WHEN 'country' THEN 'Қазақстан Республикасы'
        WHEN 'region' THEN rg.name_kk
        WHEN 'district' THEN d.name_kk
        ELSE s.name_kk
    END AS name_kk,
    CASE b.level
        WHEN 'country' THEN 'Республика Казахстан'
        WHEN 'region' THEN rg.name_ru
        WHEN 'district' THEN d.name_ru
        ELSE s.name_ru
    END AS name_ru,
    b.indicator,
    b.indicator_kk,
    b.indicator_ru,
    b.value_pct,
    b.band,
    b.required_pct,
    coalesce(b.band = 'high', false) AS meets_required,
    b.n_total,
    b.n_exempt,
    b.n_low,
    b.n_excellent,
    b.n_good,
    b.n_ungraded,
    b.schools,
    b.school_required_pct,
    b.schools_meeting,
    CASE WHEN b.schools > 0 THEN 100.0 * b.schools_meeting / b.schools END
        AS schools_meeting_pct,
    b.schools - b.schools_meeting AS schools_not_meeting
FROM blocks b
LEFT JOIN regions rg ON b.level = 'region' AND rg.region_id = b.unit_id
LEFT JOIN districts d ON b.level = 'district' AND d.district_id = b.unit_id
LEFT JOIN schools s ON b.level = 'school' AND s.school_id = b.unit_id
ORDER BY b.indicator
