"""The client suites against Sapa and against a real PostgreSQL 15 holding the
same data, side by side: each suite's findings field by field, and how many
agree. Makes a throwaway PostgreSQL cluster (Debian's postgresql-15 server
binaries, run as the `postgres` user), copies every relation of a Sapa
server into it (tables with their primary and foreign keys, views as views
over copied rows), runs the asyncpg, psqlODBC and node-postgres suites
against both as a read-only user, and prints the comparison.

Usage: target/clients-venv/bin/python tests/clients/against_postgres.py SAPA_BINARY
(serves the built-in sample dataset; needs `bash tests/clients/install.sh`).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
SAPA_PORT, PG_PORT = 55471, 55472
PASSWORD = "Salystyru-15"


def wait_for(dsn):
    for _ in range(600):
        try:
            return psycopg.connect(dsn, autocommit=True)
        except psycopg.OperationalError:
            time.sleep(0.1)
    sys.exit(f"nothing answers at {dsn}")


def start_postgres(work):
    data = work / "pg"
    data.mkdir()
    shutil.chown(work, "postgres")
    shutil.chown(data, "postgres")
    run_as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run(run_as_pg + [str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust",
                                "-U", "postgres", "--locale", "C.UTF-8"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(run_as_pg + [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(work / "pg.log"),
                                "-o", f"-p {PG_PORT} -k {work} -c listen_addresses=127.0.0.1",
                                "-w", "start"], check=True, stdout=subprocess.DEVNULL)
    return lambda: subprocess.run(run_as_pg + [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m",
                                               "immediate", "stop"], stdout=subprocess.DEVNULL)


def copy_sapa_into_postgres(sapa, pg):
    rows = lambda sql: sapa.execute(sql).fetchall()
    pg.execute("CREATE DATABASE sapa")
    target = psycopg.connect(f"host=127.0.0.1 port={PG_PORT} user=postgres dbname=sapa",
                             autocommit=True)
    target.execute("CREATE SCHEMA sapa_rows")
    relations = rows("SELECT table_name, table_type FROM information_schema.tables "
                     "WHERE table_schema = 'public' ORDER BY table_name")
    columns = {}
    for table, column, data_type, nullable in rows(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"):
        columns.setdefault(table, []).append(
            f'"{column}" {data_type}{"" if nullable == "YES" else " NOT NULL"}')
    for table, kind in relations:
        home = "public" if kind == "BASE TABLE" else "sapa_rows"
        target.execute(f'CREATE TABLE {home}."{table}" ({", ".join(columns[table])})')
        with sapa.cursor().copy(f'COPY (SELECT * FROM "{table}") TO STDOUT') as out, \
                target.cursor().copy(f'COPY {home}."{table}" FROM STDIN') as into:
            for block in out:
                into.write(block)
        if home != "public":
            target.execute(f'CREATE VIEW public."{table}" AS SELECT * FROM sapa_rows."{table}"')
    keys = {}
    for table, kind, name, column in rows(
            "SELECT tc.table_name, tc.constraint_type, tc.constraint_name, kcu.column_name "
            "FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu "
            "ON tc.constraint_name = kcu.constraint_name ORDER BY tc.constraint_name, kcu.ordinal_position"):
        keys.setdefault(name, (table, kind, []))[2].append(f'"{column}"')
    referenced = dict(rows("SELECT constraint_name, unique_constraint_name "
                           "FROM information_schema.referential_constraints"))
    for name, (table, kind, cols) in sorted(keys.items(), key=lambda k: k[1][1] != "PRIMARY KEY"):
        if kind == "PRIMARY KEY":
            target.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" PRIMARY KEY ({", ".join(cols)})')
        elif name in referenced and referenced[name] in keys:
            ref_table, _, ref_cols = keys[referenced[name]]
            target.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" FOREIGN KEY '
                           f'({", ".join(cols)}) REFERENCES "{ref_table}" ({", ".join(ref_cols)})')
    # A read-only user, as Sapa's are.
    target.execute(f"CREATE ROLE sapa LOGIN PASSWORD '{PASSWORD}'")
    target.execute("GRANT USAGE ON SCHEMA public, sapa_rows TO sapa")
    target.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public, sapa_rows TO sapa")
    target.execute("ALTER ROLE sapa SET default_transaction_read_only = on")
    target.close()
    return len(relations)


def suite(name, port):
    if name == "node":
        command = ["node", str(ROOT / "tests/clients/node/node_client.js")]
        env = dict(os.environ, NODE_PATH=str(ROOT / "target/clients-node/node_modules"))
    else:
        command = [sys.executable, str(ROOT / f"tests/clients/{name}_client.py")]
        env = None
    out = subprocess.run(command + ["127.0.0.1", str(port), "sapa", PASSWORD],
                         capture_output=True, text=True, env=env, timeout=600)
    if out.returncode != 0:
        return {"(the suite failed)": out.stderr.strip().splitlines()[-1:]}
    found = json.loads(out.stdout)
    if name == "odbc":  # one object per fetch mode
        return {f"{mode}.{k}": v for mode, f in found.items() for k, v in f.items()}
    return found


def main():
    sapa_binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = subprocess.Popen([sapa_binary, "serve", "--listen", f"127.0.0.1:{SAPA_PORT}",
                                   "--log-file", str(work / "sapa.log")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stop_pg = start_postgres(work)
        try:
            sapa = wait_for(f"host=127.0.0.1 port={SAPA_PORT} user=sapa dbname=sapa")
            pg = wait_for(f"host=127.0.0.1 port={PG_PORT} user=postgres dbname=postgres")
            copied = copy_sapa_into_postgres(sapa, pg)
            print(f"copied {copied} relations of Sapa's sample dataset into PostgreSQL "
                  f"{pg.execute('SHOW server_version').fetchone()[0]}\n")
            print("| suite | fields | same as PostgreSQL | differing: field (PostgreSQL / Sapa) |")
            print("|---|---|---|---|")
            for name in ("asyncpg", "odbc", "node"):
                theirs, ours = suite(name, PG_PORT), suite(name, SAPA_PORT)
                fields = sorted(set(theirs) | set(ours))
                differ = [f for f in fields if theirs.get(f) != ours.get(f)]
                shown = "; ".join(f"{f} ({json.dumps(theirs.get(f))[:60]} / "
                                  f"{json.dumps(ours.get(f))[:60]})" for f in differ)
                print(f"| {name} | {len(fields)} | {len(fields) - len(differ)} | {shown} |")
        finally:
            server.terminate()
            stop_pg()


if __name__ == "__main__":
    main()
