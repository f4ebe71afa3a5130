-- title: National statistical collection: performance by region
-- title_kk: Ұлттық статистикалық жинақ: өңірлер бөлінісіндегі үлгерім
-- title_ru: Национальный статистический сборник: успеваемость в разрезе регионов
-- answers: for an academic year, one row for the country and one per region:
--   the performance level and the knowledge quality of the year with
--   their bands, the student counts, the number of schools and how many of
--   them reach the school-level required values
-- for: national-report authors (national statistical collection, seed 002)
-- params: year
--
-- Period 'YEAR' (the annual marks) of SPEC §5.3: parallels ≥ 2, values pooled
-- over each body's students with the governing-body bands. The country row
-- comes first, then every region of the reference table by region_id; a
-- region with no counted student in the year has a row with NULL figures,
-- so the table always has all regions. schools_meeting_*_pct are over the
-- region's schools, NULL when it has none.
WITH bodies AS (
    SELECT
        0 AS row_order,
        'country' AS level,
        CAST(NULL AS BIGINT) AS region_id,
        'Қазақстан Республикасы' AS name_kk,
        'Республика Казахстан' AS name_ru
    UNION ALL
    SELECT 1 AS row_order, 'region' AS level, r.region_id, r.name_kk, r.name_ru
    FROM regions r
),
year_rows AS (
    SELECT *
    FROM indicators i
    WHERE i.academic_year = $year
      AND i.period = 'YEAR'
      AND i.level IN ('country', 'region')
)
SELECT
    CAST($year AS INT) AS academic_year,
    b.level,
    b.region_id,
    b.name_kk,
    b.name_ru,
    y.n_total,
    y.n_exempt,
    y.n_low,
    y.n_excellent,
    y.n_good,
    y.n_ungraded,
    y.performance_level,
    y.performance_band,
    y.knowledge_quality,
    y.quality_band,
    y.schools,
    y.schools_meeting_performance,
    CASE WHEN y.schools > 0
        THEN 100.0 * y.schools_meeting_performance / y.schools
    END AS schools_meeting_performance_pct,
    y.schools_meeting_quality,
    CASE WHEN y.schools > 0
        THEN 100.0 * y.schools_meeting_quality / y.schools
    END AS schools_meeting_quality_pct
FROM bodies b
LEFT JOIN year_rows y
  ON y.level = b.level
 AND coalesce(y.unit_id, 0) = coalesce(b.region_id, 0)
ORDER BY b.row_order, b.region_id
