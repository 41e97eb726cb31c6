-- pk_keys.pk_stats, the monitoring view of the shared-memory paths. This
-- file runs both without and with shared_preload_libraries, so each query
-- states what must hold in the mode it finds (pk_shared_memory_enabled()):
-- preloaded, counters move; not preloaded, shared_memory is false and every
-- counter is NULL. (Exact counts with a tiny window table: test/t/050_stats.pl.)
\set VERBOSITY sqlstate
SELECT count(*) AS one_row FROM pk_keys.pk_stats;
SELECT shared_memory = pk_keys.pk_shared_memory_enabled() AS mode_reported,
       CASE WHEN shared_memory
            THEN windows_capacity = pg_catalog.current_setting('pk_keys.max_tracked_windows')::bigint
                 AND window_evictions >= 0 AND table_fallbacks >= 0 AND queued_usage_rows = 0
                 AND flushes >= 0 AND flush_errors >= 0 AND stats_since <= now()
            ELSE num_nonnulls(windows_in_use, windows_capacity, window_evictions, table_fallbacks,
                              queued_usage_rows, flushes, flushed_rows, last_flush_at,
                              last_flush_duration_ms, flush_errors, last_flush_error_at, stats_since) = 0
       END AS columns_as_documented
FROM pk_keys.pk_stats;
-- A new key's first VALID call takes a new window entry when preloaded.
CREATE TEMP TABLE s_before AS SELECT * FROM pk_keys.pk_stats;
CREATE TEMP TABLE s_key AS
SELECT k.full_key FROM pk_keys.pk_org_create('Stats Org', 'stats@example.com') o,
                       pk_keys.pk_key_create(o.id, 'stats') k;
SELECT code FROM pk_keys.pk_authenticate((SELECT full_key FROM s_key));
SELECT CASE WHEN a.shared_memory THEN a.windows_in_use >= b.windows_in_use + 1
            ELSE a.windows_in_use IS NULL END AS window_counted
FROM pk_keys.pk_stats a, s_before b;
-- Preloaded, the background flusher writes that call's request_count; its
-- flush is counted with its time and duration.
DO $$
BEGIN
    FOR i IN 1..100 LOOP
        EXIT WHEN NOT pk_keys.pk_shared_memory_enabled()
               OR (SELECT s.flushes > b.flushes FROM pk_keys.pk_stats s, s_before b);
        PERFORM pg_catalog.pg_sleep(0.1);
    END LOOP;
END $$;
SELECT CASE WHEN a.shared_memory
            THEN a.flushes > b.flushes AND a.flushed_rows > b.flushed_rows
                 AND a.last_flush_at > b.stats_since AND a.last_flush_at <= pg_catalog.clock_timestamp()
                 AND a.last_flush_duration_ms >= 0
            ELSE a.flushes IS NULL AND a.last_flush_at IS NULL END AS flush_counted
FROM pk_keys.pk_stats a, s_before b;
-- Not for PUBLIC: a role needs SELECT on the view and EXECUTE on the function.
CREATE ROLE pk_stats_nobody;
SET ROLE pk_stats_nobody;
SELECT * FROM pk_keys.pk_stats;
RESET ROLE;
GRANT SELECT ON pk_keys.pk_stats TO pk_stats_nobody;
GRANT EXECUTE ON FUNCTION pk_keys.pk_stats_read() TO pk_stats_nobody;
SET ROLE pk_stats_nobody;
SELECT shared_memory IS NOT NULL AS readable FROM pk_keys.pk_stats;
RESET ROLE;
REVOKE ALL ON pk_keys.pk_stats FROM pk_stats_nobody;
REVOKE ALL ON FUNCTION pk_keys.pk_stats_read() FROM pk_stats_nobody;
DROP ROLE pk_stats_nobody;
