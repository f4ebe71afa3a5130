#!/usr/bin/env python3
"""Stable unordered scans (issue 20): an old and a new sapa binary
side by side (same data, same machine, one run). Usage:
python benches/stable_scans.py OLD_SAPA NEW_SAPA DATA (psycopg: the bench venv,
~/.cache/sapa/bench-venv/bin/python, that `sapa bench` makes). Each binary
serves DATA in turn; each query is run once warm, then timed 5 times, and
the answers hashed: "distinct answers" 1 means the same rows in the same
order every time."""
import statistics, subprocess, sys, time
import psycopg

old, new, data = sys.argv[1:4]
QUERIES = {
    "preview: SELECT * FROM marks LIMIT 2000": "SELECT * FROM marks LIMIT 2000",
    "one school, every mark (SELECT * … WHERE school_id = S)": "SELECT * FROM marks WHERE school_id = {school}",
    "one subject, one quarter (~1/80 of a year)": "SELECT student_id, mark FROM marks WHERE academic_year = 2024 AND period = 'Q1' AND subject_id = 1",
}

def serve(binary, port):
    p = subprocess.Popen([binary, "serve", "--data", data, "--listen", f"127.0.0.1:{port}",
                          "--log-statement", "none", "--log-file", "/tmp/scan_bench.serve.log"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            c = psycopg.connect(f"host=127.0.0.1 port={port} user=sapa dbname=sapa", autocommit=True)
            c.execute("SELECT 1").fetchall()
            return p, c
        except psycopg.OperationalError:
            time.sleep(0.2)

results = {}
for name, binary, port in (("before", old, 55461), ("after", new, 55462)):
    p, c = serve(binary, port)
    school = c.execute("SELECT min(school_id) FROM schools").fetchone()[0]
    for label, sql in QUERIES.items():
        sql = sql.format(school=school)
        times, hashes = [], set()
        c.execute(sql).fetchall()  # warm
        for _ in range(5):
            t = time.monotonic()
            rows = c.execute(sql).fetchall()
            times.append((time.monotonic() - t) * 1000)
            hashes.add(hash(tuple(map(tuple, rows))))
        results.setdefault(label, {})[name] = (statistics.median(times), min(times), max(times), len(rows), len(hashes))
    c.close()
    p.terminate(); p.wait()

print("| query | rows | before: ms median/min/max (distinct answers of 5) | after: ms median/min/max (distinct answers of 5) |")
print("|---|---|---|---|")
for label, r in results.items():
    b, a = r["before"], r["after"]
    print(f"| {label} | {a[3]} | {b[0]:.0f} / {b[1]:.0f} / {b[2]:.0f} ({b[4]}) | {a[0]:.0f} / {a[1]:.0f} / {a[2]:.0f} ({a[4]}) |")
