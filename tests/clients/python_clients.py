"""Python clients against a Sapa server: psycopg 3 (server-side parameter
binding, prepare=True, named cursors, nested transactions), SQLAlchemy's
inspector (tables, views, columns and the per-table reflection calls), Table
autoload, and pandas (read_sql with bound parameters, read_sql_table). Prints
one JSON object for
tests/server/python.rs to check. Usage: python python_clients.py HOST PORT
"""
import faulthandler
import json

faulthandler.enable()
import sys

import pandas as pd
import psycopg
import sqlalchemy

host, port = sys.argv[1], int(sys.argv[2])
found = {}

with psycopg.connect(host=host, port=port, user="sapa", dbname="sapa", sslmode="disable") as conn:
    conn.autocommit = True
    # Server-side binding: the parameters travel separately from the SQL.
    cur = conn.execute(
        "SELECT count(*) FROM schools WHERE district_id = %s",
        (int(conn.execute("SELECT min(district_id) FROM districts").fetchone()[0]),),
    )
    found["schools_in_first_district"] = cur.fetchone()[0]
    runs = []
    for _ in range(3):
        row = conn.execute(
            "SELECT count(*), sum(students) FROM report_by_school WHERE academic_year = %s AND period = %s",
            (2024, "Q1"),
            prepare=True,
        ).fetchone()
        runs.append([int(row[0]), int(row[1])])
    found["prepared_runs"] = runs
    row = conn.execute("SELECT current_user, version()").fetchone()
    found["current_user"] = row[0]
    found["version"] = row[1]
    try:
        conn.execute("SELECT * FROM no_such_table")
        found["error"] = None
    except psycopg.Error as e:
        found["error"] = e.sqlstate

# Named (server-side) cursors: DECLARE with a bound parameter, then FETCH
# in pieces; they need a transaction, as in PostgreSQL.
with psycopg.connect(host=host, port=port, user="sapa", dbname="sapa", sslmode="disable") as conn:
    school = conn.execute("SELECT min(school_id) FROM schools").fetchone()[0]
    with conn.cursor(name="marks_of_school") as cur:
        cur.itersize = 50
        cur.execute(
            "SELECT student_id, class_id, subject_id, period, mark FROM marks"
            " WHERE school_id = %s ORDER BY student_id, class_id, subject_id, period",
            (school,),
        )
        found["named_cursor_columns"] = [d.name for d in cur.description]
        first = cur.fetchmany(7)
        rest = list(cur)
        found["named_cursor_first"] = len(first)
        found["named_cursor_rows"] = len(first) + len(rest)
        found["named_cursor_sum"] = sum(r[0] for r in first + rest)
    try:
        with conn.cursor(name="binary_cursor", binary=True) as cur:
            cur.execute("SELECT region_id FROM regions")
            cur.fetchall()
        found["binary_cursor"] = None
    except psycopg.Error as e:
        found["binary_cursor"] = e.sqlstate
    conn.rollback()
    # A failed statement inside a nested transaction (a savepoint) leaves
    # the outer one usable.
    try:
        with conn.transaction():
            conn.execute("SELECT * FROM no_such_table")
    except psycopg.Error as e:
        found["nested_error"] = e.sqlstate
    found["after_nested"] = conn.execute("SELECT count(*) FROM regions").fetchone()[0]
    found["after_nested_status"] = conn.info.transaction_status.name
    conn.commit()

engine = sqlalchemy.create_engine(f"postgresql+psycopg://sapa@{host}:{port}/sapa?sslmode=disable")
inspector = sqlalchemy.inspect(engine)
found["sqlalchemy_tables"] = sorted(inspector.get_table_names())
found["sqlalchemy_views"] = sorted(inspector.get_view_names())
# Its `nspname NOT LIKE 'pg/_%' ESCAPE '/'`, a slash as the escape.
found["sqlalchemy_schemas"] = sorted(inspector.get_schema_names())

# Every relation's columns: name, SQLAlchemy type, nullable, default,
# autoincrement.
found["sqlalchemy_columns"] = {
    name: [
        [c["name"], str(c["type"]), c["nullable"], c["default"], c["autoincrement"]]
        for c in inspector.get_columns(name)
    ]
    for name in found["sqlalchemy_tables"] + found["sqlalchemy_views"]
}
# The rest of the per-table reflection (no keys, indexes or comments yet).
found["sqlalchemy_schools"] = {
    "table_comment": inspector.get_table_comment("schools"),
    "pk_constraint": inspector.get_pk_constraint("schools"),
    "foreign_keys": inspector.get_foreign_keys("schools"),
    "indexes": inspector.get_indexes("schools"),
    "unique_constraints": inspector.get_unique_constraints("schools"),
    "check_constraints": inspector.get_check_constraints("schools"),
}
multi = inspector.get_multi_columns(kind=sqlalchemy.engine.reflection.ObjectKind.ANY)
found["sqlalchemy_multi_columns"] = {
    key[1]: [c["name"] for c in cols] for key, cols in sorted(multi.items())
}
schools = sqlalchemy.Table("schools", sqlalchemy.MetaData(), autoload_with=engine)
found["autoload_schools"] = [[c.name, str(c.type), c.nullable] for c in schools.columns]
table_frame = pd.read_sql_table("regions", engine)
found["read_sql_table_shape"] = list(table_frame.shape)
found["read_sql_table_columns"] = list(table_frame.columns)
found["read_sql_table_dtypes"] = [str(t) for t in table_frame.dtypes]
with engine.connect() as conn:
    frame = pd.read_sql(
        sqlalchemy.text(
            "SELECT region_id, name_kk, name_ru FROM regions"
            " WHERE region_id >= :least ORDER BY region_id"
        ),
        conn,
        params={"least": 0},
    )
found["pandas_shape"] = list(frame.shape)
found["pandas_columns"] = list(frame.columns)
found["pandas_first_region"] = int(frame["region_id"].iloc[0])
found["pandas_dtypes"] = [str(t) for t in frame.dtypes]

print(json.dumps(found, ensure_ascii=False))
