-- Key getters, 1.1: every row is reported through pk_key_view, so remaining
-- is the balance as of now (refills due applied, a rotated key's shared
-- balance). Same signatures and semantics as 1.0 otherwise.

-- pk_key_get_by_id(key_id): the key, or no row.
CREATE OR REPLACE FUNCTION pk_keys.pk_key_get_by_id(key_id uuid)
RETURNS SETOF pk_keys.api_keys
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1 AS $$
BEGIN
    IF key_id IS NULL THEN
        RAISE EXCEPTION 'key_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    RETURN QUERY SELECT v.* FROM pk_keys.api_keys k, LATERAL pk_keys.pk_key_view(k) v
                 WHERE k.id OPERATOR(pg_catalog.=) pk_key_get_by_id.key_id;
END $$;

-- pk_key_get_by_hash(key_hash): the key with this SHA-256 (64 hex digits,
-- either case), or no row; anything else is 22023.
CREATE OR REPLACE FUNCTION pk_keys.pk_key_get_by_hash(key_hash text)
RETURNS SETOF pk_keys.api_keys
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1 AS $$
BEGIN
    IF key_hash IS NULL THEN
        RAISE EXCEPTION 'key_hash must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF key_hash OPERATOR(pg_catalog.!~) '^[0-9a-fA-F]{64}$' THEN
        -- Loads pk_keys.so, whose log hook then keeps a full key passed here
        -- by mistake out of the server log (docs/log-safety.md).
        PERFORM pk_keys.pk_validate_key_format(key_hash);
        RAISE EXCEPTION 'invalid key_hash: must be 64 hexadecimal digits'
            USING ERRCODE = '22023';
    END IF;
    RETURN QUERY SELECT v.* FROM pk_keys.api_keys k, LATERAL pk_keys.pk_key_view(k) v
                 WHERE k.key_hash OPERATOR(pg_catalog.=)
                       (pg_catalog.lower(pk_key_get_by_hash.key_hash) COLLATE "C");
END $$;

-- pk_key_get_by_organization(org_id): the organization's keys, oldest first.
CREATE OR REPLACE FUNCTION pk_keys.pk_key_get_by_organization(org_id uuid)
RETURNS SETOF pk_keys.api_keys
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 10 AS $$
BEGIN
    IF org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    RETURN QUERY SELECT v.* FROM pk_keys.api_keys k, LATERAL pk_keys.pk_key_view(k) v
                 WHERE k.organization_id OPERATOR(pg_catalog.=) pk_key_get_by_organization.org_id
                 ORDER BY k.created_at, k.id;
END $$;
