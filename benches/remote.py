"""Where the dataset lives and where queries run: the national benchmark's
W1 and W2 queries over one dataset served from a local directory, from an
S3-compatible store (moto's server on loopback), and — with --modes
cluster1,cluster2 — on a Ballista cluster of one and two executors reading
the same bucket, in one run. The answers must be identical; the figures
are the overhead each step adds (on a 2-core machine a cluster cannot be
faster: the point is identical answers at a known cost).

    python benches/remote.py [--data /var/tmp/sapa-region] [--runs 5]
                             [--modes local,s3,cluster1,cluster2]

The dataset is copied into the bucket object by object (moto keeps it in
memory: keep to region scale). Writes the table to --out (default
benches/results/remote.md).
"""
import argparse, datetime, os, socket, statistics, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_venv import in_venv  # noqa: E402

in_venv(extra=["moto[server]>=5.2,<6"], probe="moto, boto3")

import boto3  # noqa: E402
import psycopg  # noqa: E402

YEAR, PERIOD = 2024, "Q1"
BUCKET, PREFIX = "bench", "kz"
QUERIES = {
    "W1": ("SELECT level, unit_id, n_total, n_exempt, n_low, n_excellent, n_good, "
           "performance_level, knowledge_quality FROM indicators "
           f"WHERE academic_year = {YEAR} AND period = '{PERIOD}'"),
    "W2": ("SELECT school_id, status, count(*) AS students FROM ("
           "SELECT school_id, student_id, student_status(mark) AS status FROM marks "
           f"WHERE academic_year = {YEAR} AND period = '{PERIOD}' "
           "GROUP BY school_id, student_id) AS s GROUP BY school_id, status"),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Each process logs to its own file: a pipe nobody reads fills up and
# blocks the process (a scheduler logs every task).
LOGS = Path(tempfile.mkdtemp(prefix="sapa-remote-"))


def log_file(what):
    return open(LOGS / f"{what.replace(' ', '-')}.log", "ab")


def wait_port(port, proc, what, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} stopped; its log: {LOGS / (what.replace(' ', '-') + '.log')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{what} did not listen on {port}")


def s3_env(endpoint):
    return {**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": "true"}


def upload(endpoint, data):
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="bench",
                      aws_secret_access_key="bench", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    n = size = 0
    for path in sorted(Path(data).rglob("*")):
        rel = path.relative_to(data).as_posix()
        if path.is_file() and (rel.startswith("_sapa/") or rel.startswith("tables/")):
            s3.upload_file(str(path), BUCKET, f"{PREFIX}/{rel}")
            n, size = n + 1, size + path.stat().st_size
    return n, size


def canonical(rows):
    def cell(v):
        if isinstance(v, float) or (hasattr(v, "is_integer") and not isinstance(v, int)):
            return float(f"{float(v):.9g}")
        return v
    return sorted((tuple(cell(v) for v in r) for r in rows), key=repr)


def measure(args, data_url, env, cluster=None):
    """Serves `data_url` (on `cluster` if given); per query, ms of each
    warm run and the answer."""
    port = free_port()
    cmd = [args.sapa, "serve", "--data", data_url, "--listen", f"127.0.0.1:{port}"]
    if cluster:
        cmd += ["--cluster", cluster]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                              stderr=log_file("sapa serve"))
    try:
        wait_port(port, server, "sapa serve")
        out = {}
        with psycopg.connect(f"host=127.0.0.1 port={port} user=sapa dbname=sapa",
                             autocommit=True) as conn:
            for name, sql in QUERIES.items():
                answer = conn.execute(sql).fetchall()
                times = []
                for _ in range(args.runs):
                    t0 = time.monotonic()
                    answer = conn.execute(sql).fetchall()
                    times.append(1000 * (time.monotonic() - t0))
                out[name] = (times, canonical(answer))
        return out
    finally:
        server.terminate()
        server.wait()


def start_cluster(args, env, executors):
    """A scheduler and `executors` executors on loopback; their processes
    and the scheduler's URL."""
    port = free_port()
    procs = [subprocess.Popen([args.sapa, "cluster", "scheduler", "--listen", f"127.0.0.1:{port}"],
                              env=env, stdout=subprocess.DEVNULL, stderr=log_file("scheduler"))]
    wait_port(port, procs[0], "scheduler")
    for _ in range(executors):
        eport = free_port()
        procs.append(subprocess.Popen(
            [args.sapa, "cluster", "executor", "--scheduler", f"127.0.0.1:{port}",
             "--listen", f"127.0.0.1:{eport}", "--concurrency", "2"],
            env=env, stdout=subprocess.DEVNULL, stderr=log_file("executor")))
        wait_port(eport, procs[-1], "executor")
    # The first query would find no executor if it came before they
    # registered: wait for the scheduler's /readyz to count them.
    want = f"ready: {executors} executors registered"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                if want in r.read().decode():
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"the cluster did not become ready: {want!r}")
        time.sleep(0.1)
    return procs, f"df://127.0.0.1:{port}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="/var/tmp/sapa-region", help="a local dataset")
    p.add_argument("--sapa", default=str(HERE.parent / "target" / "release" / "sapa"))
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--modes", default="local,s3", help="local,s3,cluster1,cluster2")
    p.add_argument("--out", default=str(HERE / "results" / "remote.md"))
    args = p.parse_args()
    modes = args.modes.split(",")

    moto_port = free_port()
    moto = subprocess.Popen([str(Path(sys.prefix) / "bin" / "moto_server"), "-H", "127.0.0.1",
                             "-p", str(moto_port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    results, notes = {}, []
    try:
        wait_port(moto_port, moto, "moto_server")
        endpoint = f"http://127.0.0.1:{moto_port}"
        env = s3_env(endpoint)
        url = f"s3://{BUCKET}/{PREFIX}"
        if any(m != "local" for m in modes):
            t0 = time.monotonic()
            n, size = upload(endpoint, args.data)
            notes.append(f"copied {n} objects ({size / 1e6:.0f} MB) into moto in "
                         f"{time.monotonic() - t0:.1f} s")
        for mode in modes:
            print(f"{mode} …", flush=True)
            if mode == "local":
                results[mode] = measure(args, args.data, os.environ.copy())
            elif mode == "s3":
                results[mode] = measure(args, url, env)
            elif mode.startswith("cluster"):
                procs, cluster = start_cluster(args, env, int(mode[len("cluster"):]))
                try:
                    results[mode] = measure(args, url, env, cluster)
                finally:
                    for proc in procs:
                        proc.terminate()
                        proc.wait()
            else:
                sys.exit(f"unknown mode {mode}")
    finally:
        moto.terminate()
        moto.wait()

    base = modes[0]
    lines = [f"# Local, S3 and cluster, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
             "",
             f"Machine: {os.cpu_count()} cores; data: {args.data} (served as is, and copied into "
             f"moto's S3 server on loopback); {args.runs} warm runs each over psycopg. "
             + " ".join(notes),
             "",
             f"Repeat: `python benches/remote.py --data {args.data} --runs {args.runs} "
             f"--modes {args.modes}`",
             "",
             "| query | where | ms median / min / max | × " + base + " | same rows as " + base + " |",
             "|---|---|---|---|---|"]
    ok = True
    for name in QUERIES:
        ref_times, ref_rows = results[base][name]
        for mode in modes:
            times, rows = results[mode][name]
            same = rows == ref_rows
            ok &= same
            med = statistics.median(times)
            lines.append(f"| {name} | {mode} | {med:.0f} / {min(times):.0f} / {max(times):.0f} | "
                         f"{med / statistics.median(ref_times):.2f} | {'yes' if same else 'NO'} |")
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
