-- The organization and API key repositories beyond the contract surface:
-- function attributes, error messages (each names its argument), the slug
-- helpers, choices the contract leaves open, privileges, and the rule that a
-- full key never reaches an error message.
\set VERBOSITY terse

--
-- Every repository function: SECURITY DEFINER with a pinned search_path and
-- no EXECUTE for PUBLIC; getters STABLE, writers VOLATILE; honest PARALLEL.
--
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
       p.provolatile AS vol, p.proparallel AS par, p.prosecdef AS secdef,
       'search_path=pg_catalog, pk_keys' = ANY (p.proconfig) AS pinned,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_exec
FROM pg_proc p
WHERE p.pronamespace = 'pk_keys'::regnamespace
  AND (p.proname LIKE 'pk\_org\_%' OR p.proname LIKE 'pk\_key\_%')
ORDER BY p.proname, args;

--
-- Messages name the argument.
--
SELECT * FROM pk_keys.pk_org_create(NULL, 'internals-m@example.com');
SELECT * FROM pk_keys.pk_org_create('Internals M', NULL);
SELECT * FROM pk_keys.pk_org_create('Internals M', 'internals-m@example.com', NULL);
SELECT * FROM pk_keys.pk_org_create('Internals M', 'internals-m@example.com', 'gold');
SELECT * FROM pk_keys.pk_org_create('Internals M', 'no at sign');
SELECT * FROM pk_keys.pk_org_create('Internals M', 'internals-m@example.com', 'free', 'Bad Slug');
SELECT * FROM pk_keys.pk_org_create('Internals M', 'internals-m@example.com', 'free', repeat('s', 64));
SELECT * FROM pk_keys.pk_org_get_by_id(NULL);
SELECT * FROM pk_keys.pk_org_get_all(-5);
SELECT * FROM pk_keys.pk_org_get_all(5, NULL);
CREATE TEMP TABLE m AS SELECT * FROM pk_keys.pk_org_create('Internals M', 'internals-m@example.com');
SELECT * FROM pk_keys.pk_org_create('Internals M2', 'INTERNALS-M@example.com');
SELECT * FROM pk_keys.pk_org_create('Internals M2', 'internals-m2@example.com', 'free', 'internals-m');
SELECT * FROM pk_keys.pk_org_update(NULL, '{}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM m), NULL);
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM m), '[1]');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM m), '{"nmae": "typo"}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM m), '{"is_active": null}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM m), '{"is_active": "yes"}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM m), '{"metadata": [1, 2]}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM m), '{"metadata": "text"}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM m), '{"rate_limit_per_minute": -3}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM m), '{"rate_limit_per_minute": 2.5}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM m), '{"rate_limit_per_minute": 3000000000}');
SELECT * FROM pk_keys.pk_org_update('00000000-0000-0000-0000-000000000000', '{}');
SELECT * FROM pk_keys.pk_key_create(NULL);
SELECT * FROM pk_keys.pk_key_create('00000000-0000-0000-0000-000000000000');
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM m), environment => 'staging');
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM m), environment => NULL);
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM m), scopes => NULL);
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM m), scopes => '{read,NULL}');
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM m), scopes => '{{a,b},{c,d}}');
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM m), rate_limit_per_minute => -1);
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM m), remaining => -1);
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM m), metadata => NULL);
SELECT * FROM pk_keys.pk_key_create((SELECT id FROM m), metadata => '[]');
SELECT * FROM pk_keys.pk_key_get_by_hash('xyz');
SELECT * FROM pk_keys.pk_key_get_by_hash(NULL);
SELECT pk_keys.pk_key_revoke('00000000-0000-0000-0000-000000000000', 'r', NULL);
SELECT pk_keys.pk_key_update_last_used('00000000-0000-0000-0000-000000000000');
SELECT pk_keys.pk_key_increment_request_count('00000000-0000-0000-0000-000000000000');

--
-- A full key never appears in an error (message, detail, hint, context),
-- whichever argument it is passed as by mistake.
--
CREATE TEMP TABLE secret AS SELECT * FROM pk_keys.pk_key_create((SELECT id FROM m));
-- (The key travels as a bind parameter, as an application would send it: a
-- literal in the statement text would be quoted back by the error context.)
CREATE FUNCTION pg_temp.error_text(stmt text, arg text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    msg text; det text; hnt text; ctx text; st text;
BEGIN
    EXECUTE stmt USING arg;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
                            hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
    RETURN st || ' ' || msg || ' | ' || COALESCE(det, '') || ' | ' || COALESCE(hnt, '') || ' | '
           || COALESCE(ctx, '');
END $$;
SELECT left(e, 5) AS sqlstate, strpos(e, (SELECT full_key FROM secret)) = 0 AS key_not_in_error
FROM unnest(ARRAY[
    'SELECT * FROM pk_keys.pk_key_get_by_hash($1)',
    'SELECT * FROM pk_keys.pk_org_create(''n'', $1)',
    'SELECT * FROM pk_keys.pk_org_create(''n'', ''a@b'', $1)',
    'SELECT * FROM pk_keys.pk_org_create(''n'', ''a@b'', ''free'', $1)',
    'SELECT * FROM pk_keys.pk_org_get_by_slug($1)',
    'SELECT * FROM pk_keys.pk_key_create((SELECT id FROM m), environment => $1)',
    'SELECT * FROM pk_keys.pk_org_update((SELECT id FROM m), jsonb_build_object($1, 1))',
    'SELECT * FROM pk_keys.pk_org_update((SELECT id FROM m), jsonb_build_object(''plan'', $1))',
    'SELECT * FROM pk_keys.pk_org_update((SELECT id FROM m), jsonb_build_object(''slug'', $1))',
    'SELECT * FROM pk_keys.pk_org_update((SELECT id FROM m), jsonb_build_object(''email'', $1))'
]) WITH ORDINALITY AS q(stmt, n), pg_temp.error_text(q.stmt, (SELECT full_key FROM secret)) AS e
ORDER BY q.n;
-- The key is only in the caller's hands: not in any table of the schema.
SELECT count(*) AS tables_with_rows_holding_the_key
FROM pg_class c
WHERE c.relnamespace = 'pk_keys'::regnamespace AND c.relkind = 'r'
  AND (xpath('/row/c/text()', query_to_xml(format(
        'SELECT count(*) AS c FROM pk_keys.%I t WHERE strpos(t::text, %L) > 0',
        c.relname, (SELECT full_key FROM secret)), false, true, '')))[1]::text::int > 0;

--
-- Slugs: the helpers, and the suffix search.
--
SELECT n, pk_keys.pk_org_slugify(n) AS slug
FROM unnest(ARRAY['Acme', '  ACME  Corp ', 'a__b..c', '---', '', '42', 'Café Olé', 'x' || repeat('-y', 40)]) AS n;
SELECT pk_keys.pk_org_slugify(NULL) IS NULL AS strict;
SELECT n, pk_keys.pk_org_slug_candidate(repeat('z', 63), n) AS candidate,
       length(pk_keys.pk_org_slug_candidate(repeat('z', 63), n)) AS len
FROM unnest(ARRAY[1, 2, 10, 12345]::bigint[]) AS n;
-- A cut that ends on '-' loses it before the suffix.
SELECT pk_keys.pk_org_slug_candidate(repeat('y', 60) || '-ab', 2) AS candidate;
-- Forty organizations of one name: internals, internals-2 .. internals-40.
SELECT count(*) AS created FROM (
    SELECT pk_keys.pk_org_create('Internals', 'internals-' || g || '@many.example') FROM generate_series(1, 40) g) x;
SELECT count(*) AS slugs, count(DISTINCT slug) AS distinct_slugs,
       count(*) FILTER (WHERE slug = 'internals') AS base,
       max(substring(slug FROM '-([0-9]+)$')::int) AS highest_suffix
FROM pk_keys.organizations WHERE email LIKE 'internals-%@many.example';
-- With a gap the search still finds a free suffix (the smallest one when the
-- taken suffixes are contiguous).
DELETE FROM pk_keys.organizations WHERE slug = 'internals-20';
SELECT slug FROM pk_keys.pk_org_create('Internals', 'internals-41@many.example');
SELECT slug FROM pk_keys.pk_org_create('Internals', 'internals-42@many.example');

--
-- Choices the contract leaves open.
--
-- The email is trimmed of any white space (tabs, new lines) and lower-cased;
-- lookups trim too.
SELECT email FROM pk_keys.pk_org_create('Internals WS', E'\t Internals.WS@Example.COM \n');
SELECT slug FROM pk_keys.pk_org_get_by_email(E' internals.ws@example.com\t');
-- "Changing the plan" means a different plan: repeating the current plan keeps
-- a custom rate limit.
SELECT rate_limit_per_minute FROM pk_keys.pk_org_update((SELECT id FROM m), '{"rate_limit_per_minute": 77}');
SELECT plan, rate_limit_per_minute FROM pk_keys.pk_org_update((SELECT id FROM m), '{"plan": "free"}');
SELECT plan, rate_limit_per_minute FROM pk_keys.pk_org_update((SELECT id FROM m), '{"plan": "pro"}');
-- A patch that changes nothing writes nothing: updated_at stays.
CREATE TEMP TABLE m_before AS SELECT * FROM pk_keys.organizations WHERE id = (SELECT id FROM m);
SELECT o.updated_at = b.updated_at AS updated_at_kept
FROM pk_keys.pk_org_update((SELECT id FROM m), (SELECT jsonb_build_object('name', name, 'plan', plan, 'metadata', metadata)
                                                FROM m_before)) o, m_before b;
-- updated_at moves even within one transaction (clock time, not now()).
BEGIN;
SELECT o.updated_at > b.updated_at AS moved_in_transaction
FROM pk_keys.pk_org_update((SELECT id FROM m), '{"name": "Internals M renamed"}') o, m_before b;
SELECT o.updated_at > now() AS after_transaction_start
FROM pk_keys.pk_org_update((SELECT id FROM m), '{"name": "Internals M renamed twice"}') o;
COMMIT;
-- A JSON number with a zero fraction is an integer.
SELECT rate_limit_per_minute FROM pk_keys.pk_org_update((SELECT id FROM m), '{"rate_limit_per_minute": 120.0}');
-- last_used_at never moves back.
CREATE TEMP TABLE lk AS SELECT id FROM pk_keys.pk_key_create((SELECT id FROM m));
UPDATE pk_keys.api_keys SET last_used_at = '2999-01-01 00:00:00+00' WHERE id = (SELECT id FROM lk);
SELECT pk_keys.pk_key_update_last_used((SELECT id FROM lk));
SELECT last_used_at = '2999-01-01 00:00:00+00' AS kept FROM pk_keys.api_keys WHERE id = (SELECT id FROM lk);
-- Expired keys take their rate-limit windows along; usage rows stay.
CREATE TEMP TABLE ek AS
    SELECT id FROM pk_keys.pk_key_create((SELECT id FROM m), expires_at => now() - interval '1 second');
INSERT INTO pk_keys.rate_limit_tracking (api_key_id, window_seconds, window_start, request_count)
SELECT id, 60, '2024-01-01 00:00:00+00', 3 FROM ek;
SELECT (pk_keys.pk_usage_create((SELECT id FROM ek), '/internals', occurred_at => '2024-01-01 00:00:30+00')).endpoint;
SELECT pk_keys.pk_key_delete_expired() >= 1 AS deleted;
SELECT (SELECT count(*) FROM pk_keys.rate_limit_tracking WHERE api_key_id = (SELECT id FROM ek)) AS windows,
       (SELECT count(*) FROM pk_keys.api_key_usage WHERE api_key_id = (SELECT id FROM ek)) AS usage_rows;

--
-- Privileges: an application role needs only EXECUTE; without it, 42501.
--
CREATE ROLE regress_pk_repo_app;
SET ROLE regress_pk_repo_app;
SELECT * FROM pk_keys.pk_org_get_by_slug('internals');
SELECT count(*) FROM pk_keys.organizations;
RESET ROLE;
GRANT EXECUTE ON FUNCTION pk_keys.pk_org_get_by_slug(text),
    pk_keys.pk_key_create  -- by name: its signature grew in 1.1
    TO regress_pk_repo_app;
SET ROLE regress_pk_repo_app;
SELECT slug FROM pk_keys.pk_org_get_by_slug('internals');
SELECT pk_keys.pk_validate_key_format(full_key) AS created_as_app
FROM pk_keys.pk_key_create((SELECT id FROM pk_keys.pk_org_get_by_slug('internals')));
SELECT count(*) FROM pk_keys.api_keys;
-- Even the helpers are not for PUBLIC.
SELECT pk_keys.pk_org_slugify('Public Helper') AS slug;
RESET ROLE;
REVOKE EXECUTE ON FUNCTION pk_keys.pk_org_get_by_slug(text),
    pk_keys.pk_key_create  -- by name: its signature grew in 1.1
    FROM regress_pk_repo_app;
DROP ROLE regress_pk_repo_app;
-- A hostile search_path changes nothing: every name inside is qualified and
-- the path is pinned.
CREATE SCHEMA regress_pk_evil;
CREATE FUNCTION regress_pk_evil.lower(text) RETURNS text LANGUAGE sql AS $$ SELECT 'evil' $$;
CREATE FUNCTION regress_pk_evil.regexp_replace(text, text, text, text) RETURNS text
    LANGUAGE sql AS $$ SELECT 'evil' $$;
SET search_path = regress_pk_evil, pg_catalog, public;
SELECT slug, email FROM pk_keys.pk_org_create('Internals Evil Path', 'Internals.Evil@Example.com');
SELECT slug FROM pk_keys.pk_org_get_by_email('INTERNALS.EVIL@example.com');
RESET search_path;
DROP SCHEMA regress_pk_evil CASCADE;
