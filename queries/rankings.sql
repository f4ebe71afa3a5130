-- title: District and school rankings within a region
-- title_kk: Облыс ішіндегі аудандар мен мектептердің рейтингі
-- title_ru: Рейтинг районов и школ внутри области
-- answers: in a period, the districts and the schools of each region (within
--   the unit) ranked by knowledge quality and by performance level,
--   with their values, bands and names
-- for: regional administrations, ministry, national-report authors
-- params: year period unit
--
-- Districts are ranked among the districts of their region, schools among
-- the schools of their region; when the unit is a district (or a school),
-- among those of the unit, since nothing outside it is in scope (SPEC §8).
-- rank(): equal values share a rank and the next rank is skipped; a NULL
-- value (every student exempt) has a NULL rank. `ranked_units` is the number
-- of units with a value in the ranking ("3rd of 17"). Values and bands come
-- from `indicators` (district: pooled, governing-body bands; school: school
-- bands). Rows are ordered by region, districts before schools, then by
-- the quality rank.
WITH ranked_rows AS (
    SELECT
        i.level,
        i.unit_id,
        CASE WHEN i.level = 'district' THEN d.region_id ELSE sd.region_id END AS region_id,
        CASE WHEN i.level = 'district' THEN i.unit_id ELSE s.district_id END AS district_id,
        CASE WHEN i.level = 'school' THEN i.unit_id END AS school_id,
        i.n_total,
        i.knowledge_quality,
        i.quality_band,
        i.performance_level,
        i.performance_band
    FROM indicators i
    LEFT JOIN districts d ON i.level = 'district' AND d.district_id = i.unit_id
    LEFT JOIN schools s ON i.level = 'school' AND s.school_id = i.unit_id
    LEFT JOIN districts sd ON sd.district_id = s.district_id
    WHERE i.academic_year = $year
      AND i.period = $period
      AND i.level IN ('district', 'school')
),
scoped AS (
    SELECT *
    FROM ranked_rows r
    WHERE ($region_id IS NULL OR r.region_id = $region_id)
      AND ($district_id IS NULL OR r.district_id = $district_id)
      AND ($school_id IS NULL OR r.school_id = $school_id)
),
ranked AS (
    SELECT
        *,
        CASE WHEN knowledge_quality IS NOT NULL THEN
            rank() OVER (
                PARTITION BY level, region_id
                ORDER BY knowledge_quality DESC NULLS LAST
            )
        END AS quality_rank,
        CASE WHEN performance_level IS NOT NULL THEN
            rank() OVER (
                PARTITION BY level, region_id
                ORDER BY performance_level DESC NULLS LAST
            )
        END AS performance_rank,
        count(knowledge_quality) OVER (PARTITION BY level, region_id) AS ranked_units
    FROM scoped
)
SELECT
    r.level,
    r.region_id,
    rg.name_kk AS region_kk,
    rg.name_ru AS region_ru,
    r.district_id,
    d.name_kk AS district_kk,
    d.name_ru AS district_ru,
    r.school_id,
    s.name_kk AS school_kk,
    s.name_ru AS school_ru,
    r.n_total,
    r.knowledge_quality,
    r.quality_band,
    r.quality_rank,
    r.performance_level,
    r.performance_band,
    r.performance_rank,
    r.ranked_units
FROM ranked r
JOIN regions rg ON rg.region_id = r.region_id
JOIN districts d ON d.district_id = r.district_id
LEFT JOIN schools s ON s.school_id = r.school_id
ORDER BY
    r.region_id,
    CASE r.level WHEN 'district' THEN 0 ELSE 1 END,
    r.quality_rank NULLS LAST,
    r.performance_rank NULLS LAST,
    r.unit_id
