-- pk_maintenance_run (the daily job) and pk_schedule_maintenance without
-- pg_cron in this database (with it: test/t/060_pg_cron.pl).
\set VERBOSITY sqlstate
SELECT pk_keys.pk_schedule_maintenance();
SELECT pk_keys.pk_schedule_maintenance(NULL);
SELECT pk_keys.pk_schedule_maintenance(months_ahead => -1);
SELECT pk_keys.pk_schedule_maintenance(retention => '-1 day');
SELECT pk_keys.pk_maintenance_run(delete_expired_keys => NULL);
SELECT pk_keys.pk_maintenance_run(-1);
-- A run: its last line is the summary, also kept in maintenance_log.
SET client_min_messages = warning;
CREATE TEMP TABLE run AS SELECT l, row_number() OVER () AS n FROM pk_keys.pk_maintenance_run() AS l;
RESET client_min_messages;
SELECT l ~ '^pk_keys maintenance: \d+ actions in \d+ ms' AS summary_last
FROM run WHERE n = (SELECT max(n) FROM run);
SELECT cardinality(actions) = (SELECT count(*) FROM run) AS same_lines,
       actions[cardinality(actions)] = (SELECT l FROM run WHERE n = (SELECT max(n) FROM run)) AS same_summary,
       finished_at >= started_at AS timed, db_role = session_user AS by_role
FROM pk_keys.maintenance_log ORDER BY id DESC LIMIT 1;
-- Nothing to do the second time: a summary of 0 actions.
SET client_min_messages = warning;
SELECT pg_catalog.regexp_replace(l, '\d+ ms', 'N ms') AS l FROM pk_keys.pk_maintenance_run(0) AS l;
RESET client_min_messages;
