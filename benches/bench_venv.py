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


def in_venv():
    """Re-runs the calling script inside the virtualenv, made on first use."""
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    probe = subprocess.run([str(python), "-c", "import psycopg, duckdb"], capture_output=True) \
        if python.exists() else None
    if probe is None or probe.returncode != 0:
        print(f"installing {', '.join(REQUIREMENTS)} into {VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        *REQUIREMENTS], check=True)
    os.execv(str(python), [str(python), *sys.argv])
