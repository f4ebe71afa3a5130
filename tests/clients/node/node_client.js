// node-postgres (pg 8) and pg-cursor against a Sapa server, as a Node.js
// report portal uses them: typed rows and parameters over schools,
// report_by_school and marks, an array parameter (`= ANY($1)`), the
// catalog lookup by relation oid, distinct backend pids, a cursor read in
// pieces, errors with their SQLSTATEs, and a statement_timeout sent at
// startup. Prints one JSON object for
// tests/server/node.rs. Usage: node node_client.js HOST PORT USER PASSWORD
const { Client } = require('pg');
const Cursor = require('pg-cursor');

const [host, port, user, password] = process.argv.slice(2);
const config = { host, port: parseInt(port, 10), user, password, database: 'sapa' };

(async () => {
  const found = {};
  const a = new Client(config);
  const b = new Client(config);
  await a.connect();
  await b.connect();
  const school = (await a.query('SELECT min(school_id) AS s FROM schools')).rows[0].s;
  found.school = school;
  const row = (await a.query(
    'SELECT school_id, name_kk, internet_mbps FROM schools WHERE school_id = $1', [school])).rows[0];
  // int8 arrives as a string in JavaScript (from PostgreSQL too), float8 a number.
  found.school_types = [typeof row.school_id, typeof row.name_kk, typeof row.internet_mbps];
  const report = await a.query(
    'SELECT academic_year, students, quality_pct FROM report_by_school ' +
    'WHERE academic_year = $1 AND period = $2 ORDER BY school_id, parallel', [2024, 'Q1']);
  found.report_rows = report.rows.length;
  found.report_types = [typeof report.rows[0].academic_year, typeof report.rows[0].quality_pct];
  found.marks = (await a.query('SELECT count(*) AS n FROM marks WHERE school_id = $1', [school])).rows[0].n;
  found.any = (await a.query(
    'SELECT typname FROM pg_catalog.pg_type WHERE typname = ANY($1) ORDER BY typname',
    [['int4', 'text']])).rows.map((r) => r.typname);
  const rel = (await a.query(
    "SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname = 'schools'")).rows[0].oid;
  found.attributes = (await a.query(
    'SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = $1 AND attnum > 0 ORDER BY attnum',
    [rel])).rows.map((r) => r.attname);
  const pids = [
    (await a.query('SELECT pg_backend_pid() AS p')).rows[0].p,
    (await b.query('SELECT pg_backend_pid() AS p')).rows[0].p,
  ];
  found.distinct_pids = new Set(pids).size;
  const cursor = a.query(new Cursor('SELECT student_id FROM marks WHERE school_id = $1', [school]));
  const pieces = [];
  for (;;) {
    const rows = await cursor.read(1000);
    if (rows.length === 0) break;
    pieces.push(rows.length);
  }
  await cursor.close();
  found.cursor_rows = pieces.reduce((x, y) => x + y, 0);
  found.cursor_reads = pieces.length;
  for (const [name, sql] of [['missing_table', 'SELECT * FROM no_such_table'],
    ['division', 'SELECT 1 / 0'], ['write', 'CREATE TABLE t (a int)']]) {
    try {
      await a.query(sql);
      found[name] = null;
    } catch (e) {
      found[name] = e.code;
    }
  }
  found.after_errors = (await a.query('SELECT 41 + 1 AS n')).rows[0].n;
  // node-postgres sends statement_timeout at startup.
  const timed = new Client({ ...config, statement_timeout: 300 });
  await timed.connect();
  found.startup_timeout = (await timed.query('SHOW statement_timeout')).rows[0].statement_timeout;
  try {
    await timed.query(
      'SELECT count(DISTINCT g.v % 1000003) FROM generate_series(1, 10000000000) AS g(v)');
    found.timed_out = null;
  } catch (e) {
    found.timed_out = e.code;
  }
  await timed.end();
  await a.end();
  await b.end();
  console.log(JSON.stringify(found));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
