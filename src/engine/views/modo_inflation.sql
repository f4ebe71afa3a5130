-- SPEC §9 beside §5.3: where internal marks and MODO (ББЖМ) disagree. One
-- row per academic_year × grade (4, 9) × unit (level `school`/`district`/
-- `region`/`country`, unit_id NULL for the country) for the schools with
-- MODO results; a body pools the students of its tested schools.
--
-- A tested student is one with all three domains (their `total`,
-- modo_results); MODO in April of academic year Y belongs to Y (2024 =
-- 2024–2025). modo_mean_pct: mean over them of 100·total/max (30 or 75);
-- modo_quality_pct: the share of them whose total is `good` or
-- `excellent` (modo_band, ≥ 65 %).
--
-- The same students' marks: their `student_status` of that academic
-- year's YEAR period in parallel = grade (wherever they sit at the year's
-- end). tested_with_status counts those found, tested_exempt /
-- tested_excellent_good their statuses, and tested_knowledge_quality is
-- SPEC §5.3's (excellent + good) / (n − exempt) × 100 over them. The
-- whole parallel: parallel_students etc. and parallel_knowledge_quality,
-- the same formula over every YEAR status of the school(s) in parallel =
-- grade. A zero denominator gives NULL.
--
-- gap = tested_knowledge_quality − modo_mean_pct and quality_gap =
-- tested_knowledge_quality − modo_quality_pct (percentage points;
-- positive: the marks are better than MODO says).
WITH placed AS (
    SELECT m.academic_year, m.grade, m.domain, m.student_id, m.school_id,
        s.district_id, d.region_id, m.score, m.max_score
    FROM modo AS m
    JOIN schools AS s ON m.school_id = s.school_id
    JOIN districts AS d ON s.district_id = d.district_id
),
tested AS (
    SELECT academic_year, grade, student_id, school_id, district_id, region_id,
        100.0 * sum(score) / sum(max_score) AS pct,
        modo_band(sum(score), sum(max_score)) AS band
    FROM placed
    GROUP BY academic_year, grade, student_id, school_id, district_id, region_id
    HAVING count(DISTINCT domain) = 3 AND sum(max_score) > 0
),
tested_status AS (
    SELECT t.*, ys.status
    FROM tested AS t
    LEFT JOIN student_status AS ys
        ON ys.period = 'YEAR' AND ys.academic_year = t.academic_year
        AND ys.student_id = t.student_id AND ys.parallel = t.grade
),
school_tested AS (
    SELECT academic_year, grade, school_id, district_id, region_id,
        count(*) AS modo_students,
        sum(pct) AS pct_sum,
        sum(CASE WHEN band IN ('good', 'excellent') THEN 1 ELSE 0 END) AS modo_good_excellent,
        count(status) AS tested_with_status,
        sum(CASE WHEN status = 'exempt' THEN 1 ELSE 0 END) AS tested_exempt,
        sum(CASE WHEN status IN ('excellent', 'good') THEN 1 ELSE 0 END) AS tested_excellent_good
    FROM tested_status
    GROUP BY academic_year, grade, school_id, district_id, region_id
),
parallel_counts AS (
    SELECT academic_year, parallel AS grade, school_id,
        count(*) AS parallel_students,
        sum(CASE WHEN status = 'exempt' THEN 1 ELSE 0 END) AS parallel_exempt,
        sum(CASE WHEN status IN ('excellent', 'good') THEN 1 ELSE 0 END) AS parallel_excellent_good
    FROM student_status
    WHERE period = 'YEAR' AND parallel IN (4, 9)
    GROUP BY academic_year, parallel, school_id
),
school_rows AS (
    SELECT st.*,
        coalesce(pc.parallel_students, 0) AS parallel_students,
        coalesce(pc.parallel_exempt, 0) AS parallel_exempt,
        coalesce(pc.parallel_excellent_good, 0) AS parallel_excellent_good
    FROM school_tested AS st
    LEFT JOIN parallel_counts AS pc
        ON pc.academic_year = st.academic_year AND pc.grade = st.grade
        AND pc.school_id = st.school_id
),
per_unit AS (
    SELECT academic_year, grade, 'school' AS level, school_id AS unit_id,
        CAST(NULL AS BIGINT) AS schools,
        modo_students, pct_sum, modo_good_excellent, tested_with_status, tested_exempt,
        tested_excellent_good, parallel_students, parallel_exempt, parallel_excellent_good
    FROM school_rows
    UNION ALL
    SELECT academic_year, grade, level, unit_id, count(*) AS schools,
        sum(modo_students), sum(pct_sum), sum(modo_good_excellent), sum(tested_with_status),
        sum(tested_exempt), sum(tested_excellent_good), sum(parallel_students),
        sum(parallel_exempt), sum(parallel_excellent_good)
    FROM (
        SELECT *, 'district' AS level, district_id AS unit_id FROM school_rows
        UNION ALL
        SELECT *, 'region' AS level, region_id AS unit_id FROM school_rows
        UNION ALL
        SELECT *, 'country' AS level, CAST(NULL AS BIGINT) AS unit_id FROM school_rows
    ) AS bodies
    GROUP BY academic_year, grade, level, unit_id
),
valued AS (
    SELECT *,
        pct_sum / modo_students AS modo_mean_pct,
        100.0 * modo_good_excellent / modo_students AS modo_quality_pct,
        CASE WHEN tested_with_status - tested_exempt > 0
            THEN 100.0 * tested_excellent_good / (tested_with_status - tested_exempt) END
            AS tested_knowledge_quality,
        CASE WHEN parallel_students - parallel_exempt > 0
            THEN 100.0 * parallel_excellent_good / (parallel_students - parallel_exempt) END
            AS parallel_knowledge_quality
    FROM per_unit
)
SELECT academic_year, grade, level, unit_id, schools,
    modo_students, modo_mean_pct, modo_quality_pct,
    tested_with_status, tested_exempt, tested_excellent_good, tested_knowledge_quality,
    parallel_students, parallel_exempt, parallel_excellent_good, parallel_knowledge_quality,
    tested_knowledge_quality - modo_mean_pct AS gap,
    tested_knowledge_quality - modo_quality_pct AS quality_gap
FROM valued
