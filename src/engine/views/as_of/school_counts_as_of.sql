-- SPEC §5.3's counts per school as of the date $1 (the update of the
-- latest Sunday on or before it): the stored counts plus every change
-- event of `school_count_changes` up to that Sunday (NULL: since before any
-- mark version). The same rows as `school_counts.sql` over the statuses of
-- `statuses_overridden.sql`, without reading a status.
SELECT c.academic_year,
       c.period,
       c.region_id,
       c.district_id,
       c.school_id,
       c.n_total,
       c.n_exempt + coalesce(d.d_exempt, 0) AS n_exempt,
       c.n_low + coalesce(d.d_low, 0) AS n_low,
       c.n_excellent + coalesce(d.d_excellent, 0) AS n_excellent,
       c.n_good + coalesce(d.d_good, 0) AS n_good,
       c.n_ungraded + coalesce(d.d_ungraded, 0) AS n_ungraded
FROM school_counts c
LEFT JOIN (
    SELECT academic_year, period, school_id,
           sum(d_exempt) AS d_exempt,
           sum(d_low) AS d_low,
           sum(d_excellent) AS d_excellent,
           sum(d_good) AS d_good,
           sum(d_ungraded) AS d_ungraded
    FROM school_count_changes
    WHERE sunday IS NULL OR sunday <= update_sunday(CAST($1 AS DATE))
    GROUP BY academic_year, period, school_id
) AS d
  ON d.academic_year = c.academic_year
 AND d.period = c.period
 AND d.school_id = c.school_id
