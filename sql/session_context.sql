-- The session context: current_key_id(), current_organization_id(),
-- current_scopes() are set only by a VALID pk_authenticate /
-- pk_authenticate_request, cleared by the next call and at transaction end
-- (commit, abort, PREPARE), restored by a subtransaction abort, cannot be
-- forged with SET, reach parallel workers; and a worked row-level-security
-- example with a non-superuser role.
\set VERBOSITY sqlstate
CREATE TEMP TABLE org AS SELECT id FROM pk_keys.pk_org_create('Session Org', 'session@example.com', 'pro');
CREATE TEMP TABLE org_b AS SELECT id FROM pk_keys.pk_org_create('Session Org B', 'session-b@example.com', 'pro');
CREATE TEMP TABLE k (name text PRIMARY KEY, id uuid, org uuid, full_key text);
INSERT INTO k SELECT 'a', id, (SELECT id FROM org), full_key FROM pk_keys.pk_key_create((SELECT id FROM org), scopes => '{read,orders.*}');
INSERT INTO k SELECT 'b', id, (SELECT id FROM org_b), full_key FROM pk_keys.pk_key_create((SELECT id FROM org_b), scopes => '{read}');
-- Nothing outside a VALID call.
SELECT pk_keys.current_key_id(), pk_keys.current_organization_id(), pk_keys.current_scopes();
SELECT proname, provolatile, proparallel, prosecdef, has_function_privilege('public', oid, 'EXECUTE') AS public_exec
FROM pg_proc WHERE pronamespace = 'pk_keys'::regnamespace AND proname LIKE 'current\_%' ORDER BY proname;

BEGIN;
SELECT code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'a';
SELECT pk_keys.current_key_id() = (SELECT id FROM k WHERE name = 'a') AS key,
       pk_keys.current_organization_id() = (SELECT id FROM org) AS org, pk_keys.current_scopes();
-- The next call replaces it; a refused call clears it.
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key) a WHERE k.name = 'b';
SELECT pk_keys.current_key_id() = (SELECT id FROM k WHERE name = 'b') AS key, pk_keys.current_scopes();
SELECT code FROM k, pk_keys.pk_authenticate(k.full_key, '{admin}') a WHERE k.name = 'b';
SELECT pk_keys.current_key_id(), pk_keys.current_scopes();
SELECT code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'b';
SELECT code FROM pk_keys.pk_authenticate('garbage');
SELECT pk_keys.current_key_id();
-- Forging: SET, SET LOCAL, set_config are refused (42501); RESET only clears.
SELECT code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'b';
SAVEPOINT s;
SET pk_keys.session_context = 'x';
ROLLBACK TO s;
SET LOCAL pk_keys.session_context = 'x';
ROLLBACK TO s;
SELECT set_config('pk_keys.session_context', (SELECT id::text FROM k WHERE name = 'a') || ',' || (SELECT id::text FROM org) || ',{}', false);
ROLLBACK TO s;
SELECT pk_keys.current_key_id() = (SELECT id FROM k WHERE name = 'b') AS still_b;
COMMIT;
-- Gone after commit.
SELECT pk_keys.current_key_id(), pk_keys.current_organization_id(), pk_keys.current_scopes();
-- An autocommit call: gone when its statement's transaction ends.
SELECT code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'a';
SELECT pk_keys.current_key_id();
-- Gone after rollback.
BEGIN;
SELECT code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'a';
ROLLBACK;
SELECT pk_keys.current_key_id();
-- A subtransaction abort restores what was there before it.
BEGIN;
SELECT code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'a';
SAVEPOINT s1;
SELECT code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'b';
SELECT pk_keys.current_key_id() = (SELECT id FROM k WHERE name = 'b') AS is_b;
ROLLBACK TO s1;
SELECT pk_keys.current_key_id() = (SELECT id FROM k WHERE name = 'a') AS back_to_a;
SAVEPOINT s2;
SELECT code FROM pk_keys.pk_authenticate('garbage');
RELEASE s2;
SELECT pk_keys.current_key_id() IS NULL AS cleared_by_released_call;
SAVEPOINT s3;
SELECT code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'b';
RELEASE s3;
SELECT pk_keys.current_key_id() = (SELECT id FROM k WHERE name = 'b') AS kept_after_release;
-- An exception block is a subtransaction too.
DO $$ BEGIN
    PERFORM pk_keys.pk_authenticate((SELECT full_key FROM k WHERE name = 'a'));
    RAISE EXCEPTION 'undo';
EXCEPTION WHEN raise_exception THEN NULL;
END $$;
SELECT pk_keys.current_key_id() = (SELECT id FROM k WHERE name = 'b') AS still_b;
COMMIT;

-- Row-level security with a non-superuser role that can only authenticate.
CREATE TABLE orders (id int PRIMARY KEY, org_id uuid NOT NULL, item text);
INSERT INTO orders VALUES (1, (SELECT id FROM org), 'apples'), (2, (SELECT id FROM org), 'pears'),
                          (3, (SELECT id FROM org_b), 'plums');
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_of_the_key ON orders USING (org_id = pk_keys.current_organization_id());
CREATE ROLE pk_rls_app NOLOGIN;
GRANT SELECT ON orders TO pk_rls_app;
GRANT EXECUTE ON FUNCTION pk_keys.pk_authenticate(text, text[], integer) TO pk_rls_app;
CREATE TEMP TABLE keys_for_app AS SELECT name, full_key FROM k;
GRANT SELECT ON keys_for_app TO pk_rls_app;
SET ROLE pk_rls_app;
SELECT count(*) AS before_auth FROM orders;
BEGIN;
SELECT code FROM keys_for_app, pk_keys.pk_authenticate(full_key) a WHERE name = 'a';
SELECT id, item FROM orders ORDER BY id;
SELECT code FROM keys_for_app, pk_keys.pk_authenticate(full_key) a WHERE name = 'b';
SELECT id, item FROM orders ORDER BY id;
-- The role cannot forge another organization.
SET pk_keys.session_context = '';
COMMIT;
SELECT count(*) AS after_commit FROM orders;
-- Parallel workers see the leader's context (the readers are PARALLEL SAFE).
BEGIN;
SELECT code FROM keys_for_app, pk_keys.pk_authenticate(full_key) a WHERE name = 'a';
SET LOCAL force_parallel_mode = on;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SELECT id, item, pk_keys.current_key_id() IS NOT NULL AS key_seen FROM orders ORDER BY id;
-- Really in a worker: the plan runs under Gather.
EXPLAIN (COSTS OFF) SELECT id FROM orders WHERE org_id = pk_keys.current_organization_id();
COMMIT;
RESET ROLE;
DROP TABLE orders;
DROP TABLE keys_for_app;
REVOKE EXECUTE ON FUNCTION pk_keys.pk_authenticate(text, text[], integer) FROM pk_rls_app;
DROP ROLE pk_rls_app;
