-- pk_authenticate_request: FORBIDDEN (client IP allowlists), permission
-- queries, required_scopes bounds, named limits and organization pools (all
-- or nothing, shadow mode, fixed vs sliding), the `limits` column,
-- pk_limit_set / pk_limit_delete, window bounds, pk_scopes_satisfy; and that
-- pk_authenticate is its three-argument form. Runs with and without preload.
\set VERBOSITY sqlstate
CREATE TEMP TABLE org AS SELECT id FROM pk_keys.pk_org_create('Request Org', 'request@example.com', 'pro');
CREATE TEMP TABLE org2 AS SELECT id FROM pk_keys.pk_org_create('Request Org 2', 'request2@example.com', 'pro');
CREATE TEMP TABLE k (name text PRIMARY KEY, id uuid, full_key text);
INSERT INTO k SELECT 'plain', id, full_key
    FROM pk_keys.pk_key_create((SELECT id FROM org), 'plain', scopes => '{read,write,billing.*}');
INSERT INTO k SELECT 'own_ips', id, full_key FROM pk_keys.pk_key_create((SELECT id FROM org2), 'own_ips');
INSERT INTO k SELECT 'org_ips', id, full_key FROM pk_keys.pk_key_create((SELECT id FROM org2), 'org_ips');
INSERT INTO k SELECT 'revoked', id, full_key FROM pk_keys.pk_key_create((SELECT id FROM org2), 'revoked');
INSERT INTO k SELECT 'inactive', id, full_key FROM pk_keys.pk_key_create((SELECT id FROM org2), 'inactive', scopes => '{}');
INSERT INTO k SELECT 'credits', id, full_key
    FROM pk_keys.pk_key_create((SELECT id FROM org), 'credits', remaining => 2);
INSERT INTO k SELECT 'p1', id, full_key FROM pk_keys.pk_key_create((SELECT id FROM org), 'p1');
INSERT INTO k SELECT 'p2', id, full_key FROM pk_keys.pk_key_create((SELECT id FROM org), 'p2');
SELECT pk_keys.pk_key_revoke(id, 'test', NULL) FROM k WHERE name = 'revoked';
UPDATE pk_keys.api_keys SET is_active = false WHERE id = (SELECT id FROM k WHERE name = 'inactive');

-- The new column and the old ones.
SELECT a.valid, a.code, a.key_id = k.id AS right_key, a.scopes, a.remaining, a.rate_limit,
       a.recorded, a.limits
FROM k, pk_keys.pk_authenticate_request(k.full_key) a WHERE k.name = 'plain';
SELECT code, limits FROM pk_keys.pk_authenticate_request(NULL);
SELECT code, limits FROM pk_keys.pk_authenticate_request('pk_live_' || repeat('A', 43));
-- pk_authenticate keeps exactly its columns.
SELECT pg_get_function_result('pk_keys.pk_authenticate(text, text[], integer)'::regprocedure);
SELECT pg_get_function_identity_arguments('pk_keys.pk_authenticate_request'::regproc);

-- FORBIDDEN: the key's own list replaces the organization's; CIDR, IPv4, IPv6.
UPDATE pk_keys.organizations SET allowed_ips = '{192.168.0.0/16}' WHERE id = (SELECT id FROM org2);
UPDATE pk_keys.api_keys SET allowed_ips = '{10.0.0.0/8,2001:db8::/32,203.0.113.7/32}'
WHERE id = (SELECT id FROM k WHERE name = 'own_ips');
SELECT ip, (SELECT code FROM pk_keys.pk_authenticate_request(k.full_key, client_ip => ip::inet)) AS own_ips,
       (SELECT code FROM pk_keys.pk_authenticate_request(o.full_key, client_ip => ip::inet)) AS org_ips
FROM k, k o, (VALUES ('10.1.2.3'), ('10.255.255.255'), ('11.0.0.1'), ('192.168.4.5'), ('2001:db8::1'),
                     ('2001:db9::1'), ('::ffff:10.1.2.3'), ('203.0.113.7'), ('203.0.113.8')) v(ip)
WHERE k.name = 'own_ips' AND o.name = 'org_ips' ORDER BY ip;
-- A NULL client_ip with an allowlist: FORBIDDEN; without one: anything goes.
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key) a WHERE k.name = 'own_ips';
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key) a WHERE k.name = 'org_ips';
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, client_ip => '8.8.8.8') a WHERE k.name = 'plain';
-- pk_authenticate has no client_ip: a key with an allowlist is FORBIDDEN there.
SELECT code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'own_ips';
-- An empty list admits no address.
UPDATE pk_keys.api_keys SET allowed_ips = '{}' WHERE id = (SELECT id FROM k WHERE name = 'org_ips');
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, client_ip => '192.168.1.1') a WHERE k.name = 'org_ips';
-- Order: REVOKED and DISABLED come before FORBIDDEN; FORBIDDEN before
-- INSUFFICIENT_SCOPE, both required scopes and permission.
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, client_ip => '1.1.1.1') a WHERE k.name = 'revoked';
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, client_ip => '1.1.1.1') a WHERE k.name = 'inactive';
SELECT code, key_id = k.id AS key_filled, rate_limit_remaining IS NULL AS no_limit_columns, limits
FROM k, pk_keys.pk_authenticate_request(k.full_key, '{admin}', client_ip => '1.1.1.1', permission => 'nope') a
WHERE k.name = 'own_ips';
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, '{admin}', client_ip => '10.0.0.1') a WHERE k.name = 'own_ips';
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, client_ip => '10.0.0.1', permission => 'admin') a WHERE k.name = 'own_ips';

-- Permission queries.
SELECT q, (SELECT code FROM pk_keys.pk_authenticate_request(k.full_key, permission => q)) AS code
FROM k, (VALUES ('read'), ('read AND write'), ('read AND admin'), ('admin OR write'),
                ('(admin OR read) AND (write OR delete)'), ('admin OR read AND delete'),
                ('billing.invoices.read'), ('billing'), ('read and (billing.x or nope)')) v(q)
WHERE k.name = 'plain' ORDER BY q;
-- Required scopes first, then the permission; both must pass.
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, '{read}', permission => 'write') a WHERE k.name = 'plain';
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, '{admin}', permission => 'write') a WHERE k.name = 'plain';
-- required_scopes are exact: a wildcard in the key does not satisfy them.
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, '{billing.x}') a WHERE k.name = 'plain';
-- Malformed permission: 22023 even before the key is looked at.
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, permission => 'read AND') a WHERE k.name = 'plain';
SELECT code FROM pk_keys.pk_authenticate_request(NULL, permission => '(read');
SELECT code FROM pk_keys.pk_authenticate_request(NULL, permission => '');
SELECT code FROM pk_keys.pk_authenticate_request(NULL, permission => repeat('(', 33) || 'a' || repeat(')', 33));
SELECT code FROM pk_keys.pk_authenticate_request(NULL, permission => repeat('(', 32) || 'a' || repeat(')', 32));
SELECT code FROM pk_keys.pk_authenticate_request(NULL, permission => repeat('a OR ', 1000) || 'a');
-- pk_scopes_satisfy: the same test, pure, STRICT, PUBLIC.
SELECT pk_keys.pk_scopes_satisfy('{read,billing.*}', 'read AND billing.invoices'),
       pk_keys.pk_scopes_satisfy('{read}', 'read AND billing.invoices'),
       pk_keys.pk_scopes_satisfy('{read,NULL}', 'read OR x'),
       pk_keys.pk_scopes_satisfy('{}', 'read'),
       pk_keys.pk_scopes_satisfy(NULL, 'read') IS NULL AS strict1,
       pk_keys.pk_scopes_satisfy('{read}', NULL) IS NULL AS strict2;
SELECT pk_keys.pk_scopes_satisfy('{read}', 'read OR');
SELECT provolatile, proisstrict, proparallel, prosecdef,
       has_function_privilege('public', oid, 'EXECUTE') AS public_exec
FROM pg_proc WHERE proname = 'pk_scopes_satisfy';

-- required_scopes bounds (pk_authenticate too): 256 elements, 1..128 bytes, no NULL.
SELECT code FROM k, pk_keys.pk_authenticate(k.full_key, array_fill('read'::text, ARRAY[256])) a WHERE k.name = 'plain';
SELECT code FROM k, pk_keys.pk_authenticate(k.full_key, array_fill('read'::text, ARRAY[257])) a WHERE k.name = 'plain';
SELECT code FROM pk_keys.pk_authenticate(NULL, array_fill('read'::text, ARRAY[257]));
SELECT code FROM pk_keys.pk_authenticate(NULL, ARRAY[repeat('r', 128)]);
SELECT code FROM pk_keys.pk_authenticate(NULL, ARRAY[repeat('r', 129)]);
SELECT code FROM pk_keys.pk_authenticate(NULL, ARRAY['']);
SELECT code FROM pk_keys.pk_authenticate(NULL, ARRAY['read', NULL]);
SELECT code FROM pk_keys.pk_authenticate_request(NULL, ARRAY['read', NULL]);
SELECT code FROM pk_keys.pk_authenticate_request(NULL, NULL);
-- Not quadratic: 256 required against 256 held, each distinct.
UPDATE pk_keys.api_keys SET scopes = ARRAY(SELECT 's' || i FROM generate_series(1, 256) i)
WHERE id = (SELECT id FROM k WHERE name = 'p2');
SELECT code FROM k, pk_keys.pk_authenticate(k.full_key, ARRAY(SELECT 's' || i FROM generate_series(256, 1, -1) i)) a
WHERE k.name = 'p2';
SELECT code FROM k, pk_keys.pk_authenticate(k.full_key, ARRAY(SELECT 's' || i FROM generate_series(2, 257) i)) a
WHERE k.name = 'p2';
UPDATE pk_keys.api_keys SET scopes = '{}' WHERE id = (SELECT id FROM k WHERE name = 'p2');

-- pk_limit_set / pk_limit_delete.
SELECT name, lim, window_seconds, algorithm, enforce, api_key_id IS NULL AS pool
FROM pk_keys.pk_limit_set((SELECT id FROM org), 'requests', 3, '1 day');
SELECT name, lim, window_seconds, algorithm, enforce
FROM pk_keys.pk_limit_set((SELECT id FROM org), 'tokens', 100, '1 day', (SELECT id FROM k WHERE name = 'p1'), 'fixed');
-- Insert or replace: same id, new settings.
CREATE TEMP TABLE pool_id AS SELECT id FROM pk_keys.limits WHERE name = 'requests';
SELECT l.id = (SELECT id FROM pool_id) AS same_id, lim FROM pk_keys.pk_limit_set((SELECT id FROM org), 'requests', 4, '1 day') l;
SELECT count(*) FROM pk_keys.limits WHERE organization_id = (SELECT id FROM org);
SELECT action, changes->'lim'->>'old' AS old_lim, changes->'lim'->>'new' AS new_lim,
       changes ? 'window_seconds' AS window_changed
FROM pk_keys.audit_log WHERE target_id = (SELECT id FROM pool_id) ORDER BY id;
-- Argument errors.
SELECT pk_keys.pk_limit_set(NULL, 'x', 1, '1 minute');
SELECT pk_keys.pk_limit_set((SELECT id FROM org), NULL, 1, '1 minute');
SELECT pk_keys.pk_limit_set((SELECT id FROM org), 'x', NULL, '1 minute');
SELECT pk_keys.pk_limit_set((SELECT id FROM org), 'x', 1, NULL);
SELECT pk_keys.pk_limit_set((SELECT id FROM org), 'x', -1, '1 minute');
SELECT pk_keys.pk_limit_set((SELECT id FROM org), '', 1, '1 minute');
SELECT pk_keys.pk_limit_set((SELECT id FROM org), repeat('n', 201), 1, '1 minute');
SELECT pk_keys.pk_limit_set((SELECT id FROM org), 'x', 1, '1 minute', algorithm => 'leaky');
SELECT pk_keys.pk_limit_set((SELECT id FROM org), 'x', 1, '0 seconds');
SELECT pk_keys.pk_limit_set((SELECT id FROM org), 'x', 1, '0.5 seconds');
SELECT pk_keys.pk_limit_set((SELECT id FROM org), 'x', 1, '1.5 seconds');
SELECT pk_keys.pk_limit_set((SELECT id FROM org), 'x', 1, '-1 minute');
SELECT pk_keys.pk_limit_set((SELECT id FROM org), 'x', 1, '367 days');
SELECT window_seconds FROM pk_keys.pk_limit_set((SELECT id FROM org), 'x', 1, '366 days');
SELECT window_seconds FROM pk_keys.pk_limit_set((SELECT id FROM org), 'x', 1, '1 second');
SELECT window_seconds FROM pk_keys.pk_limit_set((SELECT id FROM org), 'x', 1, '1 hour 30 minutes');
SELECT pk_keys.pk_limit_set(gen_random_uuid(), 'x', 1, '1 minute');
SELECT pk_keys.pk_limit_set((SELECT id FROM org), 'x', 1, '1 minute', (SELECT id FROM k WHERE name = 'own_ips'));
SELECT pk_keys.pk_limit_delete((SELECT id FROM org), 'x');
SELECT pk_keys.pk_limit_delete((SELECT id FROM org), 'x');
SELECT action, changes->'deleted'->>'name' AS name FROM pk_keys.audit_log
WHERE action = 'limit.delete' AND organization_id = (SELECT id FROM org);
SELECT pk_keys.pk_limit_delete((SELECT id FROM org), 'tokens');
SELECT pk_keys.pk_limit_delete(NULL, 'x');
SELECT pk_keys.pk_limit_delete((SELECT id FROM org), NULL);
-- pk_rate_limit_check's window: 1 second to 366 days.
SELECT allowed FROM k, pk_keys.pk_rate_limit_check(k.id, 5, '366 days', 0) WHERE k.name = 'p1';
SELECT allowed FROM k, pk_keys.pk_rate_limit_check(k.id, 5, '367 days', 0) WHERE k.name = 'p1';
SELECT allowed FROM k, pk_keys.pk_rate_limit_check(k.id, 5, '0 seconds', 0) WHERE k.name = 'p1';

-- Pools: one counter for every key of the organization (4 per day here).
SELECT k.name, a.code, a.limits->0->>'remaining' AS pool_remaining, a.limits->0->>'allowed' AS allowed
FROM k, LATERAL pk_keys.pk_authenticate_request(k.full_key, limits => '{"requests": 1}') a
WHERE k.name IN ('p1', 'p2') ORDER BY k.name;
SELECT k.name, a.code, a.limits->0->>'remaining' AS pool_remaining
FROM k, LATERAL pk_keys.pk_authenticate_request(k.full_key, limits => '{"requests": 1}') a
WHERE k.name IN ('p1', 'p2') ORDER BY k.name;
SELECT a.code, a.limits->0->>'allowed' AS allowed, a.limits->0->>'remaining' AS remaining
FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '{"requests": 1}') a WHERE k.name = 'plain';
-- A cost of 0 only asks; a refused call does not spend the key's per-minute
-- slot either (p1 has made two VALID calls; this is its third slot).
SELECT a.code, a.rate_limit_remaining FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '{"requests": 0}') a
WHERE k.name = 'p1';
SELECT a.code, a.rate_limit_remaining FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'p1';
-- A key's own limit of a name wins over the pool of that name.
SELECT name FROM pk_keys.pk_limit_set((SELECT id FROM org), 'requests', 2, '1 day', (SELECT id FROM k WHERE name = 'p1'));
SELECT a.code, a.limits->0->>'limit' AS lim, a.limits->0->>'remaining' AS remaining
FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '{"requests": 1}') a WHERE k.name = 'p1';
SELECT a.code, a.limits->0->>'limit' AS lim FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '{"requests": 1}') a
WHERE k.name = 'p2';
-- Unknown name, bad limits arguments: 22023.
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '{"nope": 1}') a WHERE k.name = 'p1';
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '{"requests": -1}') a WHERE k.name = 'p1';
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '{"requests": 1.5}') a WHERE k.name = 'p1';
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '{"requests": "1"}') a WHERE k.name = 'p1';
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '{"requests": null}') a WHERE k.name = 'p1';
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '{"requests": 3000000000}') a WHERE k.name = 'p1';
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '["requests"]') a WHERE k.name = 'p1';
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '1') a WHERE k.name = 'p1';
SELECT code FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '{"": 1}') a WHERE k.name = 'p1';
SELECT code FROM pk_keys.pk_authenticate_request(NULL,
    limits => (SELECT jsonb_object_agg('n' || i, 1) FROM generate_series(1, 65) i));
SELECT code, limits FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => NULL) a WHERE k.name = 'p2';

-- All or nothing: a refusal by one limit spends nothing on the others, nor credits.
SELECT name FROM pk_keys.pk_limit_set((SELECT id FROM org), 'small', 1, '1 day', (SELECT id FROM k WHERE name = 'credits'), 'fixed');
SELECT name FROM pk_keys.pk_limit_set((SELECT id FROM org), 'big', 10, '1 day', (SELECT id FROM k WHERE name = 'credits'), 'fixed');
SELECT a.code, a.remaining, (SELECT jsonb_agg(e - 'reset') FROM jsonb_array_elements(a.limits) e) AS limits,
       (SELECT bool_and((e->>'reset')::timestamptz > now()) FROM jsonb_array_elements(a.limits) e) AS resets_ahead
FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '{"big": 3, "small": 1}') a
WHERE k.name = 'credits';
SELECT a.code, a.remaining, a.limits->0->>'remaining' AS big, a.limits->1->>'allowed' AS small_allowed
FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '{"big": 3, "small": 1}') a WHERE k.name = 'credits';
SELECT a.code, a.remaining, a.limits->0->>'remaining' AS big FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '{"big": 0}') a
WHERE k.name = 'credits';
-- USAGE_EXCEEDED gives every limit back too.
SELECT a.code, a.remaining FROM k, pk_keys.pk_authenticate_request(k.full_key, cost => 1, limits => '{"big": 1}') a
WHERE k.name = 'credits';
SELECT a.code, a.remaining, a.limits->0->>'remaining' AS big
FROM k, pk_keys.pk_authenticate_request(k.full_key, cost => 5, limits => '{"big": 1}') a WHERE k.name = 'credits';
SELECT a.code, a.limits->0->>'remaining' AS big FROM k, pk_keys.pk_authenticate_request(k.full_key, cost => 0, limits => '{"big": 0}') a
WHERE k.name = 'credits';

-- Shadow mode: counted and reported, never refused.
SELECT name FROM pk_keys.pk_limit_set((SELECT id FROM org), 'shadow', 1, '1 day', (SELECT id FROM k WHERE name = 'p2'), enforce => false);
SELECT a.code, (a.limits->0) - 'reset' AS shadow
FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '{"shadow": 1}') a WHERE k.name = 'p2';
SELECT a.code, a.limits->0->>'allowed' AS allowed, a.limits->0->>'enforced' AS enforced, a.limits->0->>'remaining' AS remaining
FROM k, pk_keys.pk_authenticate_request(k.full_key, limits => '{"shadow": 1}') a WHERE k.name = 'p2';

-- Sliding vs fixed at one call per window (limit 1 per second): the sliding
-- counter still weighs the previous second's call, so every other call is
-- refused; the fixed window admits each one.
SELECT name FROM pk_keys.pk_limit_set((SELECT id FROM org), 'per_second_sliding', 1, '1 second', (SELECT id FROM k WHERE name = 'p2'));
SELECT name FROM pk_keys.pk_limit_set((SELECT id FROM org), 'per_second_fixed', 1, '1 second', (SELECT id FROM k WHERE name = 'p2'), 'fixed');
CREATE TEMP TABLE pacing (n int, sliding text, fixed text);
DO $$
DECLARE
    f text := (SELECT full_key FROM k WHERE name = 'p2');
BEGIN
    -- Start 0.2 s into a second, then one call per second.
    PERFORM pg_sleep(1.2 - (extract(epoch FROM clock_timestamp()) - floor(extract(epoch FROM clock_timestamp()))));
    FOR i IN 1..4 LOOP
        INSERT INTO pacing SELECT i,
            (SELECT code FROM pk_keys.pk_authenticate_request(f, limits => '{"per_second_sliding": 1}')),
            (SELECT code FROM pk_keys.pk_authenticate_request(f, limits => '{"per_second_fixed": 1}'));
        PERFORM pg_sleep(1.2 - (extract(epoch FROM clock_timestamp()) - floor(extract(epoch FROM clock_timestamp()))));
    END LOOP;
END $$;
SELECT * FROM pacing ORDER BY n;
