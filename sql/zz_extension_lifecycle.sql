-- The installed objects, then DROP EXTENSION and CREATE EXTENSION again in
-- the same session. Named to run last: it drops everything the other tests
-- use. Only booleans, counts and names are printed.
\set VERBOSITY terse

--
-- What CREATE EXTENSION installed.
--
SELECT e.extname, e.extversion, e.extrelocatable, n.nspname AS schema
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = 'pk_keys';
-- The four contract tables exist, and pg_dump keeps their rows: each is in
-- extconfig (the usage store may register more tables than these).
SELECT t AS contract_table,
       to_regclass('pk_keys.' || t) IS NOT NULL AS exists,
       to_regclass('pk_keys.' || t) IN (SELECT unnest(extconfig) FROM pg_extension
                                         WHERE extname = 'pk_keys') AS in_extconfig
FROM unnest(ARRAY['api_key_usage', 'api_keys', 'organizations', 'rate_limit_tracking']) AS t
ORDER BY t;
-- Every table and sequence that is a member of the extension is registered
-- (a member table left out would lose its rows in a dump).
SELECT c.relname AS member_not_in_extconfig
FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e'
  AND d.refclassid = 'pg_extension'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pk_keys')
  AND c.relkind IN ('r', 'p', 'S')
  AND c.oid NOT IN (SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'pk_keys')
ORDER BY 1;
-- Every member object lives in schema pk_keys.
SELECT count(*) AS members_outside_schema
FROM pg_depend d
LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
LEFT JOIN pg_type t ON d.classid = 'pg_type'::regclass AND t.oid = d.objid
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pk_keys')
  AND COALESCE(c.relnamespace, p.pronamespace, t.typnamespace) <> 'pk_keys'::regnamespace;
-- Every function of the contract: its arguments (names and types in order,
-- more optional ones allowed), how many of them are required, its result
-- (more TABLE columns allowed) and its security: the pure functions are
-- executable by PUBLIC, every other one is SECURITY DEFINER with a pinned
-- search_path and not executable by PUBLIC.
WITH contract(fn, args, required, result) AS (VALUES
    ('pk_generate_key', 'environment text', 0,
     '^TABLE\(full_key text, key_hash text, key_hint text, key_prefix text[),]'),
    ('pk_validate_key_format', 'key text', 1, '^boolean$'),
    ('pk_hash_key', 'key text', 1, '^text$'),
    ('pk_verify_key', 'key text, key_hash text', 2, '^boolean$'),
    ('pk_org_get_by_id', 'org_id uuid', 1, '^SETOF pk_keys\.organizations$'),
    ('pk_org_get_by_slug', 'slug text', 1, '^SETOF pk_keys\.organizations$'),
    ('pk_org_get_by_email', 'email text', 1, '^SETOF pk_keys\.organizations$'),
    ('pk_org_create', 'name text, email text, plan text, slug text', 2,
     '^(SETOF )?pk_keys\.organizations$'),
    ('pk_org_update', 'org_id uuid, changes jsonb', 2, '^(SETOF )?pk_keys\.organizations$'),
    ('pk_org_get_all', 'lim integer, off integer', 0, '^SETOF pk_keys\.organizations$'),
    ('pk_key_get_by_id', 'key_id uuid', 1, '^SETOF pk_keys\.api_keys$'),
    ('pk_key_get_by_hash', 'key_hash text', 1, '^SETOF pk_keys\.api_keys$'),
    ('pk_key_get_by_organization', 'org_id uuid', 1, '^SETOF pk_keys\.api_keys$'),
    ('pk_key_create',
     'org_id uuid, name text, environment text, scopes text[], expires_at timestamp with time zone, '
     'rate_limit_per_minute integer, remaining bigint, metadata jsonb, created_by uuid', 1,
     '^TABLE\(id uuid, full_key text, key_prefix text, key_hint text, environment text, '
     'expires_at timestamp with time zone, created_at timestamp with time zone[),]'),
    ('pk_key_update_last_used', 'key_id uuid', 1, '^void$'),
    ('pk_key_increment_request_count', 'key_id uuid', 1, '^void$'),
    ('pk_key_revoke', 'key_id uuid, reason text, revoked_by uuid', 3, '^boolean$'),
    ('pk_key_delete_expired', '', 0, '^integer$'),
    ('pk_usage_create',
     'key_id uuid, endpoint text, method text, status_code integer, response_time_ms integer, '
     'ip_address inet, user_agent text, occurred_at timestamp with time zone', 2,
     '^(SETOF )?pk_keys\.api_key_usage$'),
    ('pk_usage_get_by_key',
     'key_id uuid, start_date timestamp with time zone, end_date timestamp with time zone', 3,
     '^SETOF pk_keys\.api_key_usage$'),
    ('pk_usage_get_by_organization',
     'org_id uuid, start_date timestamp with time zone, end_date timestamp with time zone', 3,
     '^SETOF pk_keys\.api_key_usage$'),
    ('pk_usage_get_summary', 'org_id uuid, month date', 2, '^jsonb$'),
    ('pk_usage_get_daily_stats', 'org_id uuid, start_date date, end_date date', 3,
     '^TABLE\(day date, total_requests bigint, successful_requests bigint, failed_requests bigint, '
     'avg_response_time_ms double precision, unique_keys bigint[),]'),
    ('pk_authenticate', 'key text, required_scopes text[], cost integer', 1,
     '^TABLE\(valid boolean, code text, key_id uuid, organization_id uuid, environment text, '
     'scopes text\[\], remaining bigint, rate_limit integer, rate_limit_remaining integer, '
     'rate_limit_reset timestamp with time zone[),]'),
    ('pk_rate_limit_check', 'key_id uuid, lim integer, window_size interval, cost integer', 2,
     '^TABLE\(allowed boolean, remaining integer, reset_at timestamp with time zone[),]')
), actual AS (
    SELECT c.fn,
           bool_or((pg_get_function_identity_arguments(p.oid) = c.args
                    OR pg_get_function_identity_arguments(p.oid) LIKE c.args || ', %')
                   AND p.pronargs - p.pronargdefaults <= c.required
                   AND pg_get_function_result(p.oid) ~ c.result) AS signature,
           bool_and(CASE WHEN c.fn IN ('pk_generate_key', 'pk_validate_key_format',
                                       'pk_hash_key', 'pk_verify_key')
                         THEN has_function_privilege('public', p.oid, 'EXECUTE')
                         ELSE p.prosecdef
                              AND EXISTS (SELECT FROM unnest(p.proconfig) AS s
                                          WHERE s LIKE 'search\_path=%')
                              AND NOT has_function_privilege('public', p.oid, 'EXECUTE')
                    END) AS secure,
           count(p.oid) AS overloads
    FROM contract c
    LEFT JOIN pg_proc p ON p.proname = c.fn AND p.pronamespace = 'pk_keys'::regnamespace
    GROUP BY c.fn
)
SELECT fn AS function, overloads > 0 AS exists, signature, secure
FROM actual ORDER BY fn;

--
-- Use it once, so that per-backend caches (plans, OIDs) are warm before
-- the extension goes away under them.
--
INSERT INTO pk_keys.organizations (name, slug, email)
VALUES ('Lifecycle', 'regress-lifecycle', 'lifecycle@example.com');
CREATE TEMP TABLE lifecycle_key AS SELECT * FROM pk_keys.pk_generate_key('test');
INSERT INTO pk_keys.api_keys (organization_id, key_prefix, key_hash, key_hint, environment)
SELECT o.id, k.key_prefix, k.key_hash, k.key_hint, 'test'
FROM pk_keys.organizations o, lifecycle_key k WHERE o.slug = 'regress-lifecycle';
SELECT valid, code FROM pk_keys.pk_authenticate((SELECT full_key FROM lifecycle_key));

-- A DROP rolled back changes nothing.
BEGIN;
DROP EXTENSION pk_keys;
SELECT count(*) AS extensions, to_regclass('pk_keys.api_keys') AS api_keys
FROM pg_extension WHERE extname = 'pk_keys';
ROLLBACK;
SELECT valid, code FROM pk_keys.pk_authenticate((SELECT full_key FROM lifecycle_key));
SELECT pk_keys.pk_validate_key_format(full_key) AS valid_format FROM lifecycle_key;

-- The schema is fixed.
ALTER EXTENSION pk_keys SET SCHEMA public;

--
-- DROP EXTENSION removes everything.
--
SELECT count(*) AS roles_before FROM pg_roles \gset
DROP EXTENSION pk_keys;
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'pk_keys';
-- CREATE EXTENSION makes the schema named in the control file before it runs
-- the script, outside the extension (PostgreSQL refuses to add it to the
-- extension later), so the schema stays behind, empty.
SELECT count(*) AS schemas FROM pg_namespace WHERE nspname = 'pk_keys';
SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'pk_keys'::regnamespace) AS relations,
       (SELECT count(*) FROM pg_proc WHERE pronamespace = 'pk_keys'::regnamespace) AS functions,
       (SELECT count(*) FROM pg_type WHERE typnamespace = 'pk_keys'::regnamespace) AS types,
       (SELECT count(*) FROM pg_operator WHERE oprnamespace = 'pk_keys'::regnamespace) AS operators,
       (SELECT count(*) FROM pg_collation WHERE collnamespace = 'pk_keys'::regnamespace) AS collations;
SELECT count(*) AS pk_functions
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.proname LIKE 'pk\_%' AND n.nspname NOT LIKE 'pg\_temp\_%';
SELECT t AS contract_table, to_regclass('pk_keys.' || t) AS regclass,
       (SELECT count(*) FROM pg_class c WHERE c.relname = t) AS relations_named_so
FROM unnest(ARRAY['api_key_usage', 'api_keys', 'organizations', 'rate_limit_tracking']) AS t
ORDER BY t;
-- Nothing is left in a schema that no longer exists, and nothing still
-- depends on an extension that no longer exists.
SELECT (SELECT count(*) FROM pg_class WHERE relnamespace NOT IN (SELECT oid FROM pg_namespace)) AS orphan_relations,
       (SELECT count(*) FROM pg_proc WHERE pronamespace NOT IN (SELECT oid FROM pg_namespace)) AS orphan_functions,
       (SELECT count(*) FROM pg_type WHERE typnamespace NOT IN (SELECT oid FROM pg_namespace)) AS orphan_types,
       (SELECT count(*) FROM pg_depend WHERE refclassid = 'pg_extension'::regclass
          AND refobjid NOT IN (SELECT oid FROM pg_extension)) AS orphan_dependencies;
-- The functions are gone for this session too.
SELECT * FROM pk_keys.pk_generate_key();
-- The schema is fixed.
CREATE EXTENSION pk_keys SCHEMA public;

--
-- CREATE EXTENSION again, in the same session: everything works at once.
--
CREATE EXTENSION pk_keys;
SELECT count(*) = :roles_before AS no_role_created FROM pg_roles;
SELECT key_prefix, length(full_key) AS key_length,
       pk_keys.pk_validate_key_format(full_key) AS valid_format,
       pk_keys.pk_hash_key(full_key) = key_hash AS hash_matches,
       pk_keys.pk_verify_key(full_key, key_hash) AS verifies
FROM pk_keys.pk_generate_key();
SELECT key_prefix FROM pk_keys.pk_generate_key('test');
-- New, empty tables, registered again.
SELECT (SELECT count(*) FROM pk_keys.organizations) AS organizations,
       (SELECT count(*) FROM pk_keys.api_keys) AS api_keys,
       (SELECT count(*) FROM pk_keys.api_key_usage) AS api_key_usage,
       (SELECT count(*) FROM pk_keys.rate_limit_tracking) AS rate_limit_tracking;
SELECT t AS contract_table,
       to_regclass('pk_keys.' || t) IN (SELECT unnest(extconfig) FROM pg_extension
                                         WHERE extname = 'pk_keys') AS in_extconfig
FROM unnest(ARRAY['api_key_usage', 'api_keys', 'organizations', 'rate_limit_tracking']) AS t
ORDER BY t;
-- The key of the dropped tables is unknown now; a new row for it is found.
SELECT valid, code FROM pk_keys.pk_authenticate((SELECT full_key FROM lifecycle_key));
INSERT INTO pk_keys.organizations (name, slug, email)
VALUES ('Lifecycle', 'regress-lifecycle', 'lifecycle@example.com');
INSERT INTO pk_keys.api_keys (organization_id, key_prefix, key_hash, key_hint, environment)
SELECT o.id, k.key_prefix, k.key_hash, k.key_hint, 'test'
FROM pk_keys.organizations o, lifecycle_key k WHERE o.slug = 'regress-lifecycle';
SELECT valid, code, environment FROM pk_keys.pk_authenticate((SELECT full_key FROM lifecycle_key));
-- Leave the database as the other tests found it: extension installed, empty.
DROP TABLE lifecycle_key;
DROP EXTENSION pk_keys;
CREATE EXTENSION pk_keys;
SELECT count(*) AS organizations FROM pk_keys.organizations;
