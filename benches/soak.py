"""A soak of `sapa serve`: 16 clients at once for a while, mixing ordinary
queries, cancelled queries, statements that hit `statement_timeout`, and
hostile ones (a Query of 1,000 statements, a statement too deep), then
every client gone. Reports what each kind answered, how many cancels had
no effect, and the server's resident memory before, at its peak and after.

    python3 benches/soak.py [--sapa target/release/sapa] [--data DIR]
                            [--seconds 60] [--clients 16] [--seed 25]

Without --data the server serves its built-in sample. It uses the
benchmark's virtualenv (psycopg; made on first use, as `sapa bench`
makes it). Exits non-zero if a cancel was missed, a statement answered
with an unexpected SQLSTATE, or the server died.
"""
import argparse, os, random, socket, subprocess, sys, threading, time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_venv import in_venv  # noqa: E402

in_venv()

import psycopg  # noqa: E402

# Seconds of work on two cores, whatever the dataset: a cross join.
LONG = ("SELECT count(*) FROM generate_series(1, 30000) a, generate_series(1, 30000) b "
        "WHERE a.value + b.value = 7")
QUICK = [
    "SELECT count(*) FROM regions",
    "SELECT status, count(*) FROM student_status GROUP BY status ORDER BY status",
    "SELECT level, count(*) FROM indicators GROUP BY level ORDER BY level",
    "SELECT school_id, count(*) FROM marks GROUP BY school_id ORDER BY 2 DESC LIMIT 5",
]


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sqlstate(err):
    return getattr(err, "sqlstate", None) or type(err).__name__


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = Counter()
        self.missed = []

    def add(self, key):
        with self.lock:
            self.counts[key] += 1


def client(dsn, seconds, seed, tally):
    rng = random.Random(seed)
    end = time.monotonic() + seconds
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < end:
            kind = rng.choices(["quick", "cancel", "timeout", "many", "deep"],
                               weights=[10, 3, 2, 1, 1])[0]
            try:
                if kind == "quick":
                    conn.execute(rng.choice(QUICK)).fetchall()
                    tally.add("quick ok")
                elif kind == "cancel":
                    delay = rng.uniform(0.05, 0.5)
                    sent = []
                    timer = threading.Timer(delay, lambda: (sent.append(time.monotonic()),
                                                            conn.cancel_safe()))
                    timer.start()
                    try:
                        conn.execute(LONG).fetchall()
                        ended = time.monotonic()
                        timer.cancel()
                        # Finished after the cancel was sent: it was missed.
                        if sent and ended - sent[0] > 0.5:
                            with tally.lock:
                                tally.missed.append(ended - sent[0])
                            tally.add("cancel MISSED")
                        else:
                            tally.add("cancel came too late (query done)")
                    except psycopg.errors.QueryCanceled:
                        tally.add("cancel 57014")
                    finally:
                        timer.join()
                elif kind == "timeout":
                    conn.execute("SET statement_timeout = 300")
                    try:
                        conn.execute(LONG).fetchall()
                        tally.add("timeout NOT HEARD")
                    except psycopg.errors.QueryCanceled:
                        tally.add("timeout 57014")
                    finally:
                        conn.execute("SET statement_timeout = 0")
                elif kind == "many":
                    # psycopg sends a text without parameters as one simple
                    # Query: 1,000 statements are answered, 1,001 refused.
                    conn.execute("SELECT 1;" * 1000)
                    tally.add("1000 statements ok")
                    try:
                        conn.execute("SELECT 1;" * 1001)
                        tally.add("1001 statements ANSWERED")
                    except psycopg.errors.ProgramLimitExceeded:
                        tally.add("1001 statements 54000")
                elif kind == "deep":
                    try:
                        conn.execute("SELECT " + "+".join(["1"] * 3000))
                        tally.add("3000 terms ANSWERED")
                    except psycopg.errors.StatementTooComplex:
                        tally.add("3000 terms 54001")
            except psycopg.Error as err:
                tally.add(f"{kind} unexpected {sqlstate(err)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sapa", default="target/release/sapa")
    ap.add_argument("--data")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seed", type=int, default=25)
    args = ap.parse_args()

    port = free_port()
    # The access log goes to a file (on stderr, unread, it would fill the pipe).
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"sapa-soak-{port}.log"
    command = [args.sapa, "serve", "--listen", f"127.0.0.1:{port}", "--log-file", str(log)]
    if args.data:
        command += ["--data", args.data]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dsn = f"host=127.0.0.1 port={port} user=sapa dbname=sapa"
    deadline = time.monotonic() + 600
    while True:
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                for sql in QUICK:
                    conn.execute(sql).fetchall()
            break
        except psycopg.OperationalError:
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the server did not start: {server.stderr.read().decode()}")
            time.sleep(0.5)
    before = rss_kib(server.pid)
    peak = [before]
    done = threading.Event()

    def sample():
        while not done.wait(0.2):
            if server.poll() is None:
                peak[0] = max(peak[0], rss_kib(server.pid))

    sampler = threading.Thread(target=sample)
    sampler.start()
    tally = Tally()
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(dsn, args.seconds, args.seed + i, tally))
               for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - started
    time.sleep(3)
    alive = server.poll() is None
    after = rss_kib(server.pid) if alive else 0
    done.set()
    sampler.join()
    server.terminate()
    server.wait()

    print(f"{args.clients} clients for {took:.0f} s against {args.data or 'the built-in sample'}")
    print(f"  the server's access log: {log} ({sum(1 for _ in open(log))} lines)")
    for key, n in sorted(tally.counts.items()):
        print(f"  {key:40} {n:6}")
    print(f"server RSS: before {before / 1024:.0f} MiB, peak {peak[0] / 1024:.0f} MiB, "
          f"after the clients left {after / 1024:.0f} MiB")
    bad = [k for k in tally.counts if "MISSED" in k or "NOT HEARD" in k or "unexpected" in k
           or "ANSWERED" in k]
    if not alive:
        sys.exit("the server died")
    if bad:
        sys.exit(f"failed: {', '.join(bad)}")


if __name__ == "__main__":
    main()
