"""The reference side of `benches/national.py`: each workload as DuckDB SQL
over the same Parquet files Sapa serves, computed from the raw tables
(marks, classes, enrollments, subjects, calendar, schools, districts), with
Sapa's functions spelled out as SQL: SPEC §3 statuses, §4 filters, §5.3
indicators and bands. Nothing here reads Sapa's materialised tables.
"""

FAILING = ("2", "1", "А/Ө", "УА/Ө", "ЕСЖ")
TOP = ("5", "ЕСП")
NEUTRAL = ("БОС", "О/Ж")


def _quoted(values):
    return ", ".join("'" + v + "'" for v in values)


# SPEC §3 as a rank per mark: the student's status is the minimum rank
# (failing first); a student with only neutral marks is exempt.
RANK = (f"CASE WHEN {{m}} IN ({_quoted(FAILING)}) THEN 0 WHEN {{m}} = '3' THEN 1 "
        f"WHEN {{m}} = '4' THEN 2 WHEN {{m}} IN ({_quoted(TOP)}) THEN 3 "
        f"WHEN {{m}} IN ({_quoted(NEUTRAL)}) THEN 4 END")
STATUS_OF_RANK = ("CASE {r} WHEN 0 THEN 'low' WHEN 1 THEN 'satisfactory' WHEN 2 THEN 'good' "
                  "WHEN 3 THEN 'excellent' WHEN 4 THEN 'exempt' END")


def register(con, files):
    """Views over exactly the files of the dataset's current manifest."""
    for table, paths in files.items():
        listing = ", ".join("'" + p + "'" for p in paths)
        con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet([{listing}])")


def statuses(where_marks, where_periods, with_year, marks="marks"):
    """The SPEC §3/§4 status of every counted student (the query of
    `student_status`), restricted by the given predicates on marks `m`
    and on periods × classes (`p`, `c`), over the relation `marks` (the
    current marks, or a CTE of the marks as of a date)."""
    year_branch = f"""
    UNION ALL
    SELECT m.academic_year, 'YEAR' AS period, m.class_id, m.student_id,
           coalesce(max(CASE WHEN m.period = 'FINAL' THEN m.mark END),
                    max(CASE WHEN m.period = 'YEAR' THEN m.mark END)) AS mark
    FROM {marks} m JOIN subjects s ON s.subject_id = m.subject_id
    WHERE s.certified AND m.period IN ('YEAR', 'FINAL') AND {where_marks}
    GROUP BY m.academic_year, m.class_id, m.student_id, m.subject_id""" if with_year else ""
    rank = RANK.format(m="mark")
    return f"""
WITH periods AS (
    SELECT academic_year, period, end_date FROM calendar
    UNION ALL
    SELECT academic_year, 'YEAR' AS period, end_date FROM calendar WHERE period = 'Q4'
),
memberships AS (
    SELECT p.academic_year, p.period, c.class_id, c.school_id, c.parallel, e.student_id,
           row_number() OVER (PARTITION BY p.academic_year, p.period, e.student_id
                              ORDER BY e.active_from DESC, c.class_id DESC) AS latest
    FROM periods p
    JOIN classes c ON c.academic_year = p.academic_year
    JOIN enrollments e ON e.class_id = c.class_id
    WHERE c.journal_type = 'criterial' AND c.period_type = 'quarter'
      AND e.active_from <= p.end_date AND (e.active_to IS NULL OR e.active_to >= p.end_date)
      AND {where_periods}
),
counted AS (
    SELECT m.academic_year, m.period, m.class_id, m.student_id, m.mark
    FROM {marks} m JOIN subjects s ON s.subject_id = m.subject_id
    WHERE s.certified AND m.period IN ('Q1', 'Q2', 'Q3', 'Q4') AND {where_marks}
    {year_branch}
),
graded AS (
    SELECT academic_year, period, class_id, student_id, min({rank}) AS r
    FROM counted GROUP BY academic_year, period, class_id, student_id
)
SELECT a.academic_year, a.period, d.region_id, sc.district_id, a.school_id, a.parallel,
       a.student_id,
       coalesce({STATUS_OF_RANK.format(r="g.r")}, 'ungraded') AS status
FROM memberships a
JOIN schools sc ON sc.school_id = a.school_id
JOIN districts d ON d.district_id = sc.district_id
LEFT JOIN graded g ON g.academic_year = a.academic_year AND g.period = a.period
     AND g.class_id = a.class_id AND g.student_id = a.student_id
WHERE a.latest = 1"""


def _band(value, level):
    """SPEC §5.3 bands, half-open on the exact value."""
    school = level == "'school'"
    perf = "CASE WHEN {v} IS NULL THEN NULL WHEN {v} >= 95 THEN 'high' WHEN {v} >= 50 THEN 'medium' ELSE 'low' END"
    if value == "performance_level":
        return perf.format(v=value)
    hi, mid = (40, 30) if school else (86, 40)
    return (f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} >= {hi} THEN 'high' "
            f"WHEN {value} >= {mid} THEN 'medium' ELSE 'low' END")


def _values(n):
    return (f"CASE WHEN {n}_total - {n}_exempt > 0 THEN 100.0::DOUBLE * ({n}_total - {n}_exempt - {n}_low)"
            f" / ({n}_total - {n}_exempt) END AS performance_level, "
            f"CASE WHEN {n}_total - {n}_exempt > 0 THEN 100.0::DOUBLE * ({n}_excellent + {n}_good)"
            f" / ({n}_total - {n}_exempt) END AS knowledge_quality")


def marks_as_of(year, periods, cutoff):
    """SPEC §6: of every mark of `year` × `periods`, the latest version
    recorded before `cutoff` (the day after the update's Sunday, 00:00),
    cleared ones left out, computed from `marks_history` alone."""
    listing = _quoted(periods)
    return f"""
    SELECT academic_year, period, region_id, district_id, school_id, class_id, student_id,
           subject_id, mark
    FROM marks_history
    WHERE academic_year = {year} AND period IN ({listing})
      AND recorded_at < TIMESTAMP '{cutoff}'
    QUALIFY row_number() OVER (PARTITION BY academic_year, period, class_id, student_id, subject_id
                               ORDER BY recorded_at DESC) = 1 AND mark IS NOT NULL"""


def indicators(year, period, cutoff=None):
    """W1: the `indicators` rows of one period, every level, from raw marks;
    W8: with `cutoff`, as of the update before it, from `marks_history`."""
    marks, dated = "marks", ""
    if cutoff is not None:
        periods = ("YEAR", "FINAL") if period == "YEAR" else (period,)
        marks, dated = "dated_marks", f"dated_marks AS ({marks_as_of(year, periods, cutoff)}),"
    status = statuses(f"m.academic_year = {year} AND m.period = '{period}'",
                      f"p.academic_year = {year} AND p.period = '{period}'",
                      with_year=period == "YEAR", marks=marks)
    school_band_p = _band("performance_level", "'school'")
    school_band_q = _band("knowledge_quality", "'school'")
    body_band_q = _band("knowledge_quality", "'body'")
    return f"""
WITH {dated}
status AS ({status}),
school_counts AS (
    SELECT region_id, district_id, school_id, count(*) AS n_total,
           count(*) FILTER (status = 'exempt') AS n_exempt,
           count(*) FILTER (status = 'low') AS n_low,
           count(*) FILTER (status = 'excellent') AS n_excellent,
           count(*) FILTER (status = 'good') AS n_good,
           count(*) FILTER (status = 'ungraded') AS n_ungraded
    FROM status WHERE parallel >= 2 GROUP BY ALL
),
schools_v AS (
    SELECT *, {school_band_p} AS pb, {school_band_q} AS qb
    FROM (SELECT *, {_values('n')} FROM school_counts)
),
rolled AS (
    SELECT region_id, district_id, school_id,
           grouping(school_id) AS gs, grouping(district_id) AS gd, grouping(region_id) AS gr,
           sum(n_total) AS n_total, sum(n_exempt) AS n_exempt, sum(n_low) AS n_low,
           sum(n_excellent) AS n_excellent, sum(n_good) AS n_good, sum(n_ungraded) AS n_ungraded,
           count(*) AS schools,
           count(*) FILTER (pb = 'high') AS smp, count(*) FILTER (qb = 'high') AS smq
    FROM schools_v
    GROUP BY GROUPING SETS ((region_id, district_id, school_id), (region_id, district_id),
                            (region_id), ())
),
units AS (
    SELECT *,
           CASE WHEN gs = 0 THEN 'school' WHEN gd = 0 THEN 'district'
                WHEN gr = 0 THEN 'region' ELSE 'country' END AS level,
           CASE WHEN gs = 0 THEN school_id WHEN gd = 0 THEN district_id
                WHEN gr = 0 THEN region_id END AS unit_id,
           {_values('n')}
    FROM rolled
)
SELECT level, unit_id, n_total, n_exempt, n_low, n_excellent, n_good, n_ungraded,
       performance_level, {_band('performance_level', 'level')} AS performance_band,
       knowledge_quality,
       CASE WHEN level = 'school' THEN {school_band_q} ELSE {body_band_q} END AS quality_band,
       CASE WHEN level <> 'school' THEN schools END AS schools,
       CASE WHEN level <> 'school' THEN smp END AS schools_meeting_performance,
       CASE WHEN level <> 'school' THEN smq END AS schools_meeting_quality
FROM units"""


def district_indicators(year, period, district):
    """W4: what a district user sees of `indicators` for one period (its
    schools and its own row), from raw marks of that district only."""
    full = indicators(year, period)
    narrowed = full.replace(
        "AND e.active_from <= p.end_date",
        f"AND c.school_id IN (SELECT school_id FROM schools WHERE district_id = {district})\n"
        "      AND e.active_from <= p.end_date").replace(
        f"m.academic_year = {year} AND m.period = '{period}'",
        f"m.academic_year = {year} AND m.period = '{period}' AND m.district_id = {district}")
    return (f"SELECT * FROM ({narrowed}) WHERE (level = 'school') "
            f"OR (level = 'district' AND unit_id = {district})")


def dynamics(region):
    """W3: both indicators of one region for every period of every year."""
    status = statuses(f"m.region_id = {region}",
                      "c.school_id IN (SELECT s.school_id FROM schools s JOIN districts d "
                      f"ON d.district_id = s.district_id WHERE d.region_id = {region})",
                      with_year=True)
    return f"""
WITH status AS ({status}),
counts AS (
    SELECT academic_year, period, count(*) AS n_total,
           count(*) FILTER (status = 'exempt') AS n_exempt,
           count(*) FILTER (status = 'low') AS n_low,
           count(*) FILTER (status = 'excellent') AS n_excellent,
           count(*) FILTER (status = 'good') AS n_good
    FROM status WHERE parallel >= 2 AND region_id = {region} GROUP BY ALL
)
SELECT academic_year, period, n_total, n_exempt, n_low, n_excellent, n_good, {_values('n')}
FROM counts"""


def adhoc_classification(year, period):
    """W2: `student_status(mark)` per student over one period's marks,
    rolled up per school."""
    rank = RANK.format(m="mark")
    return f"""
SELECT school_id, {STATUS_OF_RANK.format(r="r")} AS status, count(*) AS students
FROM (SELECT school_id, student_id, min({rank}) AS r FROM marks
      WHERE academic_year = {year} AND period = '{period}' GROUP BY school_id, student_id)
GROUP BY ALL"""


def mark_audit_count():
    """W10: `SELECT count(*) FROM mark_audit` (SPEC §6 marking windows):
    versions recorded after their period's end date that change the value
    before them, from `marks_history` and `calendar`."""
    return """
WITH ends AS (
    SELECT academic_year, period, end_date FROM calendar
    UNION ALL SELECT academic_year, 'YEAR', end_date FROM calendar WHERE period = 'Q4'
    UNION ALL SELECT academic_year, 'FINAL', end_date FROM calendar WHERE period = 'Q4'
),
versions AS (
    SELECT academic_year, period, mark, recorded_at,
           lag(mark) OVER (PARTITION BY academic_year, period, class_id, student_id, subject_id
                           ORDER BY recorded_at) AS old_mark
    FROM marks_history
)
SELECT count(*) FROM versions v JOIN ends e USING (academic_year, period)
WHERE v.recorded_at >= CAST(e.end_date AS TIMESTAMP) + INTERVAL 1 DAY
  AND v.mark IS DISTINCT FROM v.old_mark"""
