-- Importing keys made elsewhere (their SHA-256 hex) so they authenticate
-- without being reissued: one key (pk_key_import) or a whole staging table
-- in one set-based statement (pk_key_import_table). No full key is involved;
-- error messages never echo a hash.

-- Raises unless an imported key's hash, prefix, hint and environment are
-- well formed (22004 for NULL, 22023 otherwise).
CREATE FUNCTION pk_keys.pk_key_check_import(key_hash text, key_prefix text, key_hint text,
                                            environment text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    IF key_hash IS NULL THEN
        RAISE EXCEPTION 'key_hash must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF key_hash OPERATOR(pg_catalog.!~) '^[0-9a-fA-F]{64}$' THEN
        RAISE EXCEPTION 'invalid key_hash: must be 64 hexadecimal digits' USING ERRCODE = '22023';
    END IF;
    IF environment IS NULL THEN
        RAISE EXCEPTION 'environment must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF environment OPERATOR(pg_catalog.<>) ALL (ARRAY['live', 'test']) THEN
        RAISE EXCEPTION 'invalid environment: must be ''live'' or ''test''' USING ERRCODE = '22023';
    END IF;
    IF key_prefix IS NULL THEN
        RAISE EXCEPTION 'key_prefix must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF key_prefix OPERATOR(pg_catalog.<>) ('pk_' OPERATOR(pg_catalog.||) environment OPERATOR(pg_catalog.||) '_') THEN
        RAISE EXCEPTION 'invalid key_prefix: must be ''pk_%_'' for environment %', environment, environment
            USING ERRCODE = '22023';
    END IF;
    IF key_hint IS NULL THEN
        RAISE EXCEPTION 'key_hint must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.length(key_hint) OPERATOR(pg_catalog.<>) 4 THEN
        RAISE EXCEPTION 'invalid key_hint: must be the last 4 characters of the key' USING ERRCODE = '22023';
    END IF;
END $$;

-- Raises 22004 / P0002 / 55000 unless the organization exists and is active.
CREATE FUNCTION pk_keys.pk_key_check_import_org(org_id uuid) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
DECLARE
    active boolean;
BEGIN
    IF org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT o.is_active INTO active FROM pk_keys.organizations o WHERE o.id OPERATOR(pg_catalog.=) org_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'organization % does not exist', org_id USING ERRCODE = 'P0002';
    END IF;
    IF NOT active THEN
        RAISE EXCEPTION 'organization % is inactive: keys cannot be imported into it', org_id
            USING ERRCODE = '55000';
    END IF;
END $$;

-- pk_key_import(...): inserts a key made elsewhere and returns its row. A
-- malformed hash → 22023, a hash already present → 23505, an inactive
-- organization → 55000, an unknown one → P0002.
CREATE FUNCTION pk_keys.pk_key_import(org_id uuid, key_hash text, key_prefix text, key_hint text,
    name text DEFAULT NULL, environment text DEFAULT 'live', scopes text[] DEFAULT '{}',
    expires_at timestamptz DEFAULT NULL, remaining bigint DEFAULT NULL, metadata jsonb DEFAULT '{}')
RETURNS SETOF pk_keys.api_keys
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1 AS $$
DECLARE
    r pk_keys.api_keys;
BEGIN
    PERFORM pk_keys.pk_key_check_import(key_hash, key_prefix, key_hint, environment);
    PERFORM pk_keys.pk_check_name(name);
    PERFORM pk_keys.pk_check_scopes(scopes);
    PERFORM pk_keys.pk_check_metadata(metadata);
    IF remaining OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'remaining must not be negative' USING ERRCODE = '22023';
    END IF;
    PERFORM pk_keys.pk_key_check_import_org(org_id);
    BEGIN
        INSERT INTO pk_keys.api_keys AS k
            (organization_id, name, key_prefix, key_hash, key_hint, environment, scopes,
             expires_at, remaining, metadata)
        VALUES (org_id, pk_key_import.name, pk_key_import.key_prefix,
                pg_catalog.lower(pk_key_import.key_hash), pk_key_import.key_hint,
                pk_key_import.environment, pk_key_import.scopes, pk_key_import.expires_at,
                pk_key_import.remaining, pk_key_import.metadata)
        RETURNING k.* INTO r;
    EXCEPTION WHEN unique_violation THEN
        -- Our own message: the server's would show the hash.
        RAISE EXCEPTION 'a key with this key_hash already exists' USING ERRCODE = '23505';
    END;
    PERFORM pk_keys.pk_audit_write('key.import', r.organization_id, r.id, NULL,
                                   pk_keys.pk_audit_changes(NULL, pg_catalog.to_jsonb(r)));
    RETURN NEXT r;
END $$;

-- pk_key_import_table(source): imports every row of a staging table in one
-- INSERT … SELECT and returns how many. Columns by name: organization_id,
-- key_hash, key_prefix, key_hint (required), name, environment, scopes,
-- expires_at, remaining, metadata (optional; defaults as pk_key_import's).
-- All or nothing: the first problem found raises the error pk_key_import
-- would (22023, 23505, P0002, 55000), naming the column, never a hash. The
-- caller's login role must be able to SELECT the table. One 'key.import'
-- audit entry per organization, with the count.
CREATE FUNCTION pk_keys.pk_key_import_table(source regclass) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    cols    text[];
    src     text;
    problem text;
    bad_org uuid;
    n       bigint;
BEGIN
    IF source IS NULL THEN
        RAISE EXCEPTION 'source must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF NOT pg_catalog.has_table_privilege(SESSION_USER, source, 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for table %', source USING ERRCODE = '42501';
    END IF;
    SELECT pg_catalog.array_agg(a.attname::text) INTO cols FROM pg_catalog.pg_attribute a
    WHERE a.attrelid OPERATOR(pg_catalog.=) source AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
    IF NOT cols OPERATOR(pg_catalog.@>) ARRAY['organization_id', 'key_hash', 'key_prefix', 'key_hint'] THEN
        RAISE EXCEPTION 'source must have the columns organization_id, key_hash, key_prefix and key_hint'
            USING ERRCODE = '22023';
    END IF;
    -- The rows as pk_key_import would take them.
    src := pg_catalog.format(
        'SELECT s.organization_id::uuid AS organization_id, pg_catalog.lower(s.key_hash::text) COLLATE "C" AS key_hash,'
        ' s.key_prefix::text AS key_prefix, s.key_hint::text AS key_hint, %s AS name, %s AS environment,'
        ' %s AS scopes, %s AS expires_at, %s AS remaining, %s AS metadata FROM %s s',
        CASE WHEN 'name' OPERATOR(pg_catalog.=) ANY (cols) THEN 's.name::text' ELSE 'NULL::text' END,
        CASE WHEN 'environment' OPERATOR(pg_catalog.=) ANY (cols) THEN 's.environment::text' ELSE '''live''::text' END,
        CASE WHEN 'scopes' OPERATOR(pg_catalog.=) ANY (cols) THEN 's.scopes::text[]' ELSE '''{}''::text[]' END,
        CASE WHEN 'expires_at' OPERATOR(pg_catalog.=) ANY (cols) THEN 's.expires_at::timestamptz' ELSE 'NULL::timestamptz' END,
        CASE WHEN 'remaining' OPERATOR(pg_catalog.=) ANY (cols) THEN 's.remaining::bigint' ELSE 'NULL::bigint' END,
        CASE WHEN 'metadata' OPERATOR(pg_catalog.=) ANY (cols) THEN 's.metadata::jsonb' ELSE '''{}''::jsonb' END,
        source);

    -- One pass over the rows finds the first problem of any kind.
    EXECUTE 'SELECT r.problem FROM (SELECT CASE'
        ' WHEN t.organization_id IS NULL THEN ''organization_id must not be NULL'''
        -- ltrim, not a regular expression: several times cheaper per row.
        ' WHEN t.key_hash IS NULL OR pg_catalog.octet_length(t.key_hash) OPERATOR(pg_catalog.<>) 64'
        '      OR pg_catalog.ltrim(t.key_hash, ''0123456789abcdef'') OPERATOR(pg_catalog.<>) '''''
        '      THEN ''invalid key_hash: must be 64 hexadecimal digits'''
        ' WHEN t.environment IS NULL OR t.environment OPERATOR(pg_catalog.<>) ALL (ARRAY[''live'', ''test'']) THEN ''invalid environment: must be ''''live'''' or ''''test'''''''
        ' WHEN t.key_prefix IS DISTINCT FROM (''pk_'' OPERATOR(pg_catalog.||) t.environment OPERATOR(pg_catalog.||) ''_'') THEN ''invalid key_prefix: must match environment'''
        ' WHEN t.key_hint IS NULL OR pg_catalog.length(t.key_hint) OPERATOR(pg_catalog.<>) 4 THEN ''invalid key_hint: must be the last 4 characters of the key'''
        ' WHEN pg_catalog.length(t.name) OPERATOR(pg_catalog.>) 200 THEN ''name must be at most 200 characters'''
        ' WHEN t.remaining OPERATOR(pg_catalog.<) 0 THEN ''remaining must not be negative'''
        OPERATOR(pg_catalog.||) CASE WHEN 'scopes' OPERATOR(pg_catalog.=) ANY (cols) THEN
        ' WHEN t.scopes IS NULL OR pg_catalog.array_ndims(t.scopes) OPERATOR(pg_catalog.>) 1'
        '      OR pg_catalog.cardinality(t.scopes) OPERATOR(pg_catalog.>) 256'
        '      OR pg_catalog.array_position(t.scopes, NULL) IS NOT NULL'
        '      OR EXISTS (SELECT 1 FROM pg_catalog.unnest(t.scopes) e WHERE pg_catalog.octet_length(e) NOT BETWEEN 1 AND 128)'
        '      THEN ''invalid scopes: at most 256 elements of 1 to 128 bytes, no NULL''' ELSE '' END
        OPERATOR(pg_catalog.||) CASE WHEN 'metadata' OPERATOR(pg_catalog.=) ANY (cols) THEN
        ' WHEN t.metadata IS NULL OR pg_catalog.jsonb_typeof(t.metadata) OPERATOR(pg_catalog.<>) ''object'''
        '      OR pg_catalog.octet_length(t.metadata::text) OPERATOR(pg_catalog.>) 65536'
        '      THEN ''invalid metadata: a JSON object of at most 64 kB as text''' ELSE '' END
        OPERATOR(pg_catalog.||) ' END AS problem FROM (' OPERATOR(pg_catalog.||) src OPERATOR(pg_catalog.||) ') t) r'
        ' WHERE r.problem IS NOT NULL LIMIT 1'
    INTO problem;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION 'cannot import from %: %', source, problem USING ERRCODE = '22023';
    END IF;
    EXECUTE 'SELECT d.organization_id FROM (SELECT DISTINCT t.organization_id FROM ('
        OPERATOR(pg_catalog.||) src OPERATOR(pg_catalog.||) ') t) d'
        ' LEFT JOIN pk_keys.organizations o ON o.id OPERATOR(pg_catalog.=) d.organization_id'
        ' WHERE o.id IS NULL OR NOT o.is_active ORDER BY o.id IS NULL DESC LIMIT 1'
    INTO bad_org;
    IF bad_org IS NOT NULL THEN
        PERFORM pk_keys.pk_key_check_import_org(bad_org);
    END IF;

    BEGIN
        EXECUTE 'WITH ins AS (INSERT INTO pk_keys.api_keys (organization_id, name, key_prefix, key_hash,'
            ' key_hint, environment, scopes, expires_at, remaining, metadata)'
            ' SELECT t.organization_id, t.name, t.key_prefix, t.key_hash, t.key_hint, t.environment,'
            ' t.scopes, t.expires_at, t.remaining, t.metadata FROM (' OPERATOR(pg_catalog.||) src
            -- In hash order the unique index fills page after page.
            OPERATOR(pg_catalog.||) ') t ORDER BY t.key_hash RETURNING organization_id),'
            ' per_org AS (SELECT ins.organization_id, pg_catalog.count(*) AS n FROM ins GROUP BY 1),'
            ' audited AS (INSERT INTO pk_keys.audit_log (action, organization_id, changes)'
            '   SELECT ''key.import'', p.organization_id, pg_catalog.jsonb_build_object(''imported'', p.n,'
            '          ''source'', $1) FROM per_org p)'
            ' SELECT COALESCE(pg_catalog.sum(p.n), 0)::bigint FROM per_org p'
        INTO n USING source::text;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'cannot import from %: a key_hash is already present (in pk_keys.api_keys or twice in the table)',
            source USING ERRCODE = '23505';
    END;
    RETURN n;
END $$;

REVOKE EXECUTE ON FUNCTION pk_keys.pk_key_check_import(text, text, text, text),
    pk_keys.pk_key_check_import_org(uuid),
    pk_keys.pk_key_import(uuid, text, text, text, text, text, text[], timestamptz, bigint, jsonb),
    pk_keys.pk_key_import_table(regclass)
FROM PUBLIC;
