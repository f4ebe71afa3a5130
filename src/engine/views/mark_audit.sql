-- SPEC §6 (003_…txt): the audit of marking windows. A quarter's final mark
-- is due by the quarter's last day and must not be changed after it; this
-- view lists, from `marks_history`, every mark version that broke that rule:
-- one row per version set, changed or cleared after its period's end date.
--
-- End dates (SPEC §7): Q1–Q4 their own `calendar.end_date`; YEAR and FINAL
-- the academic year's Q4 end date. A mark whose year × period has no
-- calendar row has no end date and is not audited (ingest refuses such
-- marks).
--
-- "After the end date": `recorded_at` ≥ the day after the end date at
-- 00:00:00. A version recorded at any moment of the end date itself (up to
-- 23:59:59.999999) is on time; at 00:00:00 of the next day it is one day
-- late. `days_late` = the calendar day of `recorded_at` − the end date
-- (≥ 1).
--
-- Kinds, each version compared with the version just before it
-- (`old_mark`, NULL when there is none or it was a clearing):
--   late     the mark's first non-empty value ever, recorded after the end
--            (earlier versions, if any, were all empty); old_mark NULL
--   changed  a non-empty value replacing a different earlier value after
--            the end; a value set again after a clearing, when the mark had
--            held a value before, is `changed` too, with old_mark NULL (the
--            clearing it replaces), whatever the value
--   cleared  an empty version replacing a non-empty one after the end
-- A version repeating the value just before it (or an empty one after an
-- empty one) changes nothing and is not a row. A mark changed twice after
-- the end gives two rows.
--
-- Every mark of the history is audited (no class or subject filter of
-- SPEC §4): the marking rule applies to every journal. The partition keys
-- include the year and the place (fixed by the class), so filters on
-- academic_year, period, region, district or school reach the scan.
SELECT
    v.academic_year,
    v.period,
    v.region_id,
    v.district_id,
    v.school_id,
    v.class_id,
    v.student_id,
    v.subject_id,
    CASE
        WHEN v.mark IS NULL THEN 'cleared'
        WHEN v.earlier_values = 0 THEN 'late'
        ELSE 'changed'
    END AS kind,
    v.old_mark,
    v.mark AS new_mark,
    v.recorded_at,
    e.end_date,
    CAST(CAST(v.recorded_at AS DATE) - e.end_date AS BIGINT) AS days_late
FROM (
    SELECT
        h.academic_year,
        h.period,
        h.region_id,
        h.district_id,
        h.school_id,
        h.class_id,
        h.student_id,
        h.subject_id,
        h.mark,
        h.recorded_at,
        lag(h.mark) OVER (
            PARTITION BY h.academic_year, h.period, h.region_id, h.district_id,
                h.school_id, h.class_id, h.student_id, h.subject_id
            ORDER BY h.recorded_at
        ) AS old_mark,
        -- Versions before this one (lag's row included) that held a value.
        count(h.mark) OVER (
            PARTITION BY h.academic_year, h.period, h.region_id, h.district_id,
                h.school_id, h.class_id, h.student_id, h.subject_id
            ORDER BY h.recorded_at
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS earlier_values
    FROM marks_history h
) AS v
JOIN (
    SELECT academic_year, period, end_date FROM calendar
    UNION ALL
    SELECT academic_year, 'YEAR' AS period, end_date FROM calendar WHERE period = 'Q4'
    UNION ALL
    SELECT academic_year, 'FINAL' AS period, end_date FROM calendar WHERE period = 'Q4'
) AS e
  ON e.academic_year = v.academic_year
 AND e.period = v.period
WHERE v.recorded_at >= CAST(e.end_date AS TIMESTAMP) + INTERVAL '1' DAY
  -- A version repeating the one before (an empty first version included:
  -- there is nothing before it) changes nothing.
  AND v.mark IS DISTINCT FROM v.old_mark
