-- title: Indicator dynamics
-- title_kk: Көрсеткіштер динамикасы
-- title_ru: Динамика показателей
-- answers: for one unit (the country by default), the performance level and
--   the knowledge quality with their bands for every period (Q1..Q4
--   and YEAR) of every academic year in the data: the chart of an indicator block
-- for: national-report authors, ministry, regional administrations, district departments, schools
-- params: unit
--
-- One row per academic_year × period in which the unit has an indicator row
-- (SPEC §5.3: at least one active student in parallels ≥ 2). `period_order`
-- sorts the x axis: academic_year × 10 + 1..4 for Q1..Q4 and + 5 for YEAR,
-- so the year's result follows its fourth quarter. Bands use the unit's own
-- level (governing-body bands for a body). An absent or 'country'
-- $unit_level means the country. The status counts (n_excellent, n_good,
-- n_satisfactory, n_low; n_satisfactory is what is left of n_total after the
-- others, exempt and ungraded) give the chart of status shares per period;
-- required_*_pct are the required levels of the unit's own level (body:
-- performance ≥ 95, quality ≥ 86; school: 95 / 40), drawn as lines beside
-- the indicators.
SELECT
    i.academic_year,
    CAST(i.academic_year AS VARCHAR) || '-' || CAST(i.academic_year + 1 AS VARCHAR)
        AS academic_year_label,
    i.period,
    i.academic_year * 10 + CASE i.period
        WHEN 'Q1' THEN 1
        WHEN 'Q2' THEN 2
        WHEN 'Q3' THEN 3
        WHEN 'Q4' THEN 4
        ELSE 5
    END AS period_order,
    i.level,
    i.unit_id,
    i.performance_level,
    i.performance_band,
    i.knowledge_quality,
    i.quality_band,
    i.n_total,
    i.n_exempt,
    i.n_ungraded,
    i.n_excellent,
    i.n_good,
    i.n_total - i.n_exempt - i.n_low - i.n_excellent - i.n_good - i.n_ungraded
        AS n_satisfactory,
    i.n_low,
    95.0 AS required_performance_pct,
    CASE WHEN i.level = 'school' THEN 40.0 ELSE 86.0 END AS required_quality_pct
FROM indicators i
WHERE (($unit_level IS NULL OR $unit_level = 'country') AND i.level = 'country')
   OR (i.level = $unit_level AND i.unit_id = $unit_id)
ORDER BY period_order
