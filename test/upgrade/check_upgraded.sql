-- After ALTER EXTENSION pk_keys UPDATE: the version, every row, every key
-- answering as before, and the administrator's GRANTs.
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pk_keys';
SELECT count(*) AS orgs FROM pk_keys.organizations WHERE email = 'upgrade@example.com';
SELECT label, code, remaining, scopes
FROM public.upgrade_keys k, LATERAL pk_keys.pk_authenticate(k.full_key) a ORDER BY label;
-- The credits key spent one credit before the update and one just now.
SELECT name, remaining, request_count >= 2 AS counted, revoked_reason
FROM pk_keys.api_keys WHERE organization_id IN
    (SELECT id FROM pk_keys.organizations WHERE email = 'upgrade@example.com') ORDER BY name;
SELECT (pk_keys.pk_usage_get_summary(id, now()::date) - 'top_endpoints'
        - 'avg_response_time_ms' - 'organization_id') AS summary
FROM pk_keys.organizations WHERE email = 'upgrade@example.com';
SELECT count(*) AS usage_rows FROM pk_keys.api_key_usage u JOIN public.upgrade_keys k ON k.id = u.api_key_id;
-- New columns keep 1.0 behaviour on old rows.
SELECT count(*) FILTER (WHERE refill_amount IS NULL AND refill_interval IS NULL AND refill_mode = 'replace'
                        AND rotated_from IS NULL AND allowed_ips IS NULL) AS defaults_kept, count(*) AS keys
FROM pk_keys.api_keys;
-- GRANTs made on 1.0 functions and tables survive (functions by name: a
-- function whose signature 1.1 extends keeps its grantees).
SELECT p.proname, pg_catalog.has_function_privilege('pk_upgrade_gateway', p.oid, 'EXECUTE') AS can_execute
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = 'pk_keys'::regnamespace
  AND p.proname IN ('pk_authenticate', 'pk_usage_create', 'pk_key_create', 'pk_key_revoke', 'pk_key_delete_expired')
ORDER BY 1, 2;
SELECT pg_catalog.has_table_privilege('pk_upgrade_gateway', 'pk_keys.api_keys', 'SELECT') AS can_select_keys;
-- pk_key_create's new signature carries every grantee of the 1.0 one, the
-- grant option included, and pg_dump would still dump them (they are not
-- recorded as the extension's initial privileges).
SELECT pg_catalog.has_function_privilege('pk_upgrade_admin', p.oid, 'EXECUTE WITH GRANT OPTION') AS admin_may_grant,
       pg_catalog.has_function_privilege('pk_upgrade_gateway', p.oid, 'EXECUTE WITH GRANT OPTION') AS gateway_may_not,
       pg_catalog.aclcontains(p.proacl, pg_catalog.makeaclitem(0, p.proowner, 'EXECUTE', false)) AS public_kept,
       pg_catalog.cardinality(p.proacl) AS acl_entries,
       (SELECT pg_catalog.cardinality(ip.initprivs) FROM pg_catalog.pg_init_privs ip
        WHERE ip.objoid = p.oid AND ip.classoid = 'pg_catalog.pg_proc'::regclass) AS initial_entries
FROM pg_catalog.pg_proc p
WHERE p.oid = 'pk_keys.pk_key_create(uuid, text, text, text[], timestamptz, integer, bigint, jsonb, uuid, bigint, text, integer, text)'::regprocedure;
