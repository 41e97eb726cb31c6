-- The key of the request-check metric (key number :req, organization 2):
-- a two-range allowlist and two named limits too large to refuse anything.
\set ON_ERROR_STOP 1
INSERT INTO pk_keys.api_keys (id, organization_id, name, key_prefix, key_hash, key_hint, environment,
                              scopes, rate_limit_per_minute, allowed_ips)
SELECT md5('key' || :req)::uuid, md5('org2')::uuid, 'bench request key', 'pk_live_',
       encode(sha256(convert_to(k.full_key, 'UTF8')), 'hex'), right(k.full_key, 4), 'live', '{read,write}',
       2000000000, '{192.168.0.0/16,10.0.0.0/8}'
  FROM (SELECT 'pk_live_' || lpad(:req::text, 42, '0') || 'A') AS k(full_key);
SELECT (pk_keys.pk_limit_set(md5('org2')::uuid, 'tokens', 2000000000, '1 minute', md5('key' || :req)::uuid)).id;
SELECT (pk_keys.pk_limit_set(md5('org2')::uuid, 'pool', 2000000000, '1 minute', algorithm => 'fixed')).id;
