-- Organizations and API keys for the benchmark, identical in every database
-- (the extension's and the reference's), inserted directly in bulk.
-- psql variables: nkeys (random-key pool), norgs (organizations, >= 2).
--
-- Everything is deterministic so both databases hold the same rows and
-- pgbench can rebuild any key from its number without a lookup table:
--   organization j : id md5('org' || j)::uuid, enterprise plan (10000/min)
--   key i          : id md5('key' || i)::uuid,
--                    full key 'pk_live_' || lpad(i, 42, '0') || 'A' (valid format),
--                    key_hash = SHA-256 hex of the full key
--   keys 1..1000 belong to organization 1 (the one with the usage history);
--   key nkeys+1 is the hot key, key nkeys+2 the key with credits; both have
--   their own very high rate limit so every call in the run stays VALID.
\set ON_ERROR_STOP 1

INSERT INTO pk_keys.organizations (id, name, slug, email, plan, rate_limit_per_minute)
SELECT md5('org' || j)::uuid, 'Bench org ' || j, 'bench-org-' || j, 'owner' || j || '@bench.example',
       'enterprise', 10000
  FROM generate_series(1, :norgs) AS j;

INSERT INTO pk_keys.api_keys (id, organization_id, name, key_prefix, key_hash, key_hint, environment,
                              scopes, rate_limit_per_minute, remaining)
SELECT md5('key' || i)::uuid,
       md5('org' || CASE WHEN i <= 1000 THEN 1 ELSE 2 + i % (:norgs - 1) END)::uuid,
       'bench key ' || i, 'pk_live_', encode(sha256(convert_to(k.full_key, 'UTF8')), 'hex'),
       right(k.full_key, 4), 'live', '{read,write}',
       CASE WHEN i > :nkeys THEN 2000000000 END,
       CASE WHEN i = :nkeys + 2 THEN 1000000000000000 END
  FROM generate_series(1, :nkeys + 2) AS i,
       LATERAL (SELECT 'pk_live_' || lpad(i::text, 42, '0') || 'A') AS k(full_key);
