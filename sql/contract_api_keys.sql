-- The API key repository through the contract surface only (also run
-- against the plain PL/pgSQL reference in bench/). Generated keys, ids and
-- times are never printed: only booleans, counts and comparisons.
\set VERBOSITY sqlstate

CREATE TEMP TABLE org AS
    SELECT id FROM pk_keys.pk_org_create('Keys Contract Org', 'keys-contract@example.com', 'starter');
CREATE TEMP TABLE other_org AS
    SELECT id FROM pk_keys.pk_org_create('Keys Contract Other', 'keys-contract-other@example.com');

--
-- pk_key_create: the full key is returned once, in the contract's format.
--
CREATE TEMP TABLE k1 AS SELECT * FROM pk_keys.pk_key_create((SELECT id FROM org));
SELECT count(*) AS rows FROM k1;
SELECT id IS NOT NULL AS has_id, key_prefix, environment, expires_at IS NULL AS no_expiry,
       created_at IS NOT NULL AS has_created_at, length(full_key) AS key_length,
       pk_keys.pk_validate_key_format(full_key) AS valid_format,
       left(full_key, 8) = key_prefix AS prefix_matches,
       key_hint = right(full_key, 4) AS hint_is_last_4
FROM k1;
-- The stored row: the hash of the full key, never the key; contract defaults.
SELECT k.organization_id = (SELECT id FROM org) AS right_org, k.name IS NULL AS no_name,
       k.key_prefix, k.key_hash = pk_keys.pk_hash_key(c.full_key) AS hash_matches,
       k.key_hash ~ '^[0-9a-f]{64}$' AS lowercase_hex, k.key_hint = c.key_hint AS hint_matches,
       k.environment, k.scopes, k.is_active, k.expires_at IS NULL AS no_expiry,
       k.last_used_at IS NULL AS never_used, k.request_count, k.rate_limit_per_minute,
       k.remaining, k.metadata, k.created_by IS NULL AS no_creator,
       k.created_at = c.created_at AS same_created_at,
       k.revoked_at IS NULL AND k.revoked_by IS NULL AND k.revoked_reason IS NULL AS not_revoked
FROM pk_keys.api_keys k JOIN k1 c ON c.id = k.id;
-- Every argument, by name.
CREATE TEMP TABLE k2 AS SELECT * FROM pk_keys.pk_key_create(
    org_id => (SELECT id FROM org), name => 'ci deploy', environment => 'test',
    scopes => '{read,write}', expires_at => '2099-01-01 00:00:00+00',
    rate_limit_per_minute => 5, remaining => 100, metadata => '{"team": "ops"}',
    created_by => '11111111-1111-1111-1111-111111111111');
SELECT key_prefix, environment, expires_at = '2099-01-01 00:00:00+00' AS expiry_kept,
       pk_keys.pk_validate_key_format(full_key) AS valid_format, full_key LIKE 'pk\_test\_%' AS test_key
FROM k2;
SELECT k.name, k.key_prefix, k.environment, k.scopes, k.expires_at = '2099-01-01 00:00:00+00' AS expiry_kept,
       k.rate_limit_per_minute, k.remaining, k.metadata, k.created_by,
       pk_keys.pk_verify_key(c.full_key, k.key_hash) AS verifies
FROM pk_keys.api_keys k JOIN k2 c ON c.id = k.id;
-- Zero limits and credits are allowed.
CREATE TEMP TABLE k0 AS
    SELECT id FROM pk_keys.pk_key_create((SELECT id FROM org), rate_limit_per_minute => 0, remaining => 0);
SELECT rate_limit_per_minute, remaining FROM pk_keys.pk_key_get_by_id((SELECT id FROM k0));
-- Two keys never share a full key or a hash.
SELECT (SELECT full_key FROM k1) <> (SELECT full_key FROM k2) AS different_keys,
       (SELECT key_hash FROM pk_keys.api_keys WHERE id = (SELECT id FROM k1))
       <> (SELECT key_hash FROM pk_keys.api_keys WHERE id = (SELECT id FROM k2)) AS different_hashes;
-- The full key is stored nowhere: no column of any contract table holds it.
SELECT
    (SELECT count(*) FROM pk_keys.api_keys t
      WHERE t::text LIKE '%' || (SELECT full_key FROM k1) || '%'
         OR t::text LIKE '%' || (SELECT full_key FROM k2) || '%') AS in_api_keys,
    (SELECT count(*) FROM pk_keys.organizations t
      WHERE t::text LIKE '%' || (SELECT full_key FROM k1) || '%') AS in_organizations,
    (SELECT count(*) FROM pk_keys.api_key_usage t
      WHERE t::text LIKE '%' || (SELECT full_key FROM k1) || '%') AS in_usage,
    (SELECT count(*) FROM pk_keys.rate_limit_tracking t
      WHERE t::text LIKE '%' || (SELECT full_key FROM k1) || '%') AS in_rate_limits;

--
-- pk_key_create errors: nothing is written.
--
CREATE TEMP TABLE key_count AS
    SELECT count(*) AS n FROM pk_keys.api_keys WHERE organization_id = (SELECT id FROM org);
SELECT * FROM pk_keys.pk_key_create(NULL);
SELECT * FROM pk_keys.pk_key_create('00000000-0000-0000-0000-000000000000');
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM org), environment => NULL);
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM org), environment => 'prod');
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM org), environment => 'LIVE');
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM org), environment => ' test');
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM org), environment => '');
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM org), rate_limit_per_minute => -1);
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM org), remaining => -1);
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM org), scopes => NULL);
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM org), metadata => NULL);
SELECT count(*) - (SELECT n FROM key_count) AS keys_written_by_errors
FROM pk_keys.api_keys WHERE organization_id = (SELECT id FROM org);

--
-- Lookups.
--
SELECT k.name, k.environment FROM pk_keys.pk_key_get_by_id((SELECT id FROM k2)) k;
SELECT count(*) AS rows FROM pk_keys.pk_key_get_by_id('00000000-0000-0000-0000-000000000000');
SELECT * FROM pk_keys.pk_key_get_by_id(NULL);
-- By hash: lower or upper case hex; the same row.
SELECT k.id = (SELECT id FROM k2) AS found
FROM pk_keys.pk_key_get_by_hash((SELECT pk_keys.pk_hash_key(full_key) FROM k2)) k;
SELECT k.id = (SELECT id FROM k2) AS found_upper
FROM pk_keys.pk_key_get_by_hash((SELECT upper(pk_keys.pk_hash_key(full_key)) FROM k2)) k;
SELECT count(*) AS rows FROM pk_keys.pk_key_get_by_hash(repeat('0', 64));
SELECT count(*) AS rows FROM pk_keys.pk_key_get_by_hash(repeat('A', 64));
-- Anything that is not 64 hex digits: 22023 (a full key included).
SELECT * FROM pk_keys.pk_key_get_by_hash(repeat('0', 63));
SELECT * FROM pk_keys.pk_key_get_by_hash(repeat('0', 65));
SELECT * FROM pk_keys.pk_key_get_by_hash(repeat('g', 64));
SELECT * FROM pk_keys.pk_key_get_by_hash(' ' || repeat('0', 63));
SELECT * FROM pk_keys.pk_key_get_by_hash('');
SELECT * FROM pk_keys.pk_key_get_by_hash((SELECT full_key FROM k1));
SELECT * FROM pk_keys.pk_key_get_by_hash(NULL);
-- By organization: every key of it, oldest first; none of another's.
SELECT count(*) AS keys, bool_and(organization_id = (SELECT id FROM org)) AS all_of_org
FROM pk_keys.pk_key_get_by_organization((SELECT id FROM org));
WITH l AS (SELECT row_number() OVER () AS n, created_at, id
           FROM pk_keys.pk_key_get_by_organization((SELECT id FROM org)))
SELECT bool_and((a.created_at, a.id) < (b.created_at, b.id)) AS oldest_first
FROM l a JOIN l b ON b.n = a.n + 1;
SELECT count(*) AS keys FROM pk_keys.pk_key_get_by_organization((SELECT id FROM other_org));
SELECT count(*) AS keys FROM pk_keys.pk_key_get_by_organization('00000000-0000-0000-0000-000000000000');
SELECT * FROM pk_keys.pk_key_get_by_organization(NULL);

--
-- pk_key_update_last_used, pk_key_increment_request_count.
--
SELECT pk_keys.pk_key_update_last_used((SELECT id FROM k1));
SELECT last_used_at IS NOT NULL AS used, last_used_at <= now() AS not_in_future
FROM pk_keys.api_keys WHERE id = (SELECT id FROM k1);
SELECT pk_keys.pk_key_update_last_used('00000000-0000-0000-0000-000000000000');
SELECT pk_keys.pk_key_update_last_used(NULL);
SELECT pk_keys.pk_key_increment_request_count((SELECT id FROM k1)) FROM generate_series(1, 5);
SELECT request_count FROM pk_keys.api_keys WHERE id = (SELECT id FROM k1);
SELECT request_count FROM pk_keys.api_keys WHERE id = (SELECT id FROM k2);
SELECT pk_keys.pk_key_increment_request_count('00000000-0000-0000-0000-000000000000');
SELECT pk_keys.pk_key_increment_request_count(NULL);

--
-- pk_key_revoke: true once, then false; reason, who and when; is_active kept.
--
SELECT pk_keys.pk_key_revoke((SELECT id FROM k1), 'leaked in a log', '22222222-2222-2222-2222-222222222222') AS first;
SELECT revoked_at IS NOT NULL AS revoked, revoked_at <= now() AS not_in_future, revoked_reason,
       revoked_by, is_active
FROM pk_keys.api_keys WHERE id = (SELECT id FROM k1);
CREATE TEMP TABLE revoked_once AS SELECT * FROM pk_keys.api_keys WHERE id = (SELECT id FROM k1);
SELECT pk_keys.pk_key_revoke((SELECT id FROM k1), 'again', '33333333-3333-3333-3333-333333333333') AS second;
-- The second revoke changed nothing.
SELECT k.revoked_at = r.revoked_at AS same_time, k.revoked_reason, k.revoked_by
FROM pk_keys.api_keys k, revoked_once r WHERE k.id = r.id;
-- Reason and revoker may be NULL.
SELECT pk_keys.pk_key_revoke((SELECT id FROM k2), NULL, NULL) AS anonymous;
SELECT revoked_at IS NOT NULL AS revoked, revoked_reason IS NULL AS no_reason,
       revoked_by IS NULL AS no_revoker, is_active
FROM pk_keys.api_keys WHERE id = (SELECT id FROM k2);
SELECT pk_keys.pk_key_revoke('00000000-0000-0000-0000-000000000000', 'x', NULL);
SELECT pk_keys.pk_key_revoke(NULL, 'x', NULL);

--
-- pk_key_delete_expired: keys with expires_at <= now() go, usage stays.
--
CREATE TEMP TABLE exp AS SELECT 'past'::text AS kind, id
    FROM pk_keys.pk_key_create((SELECT id FROM other_org), expires_at => now() - interval '1 hour');
INSERT INTO exp SELECT 'now', id
    FROM pk_keys.pk_key_create((SELECT id FROM other_org), expires_at => now());
INSERT INTO exp SELECT 'future', id
    FROM pk_keys.pk_key_create((SELECT id FROM other_org), expires_at => now() + interval '1 hour');
INSERT INTO exp SELECT 'never', id
    FROM pk_keys.pk_key_create((SELECT id FROM other_org));
SELECT count(*) AS usage_rows FROM (
    SELECT pk_keys.pk_usage_create(id, '/v1/expired', occurred_at => '2024-05-05 12:00:00+00')
    FROM exp WHERE kind = 'past') x;
-- Every expired key in the database goes (other tests may have some): at
-- least the two of this file.
SELECT pk_keys.pk_key_delete_expired() >= 2 AS deleted_at_least_two;
SELECT e.kind, k.id IS NOT NULL AS still_there
FROM exp e LEFT JOIN pk_keys.api_keys k ON k.id = e.id ORDER BY e.kind;
SELECT pk_keys.pk_key_delete_expired() AS deleted_again;
-- The deleted key's usage row is still there, under its organization.
SELECT count(*) AS usage_rows, bool_and(organization_id = (SELECT id FROM other_org)) AS right_org
FROM pk_keys.pk_usage_get_by_key((SELECT id FROM exp WHERE kind = 'past'), '-infinity', 'infinity');
SELECT count(*) AS usage_rows FROM pk_keys.api_key_usage WHERE api_key_id = (SELECT id FROM exp WHERE kind = 'past');
-- Operations on a deleted key: P0002.
SELECT pk_keys.pk_key_revoke((SELECT id FROM exp WHERE kind = 'past'), 'x', NULL);
SELECT pk_keys.pk_key_update_last_used((SELECT id FROM exp WHERE kind = 'now'));
SELECT count(*) AS rows FROM pk_keys.pk_key_get_by_id((SELECT id FROM exp WHERE kind = 'past'));
