-- SPEC §9: the MODO (ББЖМ) school draw of academic year $1 with seed $2
-- and a minimum of $3 students in grades 4 and 9 (80 by SPEC §9), over the
-- whole country; the table function `modo_draw(academic_year, seed
-- [, min_students_4_9])` runs it (src/engine/modo_draw.rs). The rules are the functions
-- of sapa_udfs::modo::draw, documented there:
--
-- - Students are counted from the enrollments active on the end date of
--   that year's Q3 (`calendar`: the last quarter ending before the April
--   test, when the list of schools is made), in classes of the year of any
--   kind, each student once: `students` every grade (the contingent),
--   `students_4_9` parallels 4 and 9. A year without a Q3 in `calendar`
--   counts no students, so no school is drawn.
-- - modo_exclusion leaves out excluded school types, schools with fewer
--   than $3 (80) in grades 4 and 9, and internet below 4 Mbit/s or
--   unknown; the computer-class criterion is not in the data.
-- - modo_cluster: locality/type/size/language.
-- - Within a cluster, schools in ascending modo_draw_key($2, school_id)
--   (ties by school_id); the first modo_quota(cluster_schools) are drawn:
--   a quarter rounded half up, at least one.
--
-- The query ends in its WHERE clause: the engine appends the scope's
-- filter (`AND school_id IN (…)`) to it.
WITH count_date AS (
    SELECT end_date FROM calendar WHERE academic_year = $1 AND period = 'Q3'
),
counts AS (
    SELECT c.school_id,
        count(DISTINCT e.student_id) AS students,
        count(DISTINCT CASE WHEN c.parallel IN (4, 9) THEN e.student_id END) AS students_4_9
    FROM enrollments AS e
    JOIN classes AS c ON e.class_id = c.class_id
    CROSS JOIN count_date AS q
    WHERE c.academic_year = $1
        AND e.active_from <= q.end_date
        AND (e.active_to IS NULL OR e.active_to >= q.end_date)
    GROUP BY c.school_id
),
candidates AS (
    SELECT s.school_id, s.district_id, d.region_id, s.locality, s.language, s.school_type,
        s.internet_mbps,
        coalesce(n.students, 0) AS students,
        coalesce(n.students_4_9, 0) AS students_4_9
    FROM schools AS s
    JOIN districts AS d ON s.district_id = d.district_id
    LEFT JOIN counts AS n ON n.school_id = s.school_id
),
eligible AS (
    SELECT *,
        modo_cluster(locality, school_type, language, students) AS cluster_key,
        modo_draw_key(CAST($2 AS BIGINT), school_id) AS draw_key
    FROM candidates
    WHERE modo_exclusion(school_type, students_4_9, internet_mbps, CAST($3 AS BIGINT)) IS NULL
),
ranked AS (
    SELECT *,
        CAST(row_number() OVER (PARTITION BY cluster_key ORDER BY draw_key, school_id) AS BIGINT)
            AS rank_in_cluster,
        count(*) OVER (PARTITION BY cluster_key) AS cluster_schools
    FROM eligible
)
SELECT CAST($1 AS INT) AS academic_year, school_id, district_id, region_id, cluster_key,
    locality, language, school_type, internet_mbps, students, students_4_9,
    cluster_schools, modo_quota(cluster_schools) AS cluster_quota, rank_in_cluster, draw_key
FROM ranked
WHERE rank_in_cluster <= modo_quota(cluster_schools)
