-- title: Late and changed marks
-- title_kk: Мерзімінен кеш қойылған және өзгертілген бағалар
-- title_ru: Оценки, выставленные с опозданием и изменённые
-- answers: per school, district and region within the unit (and the country),
--   how many final marks of a period were set for the first time, changed or
--   cleared after the period's end date, and their shares of the period's
--   marks, worst first: the audit of marking windows (003_…txt)
-- for: ministry, regional administrations, district departments (audit)
-- params: year period unit
--
-- From the `mark_audit` view (SPEC §6): a quarter's final mark is due by
-- the quarter's last day and must not change after it; YEAR and FINAL
-- marks are due by Q4's end date. Period YEAR audits both annual columns,
-- the YEAR and the FINAL (Қорытынды) marks.
-- marks_recorded: the marks of the period in the journal, one per student
-- × class × subject × period column: the current marks (`marks`) plus the
-- cleared ones (whose latest version is empty), i.e. every mark that has a
-- version in `marks_history`. All classes and subjects count: the marking
-- rule applies to every journal.
-- set_late / changed_late / cleared_late: marks with a `late`, `changed`,
-- `cleared` row in mark_audit (a mark changed twice after the end counts
-- once here; `changes_after_end` counts every change). after_end: marks
-- with any of them. The shares are of marks_recorded (× 100).
-- Rows are grouped by level (country, regions, districts, schools) and,
-- within a level, worst first (highest after_end_pct, then most marks
-- touched after the end); units with no mark in the period are left out.
WITH recorded AS (
    -- Every mark of the period with a version, current or cleared, counted
    -- per school by ingest (`recorded_marks`).
    SELECT region_id, district_id, school_id, sum(marks_recorded) AS marks_recorded
    FROM recorded_marks
    WHERE academic_year = $year
      AND (period = $period OR ($period = 'YEAR' AND period = 'FINAL'))
      AND ($region_id IS NULL OR region_id = $region_id)
      AND ($district_id IS NULL OR district_id = $district_id)
      AND ($school_id IS NULL OR school_id = $school_id)
    GROUP BY region_id, district_id, school_id
),
audited_marks AS (
    -- One row per mark with any version after the end.
    SELECT a.region_id, a.district_id, a.school_id,
        max(CASE WHEN a.kind = 'late' THEN 1 ELSE 0 END) AS set_late,
        max(CASE WHEN a.kind = 'changed' THEN 1 ELSE 0 END) AS changed_late,
        max(CASE WHEN a.kind = 'cleared' THEN 1 ELSE 0 END) AS cleared_late,
        sum(CASE WHEN a.kind = 'changed' THEN 1 ELSE 0 END) AS changes
    FROM mark_audit a
    WHERE a.academic_year = $year
      AND (a.period = $period OR ($period = 'YEAR' AND a.period = 'FINAL'))
      AND ($region_id IS NULL OR a.region_id = $region_id)
      AND ($district_id IS NULL OR a.district_id = $district_id)
      AND ($school_id IS NULL OR a.school_id = $school_id)
    GROUP BY a.region_id, a.district_id, a.school_id,
        a.class_id, a.student_id, a.subject_id, a.period
),
audited AS (
    SELECT region_id, district_id, school_id,
        sum(set_late) AS set_late,
        sum(changed_late) AS changed_late,
        sum(cleared_late) AS cleared_late,
        count(*) AS after_end,
        sum(changes) AS changes_after_end
    FROM audited_marks
    GROUP BY region_id, district_id, school_id
),
by_school AS (
    SELECT r.region_id, r.district_id, r.school_id, r.marks_recorded,
        coalesce(a.set_late, 0) AS set_late,
        coalesce(a.changed_late, 0) AS changed_late,
        coalesce(a.cleared_late, 0) AS cleared_late,
        coalesce(a.after_end, 0) AS after_end,
        coalesce(a.changes_after_end, 0) AS changes_after_end
    FROM recorded r
    LEFT JOIN audited a
      ON a.region_id = r.region_id
     AND a.district_id = r.district_id
     AND a.school_id = r.school_id
),
counts AS (
    -- Every level in one aggregation over the school rows, so the marks
    -- are read once (a UNION of four roll-ups would read them four times).
    SELECT
        CASE WHEN grouping(school_id) = 0 THEN 'school'
             WHEN grouping(district_id) = 0 THEN 'district'
             WHEN grouping(region_id) = 0 THEN 'region'
             ELSE 'country' END AS level,
        CASE WHEN grouping(school_id) = 0 THEN school_id
             WHEN grouping(district_id) = 0 THEN district_id
             WHEN grouping(region_id) = 0 THEN region_id END AS unit_id,
        region_id, district_id,
        sum(marks_recorded) AS marks_recorded, sum(set_late) AS set_late,
        sum(changed_late) AS changed_late, sum(cleared_late) AS cleared_late,
        sum(after_end) AS after_end, sum(changes_after_end) AS changes_after_end,
        -- The country row only for the country, and only with a school
        -- (SPEC §8: aggregates above the unit are not the unit's).
        count(*) AS schools
    FROM by_school
    GROUP BY GROUPING SETS (
        (region_id, district_id, school_id), (region_id, district_id), (region_id), ()
    )
)
SELECT
    c.level,
    c.unit_id,
    CASE c.level
        WHEN 'country' THEN 'Қазақстан Республикасы'
        WHEN 'region' THEN rg.name_kk
        WHEN 'district' THEN d.name_kk
        ELSE s.name_kk
    END AS name_kk,
    CASE c.level
        WHEN 'country' THEN 'Республика Казахстан'
        WHEN 'region' THEN rg.name_ru
        WHEN 'district' THEN d.name_ru
        ELSE s.name_ru
    END AS name_ru,
    c.region_id,
    rg.name_kk AS region_kk,
    rg.name_ru AS region_ru,
    c.district_id,
    d.name_kk AS district_kk,
    d.name_ru AS district_ru,
    c.marks_recorded,
    c.set_late,
    c.changed_late,
    c.cleared_late,
    c.after_end,
    c.changes_after_end,
    CASE WHEN c.marks_recorded > 0 THEN 100.0 * c.set_late / c.marks_recorded END AS set_late_pct,
    CASE WHEN c.marks_recorded > 0 THEN 100.0 * c.changed_late / c.marks_recorded END AS changed_late_pct,
    CASE WHEN c.marks_recorded > 0 THEN 100.0 * c.cleared_late / c.marks_recorded END AS cleared_late_pct,
    CASE WHEN c.marks_recorded > 0 THEN 100.0 * c.after_end / c.marks_recorded END AS after_end_pct
FROM counts c
LEFT JOIN regions rg ON rg.region_id = c.region_id
LEFT JOIN districts d ON d.district_id = c.district_id
LEFT JOIN schools s ON c.level = 'school' AND s.school_id = c.unit_id
WHERE c.schools > 0
  AND ($unit_level = 'country' OR c.level <> 'country')
  AND ($unit_level IN ('country', 'region') OR c.level <> 'region')
  AND ($unit_level <> 'school' OR c.level = 'school')
ORDER BY
    CASE c.level WHEN 'country' THEN 0 WHEN 'region' THEN 1 WHEN 'district' THEN 2 ELSE 3 END,
    after_end_pct DESC NULLS LAST,
    c.after_end DESC,
    c.unit_id NULLS FIRST
