"""psqlODBC (Debian's odbc-postgresql, through unixODBC and pyodbc) against a
Sapa server, as Excel and Power BI use it: typed rows and bound
parameters, the catalog calls behind their navigators (tables, columns,
primary and foreign keys, index statistics), and errors with their SQLSTATEs, in both fetch modes
(UseDeclareFetch=0 reads a result whole; 1 reads it through a cursor,
DECLARE … CURSOR WITH HOLD and FETCH n). Prints one JSON object per mode
for tests/server/odbc.rs. Usage: python odbc_client.py HOST PORT USER PASSWORD
"""
import json
import sys

import pyodbc

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = {}

for mode in ("0", "1"):
    found = {}
    conn = pyodbc.connect(
        "DRIVER={PostgreSQL Unicode};"
        f"SERVER={host};PORT={port};DATABASE=sapa;UID={user};PWD={password};"
        f"SSLmode=disable;UseDeclareFetch={mode};Fetch=100",
        autocommit=True,
    )
    cur = conn.cursor()
    row = cur.execute("SELECT 1::int4 AS a, 'x'::text AS b, 2.5::float8 AS c, true AS d").fetchone()
    found["typed"] = [type(v).__name__ for v in row]
    school = cur.execute("SELECT min(school_id) FROM schools").fetchone()[0]
    found["school"] = school
    found["school_rows"] = len(cur.execute("SELECT * FROM schools WHERE school_id = ?", school).fetchall())
    found["schools"] = len(cur.execute("SELECT * FROM schools").fetchall())
    found["report_rows"] = len(cur.execute(
        "SELECT * FROM report_by_school WHERE academic_year = ? AND period = ?", 2024, "Q1").fetchall())
    # Every mark of the scope: through a cursor in mode 1, 100 rows a FETCH.
    found["marks"] = len(cur.execute("SELECT * FROM marks").fetchall())
    found["tables"] = sorted(r.table_name for r in cur.tables(schema="public", tableType="TABLE"))
    found["views"] = sorted(r.table_name for r in cur.tables(schema="public", tableType="VIEW"))
    found["columns"] = [[r.column_name, r.type_name] for r in cur.columns(table="schools", schema="public")]
    found["primary_key"] = [[r.column_name, r.key_seq, r.pk_name]
                            for r in cur.primaryKeys("marks_history", schema="public")]
    # The keys that reference schools (Power BI's relationship detection).
    found["foreign_keys"] = sorted([r.fktable_name, r.fkcolumn_name, r.pkcolumn_name, r.key_seq]
                                   for r in cur.foreignKeys(table="schools", schema="public"))
    # Its index (the primary key's): a row per key column, in key order.
    found["statistics"] = [[r.index_name, r.ordinal_position, r.column_name, r.non_unique]
                           for r in cur.statistics("marks_history", schema="public")
                           if r.index_name is not None]
    for name, sql in [("missing_table", "SELECT * FROM no_such_table"),
                      ("division", "SELECT 1 / 0"),
                      ("write", "CREATE TABLE t (a int)")]:
        try:
            cur.execute(sql).fetchall()
            found[name] = None
        except pyodbc.Error as e:
            found[name] = e.args[0]
    found["after_errors"] = cur.execute("SELECT 41 + 1").fetchone()[0]
    conn.close()
    out[f"declare_fetch_{mode}"] = found

print(json.dumps(out))
