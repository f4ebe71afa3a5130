-- The statements asyncpg sent to Sapa, in order, with the
-- protocol it used; made by tests/clients/capture_client_queries.sh.
-- Each statement follows its protocol line and ends at a line ';;'.
-- protocol: extended
SELECT 1::int4 AS a, 2::int8 AS b, 'x'::text AS c, 1.5::float8 AS d, DATE '2024-01-02' AS e, true AS f
;;
-- protocol: extended
SELECT min(school_id) FROM schools
;;
-- protocol: extended
SELECT * FROM schools WHERE school_id = $1
;;
-- protocol: extended
SELECT count(*) FROM report_by_school WHERE academic_year = $1 AND period = $2
;;
-- protocol: extended
SELECT count(*) FROM marks WHERE school_id = $1
;;
-- protocol: simple
BEGIN;
;;
-- protocol: extended
SELECT student_id FROM marks WHERE school_id = $1
;;
-- protocol: simple
MOVE FORWARD 10 __asyncpg_portal_7__
;;
-- protocol: extended
SELECT student_id FROM marks WHERE school_id = $1
;;
-- protocol: simple
COMMIT;
;;
-- protocol: simple
BEGIN;
;;
-- protocol: extended
SELECT student_id FROM marks WHERE school_id = $1
;;
-- protocol: simple
COMMIT;
;;
-- protocol: simple
COPY (SELECT school_id, name_kk FROM schools ORDER BY school_id LIMIT 3) TO STDOUT (FORMAT 'csv', HEADER True)
;;
-- protocol: extended
SELECT set_config('statement_timeout', '5s', false)
;;
-- protocol: extended
SHOW statement_timeout
;;
-- protocol: simple
RESET statement_timeout
;;
-- protocol: extended
SHOW statement_timeout
;;
-- protocol: simple
SET application_name = 'portal'
;;
-- protocol: simple
RESET ALL
;;
-- protocol: extended
SELECT current_setting('jit')
;;
-- protocol: extended
SELECT * FROM no_such_table
;;
-- protocol: extended
SELECT 1 / 0
;;
-- protocol: extended
CREATE TABLE t (a int)
;;
-- protocol: extended
SELECT 41 + 1
;;
-- protocol: extended
SELECT pg_backend_pid()
;;
-- protocol: simple
SELECT pg_advisory_unlock_all();
CLOSE ALL;
UNLISTEN *;
RESET ALL;
;;
-- protocol: extended
SELECT pg_backend_pid()
;;
-- protocol: simple
SELECT pg_advisory_unlock_all();
CLOSE ALL;
UNLISTEN *;
RESET ALL;
;;
-- protocol: extended
SELECT pg_backend_pid()
;;
-- protocol: simple
SELECT pg_advisory_unlock_all();
CLOSE ALL;
UNLISTEN *;
RESET ALL;
;;
-- protocol: extended
SELECT pg_backend_pid()
;;
-- protocol: simple
SELECT pg_advisory_unlock_all();
CLOSE ALL;
UNLISTEN *;
RESET ALL;
;;
-- protocol: extended
SELECT pg_backend_pid()
;;
-- protocol: simple
SELECT pg_advisory_unlock_all();
CLOSE ALL;
UNLISTEN *;
RESET ALL;
;;
-- protocol: extended
SELECT pg_backend_pid()
;;
-- protocol: simple
SELECT pg_advisory_unlock_all();
CLOSE ALL;
UNLISTEN *;
RESET ALL;
;;
