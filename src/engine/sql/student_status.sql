-- The SPEC §3 status of every counted student, per academic year and period
-- (Q1–Q4 and YEAR), over the current marks, with the columns reports slice
-- by. One row per academic_year × period × student; the filters of SPEC §4:
--   1. classes with journal_type 'criterial' and period_type 'quarter';
--   2. certified subjects only;
--   3. students with a membership active at the period's end date (YEAR: Q4's)
--      in a class of the period's academic year, judged on the marks recorded
--      in THAT class (a mover's marks left in the old class do not count);
--   5. the annual mark is FINAL if set, else YEAR (a cleared FINAL is not in
--      `marks`, so it falls back to YEAR).
-- Parallels 0 and 1 are kept (reports decide what they count). A student
-- with no counted mark is 'ungraded'. marks_count is the number of counted
-- non-empty marks (БОС and О/Ж included).
-- Should two memberships of one student be active at the same end date
-- (a transfer recorded as ending and starting that day), the latest one,
-- by active_from then class_id, is where the student sits.
WITH periods AS (
    SELECT academic_year, period, end_date FROM calendar
    UNION ALL
    SELECT academic_year, 'YEAR' AS period, end_date FROM calendar WHERE period = 'Q4'
),
memberships AS (
    SELECT p.academic_year, p.period, c.class_id, c.school_id, c.parallel, e.student_id,
           row_number() OVER (
               PARTITION BY p.academic_year, p.period, e.student_id
               ORDER BY e.active_from DESC, c.class_id DESC
           ) AS latest
    FROM periods p
    JOIN classes c ON c.academic_year = p.academic_year
    JOIN enrollments e ON e.class_id = c.class_id
    WHERE c.journal_type = 'criterial'
      AND c.period_type = 'quarter'
      AND e.active_from <= p.end_date
      AND (e.active_to IS NULL OR e.active_to >= p.end_date)
),
counted AS (
    SELECT m.academic_year, m.period, m.class_id, m.student_id, m.mark
    FROM marks m
    JOIN subjects s ON s.subject_id = m.subject_id
    WHERE s.certified AND m.period IN ('Q1', 'Q2', 'Q3', 'Q4')
    UNION ALL
    SELECT m.academic_year, 'YEAR' AS period, m.class_id, m.student_id,
           annual_mark(
               max(CASE WHEN m.period = 'FINAL' THEN m.mark END),
               max(CASE WHEN m.period = 'YEAR' THEN m.mark END)
           ) AS mark
    FROM marks m
    JOIN subjects s ON s.subject_id = m.subject_id
    WHERE s.certified AND m.period IN ('YEAR', 'FINAL')
    GROUP BY m.academic_year, m.class_id, m.student_id, m.subject_id
),
-- Marks are folded per student and class before the join, so the join
-- meets one row per graded student, not one per mark.
graded AS (
    SELECT academic_year, period, class_id, student_id,
           student_status(mark) AS status,
           count(mark) AS marks_count
    FROM counted
    GROUP BY academic_year, period, class_id, student_id
)
SELECT a.academic_year,
       a.period,
       d.region_id,
       sc.district_id,
       a.school_id,
       a.class_id,
       a.parallel,
       a.student_id,
       -- No counted mark at all: what student_status() says of no marks.
       coalesce(g.status, 'ungraded') AS status,
       coalesce(g.marks_count, 0) AS marks_count,
       sc.locality,
       sc.language,
       sc.school_type
FROM memberships a
JOIN schools sc ON sc.school_id = a.school_id
JOIN districts d ON d.district_id = sc.district_id
LEFT JOIN graded g
       ON g.academic_year = a.academic_year
      AND g.period = a.period
      AND g.class_id = a.class_id
      AND g.student_id = a.student_id
WHERE a.latest = 1
