-- Daily maintenance and its scheduling with pg_cron.
--
-- pk_maintenance_run() is the one daily job: the usage store's maintenance
-- (pk_usage_maintain: partitions ahead, retention, rollup folding, and what
-- other concerns hang on it) and, when asked, deleting expired keys. It
-- reports what it did three ways, because pg_cron's job_run_details keeps
-- only a statement's row count ("3 rows" / "SELECT 3") or an error message:
--   * its result: one row per action, the last one a summary, so the run log
--     says how many lines there were and psql shows them;
--   * a NOTICE with the summary (pg_cron writes notices to the server log);
--   * a row in pk_keys.maintenance_log with every line and the duration.
-- pk_schedule_maintenance() registers it with pg_cron, or says (55000) how.

-- One row per maintenance run, newest last; kept by pg_dump.
CREATE TABLE pk_keys.maintenance_log (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    db_role     text        NOT NULL DEFAULT session_user,
    actions     text[]      NOT NULL
);
SELECT pg_catalog.pg_extension_config_dump('pk_keys.maintenance_log', '');
SELECT pg_catalog.pg_extension_config_dump('pk_keys.maintenance_log_id_seq', '');
REVOKE ALL ON pk_keys.maintenance_log FROM PUBLIC;

-- Runs the daily maintenance; returns one line per action, then a summary.
CREATE FUNCTION pk_keys.pk_maintenance_run(months_ahead integer DEFAULT 3,
                                           retention interval DEFAULT NULL,
                                           rollup_retention interval DEFAULT NULL,
                                           delete_expired_keys boolean DEFAULT false)
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    started timestamptz := pg_catalog.clock_timestamp();
    lines   text[] := '{}';
    line    text;
    n       integer;
BEGIN
    IF delete_expired_keys IS NULL THEN
        RAISE EXCEPTION 'delete_expired_keys must not be NULL' USING ERRCODE = '22004';
    END IF;
    FOR line IN SELECT * FROM pk_keys.pk_usage_maintain(months_ahead, retention, rollup_retention) LOOP
        lines := lines OPERATOR(pg_catalog.||) line;
    END LOOP;
    IF delete_expired_keys THEN
        n := pk_keys.pk_key_delete_expired();
        IF n OPERATOR(pg_catalog.>) 0 THEN
            lines := lines OPERATOR(pg_catalog.||) pg_catalog.format('deleted %s expired keys', n);
        END IF;
    END IF;
    line := pg_catalog.format('pk_keys maintenance: %s actions in %s ms%s',
        pg_catalog.cardinality(lines),
        pg_catalog.round(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started)
                         OPERATOR(pg_catalog.*) 1000),
        CASE WHEN pg_catalog.cardinality(lines) OPERATOR(pg_catalog.>) 0
             THEN ': ' OPERATOR(pg_catalog.||) pg_catalog.array_to_string(lines, '; ') ELSE '' END);
    lines := lines OPERATOR(pg_catalog.||) line;
    RAISE NOTICE '%', line;
    INSERT INTO pk_keys.maintenance_log (started_at, finished_at, actions)
    VALUES (started, pg_catalog.clock_timestamp(), lines);
    RETURN QUERY SELECT u.l FROM pg_catalog.unnest(lines) AS u(l);
END $$;

-- Registers (or updates, by job name) pk_maintenance_run with pg_cron in this
-- database; returns the pg_cron job id. 55000 with a hint when pg_cron is not
-- installed here (it lives in the database named by cron.database_name).
CREATE FUNCTION pk_keys.pk_schedule_maintenance(schedule text DEFAULT '17 3 * * *',
                                                months_ahead integer DEFAULT 3,
                                                retention interval DEFAULT NULL,
                                                rollup_retention interval DEFAULT NULL,
                                                delete_expired_keys boolean DEFAULT false,
                                                job_name text DEFAULT 'pk_keys maintenance')
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    command text;
    job     bigint;
BEGIN
    IF schedule IS NULL OR job_name IS NULL OR months_ahead IS NULL OR delete_expired_keys IS NULL THEN
        RAISE EXCEPTION 'schedule, job_name, months_ahead and delete_expired_keys must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    IF months_ahead OPERATOR(pg_catalog.<) 0 OR retention OPERATOR(pg_catalog.<=) '0'::interval
       OR rollup_retention OPERATOR(pg_catalog.<=) '0'::interval THEN
        RAISE EXCEPTION 'months_ahead must not be negative, retention and rollup_retention must be positive'
            USING ERRCODE = '22023';
    END IF;
    command := pg_catalog.format('SELECT * FROM pk_keys.pk_maintenance_run(%s, %L, %L, %s)',
                                 months_ahead, retention, rollup_retention, delete_expired_keys::text);
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        RAISE EXCEPTION 'pk_schedule_maintenance: pg_cron is not installed in database %',
                        pg_catalog.current_database()
            USING ERRCODE = '55000',
                  HINT = pg_catalog.format(
                      'Set shared_preload_libraries = ''pg_cron'' and cron.database_name, restart, and run '
                      'CREATE EXTENSION pg_cron there. If that is another database, schedule from it: '
                      'SELECT cron.schedule_in_database(%L, %L, %L, %L); '
                      'without pg_cron, run %s daily (cron + psql).',
                      job_name, schedule, command, pg_catalog.current_database(), command);
    END IF;
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job USING job_name, schedule, command;
    RETURN job;
END $$;

REVOKE EXECUTE ON FUNCTION pk_keys.pk_maintenance_run(integer, interval, interval, boolean),
    pk_keys.pk_schedule_maintenance(text, integer, interval, interval, boolean, text) FROM PUBLIC;
