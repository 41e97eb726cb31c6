-- Data made on a 1.0 installation, before ALTER EXTENSION pk_keys UPDATE:
-- organizations, keys of every kind (credits, a revoked one, an expired one,
-- scopes), usage rows and their rollups, rate-limit windows, and GRANTs an
-- administrator made on 1.0 functions and tables.
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pk_keys';
CREATE TABLE public.upgrade_keys (label text PRIMARY KEY, id uuid, full_key text);
CREATE TEMP TABLE o AS
    SELECT id FROM pk_keys.pk_org_create('Upgrade Org', 'upgrade@example.com', 'pro');
INSERT INTO public.upgrade_keys SELECT 'plain', id, full_key
    FROM pk_keys.pk_key_create((SELECT id FROM o), name => 'plain', scopes => '{read,write}');
INSERT INTO public.upgrade_keys SELECT 'credits', id, full_key
    FROM pk_keys.pk_key_create((SELECT id FROM o), name => 'credits', remaining => 5);
INSERT INTO public.upgrade_keys SELECT 'revoked', id, full_key
    FROM pk_keys.pk_key_create((SELECT id FROM o), name => 'revoked');
INSERT INTO public.upgrade_keys SELECT 'expired', id, full_key
    FROM pk_keys.pk_key_create((SELECT id FROM o), name => 'expired', environment => 'test',
                               expires_at => now() + interval '1 millisecond');
SELECT pk_keys.pk_key_revoke((SELECT id FROM public.upgrade_keys WHERE label = 'revoked'), 'upgrade test', NULL);
SELECT code, remaining FROM public.upgrade_keys k, LATERAL pk_keys.pk_authenticate(k.full_key) a
WHERE k.label = 'credits';
SELECT count(*) AS usage_rows FROM (
    SELECT pk_keys.pk_usage_create(k.id, '/v1/upgrade/' || (g % 3), 'GET', CASE WHEN g % 5 = 0 THEN 500 ELSE 200 END,
                                   g, NULL, NULL, date_trunc('month', now()) + g * interval '1 hour')
    FROM public.upgrade_keys k, generate_series(1, 40) g WHERE k.label IN ('plain', 'credits')) u;
SELECT allowed FROM pk_keys.pk_rate_limit_check((SELECT id FROM public.upgrade_keys WHERE label = 'plain'), 10);
-- An administrator's GRANTs on 1.0 objects.
CREATE ROLE pk_upgrade_gateway NOLOGIN;
GRANT USAGE ON SCHEMA pk_keys TO pk_upgrade_gateway;
GRANT EXECUTE ON FUNCTION pk_keys.pk_authenticate(text, text[], integer),
    pk_keys.pk_usage_create(uuid, text, text, integer, integer, inet, text, timestamptz),
    pk_keys.pk_key_create(uuid, text, text, text[], timestamptz, integer, bigint, jsonb, uuid),
    pk_keys.pk_key_revoke(uuid, text, uuid) TO pk_upgrade_gateway;
GRANT SELECT ON pk_keys.api_keys TO pk_upgrade_gateway;
-- A delegated administrator who may pass pk_key_create on, and a GRANT to
-- PUBLIC (the extension revoked it): both must reach 1.1's pk_key_create.
CREATE ROLE pk_upgrade_admin NOLOGIN;
GRANT EXECUTE ON FUNCTION pk_keys.pk_key_create(uuid, text, text, text[], timestamptz, integer, bigint, jsonb, uuid)
    TO pk_upgrade_admin WITH GRANT OPTION;
GRANT EXECUTE ON FUNCTION pk_keys.pk_key_create(uuid, text, text, text[], timestamptz, integer, bigint, jsonb, uuid)
    TO PUBLIC;
