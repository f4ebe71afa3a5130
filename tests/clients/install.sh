#!/usr/bin/env bash
# Installs the real PostgreSQL clients the server tests drive: psql (and
# openssl, for the TLS tests' certificates), a JDK with pgjdbc (Debian's
# libpostgresql-jdbc-java), psqlODBC under unixODBC, node-postgres under
# target/clients-node, and psycopg 3,
# SQLAlchemy, pandas, asyncpg and pyodbc in a virtualenv at
# target/clients-venv, with moto's S3-compatible server (`moto_server`)
# for the tests of datasets in object storage. Idempotent: what is already there is
# left alone. Part of the README's test command.
set -euo pipefail
cd "$(dirname "$0")/../.."

need_apt=()
command -v psql >/dev/null 2>&1 || need_apt+=(postgresql-client)
# The TLS tests make a self-signed certificate with the openssl CLI.
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v javac >/dev/null 2>&1 || need_apt+=(default-jdk-headless)
[ -f /usr/share/java/postgresql.jar ] || need_apt+=(libpostgresql-jdbc-java)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
# Node.js for node-postgres.
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# psqlODBC (Excel's and Power BI's driver) under unixODBC, for pyodbc.
odbcinst -q -d -n "PostgreSQL Unicode" >/dev/null 2>&1 || need_apt+=(odbc-postgresql unixodbc)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${need_apt[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

venv=target/clients-venv
if ! "$venv/bin/python" -c 'import psycopg, sqlalchemy, pandas, asyncpg, pyodbc, moto, flask' >/dev/null 2>&1; then
  echo "installing psycopg, SQLAlchemy, pandas, asyncpg, pyodbc and moto into $venv"
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    'psycopg[binary]>=3.2,<3.3' 'SQLAlchemy>=2.0,<2.1' 'pandas>=2.2,<3' 'asyncpg>=0.32,<0.33' \
    'pyodbc>=5.2,<6' 'moto[server]>=5.2,<6'
fi
# node-postgres and pg-cursor, at the versions tests/clients/node pins,
# under target/ (the repository keeps only the manifest).
node_dir=target/clients-node
if ! cmp -s tests/clients/node/package.json "$node_dir/package.json" \
    || [ ! -d "$node_dir/node_modules/pg-cursor" ]; then
  echo "installing node-postgres into $node_dir"
  mkdir -p "$node_dir"
  cp tests/clients/node/package.json "$node_dir/package.json"
  (cd "$node_dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi

echo "clients ready: $(psql --version), $(javac -version 2>&1), $("$venv/bin/python" -c 'import psycopg, sqlalchemy, pandas, asyncpg; print("psycopg", psycopg.__version__, "SQLAlchemy", sqlalchemy.__version__, "pandas", pandas.__version__, "asyncpg", asyncpg.__version__)'), psqlODBC $(dpkg-query -W -f='${Version}' odbc-postgresql 2>/dev/null), node $(node --version) pg $(node -p "require('./$node_dir/node_modules/pg/package.json').version")"
