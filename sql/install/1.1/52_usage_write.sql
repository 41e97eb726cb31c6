-- Usage store, 1.1: the write path is C++ (src/usage_write.cpp,
-- src/usage_aggregate.cpp): one aggregation code path for pk_usage_create,
-- the statement trigger behind INSERT ... SELECT / COPY, and the flusher's
-- queued pk_usage_record rows. Same signatures as 1.0, so GRANTs survive.

-- One row and its aggregates. Errors: 22004 NULL required argument; 22023
-- status_code outside 100-599, negative response_time_ms, endpoint over 2048
-- bytes, method over 16, user_agent over 1024, occurred_at not finite or
-- outside [2000-01-01, now() + 1 day]; P0002 unknown key.
CREATE OR REPLACE FUNCTION pk_keys.pk_usage_create(
    key_id uuid, endpoint text, method text DEFAULT 'GET', status_code integer DEFAULT 200,
    response_time_ms integer DEFAULT NULL, ip_address inet DEFAULT NULL,
    user_agent text DEFAULT NULL, occurred_at timestamptz DEFAULT pg_catalog.now())
RETURNS pk_keys.api_key_usage
AS 'MODULE_PATHNAME', 'pk_usage_create'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pk_keys;

-- The statement trigger: every row of the statement checked against the
-- bounds (one bad row fails the statement with 22023), then aggregated as
-- one batch under this backend's shard.
CREATE OR REPLACE FUNCTION pk_keys.api_key_usage_aggregate() RETURNS trigger
AS 'MODULE_PATHNAME', 'pk_usage_aggregate_rows'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pk_keys;

-- pk_usage_record(...) → void: the same row as pk_usage_create for the
-- per-request path. Preloaded: queued in shared memory and written, with
-- its aggregates, by the flusher within pk_keys.flush_interval (a crash
-- loses at most that); a full queue makes the caller write the row itself.
-- Without preload: pk_usage_create. Argument errors and P0002 at the call.
CREATE FUNCTION pk_keys.pk_usage_record(
    key_id uuid, endpoint text, method text DEFAULT 'GET', status_code integer DEFAULT 200,
    response_time_ms integer DEFAULT NULL, ip_address inet DEFAULT NULL,
    user_agent text DEFAULT NULL, occurred_at timestamptz DEFAULT pg_catalog.now())
RETURNS void
AS 'MODULE_PATHNAME', 'pk_usage_record'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pk_keys;

REVOKE EXECUTE ON FUNCTION
    pk_keys.pk_usage_record(uuid, text, text, integer, integer, inet, text, timestamptz)
FROM PUBLIC;
