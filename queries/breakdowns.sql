-- title: Indicators by locality, language of instruction and school type
-- title_kk: Көрсеткіштер елді мекен түрі, оқыту тілі және мектеп түрі бойынша
-- title_ru: Показатели по типу местности, языку обучения и типу школы
-- answers: within the unit, in a period, the performance level and the
--   knowledge quality of the schools grouped by urban/rural, by language
--   of instruction and by school type, with the student counts, the number of
--   schools and how many of them reach the school-level required values
-- for: national-report authors, ministry, regional administrations, researchers
-- params: year period unit
--
-- Long format: `dimension` is `locality`, `language` or `school_type`,
-- `value` the schools' code (SPEC §10) with its Kazakh and Russian label.
-- A group is treated like a governing body (SPEC §5.3): its values are
-- pooled over its students in parallels ≥ 2, not averaged over schools, and
-- banded with the governing-body bands (the same for district, region and
-- country, so 'country' is passed to indicator_band). Built from the
-- school rows of `indicators` (the pooled counts are their sums), which
-- also give the schools meeting the school-level required values.
WITH school_rows AS (
    SELECT
        i.n_total, i.n_exempt, i.n_low, i.n_excellent, i.n_good, i.n_ungraded,
        coalesce(i.performance_band = 'high', false) AS meets_performance,
        coalesce(i.quality_band = 'high', false) AS meets_quality,
        s.locality,
        s.language,
        s.school_type
    FROM indicators i
    JOIN schools s ON s.school_id = i.unit_id
    JOIN districts d ON d.district_id = s.district_id
    WHERE i.academic_year = $year
      AND i.period = $period
      AND i.level = 'school'
      AND ($region_id IS NULL OR d.region_id = $region_id)
      AND ($district_id IS NULL OR s.district_id = $district_id)
      AND ($school_id IS NULL OR i.unit_id = $school_id)
),
by_dimension AS (
    SELECT 1 AS dimension_order, 'locality' AS dimension, locality AS value, *
    FROM school_rows
    UNION ALL
    SELECT 2 AS dimension_order, 'language' AS dimension, language AS value, *
    FROM school_rows
    UNION ALL
    SELECT 3 AS dimension_order, 'school_type' AS dimension, school_type AS value, *
    FROM school_rows
),
grouped AS (
    SELECT
        dimension_order,
        dimension,
        value,
        sum(n_total) AS n_total,
        sum(n_exempt) AS n_exempt,
        sum(n_low) AS n_low,
        sum(n_excellent) AS n_excellent,
        sum(n_good) AS n_good,
        sum(n_ungraded) AS n_ungraded,
        count(*) AS schools,
        sum(CASE WHEN meets_performance THEN 1 ELSE 0 END) AS schools_meeting_performance,
        sum(CASE WHEN meets_quality THEN 1 ELSE 0 END) AS schools_meeting_quality
    FROM by_dimension
    GROUP BY dimension_order, dimension, value
),
valued AS (
    SELECT
        *,
        CASE WHEN n_total - n_exempt > 0
            THEN 100.0 * (n_total - n_exempt - n_low) / (n_total - n_exempt)
        END AS performance_level,
        CASE WHEN n_total - n_exempt > 0
            THEN 100.0 * (n_excellent + n_good) / (n_total - n_exempt)
        END AS knowledge_quality
    FROM grouped
)
SELECT
    dimension,
    value,
    CASE dimension || ':' || value
        WHEN 'locality:urban' THEN 'қала'
        WHEN 'locality:rural' THEN 'ауыл'
        WHEN 'language:kk' THEN 'қазақ тілі'
        WHEN 'language:ru' THEN 'орыс тілі'
        WHEN 'language:mixed' THEN 'аралас'
        WHEN 'language:other' THEN 'басқа тіл'
        WHEN 'school_type:general' THEN 'жалпы білім беретін мектеп'
        WHEN 'school_type:gymnasium' THEN 'гимназия'
        WHEN 'school_type:lyceum' THEN 'лицей'
        WHEN 'school_type:school_gymnasium' THEN 'мектеп-гимназия'
        WHEN 'school_type:school_lyceum' THEN 'мектеп-лицей'
        WHEN 'school_type:specialized' THEN 'мамандандырылған мектеп'
        WHEN 'school_type:evening' THEN 'кешкі мектеп'
        WHEN 'school_type:international' THEN 'халықаралық мектеп'
        WHEN 'school_type:autonomous' THEN 'дербес білім беру ұйымы'
        WHEN 'school_type:correctional' THEN 'түзеу мекемесіндегі мектеп'
        WHEN 'school_type:sanatorium' THEN 'санаторлық мектеп'
        WHEN 'school_type:other' THEN 'басқа'
        ELSE value
    END AS value_kk,
    CASE dimension || ':' || value
        WHEN 'locality:urban' THEN 'город'
        WHEN 'locality:rural' THEN 'село'
        WHEN 'language:kk' THEN 'казахский язык'
        WHEN 'language:ru' THEN 'русский язык'
        WHEN 'language:mixed' THEN 'смешанный'
        WHEN 'language:other' THEN 'другой язык'
        WHEN 'school_type:general' THEN 'общеобразовательная школа'
        WHEN 'school_type:gymnasium' THEN 'гимназия'
        WHEN 'school_type:lyceum' THEN 'лицей'
        WHEN 'school_type:school_gymnasium' THEN 'школа-гимназия'
        WHEN 'school_type:school_lyceum' THEN 'школа-лицей'
        WHEN 'school_type:specialized' THEN 'специализированная школа'
        WHEN 'school_type:evening' THEN 'вечерняя школа'
        WHEN 'school_type:international' THEN 'международная школа'
        WHEN 'school_type:autonomous' THEN 'автономная организация образования'
        WHEN 'school_type:correctional' THEN 'школа при исправительном учреждении'
        WHEN 'school_type:sanatorium' THEN 'санаторная школа'
        WHEN 'school_type:other' THEN 'другое'
        ELSE value
    END AS value_ru,
    n_total,
    n_exempt,
    n_low,
    n_excellent,
    n_good,
    n_ungraded,
    performance_level,
    indicator_band('performance', 'country', performance_level) AS performance_band,
    knowledge_quality,
    indicator_band('quality', 'country', knowledge_quality) AS quality_band,
    schools,
    schools_meeting_performance,
    schools_meeting_quality
FROM valued
ORDER BY dimension_order, value
