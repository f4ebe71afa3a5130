"""The benchmarks' virtualenv (psycopg, duckdb), made on first use and
shared by `sapa bench national` (benches/national.py) and the soak
(benches/soak.py)."""
import os
import subprocess
import sys
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sapa"
VENV = Path(os.environ.get("SAPA_BENCH_VENV", CACHE / "bench-venv"))
REQUIREMENTS = ["psycopg[binary]>=3.2,<3.4", "duckdb>=2.0,<2.1"]


def in_venv(extra=(), probe="psycopg, duckdb"):
    """Re-runs the calling script inside the virtualenv, made on first use;
    `extra` requirements are installed when `import {probe}` fails."""
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    requirements = [*REQUIREMENTS, *extra]
    probe = f"import psycopg, duckdb, {probe}"
    probed = subprocess.run([str(python), "-c", probe], capture_output=True) \
        if python.exists() else None
    if probed is None or probed.returncode != 0:
        print(f"installing {', '.join(requirements)} into {VENV}", flush=True)
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        *requirements], check=True)
    os.execv(str(python), [str(python), *sys.argv])
