-- pk_key_rotate: the new key, the old key's grace period, one balance
-- spent by both keys, and the 55000 / P0002 / 22023 cases.
\set VERBOSITY terse
CREATE FUNCTION pg_temp.err(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g');
END $$;
-- Every key here allows 10.0.0.0/8 only: calls come from 10.1.2.3.
CREATE FUNCTION pg_temp.auth(k text, cost integer DEFAULT 1) RETURNS TABLE (code text, remaining bigint)
LANGUAGE sql AS $$
    SELECT a.code, a.remaining FROM pk_keys.pk_authenticate_request(k, '{}', cost, '10.1.2.3') a
$$;
CREATE TEMP TABLE o AS SELECT id FROM pk_keys.pk_org_create('Rotate Org', 'rotate@example.com');
CREATE TEMP TABLE old AS SELECT id, full_key FROM pk_keys.pk_key_create((SELECT id FROM o), 'svc',
    environment => 'test', scopes => '{read,write}', expires_at => now() + interval '90 days',
    rate_limit_per_minute => 33, remaining => 10, metadata => '{"team": "core"}',
    refill_amount => 10, refill_interval => 'month', refill_day => 31, refill_mode => 'add');
UPDATE pk_keys.api_keys SET allowed_ips = '{10.0.0.0/8}' WHERE id = (SELECT id FROM old);
SELECT a.* FROM old, pg_temp.auth(old.full_key) a;

BEGIN;
CREATE TEMP TABLE r AS SELECT * FROM pk_keys.pk_key_rotate((SELECT id FROM old), '1 hour');
-- The result: the new key, seen once, in the old key's environment.
SELECT count(*) AS rows, bool_and(pk_keys.pk_validate_key_format(full_key)) AS valid_format,
       bool_and(left(full_key, 8) = key_prefix AND key_prefix = 'pk_test_') AS prefix,
       bool_and(key_hint = right(full_key, 4)) AS hint, bool_and(environment = 'test') AS env,
       bool_and(expires_at = (SELECT expires_at FROM pk_keys.api_keys WHERE id = (SELECT id FROM old))
                OR expires_at > now() + interval '89 days') AS keeps_expiry,
       bool_and(old_key_expires_at = now() + interval '1 hour') AS grace_end,
       bool_and(id <> (SELECT id FROM old)) AS new_id
FROM r;
-- The new key copies the old one's settings and names it in rotated_from.
SELECT n.organization_id = o.organization_id AS same_org, n.name, n.environment, n.scopes,
       n.rate_limit_per_minute, n.metadata, n.allowed_ips, n.refill_amount, n.refill_interval,
       n.refill_day, n.refill_mode, n.expires_at = o.expires_at + interval '0' OR n.expires_at > o.expires_at AS expiry_kept,
       n.rotated_from = o.id AS rotated_from, n.key_hash = pk_keys.pk_hash_key(r.full_key) AS hash,
       o.expires_at = r.old_key_expires_at AS old_expires, o.balance_key_id = n.id AS old_points_to_new
FROM r JOIN pk_keys.api_keys n ON n.id = r.id JOIN pk_keys.api_keys o ON o.id = n.rotated_from;
COMMIT;
-- One balance: both keys report it and spend it.
SELECT g.id = (SELECT id FROM old) AS is_old, g.remaining
FROM pk_keys.pk_key_get_by_organization((SELECT id FROM o)) g ORDER BY 1;
SELECT a.* FROM old, pg_temp.auth(old.full_key) a;
SELECT a.* FROM r, pg_temp.auth(r.full_key) a;
SELECT a.* FROM old, pg_temp.auth(old.full_key, 5) a;
SELECT a.* FROM r, pg_temp.auth(r.full_key, 3) a;
SELECT a.* FROM old, pg_temp.auth(old.full_key) a;
SELECT a.* FROM r, pg_temp.auth(r.full_key) a;
-- Credits added through the old key land in the one balance.
SELECT pk_keys.pk_key_add_credits((SELECT id FROM old), 4) AS via_old;
SELECT remaining FROM pk_keys.pk_key_get_by_id((SELECT id FROM r));
SELECT a.* FROM r, pg_temp.auth(r.full_key, 4) a;
SELECT a.* FROM old, pg_temp.auth(old.full_key) a;
-- The old key's own row holds nothing: no credits were duplicated.
SELECT remaining AS old_row FROM pk_keys.api_keys WHERE id = (SELECT id FROM old);
-- Its balance and refills are changed on the new key.
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_update(%L, %L)', (SELECT id FROM old), '{"remaining": 5}'));
SELECT name FROM pk_keys.pk_key_update((SELECT id FROM old), '{"name": "svc (old)"}');
-- Rotating the old key again → 55000; rotating the new key moves the one
-- balance on, and the first key follows it.
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_rotate(%L)', (SELECT id FROM old)));
SELECT pk_keys.pk_key_add_credits((SELECT id FROM r), 6) AS before_second;
CREATE TEMP TABLE r2 AS SELECT * FROM pk_keys.pk_key_rotate((SELECT id FROM r), '2 hours');
SELECT count(*) AS chain, count(*) FILTER (WHERE balance_key_id = (SELECT id FROM r2)) AS pointing_to_newest
FROM pk_keys.api_keys WHERE organization_id = (SELECT id FROM o);
SELECT a.* FROM old, pg_temp.auth(old.full_key) a;
SELECT a.* FROM r, pg_temp.auth(r.full_key) a;
SELECT a.* FROM r2, pg_temp.auth(r2.full_key) a;
-- The grace period ends at LEAST(expires_at, now() + grace).
CREATE TEMP TABLE soon AS SELECT id, full_key FROM pk_keys.pk_key_create((SELECT id FROM o), 'soon',
    expires_at => now() + interval '10 minutes');
SELECT old_key_expires_at = (SELECT expires_at FROM pk_keys.api_keys WHERE id = (SELECT id FROM soon)) AS least_kept,
       old_key_expires_at = expires_at AS new_same_expiry, old_key_expires_at < now() + interval '11 minutes' AS within_10_minutes
FROM pk_keys.pk_key_rotate((SELECT id FROM soon), '1 day');
-- grace 0: the old key is EXPIRED from the next call; the new one works.
CREATE TEMP TABLE z AS SELECT id, full_key FROM pk_keys.pk_key_create((SELECT id FROM o), 'zero');
BEGIN;
CREATE TEMP TABLE zr AS SELECT * FROM pk_keys.pk_key_rotate((SELECT id FROM z), '0');
SELECT old_key_expires_at = now() AS expires_now FROM zr;
COMMIT;
SELECT code FROM z, pk_keys.pk_authenticate(z.full_key);
SELECT code, remaining IS NULL AS unlimited FROM zr, pk_keys.pk_authenticate(zr.full_key);
-- Errors: 55000 revoked / expired, P0002, 22023 grace, 22004.
CREATE TEMP TABLE rv AS SELECT id FROM pk_keys.pk_key_create((SELECT id FROM o), 'revoked');
SELECT pk_keys.pk_key_revoke((SELECT id FROM rv), 'test', NULL);
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_rotate(%L)', (SELECT id FROM rv)));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_rotate(%L)', (SELECT id FROM z)));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_rotate(%L, %L)', (SELECT id FROM r2), '-1 second'));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_rotate(%L, %L)', (SELECT id FROM r2), '30 days 1 second'));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_rotate(%L, NULL)', (SELECT id FROM r2)));
SELECT pg_temp.err($$SELECT pk_keys.pk_key_rotate('00000000-0000-0000-0000-000000000000')$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_key_rotate(NULL)$$);
-- 30 days is allowed; the failures above wrote nothing.
BEGIN;
SELECT old_key_expires_at = now() + interval '30 days' AS thirty_days
FROM pk_keys.pk_key_rotate((SELECT id FROM r2), '30 days');
COMMIT;
SELECT count(*) AS keys FROM pk_keys.api_keys WHERE organization_id = (SELECT id FROM o);
-- Events and audit entries of the rotations.
SELECT count(*) AS rotated_events FROM pk_keys.events
WHERE kind = 'key.rotated' AND organization_id = (SELECT id FROM o);
SELECT count(*) AS rotate_entries, bool_and(changes ? 'new_key_id') AS names_new_key
FROM pk_keys.audit_log WHERE action = 'key.rotate' AND organization_id = (SELECT id FROM o);
