-- SPEC §6: the marks as the weekly update in force on the date $1 showed
-- them. S is the latest Sunday on or before $1; of every mark (student ×
-- class × subject × period), the latest version recorded by S 23:59:59.999999,
-- cleared ones (a NULL latest version) left out.
--
-- Most marks have not changed since S: for them the current mark (`marks`,
-- whose recorded_at is the latest version's) is the answer, read without
-- any regrouping. Only marks with a version recorded after S are looked up
-- again in the history, where their latest earlier version (if any) is
-- taken. So a date after the marking windows costs about a scan of `marks`,
-- not a regrouping of every version.
WITH changed_later AS (
    SELECT DISTINCT academic_year, period, class_id, student_id, subject_id
    FROM marks_history
    WHERE recorded_at >= CAST(update_sunday(CAST($1 AS DATE)) AS TIMESTAMP) + INTERVAL '1' DAY
),
earlier_versions AS (
    SELECT h.academic_year, h.period, h.region_id, h.district_id, h.school_id,
           h.class_id, h.student_id, h.subject_id, h.mark, h.recorded_at,
           row_number() OVER (
               PARTITION BY h.academic_year, h.period, h.class_id, h.student_id, h.subject_id
               ORDER BY h.recorded_at DESC
           ) AS newest
    FROM marks_history h
    JOIN changed_later l
      ON l.academic_year = h.academic_year AND l.period = h.period
     AND l.class_id = h.class_id AND l.student_id = h.student_id
     AND l.subject_id = h.subject_id
    WHERE h.recorded_at < CAST(update_sunday(CAST($1 AS DATE)) AS TIMESTAMP) + INTERVAL '1' DAY
)
SELECT academic_year, period, region_id, district_id, school_id, class_id,
       student_id, subject_id, mark, recorded_at
FROM marks
WHERE recorded_at < CAST(update_sunday(CAST($1 AS DATE)) AS TIMESTAMP) + INTERVAL '1' DAY
UNION ALL
SELECT academic_year, period, region_id, district_id, school_id, class_id,
       student_id, subject_id, mark, recorded_at
FROM earlier_versions
WHERE newest = 1 AND mark IS NOT NULL
