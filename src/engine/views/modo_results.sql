-- SPEC §9: MODO (ББЖМ) results per academic_year × grade × domain × unit
-- (level `school`/`district`/`region`/`country`, unit_id NULL for the
-- country), pooled over students: a body's figures are over all its
-- tested students, not an average of its schools. A school is placed in
-- its district and region by `schools`/`districts`.
--
-- Domains: `reading`, `math`, `science` as tested, and `total`: a
-- student's score summed over the three domains out of the summed maxima
-- (30 for grade 4, 75 for grade 9, seed 001); only students with all
-- three domains have a total.
--
-- students: tested students; mean_pct: mean over them of
-- 100·score/max_score (float64; NULL when none has a positive maximum).
-- Bands (modo_band): the seeds band no MODO results; Sapa uses the scale
-- Kazakh schools turn a criteria-based summative assessment into a mark
-- with, on the exact fraction score/max_score: `low` below 40 % (mark 2),
-- `satisfactory` 40–64 % (3), `good` 65–84 % (4), `excellent` 85–100 %
-- (5). n_* count the students of each band, *_pct are their shares of the
-- banded students, quality_pct the share of `good` + `excellent` (like
-- knowledge quality, SPEC §5.3).
WITH placed AS (
    SELECT m.academic_year, m.grade, m.domain, m.student_id, m.school_id,
        s.district_id, d.region_id, m.score, m.max_score
    FROM modo AS m
    JOIN schools AS s ON m.school_id = s.school_id
    JOIN districts AS d ON s.district_id = d.district_id
),
per_domain AS (
    SELECT academic_year, grade, domain, school_id, district_id, region_id, score, max_score
    FROM placed
    UNION ALL
    SELECT academic_year, grade, 'total' AS domain, school_id, district_id, region_id,
        sum(score) AS score, sum(max_score) AS max_score
    FROM placed
    GROUP BY academic_year, grade, student_id, school_id, district_id, region_id
    HAVING count(DISTINCT domain) = 3
),
banded AS (
    SELECT academic_year, grade, domain, school_id, district_id, region_id,
        CASE WHEN max_score > 0 THEN 100.0 * score / max_score END AS pct,
        modo_band(score, max_score) AS band
    FROM per_domain
),
per_unit AS (
    SELECT academic_year, grade, domain, 'school' AS level, school_id AS unit_id, pct, band
    FROM banded
    UNION ALL
    SELECT academic_year, grade, domain, 'district' AS level, district_id AS unit_id, pct, band
    FROM banded
    UNION ALL
    SELECT academic_year, grade, domain, 'region' AS level, region_id AS unit_id, pct, band
    FROM banded
    UNION ALL
    SELECT academic_year, grade, domain, 'country' AS level, CAST(NULL AS BIGINT) AS unit_id, pct, band
    FROM banded
),
counts AS (
    SELECT academic_year, grade, domain, level, unit_id,
        count(*) AS students,
        avg(pct) AS mean_pct,
        count(band) AS banded,
        sum(CASE WHEN band = 'low' THEN 1 ELSE 0 END) AS n_low,
        sum(CASE WHEN band = 'satisfactory' THEN 1 ELSE 0 END) AS n_satisfactory,
        sum(CASE WHEN band = 'good' THEN 1 ELSE 0 END) AS n_good,
        sum(CASE WHEN band = 'excellent' THEN 1 ELSE 0 END) AS n_excellent
    FROM per_unit
    GROUP BY academic_year, grade, domain, level, unit_id
)
SELECT academic_year, grade, domain, level, unit_id, students, mean_pct,
    n_low, n_satisfactory, n_good, n_excellent,
    CASE WHEN banded > 0 THEN 100.0 * n_low / banded END AS low_pct,
    CASE WHEN banded > 0 THEN 100.0 * n_satisfactory / banded END AS satisfactory_pct,
    CASE WHEN banded > 0 THEN 100.0 * n_good / banded END AS good_pct,
    CASE WHEN banded > 0 THEN 100.0 * n_excellent / banded END AS excellent_pct,
    CASE WHEN banded > 0 THEN 100.0 * (n_good + n_excellent) / banded END AS quality_pct
FROM counts
