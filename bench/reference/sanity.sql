-- Self-checks of the reference implementation (bench/reference/install.sql),
-- run by bench/check_reference.sh in a scratch database where install.sql has
-- been loaded. Every check raises on failure; psql stops at the first one.
-- Independent of the project's contract tests (which check_reference.sh also
-- runs when they exist); this file only exercises the contract surface.

\set ON_ERROR_STOP 1
\o /dev/null
SET client_min_messages = warning;

-- expect_error(query, sqlstate, word): the query must fail with that SQLSTATE
-- and a message that mentions word (the argument's name).
CREATE FUNCTION pg_temp.expect_error(q text, state text, word text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    got_state text;
    got_msg   text;
BEGIN
    BEGIN
        EXECUTE q;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS got_state = RETURNED_SQLSTATE, got_msg = MESSAGE_TEXT;
    END;
    IF got_state IS NULL THEN
        RAISE EXCEPTION 'expected SQLSTATE % but no error from: %', state, q;
    ELSIF got_state <> state THEN
        RAISE EXCEPTION 'expected SQLSTATE %, got % (%) from: %', state, got_state, got_msg, q;
    ELSIF word IS NOT NULL AND position(word IN got_msg) = 0 THEN
        RAISE EXCEPTION 'message "%" does not name "%" (from: %)', got_msg, word, q;
    END IF;
END $$;

-- check(condition, what)
CREATE FUNCTION pg_temp.check(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'check failed: %', what;
    END IF;
END $$;

------------------------------------------------------------------------------
\echo pure functions
------------------------------------------------------------------------------
SELECT pg_temp.check(pk_keys.pk_hash_key('abc') = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'sha256 of abc');
SELECT pg_temp.check(pk_keys.pk_hash_key(NULL) IS NULL, 'hash strict');
SELECT pg_temp.check(k.full_key ~ '^pk_live_[A-Za-z0-9_-]{43}$' AND length(k.full_key) = 51
                     AND k.key_hash = pk_keys.pk_hash_key(k.full_key) AND k.key_hint = right(k.full_key, 4)
                     AND k.key_prefix = 'pk_live_' AND pk_keys.pk_validate_key_format(k.full_key)
                     AND pk_keys.pk_verify_key(k.full_key, k.key_hash)
                     AND pk_keys.pk_verify_key(k.full_key, upper(k.key_hash)), 'generated live key')
  FROM pk_keys.pk_generate_key() k;
SELECT pg_temp.check(k.full_key LIKE 'pk_test_%' AND k.key_prefix = 'pk_test_', 'generated test key')
  FROM pk_keys.pk_generate_key('test') k;
SELECT pg_temp.check(count(DISTINCT (k).full_key) = 200 AND bool_and(pk_keys.pk_validate_key_format((k).full_key)),
                     '200 distinct valid keys')
  FROM (SELECT pk_keys.pk_generate_key() AS k FROM generate_series(1, 200)) s;
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_generate_key(NULL)$$, '22004', 'environment');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_generate_key('prod')$$, '22023', 'environment');
SELECT pg_temp.check(NOT pk_keys.pk_validate_key_format('pk_live_short'), 'short key');
SELECT pg_temp.check(NOT pk_keys.pk_validate_key_format('pk_prod_' || repeat('A', 43)), 'bad prefix');
SELECT pg_temp.check(NOT pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 42) || '+'), 'bad character');
SELECT pg_temp.check(NOT pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 42) || 'B'), 'non-canonical last character');
SELECT pg_temp.check(pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 42) || 'w'), 'canonical last character');
SELECT pg_temp.check(pk_keys.pk_validate_key_format(NULL) IS NULL, 'validate strict');
SELECT pg_temp.check(NOT pk_keys.pk_verify_key('garbage', pk_keys.pk_hash_key('garbage')), 'verify malformed key');
SELECT pg_temp.check(NOT pk_keys.pk_verify_key(k.full_key, 'xyz'), 'verify malformed hash')
  FROM pk_keys.pk_generate_key() k;
SELECT pg_temp.check(NOT pk_keys.pk_verify_key(a.full_key, b.key_hash), 'verify other key')
  FROM pk_keys.pk_generate_key() a, pk_keys.pk_generate_key() b;
-- a key made elsewhere (fixed string of the right format) verifies with its SHA-256 hex
SELECT pg_temp.check(pk_keys.pk_verify_key(k, encode(sha256(convert_to(k, 'UTF8')), 'hex')), 'foreign key verifies')
  FROM (SELECT 'pk_live_' || repeat('Zz9_-', 8) || 'abc' AS k) s;

------------------------------------------------------------------------------
\echo organizations
------------------------------------------------------------------------------
SELECT pg_temp.check(o.slug = 'acme-inc' AND o.email = 'ops@acme.example' AND o.plan = 'free'
                     AND o.rate_limit_per_minute = 60 AND o.is_active AND o.metadata = '{}', 'org create')
  FROM pk_keys.pk_org_create('  Acme, Inc.  ', '  OPS@Acme.Example ') o;
SELECT pg_temp.check(o.slug = 'acme-inc-2' AND o.rate_limit_per_minute = 3000, 'slug clash -2, pro plan')
  FROM pk_keys.pk_org_create('ACME inc', 'b@acme.example', 'pro') o;
SELECT pg_temp.check(o.slug = 'acme-inc-3', 'slug clash -3')
  FROM pk_keys.pk_org_create('acme   inc!!', 'c@acme.example', 'starter') o;
SELECT pg_temp.check(o.slug = 'org', 'empty slug') FROM pk_keys.pk_org_create('!!!', 'd@acme.example') o;
SELECT pg_temp.check(length(o.slug) <= 63 AND o.slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$', 'long slug')
  FROM pk_keys.pk_org_create(repeat('abc ', 40), 'e@acme.example') o;
SELECT pg_temp.check(length(o.slug) <= 63 AND o.slug ~ '-2$', 'long slug clash')
  FROM pk_keys.pk_org_create(repeat('abc ', 40), 'f@acme.example') o;
SELECT pg_temp.check(o.slug = 'explicit-slug' AND o.rate_limit_per_minute = 10000, 'explicit slug')
  FROM pk_keys.pk_org_create('Whatever', 'g@acme.example', 'enterprise', 'explicit-slug') o;
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_org_create('X', 'h@acme.example', 'free', 'explicit-slug')$$, '23505', 'slug');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_org_create('X', 'h@acme.example', 'free', 'Bad Slug')$$, '22023', 'slug');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_org_create('X', 'h@acme.example', 'free', '-bad')$$, '22023', 'slug');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_org_create('X', 'OPS@ACME.example')$$, '23505', 'email');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_org_create('X', 'not an email')$$, '22023', 'email');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_org_create('X', 'a b@c.d')$$, '22023', 'email');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_org_create('X', 'x@y.z', 'Pro')$$, '22023', 'plan');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_org_create('X', 'x@y.z', 'gold')$$, '22023', 'plan');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_org_create(NULL, 'x@y.z')$$, '22004', 'name');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_org_create('X', NULL)$$, '22004', 'email');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_org_create('X', 'x@y.z', NULL)$$, '22004', 'plan');
SELECT pg_temp.check(count(*) = 0, 'failed creates left nothing')
  FROM pk_keys.organizations WHERE email IN ('h@acme.example', 'x@y.z');

SELECT o.id AS org_id FROM pk_keys.pk_org_get_by_slug('acme-inc') o \gset
SELECT pg_temp.check(count(*) = 1, 'get by id') FROM pk_keys.pk_org_get_by_id(:'org_id');
SELECT pg_temp.check(count(*) = 1, 'get by email, any case') FROM pk_keys.pk_org_get_by_email('Ops@ACME.example');
SELECT pg_temp.check(count(*) = 0, 'absent id: no row') FROM pk_keys.pk_org_get_by_id(gen_random_uuid());
SELECT pg_temp.check(count(*) = 0, 'absent slug: no row') FROM pk_keys.pk_org_get_by_slug('nope');
SELECT pg_temp.check(count(*) = 0, 'absent email: no row') FROM pk_keys.pk_org_get_by_email('nope@x.y');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_org_get_by_id(NULL)$$, '22004', 'org_id');

SELECT pg_temp.check(o.updated_at = o.created_at AND o.slug = 'acme-inc', '{} changes nothing')
  FROM pk_keys.pk_org_update(:'org_id', '{}') o;
SELECT pg_temp.check(o.plan = 'pro' AND o.rate_limit_per_minute = 3000 AND o.name = 'Acme Two'
                     AND o.metadata = '{"b": 2}', 'update plan resets rate limit; metadata replaced')
  FROM pk_keys.pk_org_update(:'org_id', '{"plan": "pro", "name": "Acme Two", "metadata": {"b": 2}}') o;
SELECT pg_temp.check(o.plan = 'starter' AND o.rate_limit_per_minute = 7, 'update plan with explicit rate limit')
  FROM pk_keys.pk_org_update(:'org_id', '{"plan": "starter", "rate_limit_per_minute": 7}') o;
SELECT pg_temp.check(o.email = 'new@acme.example' AND NOT o.is_active AND o.slug = 'acme-new', 'update email/slug/active')
  FROM pk_keys.pk_org_update(:'org_id', '{"email": " NEW@acme.example", "is_active": false, "slug": "acme-new"}') o;
SELECT pg_temp.check(o.is_active, 'reactivate') FROM pk_keys.pk_org_update(:'org_id', '{"is_active": true}') o;
SELECT pg_temp.check(o.rate_limit_per_minute = 7, 'same plan keeps the rate limit')
  FROM pk_keys.pk_org_update(:'org_id', '{"plan": "starter"}') o;
-- the first free suffix: -2 is free again once its owner renames
SELECT pk_keys.pk_org_update(o.id, '{"slug": "renamed"}') FROM pk_keys.pk_org_get_by_slug('acme-inc-2') o;
-- (acme-inc itself was renamed to acme-new above)
SELECT pg_temp.check(o.slug = 'acme-inc', 'base slug free again')
  FROM pk_keys.pk_org_create('Acme Inc', 'h2@acme.example') o;
SELECT pg_temp.check(o.slug = 'acme-inc-2', 'first free suffix')
  FROM pk_keys.pk_org_create('Acme Inc', 'h3@acme.example') o;
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_org_update(%L, '{"colour": "red"}')$$, :'org_id'), '22023', 'colour');
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_org_update(%L, '{"name": null}')$$, :'org_id'), '22004', 'name');
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_org_update(%L, '{"plan": "gold"}')$$, :'org_id'), '22023', 'plan');
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_org_update(%L, '{"rate_limit_per_minute": -1}')$$, :'org_id'), '22023', 'rate_limit_per_minute');
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_org_update(%L, '{"email": "B@acme.example"}')$$, :'org_id'), '23505', 'email');
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_org_update(%L, '{"slug": "explicit-slug"}')$$, :'org_id'), '23505', 'slug');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_org_update(gen_random_uuid(), '{}')$$, 'P0002', 'org_id');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_org_update(NULL, '{}')$$, '22004', 'org_id');

SELECT pg_temp.check(count(*) = 9, 'get_all') FROM pk_keys.pk_org_get_all();
SELECT pg_temp.check(count(*) = 2, 'get_all lim/off') FROM pk_keys.pk_org_get_all(2, 5);
SELECT pg_temp.check(array_agg(a.id) = (SELECT array_agg(b.id) FROM pk_keys.pk_org_get_all(100, 0) b), 'stable order')
  FROM pk_keys.pk_org_get_all(100, 0) a;
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_org_get_all(-1)$$, '22023', 'lim');

------------------------------------------------------------------------------
\echo api keys
------------------------------------------------------------------------------
SELECT k.id AS key_id, k.full_key AS full_key FROM pk_keys.pk_key_create(:'org_id', 'main', 'live', '{read,write}') k \gset
SELECT pg_temp.check(k.key_hash = pk_keys.pk_hash_key(:'full_key') AND k.key_hint = right(:'full_key', 4)
                     AND k.environment = 'live' AND k.request_count = 0 AND k.scopes = '{read,write}'
                     AND k.remaining IS NULL AND k.rate_limit_per_minute IS NULL, 'key stored')
  FROM pk_keys.pk_key_get_by_id(:'key_id') k;
SELECT pg_temp.check(count(*) = 0, 'full key never stored')
  FROM pk_keys.api_keys k WHERE row(k.*)::text LIKE '%' || :'full_key' || '%';
SELECT pg_temp.check(count(*) = 1, 'get by upper-case hash') FROM pk_keys.pk_key_get_by_hash(upper(pk_keys.pk_hash_key(:'full_key')));
SELECT pg_temp.check(count(*) = 0, 'absent hash: no row') FROM pk_keys.pk_key_get_by_hash(repeat('0', 64));
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_key_get_by_hash('abc')$$, '22023', 'key_hash');
SELECT pg_temp.check(k.environment = 'test' AND k.key_prefix = 'pk_test_' AND k.full_key LIKE 'pk_test_%', 'test key')
  FROM pk_keys.pk_key_create(:'org_id', 'test', 'test') k;
SELECT pg_temp.check(count(*) = 2, 'get by org') FROM pk_keys.pk_key_get_by_organization(:'org_id');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_key_create(gen_random_uuid())$$, 'P0002', 'org_id');
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_key_create(%L, environment => 'prod')$$, :'org_id'), '22023', 'environment');
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_key_create(%L, environment => NULL)$$, :'org_id'), '22004', 'environment');
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_key_create(%L, remaining => -1)$$, :'org_id'), '22023', 'remaining');
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_key_create(%L, rate_limit_per_minute => -1)$$, :'org_id'), '22023', 'rate_limit_per_minute');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_key_create(NULL)$$, '22004', 'org_id');
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_key_create(%L, scopes => NULL)$$, :'org_id'), '22004', 'scopes');
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_key_create(%L, scopes => '{a,NULL}')$$, :'org_id'), '22004', 'scopes');
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_key_create(%L, metadata => '[1]')$$, :'org_id'), '22023', 'metadata');

SELECT pk_keys.pk_key_update_last_used(:'key_id');
SELECT pk_keys.pk_key_increment_request_count(:'key_id');
SELECT pg_temp.check(k.last_used_at IS NOT NULL AND k.request_count = 1, 'last used / count')
  FROM pk_keys.pk_key_get_by_id(:'key_id') k;
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_key_update_last_used(gen_random_uuid())$$, 'P0002', 'key_id');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_key_increment_request_count(gen_random_uuid())$$, 'P0002', 'key_id');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_key_revoke(gen_random_uuid(), 'x', NULL)$$, 'P0002', 'key_id');

------------------------------------------------------------------------------
\echo authenticate
------------------------------------------------------------------------------
SELECT pg_temp.check(a.code = 'VALID' AND a.valid AND a.key_id = :'key_id' AND a.organization_id = :'org_id'
                     AND a.environment = 'live' AND a.scopes = '{read,write}' AND a.remaining IS NULL
                     AND a.rate_limit = 7 AND a.rate_limit_remaining = 6
                     AND a.rate_limit_reset > now() AND a.rate_limit_reset <= now() + interval '1 minute', 'VALID')
  FROM pk_keys.pk_authenticate(:'full_key') a;
SELECT pg_temp.check(k.request_count = 2 AND k.last_used_at <= now(), 'VALID consumed')
  FROM pk_keys.pk_key_get_by_id(:'key_id') k;
SELECT pg_temp.check(a.code = 'MALFORMED' AND NOT a.valid AND a.key_id IS NULL, 'MALFORMED') FROM pk_keys.pk_authenticate('nope') a;
SELECT pg_temp.check(count(*) = 1 AND bool_and(a.code = 'MALFORMED'), 'NULL is MALFORMED') FROM pk_keys.pk_authenticate(NULL) a;
SELECT pg_temp.check(a.code = 'NOT_FOUND' AND NOT a.valid, 'NOT_FOUND') FROM pk_keys.pk_generate_key() g, pk_keys.pk_authenticate(g.full_key) a;
SELECT pg_temp.check(a.code = 'INSUFFICIENT_SCOPE', 'INSUFFICIENT_SCOPE') FROM pk_keys.pk_authenticate(:'full_key', '{admin}') a;
SELECT pg_temp.check(a.code = 'VALID', 'scope subset') FROM pk_keys.pk_authenticate(:'full_key', '{read}') a;
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_authenticate(%L, '{}', -1)$$, :'full_key'), '22023', 'cost');
-- rate limit 7 for this organization: 2 VALID so far, 5 more then RATE_LIMITED
-- (exact unless the minute turns during the test: the previous window then weighs in)
SELECT pg_temp.check(array_agg(a.code ORDER BY g) = '{VALID,VALID,VALID,VALID,VALID,RATE_LIMITED}', 'RATE_LIMITED after 7')
  FROM generate_series(1, 6) g, LATERAL pk_keys.pk_authenticate(:'full_key' || repeat('', g)) a;
SELECT pg_temp.check(k.request_count = 8, 'RATE_LIMITED consumes nothing') FROM pk_keys.pk_key_get_by_id(:'key_id') k;
SELECT pg_temp.check(a.code = 'NOT_FOUND', 'wrong key') FROM pk_keys.pk_authenticate(overlay(:'full_key' PLACING 'A' FROM 10 FOR 1)) a;

-- credits: remaining 3, generous rate limit
SELECT k.id AS ckey_id, k.full_key AS ckey FROM pk_keys.pk_key_create(:'org_id', 'credits', remaining => 3, rate_limit_per_minute => 100) k \gset
SELECT pg_temp.check(a.code = 'VALID' AND a.remaining = 1 AND a.rate_limit = 100 AND a.rate_limit_remaining = 99, 'spend 2')
  FROM pk_keys.pk_authenticate(:'ckey', '{}', 2) a;
SELECT pg_temp.check(a.code = 'USAGE_EXCEEDED' AND NOT a.valid AND a.remaining = 1, 'USAGE_EXCEEDED')
  FROM pk_keys.pk_authenticate(:'ckey', '{}', 2) a;
SELECT pg_temp.check(a.code = 'VALID' AND a.remaining = 1 AND a.rate_limit_remaining = 98, 'cost 0 spends nothing, USAGE_EXCEEDED gave the slot back')
  FROM pk_keys.pk_authenticate(:'ckey', '{}', 0) a;
SELECT pg_temp.check(a.code = 'VALID' AND a.remaining = 0, 'spend last') FROM pk_keys.pk_authenticate(:'ckey') a;
SELECT pg_temp.check(a.code = 'USAGE_EXCEEDED' AND a.remaining = 0, 'empty') FROM pk_keys.pk_authenticate(:'ckey') a;
SELECT pg_temp.check(a.code = 'USAGE_EXCEEDED', 'cost 0 on an empty balance') FROM pk_keys.pk_authenticate(:'ckey', '{}', 0) a;
SELECT pg_temp.check(k.request_count = 3 AND k.remaining = 0, 'credits state') FROM pk_keys.pk_key_get_by_id(:'ckey_id') k;
-- RATE_LIMITED comes before USAGE_EXCEEDED
SELECT k.id AS rkey_id, k.full_key AS rkey FROM pk_keys.pk_key_create(:'org_id', 'r', remaining => 0, rate_limit_per_minute => 0) k \gset
SELECT pg_temp.check(a.code = 'RATE_LIMITED', 'rate before usage') FROM pk_keys.pk_authenticate(:'rkey') a;

-- expiry, disabling, revocation, and their order
SELECT k.id AS ekey_id, k.full_key AS ekey FROM pk_keys.pk_key_create(:'org_id', 'e', expires_at => now() - interval '1 second') k \gset
SELECT pg_temp.check(a.code = 'EXPIRED', 'EXPIRED') FROM pk_keys.pk_authenticate(:'ekey') a;
UPDATE pk_keys.api_keys SET is_active = false WHERE id = :'ekey_id';
SELECT pg_temp.check(a.code = 'EXPIRED', 'EXPIRED before DISABLED') FROM pk_keys.pk_authenticate(:'ekey') a;
SELECT pg_temp.check(pk_keys.pk_key_revoke(:'ekey_id', 'leaked', :'org_id'), 'revoke');
SELECT pg_temp.check(NOT pk_keys.pk_key_revoke(:'ekey_id', 'again', NULL), 'second revoke');
SELECT pg_temp.check(k.revoked_reason = 'leaked' AND k.revoked_by = :'org_id' AND NOT k.is_active, 'revocation kept first')
  FROM pk_keys.pk_key_get_by_id(:'ekey_id') k;
SELECT pg_temp.check(a.code = 'REVOKED', 'REVOKED first') FROM pk_keys.pk_authenticate(:'ekey') a;
SELECT k.id AS dkey_id, k.full_key AS dkey FROM pk_keys.pk_key_create(:'org_id', 'd') k \gset
SELECT pk_keys.pk_org_update(:'org_id', '{"is_active": false}');
SELECT pg_temp.check(a.code = 'DISABLED', 'org inactive: DISABLED') FROM pk_keys.pk_authenticate(:'dkey') a;
SELECT pk_keys.pk_org_update(:'org_id', '{"is_active": true}');
SELECT pg_temp.check(a.code = 'VALID', 'org active again') FROM pk_keys.pk_authenticate(:'dkey') a;

-- usage rows survive key deletion
SELECT pk_keys.pk_usage_create(:'ekey_id', '/v1/x');
SELECT pg_temp.check(pk_keys.pk_key_delete_expired() = 1, 'delete expired');
SELECT pg_temp.check(count(*) = 0, 'expired key gone') FROM pk_keys.pk_key_get_by_id(:'ekey_id');
SELECT pg_temp.check(count(*) = 1, 'usage kept') FROM pk_keys.api_key_usage WHERE api_key_id = :'ekey_id';

------------------------------------------------------------------------------
\echo rate limit check
------------------------------------------------------------------------------
SELECT gen_random_uuid() AS rl_key \gset
SELECT pg_temp.check(array_agg(r.allowed ORDER BY g) = '{t,t,t,f,f}', 'lim 3')
  FROM generate_series(1, 5) g, LATERAL pk_keys.pk_rate_limit_check(:'rl_key'::uuid, 3 + 0 * g) r;
SELECT pg_temp.check(NOT r.allowed AND r.remaining = 0 AND r.reset_at > now(), 'cost 0 on a full window')
  FROM pk_keys.pk_rate_limit_check(:'rl_key', 3, '1 minute', 0) r;
SELECT pg_temp.check(r.allowed AND r.remaining = 9, 'other window size counts apart')
  FROM pk_keys.pk_rate_limit_check(:'rl_key', 10, '1 hour') r;
SELECT pg_temp.check(r.allowed AND r.remaining = 5, 'cost 4 of 10')
  FROM pk_keys.pk_rate_limit_check(:'rl_key', 10, '1 hour', 4) r;
SELECT pg_temp.check(NOT r.allowed AND r.remaining = 5 AND r.reset_at > now(), 'cost 6 of 5 left: denied, nothing taken')
  FROM pk_keys.pk_rate_limit_check(:'rl_key', 10, '1 hour', 6) r;
SELECT pg_temp.check(r.allowed AND r.remaining = 5, 'cost 0')
  FROM pk_keys.pk_rate_limit_check(:'rl_key', 10, '1 hour', 0) r;
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_rate_limit_check(%L, -1)$$, :'rl_key'), '22023', 'lim');
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_rate_limit_check(%L, 1, '1 minute', -1)$$, :'rl_key'), '22023', 'cost');
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_rate_limit_check(NULL, 1)$$, '22004', 'key_id');
-- pk_authenticate's one-minute window is the same counter
SELECT pg_temp.check(r.remaining = 100 - 3 - 1, 'shared one-minute window')
  FROM pk_keys.pk_rate_limit_check(:'ckey_id', 100) r;

------------------------------------------------------------------------------
\echo usage
------------------------------------------------------------------------------
SELECT k.id AS ukey_id FROM pk_keys.pk_key_create(:'org_id', 'usage') k \gset
SELECT k.id AS ukey2_id FROM pk_keys.pk_key_create(:'org_id', 'usage2') k \gset
SET TimeZone = 'Asia/Tokyo';   -- days and months are UTC whatever the session says
SELECT pg_temp.check(u.organization_id = :'org_id' AND u.method = 'GET' AND u.status_code = 200
                     AND u.endpoint = '/a', 'usage create defaults')
  FROM pk_keys.pk_usage_create(:'ukey_id', '/a', occurred_at => '2024-03-01 00:30+00') u;
SELECT pk_keys.pk_usage_create(:'ukey_id', '/a', 'POST', 201, 10, occurred_at => '2024-03-10 12:00+00');
SELECT pk_keys.pk_usage_create(:'ukey_id', '/b', 'GET', 500, 30, '10.0.0.1', 'curl', '2024-03-31 23:59:59+00');
SELECT pk_keys.pk_usage_create(:'ukey2_id', '/b', 'GET', 404, NULL, occurred_at => '2024-03-02 01:00+00');
SELECT pk_keys.pk_usage_create(:'ukey2_id', '/c', occurred_at => '2024-04-01 00:00+00');   -- next month
SELECT pk_keys.pk_usage_create(:'ukey2_id', '/c', occurred_at => '2024-02-29 23:59:59+00'); -- previous month
SELECT pg_temp.expect_error($$SELECT pk_keys.pk_usage_create(gen_random_uuid(), '/a')$$, 'P0002', 'key_id');
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_usage_create(%L, NULL)$$, :'ukey_id'), '22004', 'endpoint');
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_usage_create(%L, '/a', 'GET', 99)$$, :'ukey_id'), '22023', 'status_code');
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_usage_create(%L, '/a', 'GET', 200, -1)$$, :'ukey_id'), '22023', 'response_time_ms');

SELECT pg_temp.check(count(*) = 3, 'by key [start, end)')
  FROM pk_keys.pk_usage_get_by_key(:'ukey_id', '2024-03-01 00:30+00', '2024-04-01 00:00+00');
SELECT pg_temp.check(count(*) = 5 AND min(occurred_at) = '2024-03-01 00:30+00', 'by organization')
  FROM pk_keys.pk_usage_get_by_organization(:'org_id', '2024-03-01+00', '2024-04-01 00:00:01+00');

SELECT pk_keys.pk_usage_get_summary(:'org_id', '2024-03-17') AS s \gset
SELECT pg_temp.check((s->>'total_requests')::int = 4 AND (s->>'successful_requests')::int = 2
                     AND (s->>'failed_requests')::int = 2 AND (s->>'avg_response_time_ms')::float8 = 20
                     AND (s->>'unique_keys')::int = 2
                     AND s->'top_endpoints' = '[{"endpoint": "/a", "requests": 2}, {"endpoint": "/b", "requests": 2}]',
                     'summary ' || s::text)
  FROM (SELECT :'s'::jsonb AS s) x;
SELECT pg_temp.check((s->>'total_requests')::int = 0 AND s->'avg_response_time_ms' = 'null'
                     AND s->'top_endpoints' = '[]', 'empty summary ' || s::text)
  FROM (SELECT pk_keys.pk_usage_get_summary(:'org_id', '2023-01-01') AS s) x;

SELECT pg_temp.check(count(*) = 3
                     AND (array_agg(d.total_requests ORDER BY d.day))::int[] = '{1,1,0}'
                     AND (array_agg(d.failed_requests ORDER BY d.day))::int[] = '{0,1,0}'
                     AND (array_agg(d.unique_keys ORDER BY d.day))::int[] = '{1,1,0}'
                     AND min(d.day) = '2024-03-01' AND bool_and(d.day <> '2024-03-03' OR d.avg_response_time_ms IS NULL),
                     'daily stats with empty days')
  FROM pk_keys.pk_usage_get_daily_stats(:'org_id', '2024-03-01', '2024-03-03') d;
SELECT pg_temp.check(count(*) = 1 AND sum(d.total_requests) = 1, 'last second of the month is in its UTC day')
  FROM pk_keys.pk_usage_get_daily_stats(:'org_id', '2024-03-31', '2024-03-31') d;
SELECT pg_temp.expect_error(format($$SELECT pk_keys.pk_usage_get_daily_stats(%L, '2024-03-02', '2024-03-01')$$, :'org_id'), '22023', 'end_date');
RESET TimeZone;

\echo reference sanity checks passed
