\set QUIET on
\pset footer off
CREATE EXTENSION pk_keys;
\set QUIET off
\echo
\echo '== 1. Keys: generate one per environment, validate, hash, verify'
CREATE TEMP TABLE demo_keys AS
    SELECT 'live' AS env, * FROM pk_keys.pk_generate_key('live')
    UNION ALL
    SELECT 'test', * FROM pk_keys.pk_generate_key('test');
SELECT env, key_prefix, key_hint, length(full_key) AS key_length,
       pk_keys.pk_validate_key_format(full_key) AS well_formed,
       pk_keys.pk_hash_key(full_key) = key_hash AS hash_matches,
       pk_keys.pk_verify_key(full_key, key_hash) AS verifies,
       pk_keys.pk_verify_key(full_key, pk_keys.pk_hash_key('pk_live_' || repeat('A', 43))) AS wrong_hash_verifies
FROM demo_keys;
SELECT pk_keys.pk_validate_key_format('pk_prod_abc') AS bad_prefix_is_valid;

\echo '== 2. An organization and its API keys (the full key is shown once, here)'
SELECT name, slug, email, plan, rate_limit_per_minute
FROM pk_keys.pk_org_create('Acme Robotics', ' Ops@Acme.example ', 'pro');
CREATE TEMP TABLE my_keys AS
    SELECT k.* FROM pk_keys.pk_org_get_by_slug('acme-robotics') o,
                    pk_keys.pk_key_create(o.id, 'backend', 'live', '{read,write}',
                                          remaining => 3) k;
SELECT key_prefix, key_hint, environment, left(full_key, 12) || '…' AS full_key_shown_once
FROM my_keys;

\echo '== 3. Authenticate requests: one SQL call per API request'
SELECT a.code, a.environment, a.scopes, a.remaining, a.rate_limit, a.rate_limit_remaining
FROM my_keys k, pk_keys.pk_authenticate(k.full_key, '{read}') a;
SELECT a.code, a.remaining FROM my_keys k, pk_keys.pk_authenticate(k.full_key, '{admin}') a;
SELECT a.code, a.remaining FROM my_keys k, pk_keys.pk_authenticate(k.full_key, '{}', 2) a;
SELECT a.code, a.remaining FROM my_keys k, pk_keys.pk_authenticate(k.full_key) a;
SELECT code FROM pk_keys.pk_authenticate('pk_live_not-a-real-key');

\echo '== 4. Record usage and read the monthly summary and daily stats'
SELECT count(*) AS usage_rows FROM my_keys k,
    LATERAL (SELECT pk_keys.pk_usage_create(k.id, e, m, s, t)
             FROM (VALUES ('/v1/robots', 'GET', 200, 12), ('/v1/robots', 'POST', 201, 40),
                          ('/v1/robots/7', 'GET', 404, 5), ('/v1/jobs', 'GET', 200, 20))
                  AS u(e, m, s, t)) x;
SELECT jsonb_pretty(pk_keys.pk_usage_get_summary(o.id, current_date))
FROM pk_keys.pk_org_get_by_slug('acme-robotics') o;
SELECT d.* FROM pk_keys.pk_org_get_by_slug('acme-robotics') o,
    pk_keys.pk_usage_get_daily_stats(o.id, current_date - 2, current_date) d;

\echo '== 5. Revoke: the very next call is refused'
SELECT pk_keys.pk_key_revoke(k.id, 'rotated', NULL) AS revoked FROM my_keys k;
SELECT a.code FROM my_keys k, pk_keys.pk_authenticate(k.full_key) a;
