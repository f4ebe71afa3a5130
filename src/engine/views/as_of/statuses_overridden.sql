-- SPEC §3/§4 statuses as of the date $1: the weekly update of the latest
-- Sunday on or before it. Each stored (current) status, unless a row of
-- `earlier_statuses` covers that Sunday for the student in its class:
-- then the status and marks count the student had then. Only the marks
-- are dated, so memberships, places and parallels are the stored ones.
SELECT s.academic_year,
       s.period,
       s.region_id,
       s.district_id,
       s.school_id,
       s.class_id,
       s.parallel,
       s.student_id,
       coalesce(e.status, s.status) AS status,
       coalesce(e.marks_count, s.marks_count) AS marks_count,
       s.locality,
       s.language,
       s.school_type
FROM student_status s
LEFT JOIN earlier_statuses e
       ON e.academic_year = s.academic_year
      AND e.period = s.period
      AND e.class_id = s.class_id
      AND e.student_id = s.student_id
      AND (e.from_sunday IS NULL OR e.from_sunday <= update_sunday(CAST($1 AS DATE)))
      AND e.until_sunday > update_sunday(CAST($1 AS DATE))
