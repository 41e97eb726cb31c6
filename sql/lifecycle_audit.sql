-- The audit log (one entry per change, same transaction, never a key or a
-- hash, append-only, pk_audit_get), leak reports and key imports.
\set VERBOSITY terse
CREATE FUNCTION pg_temp.err(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g');
END $$;
CREATE TEMP TABLE o AS SELECT id FROM pk_keys.pk_org_create('Audit Org', 'audit@example.com');
CREATE TEMP TABLE k AS SELECT id, full_key FROM pk_keys.pk_key_create((SELECT id FROM o), 'audited',
    remaining => 5, created_by => '00000000-0000-0000-0000-0000000000aa');
SELECT count(*) AS updated FROM pk_keys.pk_org_update((SELECT id FROM o), '{"plan": "pro"}');
SELECT count(*) AS updated FROM pk_keys.pk_key_update((SELECT id FROM k), '{"name": "renamed", "scopes": ["read"]}');
SELECT pk_keys.pk_key_add_credits((SELECT id FROM k), 3);
CREATE TEMP TABLE r AS SELECT * FROM pk_keys.pk_key_rotate((SELECT id FROM k), '1 hour', '00000000-0000-0000-0000-0000000000bb');
SELECT pk_keys.pk_key_revoke((SELECT id FROM r), 'done', '00000000-0000-0000-0000-0000000000cc');
SELECT pk_keys.pk_key_revoke((SELECT id FROM r), 'again', NULL) AS second_revoke;
-- One entry per change, oldest first, with actor, role, transaction id.
SELECT action, actor, db_role = session_user AS role_recorded, txid > 0 AS has_txid,
       target_id = (SELECT id FROM k) AS on_old_key, target_id = (SELECT id FROM r) AS on_new_key,
       target_id = (SELECT id FROM o) AS on_org
FROM pk_keys.pk_audit_get((SELECT id FROM o), now() - interval '1 hour', now() + interval '1 hour');
-- Changes hold old and new values of what changed.
SELECT action, changes - 'updated_at' AS changes FROM pk_keys.audit_log
WHERE organization_id = (SELECT id FROM o) AND action IN ('org.update', 'key.update', 'key.add_credits');
SELECT changes->'remaining' AS remaining, changes->'name' AS name, changes ? 'key_hash' AS has_hash
FROM pk_keys.audit_log WHERE organization_id = (SELECT id FROM o) AND action = 'key.create';
-- Never a key or a hash anywhere in the log.
SELECT count(*) AS entries_with_secrets FROM pk_keys.audit_log a, pk_keys.api_keys x
WHERE x.organization_id = (SELECT id FROM o)
  AND (a.changes::text LIKE '%' || x.key_hash || '%'
       OR a.changes::text LIKE '%' || (SELECT full_key FROM k) || '%'
       OR a.changes::text LIKE '%' || (SELECT full_key FROM r) || '%');
-- A rolled-back change leaves no entry.
SELECT count(*) AS n FROM pk_keys.audit_log \gset before_
BEGIN;
SELECT pk_keys.pk_key_add_credits((SELECT id FROM r), 1);
ROLLBACK;
SELECT count(*) - :before_n AS after_rollback FROM pk_keys.audit_log;
-- A failed call leaves none either.
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_add_credits(%L, -100)', (SELECT id FROM r)));
SELECT count(*) - :before_n AS after_error FROM pk_keys.audit_log;
-- pk_audit_get: [start, end), at most 3660 days, finite, not reversed.
SELECT count(*) AS empty_range FROM pk_keys.pk_audit_get((SELECT id FROM o), now() + interval '1 hour', now() + interval '2 hours');
SELECT count(*) AS up_to_3660_days FROM pk_keys.pk_audit_get((SELECT id FROM o), now() - interval '3000 days', now() + interval '660 days');
SELECT pg_temp.err($$SELECT pk_keys.pk_audit_get(gen_random_uuid(), now(), now() + interval '3660 days 1 second')$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_audit_get(gen_random_uuid(), now(), now() - interval '1 second')$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_audit_get(gen_random_uuid(), '-infinity', now())$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_audit_get(NULL, now(), now())$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_audit_get(gen_random_uuid(), now(), NULL)$$);
-- Append-only: a role given UPDATE/DELETE/TRUNCATE by mistake is still
-- refused; the owner may (retention).
CREATE ROLE regress_pk_auditor;
GRANT USAGE ON SCHEMA pk_keys TO regress_pk_auditor;
GRANT SELECT, UPDATE, DELETE, TRUNCATE ON pk_keys.audit_log TO regress_pk_auditor;
SET ROLE regress_pk_auditor;
SELECT pg_temp.err($$UPDATE pk_keys.audit_log SET action = 'forged'$$);
SELECT pg_temp.err($$DELETE FROM pk_keys.audit_log$$);
SELECT pg_temp.err($$TRUNCATE pk_keys.audit_log$$);
RESET ROLE;
SELECT count(*) FILTER (WHERE action = 'forged') AS forged FROM pk_keys.audit_log;
REVOKE ALL ON pk_keys.audit_log FROM regress_pk_auditor;
REVOKE ALL ON SCHEMA pk_keys FROM regress_pk_auditor;
DROP ROLE regress_pk_auditor;
-- Without any GRANT nobody but the owner reads it.
CREATE ROLE regress_pk_nobody;
SET ROLE regress_pk_nobody;
SELECT pg_temp.err($$SELECT * FROM pk_keys.audit_log$$);
SELECT pg_temp.err($$SELECT * FROM pk_keys.pk_audit_get(gen_random_uuid(), now(), now())$$);
RESET ROLE;
DROP ROLE regress_pk_nobody;

--
-- pk_key_report_leak
--
CREATE TEMP TABLE lk AS SELECT id, full_key FROM pk_keys.pk_key_create((SELECT id FROM o), 'leaky');
SELECT key_id = (SELECT id FROM lk) AS right_key, organization_id = (SELECT id FROM o) AS right_org, revoked
FROM pk_keys.pk_key_report_leak((SELECT full_key FROM lk), 'github.com/acme/app');
SELECT revoked_reason, revoked_at IS NOT NULL AS revoked FROM pk_keys.api_keys WHERE id = (SELECT id FROM lk);
SELECT code FROM lk, pk_keys.pk_authenticate(lk.full_key);
-- Reported again: already revoked (false), still an event.
SELECT revoked FROM pk_keys.pk_key_report_leak((SELECT full_key FROM lk));
SELECT kind, payload FROM pk_keys.events WHERE api_key_id = (SELECT id FROM lk) ORDER BY id;
SELECT action, changes - 'revoked_at' AS changes, changes ? 'revoked_at' AS has_revoked_at
FROM pk_keys.audit_log WHERE target_id = (SELECT id FROM lk) AND action <> 'key.create' ORDER BY id;
-- Unknown or malformed keys: no row, nothing written.
SELECT count(*) AS n FROM pk_keys.events \gset ev_
SELECT count(*) AS unknown FROM pk_keys.pk_key_report_leak('pk_live_' || repeat('A', 42) || 'E', 'pastebin');
SELECT count(*) AS malformed FROM pk_keys.pk_key_report_leak('not a key at all', 'pastebin');
SELECT count(*) - :ev_n AS new_events FROM pk_keys.events;
SELECT pg_temp.err($$SELECT pk_keys.pk_key_report_leak(NULL)$$);
-- A long source is cut, never an error (an error would log the key).
CREATE TEMP TABLE lk3 AS SELECT id, full_key FROM pk_keys.pk_key_create((SELECT id FROM o), 'leaky3');
SELECT revoked FROM pk_keys.pk_key_report_leak((SELECT full_key FROM lk3), repeat('s', 300));
SELECT revoked_reason = 'leaked: ' || repeat('s', 200) AS cut_to_200 FROM pk_keys.api_keys WHERE id = (SELECT id FROM lk3);
-- A leaked key without a source: reason 'leaked'.
CREATE TEMP TABLE lk2 AS SELECT id, full_key FROM pk_keys.pk_key_create((SELECT id FROM o), 'leaky2');
SELECT revoked FROM pk_keys.pk_key_report_leak((SELECT full_key FROM lk2));
SELECT revoked_reason FROM pk_keys.api_keys WHERE id = (SELECT id FROM lk2);
-- The scanner regex of the README matches every key made here.
SELECT bool_and(full_key ~ '^pk_(live|test)_[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$') AS regex_matches
FROM (SELECT full_key FROM k UNION ALL SELECT full_key FROM r UNION ALL SELECT full_key FROM lk) x;

--
-- pk_key_import: a key made elsewhere authenticates without being reissued.
--
CREATE TEMP TABLE ext AS SELECT 'pk_test_' || rtrim(translate(encode(sha256('made elsewhere'), 'base64'), '+/', '-_'), '=') AS full_key;
SELECT pk_keys.pk_validate_key_format(full_key) AS well_formed FROM ext;
CREATE TEMP TABLE imp AS SELECT * FROM pk_keys.pk_key_import((SELECT id FROM o),
    upper(encode(sha256(convert_to((SELECT full_key FROM ext), 'UTF8')), 'hex')), 'pk_test_',
    right((SELECT full_key FROM ext), 4), 'imported', 'test', '{read}', now() + interval '1 day', 7, '{"from": "legacy"}');
SELECT name, environment, scopes, remaining, metadata, key_hash = pk_keys.pk_hash_key((SELECT full_key FROM ext)) AS lower_hash,
       key_hint = right((SELECT full_key FROM ext), 4) AS hint
FROM imp;
SELECT code, remaining, scopes FROM ext, pk_keys.pk_authenticate(ext.full_key, '{read}');
SELECT action FROM pk_keys.audit_log WHERE target_id = (SELECT id FROM imp);
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_import(%L, %L, %L, %L)', (SELECT id FROM o),
    pk_keys.pk_hash_key((SELECT full_key FROM ext)), 'pk_test_', 'abcd')) || ' (environment live by default)';
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_import(%L, %L, %L, %L, environment => %L)', (SELECT id FROM o),
    pk_keys.pk_hash_key((SELECT full_key FROM ext)), 'pk_test_', 'abcd', 'test'));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_import(%L, %L, %L, %L)', (SELECT id FROM o), 'abc', 'pk_live_', 'abcd'));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_import(%L, %L, %L, %L)', (SELECT id FROM o), repeat('g', 64), 'pk_live_', 'abcd'));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_import(%L, %L, %L, %L)', (SELECT id FROM o), repeat('a', 64), 'pk_prod_', 'abcd'));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_import(%L, %L, %L, %L)', (SELECT id FROM o), repeat('a', 64), 'pk_live_', 'abc'));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_import(%L, NULL, %L, %L)', (SELECT id FROM o), 'pk_live_', 'abcd'));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_import(%L, %L, %L, %L, remaining => -1)', (SELECT id FROM o), repeat('a', 64), 'pk_live_', 'abcd'));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_import(%L, %L, %L, %L, scopes => %L)', (SELECT id FROM o), repeat('a', 64), 'pk_live_', 'abcd', '{""}'));
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_import(%L, %L, %L, %L)', gen_random_uuid(), repeat('a', 64), 'pk_live_', 'abcd'));
CREATE TEMP TABLE off_org AS SELECT id FROM pk_keys.pk_org_create('Inactive Org', 'inactive@example.com');
SELECT count(*) AS deactivated FROM pk_keys.pk_org_update((SELECT id FROM off_org), '{"is_active": false}');
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_import(%L, %L, %L, %L)', (SELECT id FROM off_org), repeat('a', 64), 'pk_live_', 'abcd'));
-- The error messages never carry the hash.
SELECT pg_temp.err(format('SELECT pk_keys.pk_key_import(%L, %L, %L, %L, environment => %L)', (SELECT id FROM o),
    pk_keys.pk_hash_key((SELECT full_key FROM ext)), 'pk_test_', 'abcd', 'test'))
    LIKE '%' || pk_keys.pk_hash_key((SELECT full_key FROM ext)) || '%' AS hash_in_message;

--
-- pk_key_import_table: a staging table in one statement.
--
CREATE TEMP TABLE staging AS
    SELECT (SELECT id FROM o) AS organization_id, encode(sha256(('staged ' || g)::bytea), 'hex') AS key_hash,
           'pk_live_'::text AS key_prefix, 'st' || lpad((g % 100)::text, 2, '0') AS key_hint,
           'staged ' || g AS name, ARRAY['read'] AS scopes, g::bigint AS remaining
    FROM generate_series(1, 1000) g;
SELECT pk_keys.pk_key_import_table('staging') AS imported;
SELECT count(*) AS keys, sum(remaining) AS credits, bool_and(environment = 'live') AS live,
       bool_and(metadata = '{}') AS default_metadata
FROM pk_keys.api_keys WHERE name LIKE 'staged %';
SELECT changes FROM pk_keys.audit_log WHERE action = 'key.import' AND target_id IS NULL;
-- All or nothing: a duplicate, a bad row or a bad organization imports none.
SELECT pg_temp.err($$SELECT pk_keys.pk_key_import_table('staging')$$);
UPDATE staging SET key_hash = encode(sha256(('restaged ' || key_hash)::bytea), 'hex');
UPDATE staging SET key_hint = 'toolong' WHERE remaining = 500;
SELECT pg_temp.err($$SELECT pk_keys.pk_key_import_table('staging')$$);
UPDATE staging SET key_hint = 'ok00', key_hash = 'xyz' WHERE remaining = 500;
SELECT pg_temp.err($$SELECT pk_keys.pk_key_import_table('staging')$$);
UPDATE staging SET key_hash = encode(sha256('x'::bytea), 'hex') WHERE remaining = 500;
UPDATE staging SET organization_id = (SELECT id FROM off_org) WHERE remaining = 7;
SELECT pg_temp.err($$SELECT pk_keys.pk_key_import_table('staging')$$);
UPDATE staging SET organization_id = gen_random_uuid() WHERE remaining = 7;
SELECT pg_temp.err($$SELECT pk_keys.pk_key_import_table('staging')$$);
SELECT count(*) AS still_1000 FROM pk_keys.api_keys WHERE name LIKE 'staged %';
CREATE TEMP TABLE bad_shape (organization_id uuid, key_hash text);
SELECT pg_temp.err($$SELECT pk_keys.pk_key_import_table('bad_shape')$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_key_import_table(NULL)$$);
