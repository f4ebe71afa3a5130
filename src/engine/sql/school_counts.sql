-- SPEC §5.3's counts per school, per academic_year × period, over the
-- statuses of `student_status`: the numbers every indicator is made of.
-- Parallels 0 and 1 are left out entirely (SPEC §4.4). Ingest stores the
-- result as the `school_counts` table, so `indicators` rolls up ~7,500
-- rows a period instead of regrouping ~4M statuses; the "as of" functions
-- run this same query over their dated statuses.
SELECT
    academic_year,
    period,
    region_id,
    district_id,
    school_id,
    count(*) AS n_total,
    sum(CASE WHEN status = 'exempt' THEN 1 ELSE 0 END) AS n_exempt,
    sum(CASE WHEN status = 'low' THEN 1 ELSE 0 END) AS n_low,
    sum(CASE WHEN status = 'excellent' THEN 1 ELSE 0 END) AS n_excellent,
    sum(CASE WHEN status = 'good' THEN 1 ELSE 0 END) AS n_good,
    sum(CASE WHEN status = 'ungraded' THEN 1 ELSE 0 END) AS n_ungraded
FROM student_status
WHERE parallel >= 2
GROUP BY academic_year, period, region_id, district_id, school_id
