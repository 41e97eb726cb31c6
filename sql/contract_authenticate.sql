-- pk_authenticate and pk_rate_limit_check through the contract surface only
-- (also run against the plain PL/pgSQL reference in bench/). Every code, the
-- order of checks, and what each outcome consumes.
\set VERBOSITY sqlstate
-- Keep the per-minute checks inside one fixed minute (a sliding window lets
-- one more request through just after a minute boundary, by design).
DO $$ BEGIN
    IF extract(second FROM clock_timestamp()) > 45 THEN
        PERFORM pg_sleep(61 - extract(second FROM clock_timestamp()));
    END IF;
END $$;

CREATE TEMP TABLE org AS
    SELECT id FROM pk_keys.pk_org_create('Auth Contract Org', 'auth-contract@example.com', 'free');
CREATE TEMP TABLE other_org AS
    SELECT id FROM pk_keys.pk_org_create('Auth Contract Other', 'auth-other@example.com', 'pro');
CREATE TEMP TABLE k (name text PRIMARY KEY, id uuid, full_key text);
INSERT INTO k SELECT 'plain', id, full_key
    FROM pk_keys.pk_key_create(org_id => (SELECT id FROM org), name => 'plain', scopes => '{read,write}');
INSERT INTO k SELECT 'test_env', id, full_key
    FROM pk_keys.pk_key_create(org_id => (SELECT id FROM org), environment => 'test');
INSERT INTO k SELECT 'limited', id, full_key
    FROM pk_keys.pk_key_create(org_id => (SELECT id FROM org), rate_limit_per_minute => 2);
INSERT INTO k SELECT 'credits', id, full_key
    FROM pk_keys.pk_key_create(org_id => (SELECT id FROM org), remaining => 3);
INSERT INTO k SELECT 'credits_limited', id, full_key
    FROM pk_keys.pk_key_create(org_id => (SELECT id FROM org), remaining => 1, rate_limit_per_minute => 1);
INSERT INTO k SELECT 'zero_limit', id, full_key
    FROM pk_keys.pk_key_create(org_id => (SELECT id FROM org), rate_limit_per_minute => 0, remaining => 0);
INSERT INTO k SELECT 'revoked', id, full_key
    FROM pk_keys.pk_key_create(org_id => (SELECT id FROM org));
INSERT INTO k SELECT 'expired', id, full_key
    FROM pk_keys.pk_key_create(org_id => (SELECT id FROM org));
INSERT INTO k SELECT 'inactive', id, full_key
    FROM pk_keys.pk_key_create(org_id => (SELECT id FROM org));
INSERT INTO k SELECT 'everything_wrong', id, full_key
    FROM pk_keys.pk_key_create(org_id => (SELECT id FROM org), scopes => '{}');
INSERT INTO k SELECT 'expired_inactive', id, full_key
    FROM pk_keys.pk_key_create(org_id => (SELECT id FROM org));
INSERT INTO k SELECT 'other_org', id, full_key
    FROM pk_keys.pk_key_create(org_id => (SELECT id FROM other_org));
INSERT INTO k SELECT 'future', id, full_key
    FROM pk_keys.pk_key_create(org_id => (SELECT id FROM org), expires_at => now() + interval '1 day');

-- MALFORMED: never an error, one row, nothing else filled in.
SELECT valid, code, key_id IS NULL AS no_key, organization_id IS NULL AS no_org
FROM pk_keys.pk_authenticate(NULL);
SELECT count(*) AS rows FROM pk_keys.pk_authenticate(NULL);
SELECT code FROM pk_keys.pk_authenticate('');
SELECT code FROM pk_keys.pk_authenticate('garbage');
SELECT code FROM pk_keys.pk_authenticate(repeat('x', 10240));
SELECT code FROM pk_keys.pk_authenticate('pk_prod_' || repeat('A', 43));
SELECT code FROM pk_keys.pk_authenticate('PK_LIVE_' || repeat('A', 43));
SELECT code FROM pk_keys.pk_authenticate('pk_live_' || repeat('A', 42));
SELECT code FROM pk_keys.pk_authenticate('pk_live_' || repeat('A', 44));
SELECT code FROM pk_keys.pk_authenticate('pk_live_' || repeat('A', 42) || '+');
SELECT code FROM pk_keys.pk_authenticate('pk_live_' || repeat('é', 43));
SELECT code FROM pk_keys.pk_authenticate(' ' || (SELECT full_key FROM k WHERE name = 'plain'));
-- NOT_FOUND: well formed, unknown.
SELECT valid, code, key_id IS NULL AS no_key FROM pk_keys.pk_authenticate('pk_live_' || repeat('A', 43));
SELECT code FROM pk_keys.pk_authenticate('pk_test_' || repeat('Q', 43));

-- VALID: every column.
SELECT a.valid, a.code, a.key_id = k.id AS right_key,
       a.organization_id = (SELECT id FROM org) AS right_org,
       a.environment, a.scopes, a.remaining, a.rate_limit, a.rate_limit_remaining,
       a.rate_limit_reset > now() AS reset_in_future
FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'plain';
SELECT a.code, a.environment, a.rate_limit
FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'test_env';
-- The organization's plan limit applies to keys without their own.
SELECT a.code, a.rate_limit FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'other_org';
SELECT a.code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'future';

-- Scopes: required ones must all be present.
SELECT a.code FROM k, pk_keys.pk_authenticate(k.full_key, '{read}') a WHERE k.name = 'plain';
SELECT a.code FROM k, pk_keys.pk_authenticate(k.full_key, '{read,write}') a WHERE k.name = 'plain';
SELECT a.valid, a.code, a.key_id = k.id AS right_key
FROM k, pk_keys.pk_authenticate(k.full_key, '{read,admin}') a WHERE k.name = 'plain';
SELECT a.code FROM k, pk_keys.pk_authenticate(k.full_key, '{READ}') a WHERE k.name = 'plain';
SELECT a.code FROM k, pk_keys.pk_authenticate(k.full_key, '{}') a WHERE k.name = 'everything_wrong';

-- REVOKED, EXPIRED, DISABLED: honoured by the very next call.
SELECT pk_keys.pk_key_revoke((SELECT id FROM k WHERE name = 'revoked'), 'leaked', NULL) AS revoked;
SELECT a.valid, a.code, a.key_id = k.id AS right_key
FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'revoked';
UPDATE pk_keys.api_keys SET expires_at = now() - interval '1 second'
WHERE id = (SELECT id FROM k WHERE name = 'expired');
SELECT a.code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'expired';
-- expires_at = now() is already expired: set and checked in one transaction,
-- so now() is the very same instant (expires_at < now() would say VALID).
BEGIN;
UPDATE pk_keys.api_keys SET expires_at = now() WHERE id = (SELECT id FROM k WHERE name = 'future');
SELECT a.code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'future';
COMMIT;
UPDATE pk_keys.api_keys SET is_active = false WHERE id = (SELECT id FROM k WHERE name = 'inactive');
SELECT a.code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'inactive';
-- An inactive organization disables its keys, and re-activation restores them.
SELECT is_active FROM pk_keys.pk_org_update((SELECT id FROM other_org), '{"is_active": false}');
SELECT a.code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'other_org';
SELECT is_active FROM pk_keys.pk_org_update((SELECT id FROM other_org), '{"is_active": true}');
SELECT a.code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'other_org';

-- Order: REVOKED before EXPIRED before DISABLED before INSUFFICIENT_SCOPE.
UPDATE pk_keys.api_keys SET expires_at = now() - interval '1 day', is_active = false
WHERE id IN (SELECT id FROM k WHERE name IN ('everything_wrong', 'expired_inactive'));
SELECT pk_keys.pk_key_revoke((SELECT id FROM k WHERE name = 'everything_wrong'), 'test', NULL) AS revoked;
SELECT a.code FROM k, pk_keys.pk_authenticate(k.full_key, '{admin}') a WHERE k.name = 'everything_wrong';
SELECT a.code FROM k, pk_keys.pk_authenticate(k.full_key, '{admin}') a WHERE k.name = 'expired_inactive';
UPDATE pk_keys.api_keys SET expires_at = NULL WHERE id = (SELECT id FROM k WHERE name = 'expired_inactive');
SELECT a.code FROM k, pk_keys.pk_authenticate(k.full_key, '{admin}') a WHERE k.name = 'expired_inactive';

-- RATE_LIMITED: the key's own limit of 2 per minute; refusals consume nothing.
SELECT a.code, a.rate_limit, a.rate_limit_remaining
FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'limited';
SELECT a.code, a.rate_limit, a.rate_limit_remaining
FROM k, pk_keys.pk_authenticate(k.full_key, '{admin}') a WHERE k.name = 'limited';
SELECT a.code, a.rate_limit, a.rate_limit_remaining
FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'limited';
SELECT a.valid, a.code, a.rate_limit, a.rate_limit_remaining,
       a.rate_limit_reset > now() AS reset_in_future,
       a.rate_limit_reset <= now() + interval '2 minutes' AS reset_within_two_windows
FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'limited';
-- pk_rate_limit_check over one minute shares pk_authenticate's window.
SELECT allowed, remaining FROM pk_keys.pk_rate_limit_check((SELECT id FROM k WHERE name = 'limited'), 2);
SELECT allowed, remaining FROM pk_keys.pk_rate_limit_check((SELECT id FROM k WHERE name = 'limited'), 3);
SELECT a.code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'limited';

-- USAGE_EXCEEDED: credits are spent by cost; the balance after the spend is returned.
SELECT a.code, a.remaining FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'credits';
SELECT a.code, a.remaining FROM k, pk_keys.pk_authenticate(k.full_key, '{}', 0) a WHERE k.name = 'credits';
SELECT a.code, a.remaining FROM k, pk_keys.pk_authenticate(k.full_key, '{}', 5) a WHERE k.name = 'credits';
SELECT a.code, a.remaining FROM k, pk_keys.pk_authenticate(k.full_key, '{}', 2) a WHERE k.name = 'credits';
SELECT a.valid, a.code, a.remaining FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'credits';
SELECT a.code, a.remaining FROM k, pk_keys.pk_authenticate(k.full_key, '{}', 0) a WHERE k.name = 'credits';
SELECT remaining FROM pk_keys.api_keys WHERE id = (SELECT id FROM k WHERE name = 'credits');
-- A refused call takes no rate-limit slot: USAGE_EXCEEDED left the slot free,
-- RATE_LIMITED comes before USAGE_EXCEEDED.
SELECT a.code, a.remaining FROM k, pk_keys.pk_authenticate(k.full_key, '{}', 2) a WHERE k.name = 'credits_limited';
SELECT a.code, a.remaining FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'credits_limited';
SELECT a.code, a.remaining FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'credits_limited';
SELECT a.code FROM k, pk_keys.pk_authenticate(k.full_key) a WHERE k.name = 'zero_limit';

-- Only VALID calls count, each exactly once (counters that live in shared
-- memory are written first where the implementation has pk_flush).
DO $$ BEGIN
    IF pg_catalog.to_regproc('pk_keys.pk_flush') IS NOT NULL THEN PERFORM pk_keys.pk_flush(); END IF;
END $$;
SELECT k.name, request_count
FROM k JOIN pk_keys.api_keys USING (id)
WHERE k.name IN ('revoked', 'inactive', 'zero_limit', 'limited', 'credits', 'credits_limited', 'plain')
ORDER BY k.name;

-- pk_rate_limit_check on its own: limit per window, cost, check-only.
CREATE TEMP TABLE rl AS SELECT gen_random_uuid() AS id;
SELECT allowed, remaining, reset_at > now() AS reset_in_future
FROM pk_keys.pk_rate_limit_check((SELECT id FROM rl), 3, '1 hour');
SELECT allowed, remaining FROM pk_keys.pk_rate_limit_check((SELECT id FROM rl), 3, '1 hour', 0);
SELECT allowed, remaining FROM pk_keys.pk_rate_limit_check((SELECT id FROM rl), 3, '1 hour', 2);
SELECT allowed, remaining FROM pk_keys.pk_rate_limit_check((SELECT id FROM rl), 3, '1 hour');
SELECT allowed, remaining FROM pk_keys.pk_rate_limit_check((SELECT id FROM rl), 3, '1 hour', 0);
SELECT allowed, remaining, reset_at > now() AS reset_in_future,
       reset_at <= now() + interval '2 hours' AS reset_within_two_windows
FROM pk_keys.pk_rate_limit_check((SELECT id FROM rl), 3, '1 hour');
-- Each window size counts on its own; a limit of 0 admits nothing.
SELECT allowed, remaining FROM pk_keys.pk_rate_limit_check((SELECT id FROM rl), 3, '1 day');
SELECT allowed, remaining FROM pk_keys.pk_rate_limit_check((SELECT id FROM rl), 0, '1 day');

-- Errors: a negative cost or limit is the caller's bug.
SELECT code FROM pk_keys.pk_authenticate((SELECT full_key FROM k WHERE name = 'plain'), '{}', -1);
SELECT code FROM pk_keys.pk_authenticate('garbage', '{}', -1);
SELECT allowed FROM pk_keys.pk_rate_limit_check((SELECT id FROM rl), -1);
SELECT allowed FROM pk_keys.pk_rate_limit_check((SELECT id FROM rl), 3, '1 hour', -1);
SELECT allowed FROM pk_keys.pk_rate_limit_check(NULL, 3);
