"""How long "as of" reporting (issue 14) takes over the wire, beside the
current `indicators` view, for one period, from a real psycopg client.

    sapa generate --scale national --years 2024..2024 --seed 1 --out /tmp/national
    sapa serve --data /tmp/national --listen 127.0.0.1:55433 &
    target/clients-venv/bin/python benches/as_of.py [runs]

Each query runs once to warm the caches, then `runs` times (default 5);
prints median / min / max in ms and the rows' checksum. Dates (the
generator's Q1 2024 ends Friday 2024-10-25): 2024-10-20 lies inside the
marking window (most students have a later mark version, so most are
recomputed); 2024-10-27 is Q1's publication Sunday; 2024-11-03 is a week
after; 2100-01-01 is after every mark, and must equal the view.
"""
import statistics, sys, time
import psycopg

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
DSN = "host=127.0.0.1 port=55433 user=sapa dbname=sapa"
SHAPE = ("SELECT level, count(*), sum(n_total), sum(n_low), sum(n_excellent), sum(n_good), "
         "sum(n_ungraded) FROM {} WHERE academic_year = 2024 AND period = 'Q1' "
         "GROUP BY level ORDER BY level")
CASES = [
    ("indicators (stored statuses)", "indicators"),
    ("indicators_as_of('2100-01-01')", "indicators_as_of('2100-01-01')"),
    ("indicators_as_of('2024-11-03')", "indicators_as_of('2024-11-03')"),
    ("indicators_as_of('2024-10-27')", "indicators_as_of('2024-10-27')"),
    ("indicators_as_of('2024-10-20') inside the window", "indicators_as_of('2024-10-20')"),
    ("indicators_current('2024-11-03')", "indicators_current('2024-11-03')"),
]

with psycopg.connect(DSN, autocommit=True) as conn:
    answers = {}
    print(f"{'query':52} {'median':>8} {'min':>8} {'max':>8}  rows")
    for label, source in CASES:
        sql = SHAPE.format(source)
        conn.execute(sql).fetchall()
        times = []
        for _ in range(RUNS):
            t0 = time.monotonic()
            rows = conn.execute(sql).fetchall()
            times.append(1000 * (time.monotonic() - t0))
        answers[label] = rows
        print(f"{label:52} {statistics.median(times):8.0f} {min(times):8.0f} {max(times):8.0f}  {len(rows)}")
    same = answers["indicators (stored statuses)"] == answers["indicators_as_of('2100-01-01')"]
    print("as of 2100-01-01 equals the view:", same)
    for label, rows in answers.items():
        print(label, rows)
    sys.exit(0 if same else 1)
