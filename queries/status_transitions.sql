-- title: Student status transitions between two periods
-- title_kk: Оқушылар мәртебесінің кезеңдер арасындағы өзгерісі
-- title_ru: Переходы статусов учащихся между периодами
-- answers: the transition matrix of student statuses (SPEC §3) between a base
--   period ($from_year/$from_period) and a compared period
--   ($year/$period): how many students went from each status to each status,
--   students followed by student_id across periods, classes and schools
-- for: researchers, national-report authors
-- params: year period from unit
--
-- Population: the students the indicators count (SPEC §5.3: active at the
-- period's end, parallels ≥ 2) inside the unit. A student not in that
-- population in one of the periods (not enrolled, left the unit, in
-- parallel 0/1, class outside §4's filters) is 'absent' there, so the matrix
-- also shows entries and exits; absent → absent never occurs. The total of
-- `students` is the number of distinct students present in either period.
-- `from_status_pct` is the share of the row's students among the students with
-- the same from_status (a row of the matrix sums to 100).
-- One pass over `student_status` folded per student, no join: a period
-- compared with itself gives the diagonal.
WITH followed AS (
    SELECT
        ss.student_id,
        max(CASE WHEN ss.academic_year = $from_year AND ss.period = $from_period
            THEN ss.status END) AS from_status,
        max(CASE WHEN ss.academic_year = $year AND ss.period = $period
            THEN ss.status END) AS to_status
    FROM student_status ss
    WHERE ((ss.academic_year = $from_year AND ss.period = $from_period)
           OR (ss.academic_year = $year AND ss.period = $period))
      AND ss.parallel >= 2
      AND ($region_id IS NULL OR ss.region_id = $region_id)
      AND ($district_id IS NULL OR ss.district_id = $district_id)
      AND ($school_id IS NULL OR ss.school_id = $school_id)
    GROUP BY ss.student_id
),
matrix AS (
    SELECT
        coalesce(from_status, 'absent') AS from_status,
        coalesce(to_status, 'absent') AS to_status,
        count(*) AS students
    FROM followed
    GROUP BY coalesce(from_status, 'absent'), coalesce(to_status, 'absent')
)
SELECT
    from_status,
    to_status,
    students,
    100.0 * students / sum(students) OVER (PARTITION BY from_status) AS from_status_pct
FROM matrix
ORDER BY
    CASE from_status
        WHEN 'excellent' THEN 1 WHEN 'good' THEN 2 WHEN 'satisfactory' THEN 3
        WHEN 'low' THEN 4 WHEN 'exempt' THEN 5 WHEN 'ungraded' THEN 6 ELSE 7
    END,
    CASE to_status
        WHEN 'excellent' THEN 1 WHEN 'good' THEN 2 WHEN 'satisfactory' THEN 3
        WHEN 'low' THEN 4 WHEN 'exempt' THEN 5 WHEN 'ungraded' THEN 6 ELSE 7
    END
