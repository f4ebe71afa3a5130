#!/usr/bin/env bash
# Captures the SQL real clients send while connecting, syncing and asking
# (pgjdbc replaying Metabase, psql's \d commands, psycopg + SQLAlchemy,
# asyncpg, node-postgres, ODBC) into tests/data/client_queries/CLIENT.sql,
# for the in-process replay of tests/server/client_queries.rs. Run it when a
# client is upgraded or a new one is added; it needs the clients
# tests/clients/install.sh installs and a built `target/debug/sapa`.
set -euo pipefail
cd "$(dirname "$0")/../.."
sapa=target/debug/sapa
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
out=tests/data/client_queries
mkdir -p "$out"

"$sapa" generate --scale tiny --years 2023..2024 --seed 7 --format parquet --quiet --out "$work/data"

# One server per client, so each log holds one client's statements.
capture() {
    local client=$1; shift
    local log="$work/$client.log"
    "$sapa" serve --data "$work/data" --listen 127.0.0.1:0 \
        --log-statement all --log-file "$log" --log-format json > "$work/$client.out" &
    local pid=$!
    local addr=""
    for _ in $(seq 1 300); do
        addr=$(sed -n 's/.* on \(127\.0\.0\.1:[0-9]*\).*/\1/p' "$work/$client.out" | head -1)
        [ -n "$addr" ] && break
        sleep 0.1
    done
    [ -n "$addr" ] || { echo "serve did not start for $client" >&2; exit 1; }
    local host=${addr%:*} port=${addr#*:}
    "$@" "$host" "$port" > "$work/$client.stdout" 2> "$work/$client.stderr" || {
        echo "$client failed:" >&2; cat "$work/$client.stderr" >&2; exit 1; }
    kill "$pid"; wait "$pid" 2>/dev/null || true
    python3 - "$log" "$out/$client.sql" "$client" <<'PY'
import json, sys
log, dest, client = sys.argv[1:]
kept, cancelled = [], 0
for line in open(log, encoding="utf-8"):
    event = json.loads(line)
    fields = event.get("fields", event)
    if fields.get("event") != "statement" or not isinstance(fields.get("text"), str):
        continue
    # A statement the client cancelled on purpose (its timeout test) would
    # run for minutes in a replay without the client's timeout.
    if fields.get("outcome") == "cancelled":
        cancelled += 1
        continue
    # Every statement, repeats too (BEGIN, CLOSE and COMMIT come back, and
    # a replay must keep the client's transaction and cursor state), but a
    # run of one statement once: each Execute of a portal read in pieces,
    # and each FETCH of a loop, logs its statement again.
    key = (fields.get("protocol"), fields["text"].strip())
    if key[1] and (not kept or kept[-1] != key):
        kept.append(key)
with open(dest, "w", encoding="utf-8") as f:
    f.write(f"-- The statements {client} sent to Sapa, in order, with the\n")
    f.write("-- protocol it used; made by tests/clients/capture_client_queries.sh.\n")
    f.write("-- Each statement follows its protocol line and ends at a line ';;'.\n")
    for protocol, text in kept:
        f.write(f"-- protocol: {protocol}\n{text}\n;;\n")
print(f"{client}: {len(kept)} statements ({cancelled} cancelled ones left out)")
PY
}

venv=target/clients-venv/bin/python
jar=/usr/share/java/postgresql.jar
javac -d "$work" -cp "$jar" tests/clients/MetabaseSync.java
capture pgjdbc java -cp "$jar:$work" MetabaseSync
capture psycopg "$venv" tests/clients/python_clients.py
# Without a users file the server lets loopback clients in as `sapa`; the
# password the scripts take is not asked for.
capture asyncpg sh -c "exec $venv tests/clients/asyncpg_client.py \"\$0\" \"\$1\" sapa unused"
capture odbc sh -c "exec $venv tests/clients/odbc_client.py \"\$0\" \"\$1\" sapa unused"
capture node-postgres sh -c "NODE_PATH=target/clients-node/node_modules exec node tests/clients/node/node_client.js \"\$0\" \"\$1\" sapa unused"
capture psql sh -c 'for c in "\\d" "\\dt" "\\dv" "\\df" "\\dn" "\\l" "\\d marks" "\\d+ student_status" "\\dT"; do psql -h "$0" -p "$1" -U sapa -d sapa -X -v ON_ERROR_STOP=1 -c "$c" || exit 1; done'
