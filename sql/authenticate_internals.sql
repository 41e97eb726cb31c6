-- pk_authenticate beyond the contract surface: the recorded column, counters
-- (flushed with pk_flush when shared memory holds them), read-only
-- transactions, messages and function attributes. Output is the same with
-- and without shared_preload_libraries.
\set VERBOSITY terse
-- Shared memory is used exactly when the library is preloaded (a silent
-- fallback to the tables in the preloaded stages would print f).
SELECT pk_keys.pk_shared_memory_enabled()
       = (pg_catalog.current_setting('shared_preload_libraries') LIKE '%pk_keys%') AS shared_memory_as_configured;
CREATE TEMP TABLE org AS
    SELECT id FROM pk_keys.pk_org_create('Auth Internals Org', 'auth-internals@example.com', 'starter');
CREATE TEMP TABLE k (name text PRIMARY KEY, id uuid, full_key text);
INSERT INTO k SELECT 'counted', id, full_key FROM pk_keys.pk_key_create((SELECT id FROM org));
INSERT INTO k SELECT 'credits', id, full_key
    FROM pk_keys.pk_key_create((SELECT id FROM org), remaining => 10);

-- Three VALID calls and two refusals: request_count counts the three.
SELECT a.code, a.recorded FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'counted';
SELECT a.code, a.recorded FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'counted';
SELECT a.code, a.recorded FROM k, pk_keys.pk_authenticate(k.full_key, '{admin}') a WHERE k.name = 'counted';
SELECT a.code, a.recorded FROM k, pk_keys.pk_authenticate(k.full_key, NULL) a WHERE k.name = 'counted';
SELECT pk_keys.pk_flush() >= 0 AS flushed;
-- Nothing is left pending after a flush.
SELECT pk_keys.pk_flush() AS nothing_left;
SELECT request_count, last_used_at IS NOT NULL AS used, last_used_at <= now() AS not_in_future
FROM pk_keys.api_keys WHERE id = (SELECT id FROM k WHERE name = 'counted');
-- The window rows reach rate_limit_tracking too (at once, or at the flush).
SELECT window_seconds, request_count FROM pk_keys.rate_limit_tracking
WHERE api_key_id = (SELECT id FROM k WHERE name = 'counted');

-- A read-only transaction (as on a hot standby) never raises 25006: the key
-- is still checked, but nothing is written and recorded says so.
BEGIN TRANSACTION READ ONLY;
SELECT a.code, a.remaining, a.recorded FROM k, pk_keys.pk_authenticate(k.full_key, '{}', 3) a
WHERE k.name = 'credits';
SELECT a.code, a.remaining, a.recorded FROM k, pk_keys.pk_authenticate(k.full_key, '{}', 11) a
WHERE k.name = 'credits';
SELECT a.code, a.recorded FROM pk_keys.pk_authenticate('garbage') a;
COMMIT;
SELECT remaining FROM pk_keys.api_keys WHERE id = (SELECT id FROM k WHERE name = 'credits');
SELECT a.code, a.remaining, a.recorded FROM k, pk_keys.pk_authenticate(k.full_key, '{}', 3) a
WHERE k.name = 'credits';
-- A rolled-back spend is not spent.
BEGIN;
SELECT a.code, a.remaining FROM k, pk_keys.pk_authenticate(k.full_key, '{}', 7) a WHERE k.name = 'credits';
ROLLBACK;
SELECT remaining FROM pk_keys.api_keys WHERE id = (SELECT id FROM k WHERE name = 'credits');

-- From a procedure, after a COMMIT (no snapshot left by the caller).
CREATE PROCEDURE pg_temp.auth_after_commit(k text) LANGUAGE plpgsql AS $$
DECLARE c text;
BEGIN
    COMMIT;
    SELECT a.code INTO c FROM pk_keys.pk_authenticate(k, '{}', 0) a;
    RAISE NOTICE 'after COMMIT: %', c;
END $$;
SELECT full_key AS counted_key FROM k WHERE name = 'counted' \gset
CALL pg_temp.auth_after_commit(:'counted_key');

-- Messages name the argument.
SELECT code FROM pk_keys.pk_authenticate('garbage', '{}', -1);
SELECT code FROM pk_keys.pk_authenticate('garbage', '{}', NULL);
SELECT allowed FROM pk_keys.pk_rate_limit_check(gen_random_uuid(), -1);
SELECT allowed FROM pk_keys.pk_rate_limit_check(gen_random_uuid(), 1, NULL);
SELECT allowed FROM pk_keys.pk_rate_limit_check(gen_random_uuid(), 1, '1.5 seconds');
SELECT allowed FROM pk_keys.pk_rate_limit_check(gen_random_uuid(), 1, '-1 minute');
SELECT allowed FROM pk_keys.pk_rate_limit_check(gen_random_uuid(), 1, '0 seconds');
-- A month-long window is accepted (30 days).
SELECT allowed, remaining FROM pk_keys.pk_rate_limit_check(gen_random_uuid(), 1, '1 month');

-- The full key never reaches a table: no row of any table of schema pk_keys
-- (every column, as text) holds a key's 43-character token, with or without
-- its prefix. The control finds each key's hash the same way.
CREATE FUNCTION pg_temp.rows_holding(needle text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
    n bigint;
    total bigint := 0;
BEGIN
    FOR t IN SELECT c.oid FROM pg_catalog.pg_class c
             WHERE c.relnamespace = 'pk_keys'::regnamespace AND c.relkind = 'r' LOOP
        EXECUTE pg_catalog.format('SELECT count(*) FROM %s x WHERE strpos(x::text, $1) > 0', t)
            INTO n USING needle;
        total := total + n;
    END LOOP;
    RETURN total;
END $$;
SELECT pk_keys.pk_flush() >= 0 AS flushed;
SELECT sum(pg_temp.rows_holding(substr(full_key, 9))) AS rows_holding_a_key,
       bool_and(pg_temp.rows_holding(pk_keys.pk_hash_key(full_key)) >= 1) AS control_hash_found
FROM k;

-- Attributes: SECURITY DEFINER with a pinned search_path, not executable by PUBLIC.
SELECT proname, prosecdef, proconfig, provolatile, proisstrict,
       has_function_privilege('public', oid, 'EXECUTE') AS public_execute
FROM pg_proc
WHERE pronamespace = 'pk_keys'::regnamespace
  AND proname IN ('pk_authenticate', 'pk_rate_limit_check', 'pk_flush')
ORDER BY proname;

-- An application role needs only EXECUTE.
CREATE ROLE regress_pk_app;
GRANT EXECUTE ON FUNCTION pk_keys.pk_authenticate(text, text[], integer) TO regress_pk_app;
SET ROLE regress_pk_app;
SELECT a.code FROM pk_keys.pk_authenticate('pk_live_' || repeat('A', 43)) a;
SELECT count(*) FROM pk_keys.api_keys;
RESET ROLE;
REVOKE ALL ON FUNCTION pk_keys.pk_authenticate(text, text[], integer) FROM regress_pk_app;
DROP ROLE regress_pk_app;
