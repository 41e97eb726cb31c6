-- plpgsql_check over every PL/pgSQL function of the extension (found in
-- pg_proc, so functions added later are checked too; trigger functions are
-- checked against the table their trigger is on, with its transition
-- tables). 0 errors.
\set VERBOSITY terse
CREATE EXTENSION IF NOT EXISTS plpgsql_check;
CREATE TEMP TABLE checked AS
SELECT p.oid::regprocedure AS fn, c.*
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_language l ON l.oid = p.prolang AND l.lanname = 'plpgsql'
LEFT JOIN LATERAL (SELECT t.tgrelid, t.tgoldtable, t.tgnewtable FROM pg_catalog.pg_trigger t
                   WHERE t.tgfoid = p.oid LIMIT 1) tr ON true
CROSS JOIN LATERAL public.plpgsql_check_function_tb(p.oid, COALESCE(tr.tgrelid, 0)::regclass,
                                                    fatal_errors => false,
                                                    oldtable => tr.tgoldtable, newtable => tr.tgnewtable) c
WHERE p.pronamespace = 'pk_keys'::regnamespace;
SELECT count(DISTINCT p.oid) >= 25 AS checked_at_least_25_functions
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'pk_keys'::regnamespace AND l.lanname = 'plpgsql';
-- Errors (none expected): function, line, message. pk_schedule_maintenance
-- calls pg_cron's cron.* functions, which exist only where pg_cron is
-- installed (an optional dependency): that one missing schema is expected.
SELECT fn, lineno, message FROM checked WHERE level = 'error'
  AND NOT (fn::text LIKE 'pk_keys.pk_schedule_maintenance(%' AND message = 'schema "cron" does not exist')
ORDER BY 1, 2;
DROP EXTENSION plpgsql_check;
