-- API key repository. The full key exists only in pk_key_create's result: it
-- is never stored, never passed to an SQL statement as a parameter (so no
-- log_parameter_max_length_on_error or auto_explain line can carry it) and
-- never part of an error message. Messages never echo a key or hash argument
-- either (a caller may pass a full key where a hash is expected).

-- Validates pk_key_create's arguments, generates the key through the C++
-- core and inserts the row. Its OUT names differ from pk_key_create's IN
-- names (PL/pgSQL forbids an IN and an OUT parameter of the same name).
CREATE FUNCTION pk_keys.pk_key_create_row(
    org_id uuid, name text, environment text, scopes text[], expires_at timestamptz,
    rate_limit_per_minute integer, remaining bigint, metadata jsonb, created_by uuid,
    OUT new_id uuid, OUT new_full_key text, OUT new_key_prefix text, OUT new_key_hint text,
    OUT new_environment text, OUT new_expires_at timestamptz, OUT new_created_at timestamptz)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    k_hash text;
    k_hint text;
BEGIN
    IF org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF environment IS NULL THEN
        RAISE EXCEPTION 'environment must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF environment OPERATOR(pg_catalog.<>) ALL (ARRAY['live', 'test']) THEN
        RAISE EXCEPTION 'invalid environment: must be ''live'' or ''test'''
            USING ERRCODE = '22023';
    END IF;
    IF scopes IS NULL THEN
        RAISE EXCEPTION 'scopes must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.array_ndims(scopes) OPERATOR(pg_catalog.>) 1 THEN
        RAISE EXCEPTION 'scopes must be a one-dimensional array' USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.array_position(scopes, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'scopes must not contain NULL' USING ERRCODE = '22004';
    END IF;
    IF rate_limit_per_minute OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'rate_limit_per_minute must not be negative' USING ERRCODE = '22023';
    END IF;
    IF remaining OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'remaining must not be negative' USING ERRCODE = '22023';
    END IF;
    IF metadata IS NULL THEN
        RAISE EXCEPTION 'metadata must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.jsonb_typeof(metadata) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'metadata must be a JSON object' USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pk_keys.organizations o
                   WHERE o.id OPERATOR(pg_catalog.=) pk_key_create_row.org_id) THEN
        RAISE EXCEPTION 'organization % does not exist', org_id USING ERRCODE = 'P0002';
    END IF;

    SELECT g.full_key, g.key_hash, g.key_hint, g.key_prefix
    INTO new_full_key, k_hash, k_hint, new_key_prefix
    FROM pk_keys.pk_generate_key(pk_key_create_row.environment) g;

    INSERT INTO pk_keys.api_keys AS k
        (organization_id, name, key_prefix, key_hash, key_hint, environment, scopes,
         expires_at, rate_limit_per_minute, remaining, metadata, created_by)
    VALUES (org_id, pk_key_create_row.name, new_key_prefix, k_hash, k_hint,
            pk_key_create_row.environment, pk_key_create_row.scopes,
            pk_key_create_row.expires_at, pk_key_create_row.rate_limit_per_minute,
            pk_key_create_row.remaining, pk_key_create_row.metadata,
            pk_key_create_row.created_by)
    RETURNING k.id, k.key_hint, k.environment, k.expires_at, k.created_at
    INTO new_id, new_key_hint, new_environment, new_expires_at, new_created_at;
END $$;

-- pk_key_create(...): creates a key and returns it with its full key, the
-- only time the full key is ever seen.
CREATE FUNCTION pk_keys.pk_key_create(
    org_id uuid, name text DEFAULT NULL, environment text DEFAULT 'live',
    scopes text[] DEFAULT '{}', expires_at timestamptz DEFAULT NULL,
    rate_limit_per_minute integer DEFAULT NULL, remaining bigint DEFAULT NULL,
    metadata jsonb DEFAULT '{}', created_by uuid DEFAULT NULL)
RETURNS TABLE (id uuid, full_key text, key_prefix text, key_hint text, environment text,
               expires_at timestamptz, created_at timestamptz)
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1
BEGIN ATOMIC
    SELECT c.new_id, c.new_full_key, c.new_key_prefix, c.new_key_hint, c.new_environment,
           c.new_expires_at, c.new_created_at
    FROM pk_keys.pk_key_create_row(org_id, name, environment, scopes, expires_at,
                                   rate_limit_per_minute, remaining, metadata, created_by) c;
END;

-- pk_key_get_by_id(key_id): the key, or no row.
CREATE FUNCTION pk_keys.pk_key_get_by_id(key_id uuid)
RETURNS SETOF pk_keys.api_keys
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1 AS $$
BEGIN
    IF key_id IS NULL THEN
        RAISE EXCEPTION 'key_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    RETURN QUERY SELECT k.* FROM pk_keys.api_keys k
                 WHERE k.id OPERATOR(pg_catalog.=) pk_key_get_by_id.key_id;
END $$;

-- pk_key_get_by_hash(key_hash): the key with this SHA-256 (64 hex digits,
-- either case), or no row; anything else is 22023.
CREATE FUNCTION pk_keys.pk_key_get_by_hash(key_hash text)
RETURNS SETOF pk_keys.api_keys
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1 AS $$
BEGIN
    IF key_hash IS NULL THEN
        RAISE EXCEPTION 'key_hash must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF key_hash OPERATOR(pg_catalog.!~) '^[0-9a-fA-F]{64}$' THEN
        RAISE EXCEPTION 'invalid key_hash: must be 64 hexadecimal digits'
            USING ERRCODE = '22023';
    END IF;
    RETURN QUERY SELECT k.* FROM pk_keys.api_keys k
                 WHERE k.key_hash OPERATOR(pg_catalog.=)
                       (pg_catalog.lower(pk_key_get_by_hash.key_hash) COLLATE "C");
END $$;

-- pk_key_get_by_organization(org_id): the organization's keys, oldest first.
CREATE FUNCTION pk_keys.pk_key_get_by_organization(org_id uuid)
RETURNS SETOF pk_keys.api_keys
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 10 AS $$
BEGIN
    IF org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    RETURN QUERY SELECT k.* FROM pk_keys.api_keys k
                 WHERE k.organization_id OPERATOR(pg_catalog.=) pk_key_get_by_organization.org_id
                 ORDER BY k.created_at, k.id;
END $$;

-- pk_key_update_last_used(key_id): last_used_at := now() (never moves back).
CREATE FUNCTION pk_keys.pk_key_update_last_used(key_id uuid) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
BEGIN
    IF key_id IS NULL THEN
        RAISE EXCEPTION 'key_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    UPDATE pk_keys.api_keys k
    SET last_used_at = GREATEST(k.last_used_at, pg_catalog.now())
    WHERE k.id OPERATOR(pg_catalog.=) pk_key_update_last_used.key_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'api key % does not exist', key_id USING ERRCODE = 'P0002';
    END IF;
END $$;

-- pk_key_increment_request_count(key_id): request_count + 1 in one UPDATE,
-- so concurrent callers queue on the row lock and none is lost.
CREATE FUNCTION pk_keys.pk_key_increment_request_count(key_id uuid) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
BEGIN
    IF key_id IS NULL THEN
        RAISE EXCEPTION 'key_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    UPDATE pk_keys.api_keys k
    SET request_count = k.request_count OPERATOR(pg_catalog.+) 1
    WHERE k.id OPERATOR(pg_catalog.=) pk_key_increment_request_count.key_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'api key % does not exist', key_id USING ERRCODE = 'P0002';
    END IF;
END $$;

-- pk_key_revoke(key_id, reason, revoked_by): true when this call revoked the
-- key, false when it was already revoked (nothing changes then). is_active
-- is left alone. Racing revokes: the loser re-checks the committed row under
-- READ COMMITTED and matches nothing, so exactly one gets true.
CREATE FUNCTION pk_keys.pk_key_revoke(key_id uuid, reason text, revoked_by uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
BEGIN
    IF key_id IS NULL THEN
        RAISE EXCEPTION 'key_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    UPDATE pk_keys.api_keys k
    SET revoked_at = pg_catalog.now(), revoked_by = pk_key_revoke.revoked_by,
        revoked_reason = pk_key_revoke.reason
    WHERE k.id OPERATOR(pg_catalog.=) pk_key_revoke.key_id AND k.revoked_at IS NULL;
    IF FOUND THEN
        RETURN true;
    END IF;
    IF EXISTS (SELECT 1 FROM pk_keys.api_keys k
               WHERE k.id OPERATOR(pg_catalog.=) pk_key_revoke.key_id) THEN
        RETURN false;
    END IF;
    RAISE EXCEPTION 'api key % does not exist', key_id USING ERRCODE = 'P0002';
END $$;

-- pk_key_delete_expired(): deletes every key with expires_at <= now() (and
-- their rate-limit windows); their usage rows stay. Returns how many.
CREATE FUNCTION pk_keys.pk_key_delete_expired() RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    n integer;
BEGIN
    WITH gone AS (
        DELETE FROM pk_keys.api_keys k
        WHERE k.expires_at OPERATOR(pg_catalog.<=) pg_catalog.now()
        RETURNING k.id
    ), windows AS (
        DELETE FROM pk_keys.rate_limit_tracking t
        USING gone
        WHERE t.api_key_id OPERATOR(pg_catalog.=) gone.id
    )
    SELECT pg_catalog.count(*) INTO n FROM gone;
    RETURN n;
END $$;

REVOKE EXECUTE ON FUNCTION
    pk_keys.pk_key_create_row(uuid, text, text, text[], timestamptz, integer, bigint, jsonb, uuid),
    pk_keys.pk_key_create(uuid, text, text, text[], timestamptz, integer, bigint, jsonb, uuid),
    pk_keys.pk_key_get_by_id(uuid), pk_keys.pk_key_get_by_hash(text),
    pk_keys.pk_key_get_by_organization(uuid), pk_keys.pk_key_update_last_used(uuid),
    pk_keys.pk_key_increment_request_count(uuid), pk_keys.pk_key_revoke(uuid, text, uuid),
    pk_keys.pk_key_delete_expired()
FROM PUBLIC;
