"""The national benchmark (`sapa bench national`): every workload of the
national-speed issue, Sapa over the wire beside DuckDB on the same Parquet
files, in one run.

    sapa bench national [--scale national|region] [--only W1,W8] [--runs N]

It makes its own virtualenv (psycopg, duckdb) on first use, and the dataset
once: `sapa generate --format csv` then `sapa ingest` into --data (default
/var/tmp/sapa-<scale>), recording both commands' time and peak memory
beside it (<data>.bench.json) and keeping the CSVs (<data>-csv) for W9.
Then it serves the dataset with this `sapa` behind a users file (a ministry
analyst and 16 district users), runs each workload warm --runs times
through psycopg on loopback and through DuckDB (2 threads, like the server)
over exactly the files of the dataset's current manifest, computing from
the raw tables, checks that both give the same numbers, and writes the
table to --out (default benches/results/<scale>.md). Exits non-zero when
an answer differs or a workload fails.
"""
import argparse, datetime, json, os, shutil, subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_venv import in_venv  # noqa: E402

in_venv()

import statistics, threading  # noqa: E402
import duckdb  # noqa: E402
import psycopg  # noqa: E402

import national_duckdb as ref  # noqa: E402

YEAR, PERIOD = 2024, "Q1"
PASSWORD = "bench"
# W4: the number of concurrent clients, each a district user.
CLIENTS = 16
# A run slower than this is not repeated (see `timed`).
SLOW_MS = 30_000
WORKLOADS = [f"W{i}" for i in range(1, 11)]
W1_COLUMNS = ("level, unit_id, n_total, n_exempt, n_low, n_excellent, n_good, n_ungraded, "
              "performance_level, performance_band, knowledge_quality, quality_band, schools, "
              "schools_meeting_performance, schools_meeting_quality")


def parse_args():
    p = argparse.ArgumentParser(prog="sapa bench national", description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", choices=("national", "region"), default="national",
                   help="the country to measure: national (one academic year, ~245M mark "
                        "versions) or region (the same workloads on ~1/20 of it, for quick runs)")
    p.add_argument("--data", help="the dataset (default /var/tmp/sapa-<scale>; made when absent)")
    p.add_argument("--sapa", default=os.environ.get("SAPA_BIN") or str(
        HERE.parent / "target" / "release" / "sapa"), help="the sapa binary")
    p.add_argument("--runs", type=int, default=5, help="warm runs per workload (default 5)")
    p.add_argument("--only", default="", help="comma-separated workloads, e.g. W1,W8 (default all)")
    p.add_argument("--port", type=int, default=55439)
    p.add_argument("--timeout", type=int, default=300,
                   help="seconds after which one run of a workload is stopped (default 300)")
    p.add_argument("--out", help="where the table goes (default benches/results/<scale>.md)")
    args = p.parse_args()
    args.data = args.data or f"/var/tmp/sapa-{args.scale}"
    args.out = args.out or str(Path("benches") / "results" / f"{args.scale}.md")
    args.only = [w.strip().upper() for w in args.only.split(",") if w.strip()] or WORKLOADS
    unknown = [w for w in args.only if w not in WORKLOADS]
    if unknown:
        p.error(f"unknown workload {', '.join(unknown)}: choose among {', '.join(WORKLOADS)}")
    if not Path(args.sapa).is_file():
        p.error(f"no sapa binary at {args.sapa} (cargo build --release, or --sapa PATH)")
    return args


def run_measured(cmd, **kw):
    """Runs `cmd`; returns (seconds, peak RSS in bytes) of that process.
    The peak is the process's own VmHWM, read while it runs: getrusage's
    maxrss of a child counts this (large) process's RSS at the fork."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, **kw)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, proc_field(proc.pid, "status", "VmHWM") * 1024)
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed with exit code {proc.returncode}")
    return time.monotonic() - t0, peak


def record_path(args):
    return Path(str(Path(args.data).resolve()) + ".bench.json")


def csv_dir(args):
    return Path(str(Path(args.data).resolve()) + "-csv")


def ensure_dataset(args):
    """Makes the dataset once (CSV, then ingest), recording both steps."""
    data, record = Path(args.data), record_path(args)
    if (data / "_sapa" / "CURRENT").exists():
        return json.loads(record.read_text()) if record.exists() else {}
    csv = csv_dir(args)
    print(f"making the {args.scale} dataset: CSV into {csv}, then ingest into {data} "
          "(national: about half an hour on 2 cores)", flush=True)
    if csv.exists():
        shutil.rmtree(csv)
    gen_s, gen_rss = run_measured([args.sapa, "generate", "--scale", args.scale, "--years",
                                   f"{YEAR}..{YEAR}", "--seed", "1", "--format", "csv",
                                   "--out", str(csv)])
    csv_bytes = sum(f.stat().st_size for f in csv.glob("*.csv"))
    ingest_s, ingest_rss = run_measured([args.sapa, "ingest", str(csv), "--data", str(data)])
    made = {"generate_csv_s": gen_s, "generate_csv_peak_rss": gen_rss, "csv_bytes": csv_bytes,
            "ingest_s": ingest_s, "ingest_peak_rss": ingest_rss,
            "made": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    record.write_text(json.dumps(made, indent=1))
    return made


def manifest(data):
    current = json.loads((Path(data) / "_sapa" / "CURRENT").read_text())
    return json.loads((Path(data) / current["manifest"]).read_text())


def users_file(args, districts, region):
    verifier = subprocess.run([args.sapa, "user", "hash"], input=PASSWORD + "\n", text=True,
                              capture_output=True, check=True).stdout.strip()
    lines = ['[[user]]\nname = "analyst"\nscope = "ministry"\npassword = "%s"\n' % verifier,
             '[[user]]\nname = "r%d"\nscope = "region:%d"\npassword = "%s"\n'
             % (region, region, verifier)]
    lines += ['[[user]]\nname = "d%d"\nscope = "district:%d"\npassword = "%s"\n' % (d, d, verifier)
              for d in districts]
    path = record_path(args).with_suffix(".users.toml")
    path.write_text("\n".join(lines))
    return path


def dsn(args, user):
    return f"host=127.0.0.1 port={args.port} user={user} password={PASSWORD} dbname=sapa"


def proc_field(pid, file, key):
    for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def serve(args, users):
    """Starts the server; returns it, seconds to the first answer, and the
    bytes it read from disk by then."""
    t0 = time.monotonic()
    # The access log goes to a file beside the dataset (on stderr, which
    # nothing reads while the workloads run, it would fill the pipe).
    log = Path(f"{args.data}.serve.log")
    server = subprocess.Popen([args.sapa, "serve", "--data", args.data, "--listen",
                               f"127.0.0.1:{args.port}", "--users", str(users),
                               "--log-file", str(log), "--log-statement",
                               os.environ.get("SAPA_BENCH_LOG_STATEMENT", "all")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while True:
        if server.poll() is not None:
            sys.exit("sapa serve stopped: " + server.stderr.read().decode())
        try:
            with psycopg.connect(dsn(args, "analyst"), connect_timeout=1) as conn:
                conn.execute("SELECT count(*) FROM regions").fetchall()
            break
        except psycopg.OperationalError:
            time.sleep(0.02)
    return server, time.monotonic() - t0, proc_field(server.pid, "io", "read_bytes")


def timed(run, runs, warm=True):
    """One warm-up (unless `warm` is false), then `runs` timed runs: (ms per
    run, the last answer). A run slower than SLOW_MS ends the series: its
    caches are as warm as they get, and a slow workload's figure is its
    order of magnitude."""
    if warm:
        run()
    times, answer = [], None
    for _ in range(runs):
        t0 = time.monotonic()
        answer = run()
        times.append(1000 * (time.monotonic() - t0))
        if times[-1] > SLOW_MS:
            break
    return times, answer


def canonical(rows):
    """Rows as comparable tuples: numbers to 9 significant digits, sorted."""
    def cell(v):
        if isinstance(v, float):
            return float(f"{v:.9g}")
        if hasattr(v, "is_integer") and not isinstance(v, int):  # Decimal
            return float(f"{float(v):.9g}")
        return v
    return sorted((tuple(cell(v) for v in r) for r in rows), key=repr)


def same(sapa, duck, exact=False):
    """Whether both gave the same numbers; None when Sapa gave none (its
    failure is reported on its own)."""
    if sapa is None:
        return None
    return sapa == duck if exact else canonical(sapa) == canonical(duck)


def fmt(times):
    if not times:
        return "—"
    return f"{statistics.median(times):.0f} / {min(times):.0f} / {max(times):.0f}"


def p95(times):
    return sorted(times)[max(0, int(round(0.95 * len(times))) - 1)] if times else None


class Bench:
    """One run: the server, DuckDB over the same files, and the results."""

    def __init__(self, args, made):
        self.args, self.made = args, made
        self.m = manifest(args.data)
        root = Path(args.data).resolve()
        self.files = {t: [str(root / f["path"]) for f in fs]
                      for t, fs in self.m["tables"].items() if fs}
        self.duck = duckdb.connect()
        self.duck.execute("SET threads = 2")
        # Beside a server that may hold several GiB on a 24 GiB machine.
        self.duck.execute("SET memory_limit = '6GB'")
        self.duck.execute(f"SET temp_directory = '{Path(args.data).resolve()}-duckdb-tmp'")
        ref.register(self.duck, self.files)
        districts = [r[0] for r in self.duck.execute(
            "SELECT district_id FROM districts ORDER BY district_id").fetchall()]
        step = max(1, len(districts) // CLIENTS)
        self.districts = districts[::step][:CLIENTS]
        self.region = self.duck.execute("SELECT min(region_id) FROM regions").fetchone()[0]
        q1_end = self.duck.execute(
            f"SELECT end_date FROM calendar WHERE academic_year = {YEAR} AND period = 'Q1'"
        ).fetchone()[0]
        # W8: the last Sunday on or before Q1's end (inside its marking
        # window), and a week after Q1's publication Sunday.
        self.inside = q1_end - datetime.timedelta(days=(q1_end.weekday() + 1) % 7)
        published = q1_end + datetime.timedelta(days=(6 - q1_end.weekday()) % 7)
        self.after = published + datetime.timedelta(days=7)
        self.results, self.failures, self.summary = [], [], {}
        self.server = None

    def record(self, name, what, target, sapa_times, duck_times, same, note=""):
        sm = statistics.median(sapa_times) if sapa_times else None
        dm = statistics.median(duck_times) if duck_times else None
        self.results.append(dict(name=name, what=what, target=target, sapa=sapa_times,
                                 duck=duck_times, ratio=(sm / dm) if sm and dm else None,
                                 same=same, note=note))
        if same is False:
            self.failures.append(f"{name}: Sapa and DuckDB differ")
        print(f"{name}: sapa {fmt(sapa_times)}  duckdb {fmt(duck_times)}  same={same} {note}",
              flush=True)

    def sapa(self, conn, sql):
        return lambda: conn.execute(sql).fetchall()

    def ref(self, sql):
        return lambda: self.duck.execute(sql).fetchall()

    def guarded(self, name, run, runs, warm=True):
        """`timed`, but a failure (a timeout) becomes a note, not a crash."""
        try:
            return timed(run, runs, warm) + ("",)
        except (psycopg.Error, duckdb.Error) as e:
            state = getattr(e, "sqlstate", None) or type(e).__name__
            self.failures.append(f"{name}: {state}")
            return [], None, f"{state}: {str(e).splitlines()[0][:120]}"

    def run(self):
        args, only = self.args, self.args.only
        users = users_file(args, self.districts, self.region)
        self.server, ready_s, ready_read = serve(args, users)
        try:
            with psycopg.connect(dsn(args, "analyst"), autocommit=True) as conn:
                conn.execute(f"SET statement_timeout = '{args.timeout}s'")
                if "W1" in only:
                    self.w1(conn)
                if "W2" in only:
                    self.w2(conn)
                if "W3" in only:
                    self.w3(conn)
            if "W4" in only:
                self.w4()
            if "W8" in only:
                with psycopg.connect(dsn(args, "analyst"), autocommit=True) as conn:
                    conn.execute(f"SET statement_timeout = '{args.timeout}s'")
                    self.w8(conn)
            if {"W1", "W2", "W3", "W4", "W8"} & set(only):
                self.summary["W6 server peak RSS (MiB) over W1–W4 and W8; target ≤ 4096"] = \
                    proc_field(self.server.pid, "status", "VmHWM") / 1024
            if "W10" in only:
                with psycopg.connect(dsn(args, "analyst"), autocommit=True) as conn:
                    conn.execute(f"SET statement_timeout = '{args.timeout}s'")
                    self.w10(conn)
        finally:
            self.server.terminate()
            self.server.wait()
        if "W5" in only:
            self.summary["W5 serve → first answer (s); target ≤ 3"] = ready_s
            self.summary["W5 bytes read from disk by then (MB)"] = ready_read / 1e6
        if "W7" in only:
            self.w7()
        if "W9" in only:
            self.w9()

    def w1(self, conn):
        sql = (f"SELECT {W1_COLUMNS} FROM indicators "
               f"WHERE academic_year = {YEAR} AND period = '{PERIOD}'")
        st, sa, note = self.guarded("W1", self.sapa(conn, sql), self.args.runs)
        dt, da = timed(self.ref(ref.indicators(YEAR, PERIOD)), self.args.runs)
        self.record("W1", f"indicators, every unit, {YEAR} {PERIOD} ({len(da)} rows)",
                    "≤ 50 ms; ≥ 20× faster than DuckDB from raw marks", st, dt,
                    same(sa, da), note)

    def w2(self, conn):
        sql = (f"SELECT school_id, status, count(*) AS students FROM ("
               f"SELECT school_id, student_id, student_status(mark) AS status FROM marks "
               f"WHERE academic_year = {YEAR} AND period = '{PERIOD}' "
               f"GROUP BY school_id, student_id) AS s GROUP BY school_id, status")
        st, sa, note = self.guarded("W2", self.sapa(conn, sql), self.args.runs)
        dt, da = timed(self.ref(ref.adhoc_classification(YEAR, PERIOD)), self.args.runs)
        self.record("W2", f"student_status(mark) per student of {YEAR} {PERIOD} marks, per school",
                    "Sapa ÷ DuckDB ≤ 0.6", st, dt,
                    same(sa, da), note)

    def w3(self, conn):
        sql = (f"SELECT academic_year, period, n_total, n_exempt, n_low, n_excellent, n_good, "
               f"performance_level, knowledge_quality FROM indicators "
               f"WHERE level = 'region' AND unit_id = {self.region}")
        st, sa, note = self.guarded("W3", self.sapa(conn, sql), self.args.runs)
        dt, da = timed(self.ref(ref.dynamics(self.region)), self.args.runs)
        self.record("W3", f"region {self.region}: both indicators, every period ({len(da)} rows)",
                    "≤ 100 ms", st, dt, same(sa, da), note)

    def w4(self):
        """Every district user runs its `indicators` query 2×runs times, all
        at once; DuckDB answers the same questions with one cursor each."""
        sql = (f"SELECT {W1_COLUMNS} FROM indicators "
               f"WHERE academic_year = {YEAR} AND period = '{PERIOD}'")
        sapa_times, duck_times, answers, errors = [], [], {}, []
        lock = threading.Lock()

        def sapa_client(district):
            try:
                with psycopg.connect(dsn(self.args, f"d{district}"), autocommit=True) as conn:
                    conn.execute(f"SET statement_timeout = '{self.args.timeout}s'")
                    rows = conn.execute(sql).fetchall()
                    for _ in range(self.args.runs * 2):
                        t0 = time.monotonic()
                        rows = conn.execute(sql).fetchall()
                        with lock:
                            sapa_times.append(1000 * (time.monotonic() - t0))
                    answers[district] = rows
            except psycopg.Error as e:
                errors.append(f"d{district}: {e}")

        def duck_client(district, cursor):
            q = ref.district_indicators(YEAR, PERIOD, district)
            rows = None
            for _ in range(self.args.runs):
                t0 = time.monotonic()
                rows = cursor.execute(q).fetchall()
                with lock:
                    duck_times.append(1000 * (time.monotonic() - t0))
            answers[("duck", district)] = rows

        for target, extra in ((sapa_client, lambda d: ()),
                              (duck_client, lambda d: (self.duck.cursor(),))):
            threads = [threading.Thread(target=target, args=(d, *extra(d)))
                       for d in self.districts]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        for e in errors[:3]:
            print("W4 error:", e)
        same = all(canonical(answers.get(d, [])) == canonical(answers.get(("duck", d), [None]))
                   for d in self.districts)
        if errors:
            self.failures.append(f"W4: {len(errors)} errors")
        self.record("W4", f"{CLIENTS} district users at once, their indicators",
                    "p95 ≤ 200 ms, no errors", sapa_times, duck_times, same,
                    f"p95 Sapa {p95(sapa_times) or 0:.0f} ms, DuckDB {p95(duck_times) or 0:.0f} ms;"
                    f" {len(errors)} errors")

    def w8(self, conn):
        runs = max(1, self.args.runs // 2)
        for function, day in (("indicators_as_of", self.inside),
                              ("indicators_current", self.after)):
            cutoff = f"{day + datetime.timedelta(days=1)} 00:00:00"
            sql = (f"SELECT {W1_COLUMNS} FROM {function}('{day}') "
                   f"WHERE academic_year = {YEAR} AND period = '{PERIOD}'")
            st, sa, note = self.guarded("W8", self.sapa(conn, sql), runs, warm=False)
            dt, da = timed(self.ref(ref.indicators(YEAR, PERIOD, cutoff)), runs, warm=False)
            self.record("W8", f"{function}('{day}'), {YEAR} {PERIOD} ({len(da)} rows)",
                        "≤ 1 s; ≥ 10× faster than DuckDB from marks_history", st, dt,
                        same(sa, da), note)

    def w10(self, conn):
        runs = max(1, self.args.runs // 2)
        st, sa, note = self.guarded("W10", self.sapa(conn, "SELECT count(*) FROM mark_audit"),
                                    runs, warm=False)
        dt, da = timed(self.ref(ref.mark_audit_count()), runs, warm=False)
        self.record("W10", f"SELECT count(*) FROM mark_audit ({da[0][0]:,} versions)", "≤ 5 s",
                    st, dt, same(sa, da, exact=True), note)
        cmd = [self.args.sapa, "report", "late_and_changed_marks", "--data", self.args.data,
               "--year", str(YEAR), "--period", PERIOD, "--format", "csv"]
        times, note = [], ""
        for _ in range(runs):
            t0 = time.monotonic()
            try:
                done = subprocess.run(cmd, capture_output=True, timeout=self.args.timeout)
            except subprocess.TimeoutExpired:
                note = f"stopped after {self.args.timeout} s"
                self.failures.append("W10: the report timed out")
                break
            if done.returncode != 0:
                note = done.stderr.decode().strip().splitlines()[-1][:120]
                self.failures.append("W10: the report failed")
                break
            times.append(1000 * (time.monotonic() - t0))
        self.record("W10", f"sapa report late_and_changed_marks, the country, {YEAR} {PERIOD}",
                    "≤ 5 s (a whole command: start, plan, run, print)", times, [], None, note)

    def w7(self):
        stored = sum(f["bytes"] for fs in self.m["tables"].values() for f in fs)
        on_disk = sum(f.stat().st_size for f in Path(self.args.data).rglob("*") if f.is_file())
        rows = {t: sum(f["rows"] for f in fs) for t, fs in self.m["tables"].items()}
        marks = rows.get("marks", 0)
        self.summary["W7 current marks"] = marks
        self.summary["W7 mark versions (marks_history)"] = rows.get("marks_history", 0)
        for table in sorted(self.m["tables"]):
            size = sum(f["bytes"] for f in self.m["tables"][table])
            self.summary[f"W7 bytes per current mark: {table}"] = size / max(1, marks)
        self.summary["W7 bytes on disk per mark, current version (all tables); target ≤ 1.0"] = \
            stored / max(1, marks)
        self.summary["W7 bytes on disk per mark, the whole directory (every version kept)"] = \
            on_disk / max(1, marks)

    def w9(self):
        """The full ingest (as recorded when the dataset was made), and a
        weekly delta of ~1M changed marks into a copy of the dataset."""
        if self.made:
            self.summary["W9 ingest of the year from the §10 CSVs (s); target ≤ 300"] = \
                self.made["ingest_s"]
            self.summary["W9 ingest peak RSS (MiB)"] = self.made["ingest_peak_rss"] / 2**20
        copy = Path(str(Path(self.args.data).resolve()) + "-w9")
        delta = Path(str(Path(self.args.data).resolve()) + "-delta")
        for path in (copy, delta):
            if path.exists():
                shutil.rmtree(path)
        try:
            q2 = self.duck.execute(
                f"SELECT count(*), max(recorded_at) FROM marks_history WHERE academic_year = {YEAR}"
            ).fetchone()
            total = self.duck.execute(
                f"SELECT count(*) FROM marks WHERE academic_year = {YEAR} AND period = 'Q2'"
            ).fetchone()[0]
            every = max(1, total // 1_000_000)
            when = (q2[1] + datetime.timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
            delta.mkdir()
            # A week's changes: about 1M Q2 marks given another value.
            self.duck.execute(f"""
                COPY (SELECT student_id, class_id, subject_id, period,
                             CASE WHEN mark = '5' THEN '4' ELSE '5' END AS mark,
                             TIMESTAMP '{when}' AS recorded_at
                      FROM marks
                      WHERE academic_year = {YEAR} AND period = 'Q2'
                        AND hash(student_id, subject_id) % {every} = 0)
                TO '{delta / "marks.csv"}' (HEADER, DELIMITER ',')""")
            changed = self.duck.execute(
                f"SELECT count(*) FROM read_csv('{delta / 'marks.csv'}')").fetchone()[0]
            subprocess.run(["cp", "-a", "--reflink=auto", self.args.data, str(copy)], check=True)
            before = manifest(copy)
            seconds, rss = run_measured([self.args.sapa, "ingest", str(delta), "--data",
                                         str(copy), "--quiet"], stdout=subprocess.DEVNULL)
            after = manifest(copy)
            old = {f["path"] for fs in before["tables"].values() for f in fs}
            new = [f for fs in after["tables"].values() for f in fs if f["path"] not in old]
            self.record("W9", f"weekly delta: {changed:,} changed Q2 marks into the year",
                        "≤ 30 s, touching only the partitions it changes", [1000 * seconds], [],
                        None, f"{len(new)} files written ({sum(f['bytes'] for f in new) / 1e6:,.0f}"
                              f" MB); peak RSS {rss / 2**20:,.0f} MiB")
        finally:
            for path in (copy, delta):
                if path.exists():
                    shutil.rmtree(path)

    def write(self):
        args, m = self.args, self.m
        lines = [f"# {args.scale.capitalize()} benchmark, "
                 f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
                 f"Machine: {os.cpu_count()} cores, "
                 f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
                 f"{os.uname().sysname} {os.uname().release}; data: {args.data} (manifest "
                 f"v{m['version']}); {args.runs} warm runs each (W8, W10: {max(1, args.runs // 2)});"
                 f" Sapa over the wire (psycopg, loopback), DuckDB {duckdb.__version__} in-process"
                 " on the same Parquet files, 2 threads, computing from the raw tables.", "",
                 f"Repeat: `sapa bench national --scale {args.scale} --runs {args.runs}"
                 + (f" --only {','.join(args.only)}" if args.only != WORKLOADS else "") + "`", "",
                 "| # | workload | target | Sapa ms median / min / max | DuckDB ms median / min / max "
                 "| Sapa ÷ DuckDB | same answer | note |",
                 "|---|---|---|---|---|---|---|---|"]
        for r in self.results:
            ratio = f"{r['ratio']:.3f}" if r["ratio"] else "—"
            same = {True: "yes", False: "**no**", None: "—"}[r["same"]]
            lines.append(f"| {r['name']} | {r['what']} | {r['target']} | {fmt(r['sapa'])} | "
                         f"{fmt(r['duck'])} | {ratio} | {same} | {r['note']} |")
        summary = dict(self.summary)
        if self.made:
            summary["dataset made (generate CSV, s)"] = self.made["generate_csv_s"]
            summary["dataset made (generate CSV, peak RSS MiB)"] = \
                self.made["generate_csv_peak_rss"] / 2**20
            summary["dataset made (CSV MB)"] = self.made["csv_bytes"] / 1e6
            summary["dataset made (ingest s)"] = self.made["ingest_s"]
        summary["DuckDB process peak RSS (MiB)"] = __import__("resource").getrusage(
            __import__("resource").RUSAGE_SELF).ru_maxrss / 1024
        lines += ["", "| measure | value |", "|---|---|"]
        lines += [f"| {k} | {v:,.3f} |" if isinstance(v, float) else f"| {k} | {v:,} |"
                  for k, v in summary.items()]
        if self.failures:
            lines += ["", "Failures: " + "; ".join(self.failures)]
        lines = merged(lines, Path(args.out), args.only)
        text = "\n".join(lines) + "\n"
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
        print("\n" + text + f"\nwritten to {args.out}")


def merged(lines, out, only):
    """A run of some workloads (--only) keeps the other workloads' rows and
    measures of the table already at `out`, marked with when they were
    measured, so the table always holds the latest figure of each."""
    if only == WORKLOADS or not out.exists():
        return lines
    old = out.read_text().splitlines()
    stamp = next((line.split(", ", 1)[1] for line in old if line.startswith("# ")), "earlier")

    def workload(line):
        cell = line.split("|")[1].strip() if line.startswith("| ") else ""
        return cell.split(" ")[0] if cell.split(" ")[0] in WORKLOADS else None

    def label(line):
        return line.split("|")[1].strip() if line.startswith("| ") else None

    # A measure this run made again (W6, over whichever workloads ran)
    # replaces the old one.
    remade = {label(line) for line in lines if label(line)}
    kept = [line if "(measured " in line else line[:-1].rstrip() + f" (measured {stamp}) |"
            for line in old
            if workload(line) and workload(line) not in only and label(line) not in remade]
    rows = [line for line in kept if line.count("|") > 4]
    measures = [line for line in kept if line.count("|") <= 4]
    first_measure = lines.index("| measure | value |") + 2
    table_end = lines.index("| measure | value |") - 1
    table_start = next((i for i in range(table_end) if workload(lines[i])), table_end)
    order = lambda line: int(workload(line)[1:])  # noqa: E731
    table = sorted(lines[table_start:table_end] + rows, key=order)
    return (lines[:table_start] + table + lines[table_end:first_measure]
            + sorted(measures + lines[first_measure:], key=lambda l: order(l) if workload(l) else 99))


def main():
    args = parse_args()
    made = ensure_dataset(args)
    bench = Bench(args, made)
    bench.run()
    bench.write()
    sys.exit(1 if bench.failures else 0)


if __name__ == "__main__":
    main()
