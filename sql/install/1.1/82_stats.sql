-- Monitoring of the shared-memory paths: pk_keys.pk_stats, one row (like
-- pg_stat_statements_info), cluster-wide, since the server started. Backed
-- by pk_stats_read(), which reads atomic counters in pk_keys' own small
-- shared-memory struct (src/stats.cpp). Without shared_preload_libraries
-- only shared_memory (false) is filled; every other column is NULL.

-- The counters as one row; the view below is the interface.
CREATE FUNCTION pk_keys.pk_stats_read(
    OUT shared_memory boolean,
    OUT windows_in_use bigint,
    OUT windows_capacity bigint,
    OUT window_evictions bigint,
    OUT table_fallbacks bigint,
    OUT queued_usage_rows bigint,
    OUT flushes bigint,
    OUT flushed_rows bigint,
    OUT last_flush_at timestamptz,
    OUT last_flush_duration_ms double precision,
    OUT flush_errors bigint,
    OUT last_flush_error_at timestamptz,
    OUT stats_since timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'pk_stats_read'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE
SECURITY DEFINER SET search_path = pg_catalog, pk_keys;

CREATE VIEW pk_keys.pk_stats AS SELECT * FROM pk_keys.pk_stats_read();

REVOKE EXECUTE ON FUNCTION pk_keys.pk_stats_read() FROM PUBLIC;
REVOKE ALL ON pk_keys.pk_stats FROM PUBLIC;
