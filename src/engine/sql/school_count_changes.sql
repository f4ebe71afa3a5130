-- How each school's SPEC §5.3 counts as of a weekly update differ from the
-- stored ones (`school_counts`), as events per Sunday: a student's stretch
-- in `earlier_statuses` (their status from the update of `from_sunday` up
-- to, not including, that of `until_sunday`) adds its difference from the
-- current status at `from_sunday` (NULL: since before any version) and
-- takes it back at `until_sunday`. So the counts as of Sunday S are the
-- stored ones plus the sum of the events up to S: a few rows per school,
-- whatever the date. Only the marks are dated: memberships, parallels and
-- so n_total are the stored ones (parallels 0 and 1 left out, SPEC §4.4).
WITH stretches AS (
    SELECT s.academic_year, s.period, s.region_id, s.district_id, s.school_id,
           e.from_sunday, e.until_sunday,
           CASE WHEN e.status = 'exempt' THEN 1 ELSE 0 END
             - CASE WHEN s.status = 'exempt' THEN 1 ELSE 0 END AS d_exempt,
           CASE WHEN e.status = 'low' THEN 1 ELSE 0 END
             - CASE WHEN s.status = 'low' THEN 1 ELSE 0 END AS d_low,
           CASE WHEN e.status = 'excellent' THEN 1 ELSE 0 END
             - CASE WHEN s.status = 'excellent' THEN 1 ELSE 0 END AS d_excellent,
           CASE WHEN e.status = 'good' THEN 1 ELSE 0 END
             - CASE WHEN s.status = 'good' THEN 1 ELSE 0 END AS d_good,
           CASE WHEN e.status = 'ungraded' THEN 1 ELSE 0 END
             - CASE WHEN s.status = 'ungraded' THEN 1 ELSE 0 END AS d_ungraded
    FROM student_status s
    JOIN earlier_statuses e
      ON e.academic_year = s.academic_year AND e.period = s.period
     AND e.class_id = s.class_id AND e.student_id = s.student_id
    WHERE s.parallel >= 2
),
events AS (
    SELECT academic_year, period, region_id, district_id, school_id, from_sunday AS sunday,
           d_exempt, d_low, d_excellent, d_good, d_ungraded
    FROM stretches
    UNION ALL
    SELECT academic_year, period, region_id, district_id, school_id, until_sunday AS sunday,
           -d_exempt, -d_low, -d_excellent, -d_good, -d_ungraded
    FROM stretches
)
SELECT academic_year, period, region_id, district_id, school_id, sunday,
       CAST(sum(d_exempt) AS BIGINT) AS d_exempt,
       CAST(sum(d_low) AS BIGINT) AS d_low,
       CAST(sum(d_excellent) AS BIGINT) AS d_excellent,
       CAST(sum(d_good) AS BIGINT) AS d_good,
       CAST(sum(d_ungraded) AS BIGINT) AS d_ungraded
FROM events
GROUP BY academic_year, period, region_id, district_id, school_id, sunday
