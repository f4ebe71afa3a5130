-- SPEC §3/§4 statuses as of the date $1 (the update of the latest Sunday on
-- or before it). The two marked holes below are filled by marks_as_of.sql
-- and the stored statuses' own query (student_status.sql).
--
-- A status is a function of the student's marks and memberships, and only
-- the marks are dated: a student none of whose marks of a period has a
-- version after the Sunday has, as of then, exactly the stored status. So
-- the stored `student_status` rows are kept for those students, and the
-- status query runs again only for the others, with `enrollments` and
-- `marks` narrowed to them. A date after the marking windows recomputes a
-- few students; a date inside a window recomputes most.
WITH changed AS (
    -- (academic year, report period, student) with a version after the
    -- Sunday; a FINAL mark belongs to the YEAR status.
    SELECT DISTINCT academic_year,
           CASE WHEN period = 'FINAL' THEN 'YEAR' ELSE period END AS period,
           student_id
    FROM marks_history
    WHERE recorded_at >= CAST(update_sunday(CAST($1 AS DATE)) AS TIMESTAMP) + INTERVAL '1' DAY
),
recomputed AS (
    WITH enrollments AS (
        SELECT * FROM enrollments
        WHERE student_id IN (SELECT student_id FROM changed)
    ),
    marks AS (
        SELECT dated.* FROM ({marks_as_of}
        ) AS dated
        WHERE EXISTS (
            SELECT 1 FROM changed c
            WHERE c.academic_year = dated.academic_year
              AND c.period = CASE WHEN dated.period = 'FINAL' THEN 'YEAR' ELSE dated.period END
              AND c.student_id = dated.student_id
        )
    )
    SELECT * FROM ({student_status}
    ) AS statuses
)
SELECT * FROM student_status s
WHERE NOT EXISTS (
    SELECT 1 FROM changed c
    WHERE c.academic_year = s.academic_year AND c.period = s.period
      AND c.student_id = s.student_id
)
UNION ALL
SELECT * FROM recomputed r
WHERE EXISTS (
    SELECT 1 FROM changed c
    WHERE c.academic_year = r.academic_year AND c.period = r.period
      AND c.student_id = r.student_id
)
