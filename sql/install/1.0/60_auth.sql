-- The per-request path (C++): pk_authenticate and pk_rate_limit_check.
-- SECURITY DEFINER so an application role needs only EXECUTE; the C code
-- qualifies every name, and search_path is pinned all the same.

CREATE FUNCTION pk_keys.pk_authenticate(
    key text,
    required_scopes text[] DEFAULT '{}',
    cost integer DEFAULT 1)
RETURNS TABLE (valid boolean, code text, key_id uuid, organization_id uuid, environment text,
               scopes text[], remaining bigint, rate_limit integer,
               rate_limit_remaining integer, rate_limit_reset timestamptz,
               recorded boolean)
AS 'MODULE_PATHNAME', 'pk_authenticate'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE ROWS 1
SECURITY DEFINER SET search_path = pg_catalog, pk_keys;

CREATE FUNCTION pk_keys.pk_rate_limit_check(
    key_id uuid,
    lim integer,
    window_size interval DEFAULT '1 minute',
    cost integer DEFAULT 1)
RETURNS TABLE (allowed boolean, remaining integer, reset_at timestamptz)
AS 'MODULE_PATHNAME', 'pk_rate_limit_check'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE ROWS 1
SECURITY DEFINER SET search_path = pg_catalog, pk_keys;

-- Whether this backend counts rate limits and usage in shared memory
-- (the library is in shared_preload_libraries) or in the tables.
CREATE FUNCTION pk_keys.pk_shared_memory_enabled() RETURNS boolean
AS 'MODULE_PATHNAME', 'pk_shared_memory_enabled'
LANGUAGE C STABLE PARALLEL SAFE;

-- Writes this database's pending shared-memory counters (request_count,
-- last_used_at, window rows) now, in the caller's transaction; the flusher
-- does the same every pk_keys.flush_interval. Returns rows written.
CREATE FUNCTION pk_keys.pk_flush() RETURNS bigint
AS 'MODULE_PATHNAME', 'pk_flush'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SECURITY DEFINER SET search_path = pg_catalog, pk_keys;

REVOKE EXECUTE ON FUNCTION pk_keys.pk_authenticate(text, text[], integer),
    pk_keys.pk_rate_limit_check(uuid, integer, interval, integer),
    pk_keys.pk_flush(), pk_keys.pk_shared_memory_enabled() FROM PUBLIC;
