"""asyncpg (binary protocol) against a Sapa server, walking what a Python
asyncio report service does: typed rows and parameters, a cursor that
fetches and skips (MOVE), COPY to CSV with a header, RESET and set_config,
errors with their SQLSTATEs, a cancelled statement, and a pool whose
connections are reset on release. Prints one JSON object for
tests/server/python.rs to check. Usage: python asyncpg_client.py HOST PORT USER [PASSWORD]
"""
import asyncio
import io
import json
import sys

import asyncpg

host, port, user = sys.argv[1], int(sys.argv[2]), sys.argv[3]
password = sys.argv[4] if len(sys.argv) > 4 else None
found = {}


def sqlstate(coro_error):
    return getattr(coro_error, "sqlstate", repr(coro_error))


async def connect():
    return await asyncpg.connect(host=host, port=port, user=user, password=password,
                                 database="sapa", ssl=False)


async def main():
    conn = await connect()
    row = await conn.fetchrow(
        "SELECT 1::int4 AS a, 2::int8 AS b, 'x'::text AS c, 1.5::float8 AS d, "
        "DATE '2024-01-02' AS e, true AS f")
    found["typed"] = [type(v).__name__ for v in row.values()]
    school = await conn.fetchval("SELECT min(school_id) FROM schools")
    found["school_rows"] = len(await conn.fetch("SELECT * FROM schools WHERE school_id = $1", school))
    found["report_rows"] = await conn.fetchval(
        "SELECT count(*) FROM report_by_school WHERE academic_year = $1 AND period = $2", 2024, "Q1")
    found["marks_count"] = await conn.fetchval("SELECT count(*) FROM marks WHERE school_id = $1", school)

    # A cursor: 5 rows, skip 10 (MOVE FORWARD), then all the rest.
    async with conn.transaction():
        cur = await conn.cursor("SELECT student_id FROM marks WHERE school_id = $1", school)
        first = await cur.fetch(5)
        skipped = await cur.forward(10)
        rest = await cur.fetch(1_000_000)
        found["cursor"] = [len(first), skipped, len(rest)]
    async with conn.transaction():
        found["cursor_iterated"] = len([r async for r in conn.cursor(
            "SELECT student_id FROM marks WHERE school_id = $1", school, prefetch=7)])

    buf = io.BytesIO()
    status = await conn.copy_from_query(
        "SELECT school_id, name_kk FROM schools ORDER BY school_id LIMIT 3",
        output=buf, format="csv", header=True)
    found["copy_status"] = status
    found["copy_lines"] = len(buf.getvalue().decode().splitlines())

    # Settings: set_config holds for the session, RESET brings it back.
    found["set_config"] = await conn.fetchval("SELECT set_config('statement_timeout', '5s', false)")
    found["after_set_config"] = await conn.fetchval("SHOW statement_timeout")
    await conn.execute("RESET statement_timeout")
    found["after_reset"] = await conn.fetchval("SHOW statement_timeout")
    await conn.execute("SET application_name = 'portal'")
    await conn.execute("RESET ALL")
    found["jit"] = await conn.fetchval("SELECT current_setting('jit')")

    for name, sql in [("missing_table", "SELECT * FROM no_such_table"),
                      ("division", "SELECT 1 / 0"),
                      ("write", "CREATE TABLE t (a int)")]:
        try:
            await conn.fetch(sql)
            found[name] = None
        except asyncpg.PostgresError as e:
            found[name] = sqlstate(e)

    # A statement that runs far longer than asyncio waits: cancelled.
    try:
        await asyncio.wait_for(conn.fetchval(
            "SELECT count(DISTINCT g.v % 1000003) FROM generate_series(1, 10000000000) AS g(v)"), 0.5)
        found["cancel"] = "finished"
    except asyncio.TimeoutError:
        found["cancel"] = "cancelled"
    found["after_cancel"] = await conn.fetchval("SELECT 41 + 1")
    await conn.close()

    # A pool of two, each connection reset (advisory unlock, CLOSE ALL,
    # UNLISTEN *, RESET ALL) as it is released: none is thrown away.
    pool = await asyncpg.create_pool(host=host, port=port, user=user, password=password,
                                     database="sapa", ssl=False, min_size=2, max_size=2)
    pids = set()
    for _ in range(6):
        async with pool.acquire() as c:
            pids.add(await c.fetchval("SELECT pg_backend_pid()"))
    found["pool_pids"] = len(pids)
    await pool.close()


asyncio.run(main())
print(json.dumps(found))
