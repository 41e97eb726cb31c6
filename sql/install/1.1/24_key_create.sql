-- pk_key_create, 1.1: four trailing refill arguments and the input bounds.
--
-- The 9-argument 1.0 signature is dropped, not overloaded: two overloads
-- with defaults would make pk_key_create(org_id) ambiguous. GRANTs an
-- administrator made on the 1.0 function are re-issued on the new one before
-- the DROP. Those GRANTs are the administrator's, not the extension's: during
-- ALTER EXTENSION PostgreSQL would record them in pg_init_privs as the
-- extension's initial privileges (and pg_dump would then omit them), so the
-- new function's pg_init_privs row is put back to what the extension's own
-- REVOKE recorded: a fresh install and an upgrade end with the same catalog.

-- Validates pk_key_create's arguments, generates the key through the C++
-- core and inserts the row (OUT names differ from the IN names: PL/pgSQL
-- forbids an IN and an OUT parameter of one name).
CREATE FUNCTION pk_keys.pk_key_create_row(
    org_id uuid, name text, environment text, scopes text[], expires_at timestamptz,
    rate_limit_per_minute integer, remaining bigint, metadata jsonb, created_by uuid,
    refill_amount bigint, refill_interval text, refill_day integer, refill_mode text,
    OUT new_id uuid, OUT new_full_key text, OUT new_key_prefix text, OUT new_key_hint text,
    OUT new_environment text, OUT new_expires_at timestamptz, OUT new_created_at timestamptz)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    k_hash text;
    k_hint text;
    r_day  integer;
    r      pk_keys.api_keys;
BEGIN
    IF org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    PERFORM pk_keys.pk_check_name(name);
    IF environment IS NULL THEN
        RAISE EXCEPTION 'environment must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF environment OPERATOR(pg_catalog.<>) ALL (ARRAY['live', 'test']) THEN
        RAISE EXCEPTION 'invalid environment: must be ''live'' or ''test'''
            USING ERRCODE = '22023';
    END IF;
    PERFORM pk_keys.pk_check_scopes(scopes);
    IF rate_limit_per_minute OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'rate_limit_per_minute must not be negative' USING ERRCODE = '22023';
    END IF;
    IF remaining OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'remaining must not be negative' USING ERRCODE = '22023';
    END IF;
    PERFORM pk_keys.pk_check_metadata(metadata);
    r_day := pk_keys.pk_key_check_refill(refill_amount, refill_interval, refill_day, refill_mode);
    IF NOT EXISTS (SELECT 1 FROM pk_keys.organizations o
                   WHERE o.id OPERATOR(pg_catalog.=) pk_key_create_row.org_id) THEN
        RAISE EXCEPTION 'organization % does not exist', org_id USING ERRCODE = 'P0002';
    END IF;

    SELECT g.full_key, g.key_hash, g.key_hint, g.key_prefix
    INTO new_full_key, k_hash, k_hint, new_key_prefix
    FROM pk_keys.pk_generate_key(pk_key_create_row.environment) g;

    -- A refill on a key without a balance starts it at refill_amount.
    INSERT INTO pk_keys.api_keys AS k
        (organization_id, name, key_prefix, key_hash, key_hint, environment, scopes,
         expires_at, rate_limit_per_minute, remaining, metadata, created_by,
         refill_amount, refill_interval, refill_day, refill_mode)
    VALUES (org_id, pk_key_create_row.name, new_key_prefix, k_hash, k_hint,
            pk_key_create_row.environment, pk_key_create_row.scopes,
            pk_key_create_row.expires_at, pk_key_create_row.rate_limit_per_minute,
            COALESCE(pk_key_create_row.remaining, pk_key_create_row.refill_amount),
            pk_key_create_row.metadata, pk_key_create_row.created_by,
            pk_key_create_row.refill_amount, pk_key_create_row.refill_interval, r_day,
            pk_key_create_row.refill_mode)
    RETURNING k.* INTO r;
    new_id := r.id;
    new_key_hint := r.key_hint;
    new_environment := r.environment;
    new_expires_at := r.expires_at;
    new_created_at := r.created_at;
    PERFORM pk_keys.pk_audit_write('key.create', r.organization_id, r.id, created_by,
                                   pk_keys.pk_audit_changes(NULL, pg_catalog.to_jsonb(r)));
END $$;

-- pk_key_create(...): creates a key and returns it with its full key, the
-- only time the full key is ever seen.
CREATE FUNCTION pk_keys.pk_key_create(
    org_id uuid, name text DEFAULT NULL, environment text DEFAULT 'live',
    scopes text[] DEFAULT '{}', expires_at timestamptz DEFAULT NULL,
    rate_limit_per_minute integer DEFAULT NULL, remaining bigint DEFAULT NULL,
    metadata jsonb DEFAULT '{}', created_by uuid DEFAULT NULL,
    refill_amount bigint DEFAULT NULL, refill_interval text DEFAULT NULL,
    refill_day integer DEFAULT NULL, refill_mode text DEFAULT 'replace')
RETURNS TABLE (id uuid, full_key text, key_prefix text, key_hint text, environment text,
               expires_at timestamptz, created_at timestamptz)
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1
BEGIN ATOMIC
    SELECT c.new_id, c.new_full_key, c.new_key_prefix, c.new_key_hint, c.new_environment,
           c.new_expires_at, c.new_created_at
    FROM pk_keys.pk_key_create_row(org_id, name, environment, scopes, expires_at,
                                   rate_limit_per_minute, remaining, metadata, created_by,
                                   refill_amount, refill_interval, refill_day, refill_mode) c;
END;

REVOKE EXECUTE ON FUNCTION
    pk_keys.pk_key_create_row(uuid, text, text, text[], timestamptz, integer, bigint, jsonb, uuid,
                              bigint, text, integer, text),
    pk_keys.pk_key_create(uuid, text, text, text[], timestamptz, integer, bigint, jsonb, uuid,
                          bigint, text, integer, text)
FROM PUBLIC;

-- Carries the administrator's GRANTs from the 1.0 signature to the new one
-- (on a fresh install there are none: the loop finds only the owner).
DO $$
DECLARE
    old_fn  oid := 'pk_keys.pk_key_create(uuid, text, text, text[], timestamptz, integer, bigint, jsonb, uuid)'::pg_catalog.regprocedure;
    new_fn  oid := 'pk_keys.pk_key_create(uuid, text, text, text[], timestamptz, integer, bigint, jsonb, uuid, bigint, text, integer, text)'::pg_catalog.regprocedure;
    owner   oid;
    initial pg_catalog.aclitem[];
    g       record;
BEGIN
    SELECT p.proowner INTO owner FROM pg_catalog.pg_proc p WHERE p.oid OPERATOR(pg_catalog.=) old_fn;
    SELECT ip.initprivs INTO initial FROM pg_catalog.pg_init_privs ip
    WHERE ip.objoid OPERATOR(pg_catalog.=) new_fn
      AND ip.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
      AND ip.objsubid OPERATOR(pg_catalog.=) 0;
    FOR g IN
        SELECT a.grantee, a.is_grantable
        FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
        WHERE p.oid OPERATOR(pg_catalog.=) old_fn AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
          AND a.grantee OPERATOR(pg_catalog.<>) owner
        ORDER BY a.is_grantable DESC, a.grantee
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s%s',
            new_fn::pg_catalog.regprocedure,
            CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                 ELSE pg_catalog.quote_ident(g.grantee::pg_catalog.regrole::text) END,
            CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    UPDATE pg_catalog.pg_init_privs ip SET initprivs = initial
    WHERE ip.objoid OPERATOR(pg_catalog.=) new_fn
      AND ip.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
      AND ip.objsubid OPERATOR(pg_catalog.=) 0;
END $$;

DROP FUNCTION pk_keys.pk_key_create(uuid, text, text, text[], timestamptz, integer, bigint, jsonb, uuid);
DROP FUNCTION pk_keys.pk_key_create_row(uuid, text, text, text[], timestamptz, integer, bigint, jsonb, uuid);
