-- The statements node-postgres sent to Sapa, in order, with the
-- protocol it used; made by tests/clients/capture_client_queries.sh.
-- Each statement follows its protocol line and ends at a line ';;'.
-- protocol: simple
SELECT min(school_id) AS s FROM schools
;;
-- protocol: extended
SELECT school_id, name_kk, internet_mbps FROM schools WHERE school_id = $1
;;
-- protocol: extended
SELECT academic_year, students, quality_pct FROM report_by_school WHERE academic_year = $1 AND period = $2 ORDER BY school_id, parallel
;;
-- protocol: extended
SELECT count(*) AS n FROM marks WHERE school_id = $1
;;
-- protocol: extended
SELECT typname FROM pg_catalog.pg_type WHERE typname = ANY($1) ORDER BY typname
;;
-- protocol: simple
SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname = 'schools'
;;
-- protocol: extended
SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = $1 AND attnum > 0 ORDER BY attnum
;;
-- protocol: simple
SELECT pg_backend_pid() AS p
;;
-- protocol: extended
SELECT student_id FROM marks WHERE school_id = $1
;;
-- protocol: simple
SELECT * FROM no_such_table
;;
-- protocol: simple
SELECT 1 / 0
;;
-- protocol: simple
CREATE TABLE t (a int)
;;
-- protocol: simple
SELECT 41 + 1 AS n
;;
-- protocol: simple
SHOW statement_timeout
;;
