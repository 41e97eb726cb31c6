-- Bounds on the organization and key arguments (contract 1.1, "Bounds on
-- input"): scopes at most 256 elements of 1..128 bytes, no NULL element;
-- name at most 200 characters; metadata a JSON object of at most 64 kB as
-- text. Each raises 22023 naming the argument. Every org/key function that
-- takes these arguments calls these checks, so each rule is written here once.

-- Raises unless scopes is a one-dimensional array within the bounds (22004
-- for NULL itself).
CREATE FUNCTION pk_keys.pk_check_scopes(scopes text[], arg text DEFAULT 'scopes') RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    IF scopes IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', arg USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.array_ndims(scopes) OPERATOR(pg_catalog.>) 1 THEN
        RAISE EXCEPTION '% must be a one-dimensional array', arg USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.cardinality(scopes) OPERATOR(pg_catalog.>) 256 THEN
        RAISE EXCEPTION '% must have at most 256 elements', arg USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.array_position(scopes, NULL) IS NOT NULL THEN
        RAISE EXCEPTION '% must not contain NULL', arg USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.unnest(scopes) s
               WHERE pg_catalog.octet_length(s) NOT BETWEEN 1 AND 128) THEN
        RAISE EXCEPTION 'every element of % must be 1 to 128 bytes long', arg USING ERRCODE = '22023';
    END IF;
END $$;

-- Raises 22023 when a name is longer than 200 characters (NULL passes).
CREATE FUNCTION pk_keys.pk_check_name(name text, arg text DEFAULT 'name') RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    IF pg_catalog.length(name) OPERATOR(pg_catalog.>) 200 THEN
        RAISE EXCEPTION '% must be at most 200 characters', arg USING ERRCODE = '22023';
    END IF;
END $$;

-- Raises unless metadata is a JSON object of at most 64 kB as text (22004
-- for NULL).
CREATE FUNCTION pk_keys.pk_check_metadata(metadata jsonb, arg text DEFAULT 'metadata') RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    IF metadata IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', arg USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.jsonb_typeof(metadata) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION '% must be a JSON object', arg USING ERRCODE = '22023';
    END IF;
    -- The stored size bounds the text size from above only roughly: measure
    -- the text itself.
    IF pg_catalog.octet_length(metadata::text) OPERATOR(pg_catalog.>) 65536 THEN
        RAISE EXCEPTION '% must be at most 64 kB as text', arg USING ERRCODE = '22023';
    END IF;
END $$;

REVOKE EXECUTE ON FUNCTION pk_keys.pk_check_scopes(text[], text), pk_keys.pk_check_name(text, text),
    pk_keys.pk_check_metadata(jsonb, text) FROM PUBLIC;

-- Reads a JSON allowlist (an array of CIDR strings, at most 256, or null)
-- as cidr[]; 22023 naming the argument otherwise.
CREATE FUNCTION pk_keys.pk_json_cidrs(value jsonb, arg text DEFAULT 'allowed_ips') RETURNS cidr[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pk_keys AS $$
DECLARE
    result cidr[];
BEGIN
    IF value IS NULL OR pg_catalog.jsonb_typeof(value) OPERATOR(pg_catalog.=) 'null' THEN
        RETURN NULL;
    END IF;
    IF pg_catalog.jsonb_typeof(value) OPERATOR(pg_catalog.<>) 'array' THEN
        RAISE EXCEPTION 'invalid type for %: expected a JSON array of CIDR strings', arg
            USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.jsonb_array_length(value) OPERATOR(pg_catalog.>) 256 THEN
        RAISE EXCEPTION '% must have at most 256 elements', arg USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(value) e
               WHERE pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.<>) 'string') THEN
        RAISE EXCEPTION 'invalid type for %: expected a JSON array of CIDR strings', arg
            USING ERRCODE = '22023';
    END IF;
    BEGIN
        SELECT pg_catalog.array_agg(e::cidr ORDER BY n) INTO result
        FROM pg_catalog.jsonb_array_elements_text(value) WITH ORDINALITY AS t(e, n);
    EXCEPTION WHEN invalid_text_representation OR invalid_binary_representation
                   OR invalid_parameter_value THEN
        RAISE EXCEPTION 'invalid value for %: every element must be an IP network such as 10.0.0.0/8', arg
            USING ERRCODE = '22023';
    END;
    RETURN COALESCE(result, '{}');
END $$;

REVOKE EXECUTE ON FUNCTION pk_keys.pk_json_cidrs(jsonb, text) FROM PUBLIC;
