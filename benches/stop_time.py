"""How fast a running raw-marks query stops on a cancel request and on
statement_timeout, measured from a real psycopg client (issue 6).

    sapa generate --scale region --years 2024..2024 --seed 1 --out /tmp/region
    sapa serve --data /tmp/region --listen 127.0.0.1:55433 &
    target/clients-venv/bin/python benches/stop_time.py ["SQL"]

Prints the query's uncancelled time, the milliseconds from each cancel
request to the client's 57014, and when a 500 ms statement_timeout ends it.
"""
import threading, time, sys
import psycopg

QUERY = sys.argv[1] if len(sys.argv) > 1 else (
    "SELECT student_id, subject_id, count(*) AS n, max(mark) FROM marks_history "
    "GROUP BY student_id, subject_id ORDER BY n DESC, student_id LIMIT 5")
DSN = "host=127.0.0.1 port=55433 user=sapa dbname=sapa"

with psycopg.connect(DSN, autocommit=True) as conn:
    t0 = time.monotonic()
    conn.execute(QUERY).fetchall()
    full = time.monotonic() - t0
    print(f"uncancelled: {full:.2f} s")
    for delay in (0.5, 1.0):
        cancelled = {}
        def cancel():
            time.sleep(delay)
            cancelled["at"] = time.monotonic()
            conn.cancel()
        threading.Thread(target=cancel).start()
        try:
            conn.execute(QUERY).fetchall()
            print(f"cancel after {delay}s: the query finished first")
        except psycopg.errors.QueryCanceled:
            print(f"cancel after {delay}s: stopped {1000 * (time.monotonic() - cancelled['at']):.0f} ms after the cancel")
    conn.execute("SET statement_timeout = '500ms'")
    t0 = time.monotonic()
    try:
        conn.execute(QUERY).fetchall()
        print("timeout 500ms: finished first")
    except psycopg.errors.QueryCanceled as e:
        print(f"timeout 500ms: {e} after {1000 * (time.monotonic() - t0):.0f} ms")
