-- Named limits and organization pools: pk_limit_set / pk_limit_delete
-- manage rows of pk_keys.limits; pk_authenticate_request spends them
-- (src/named_limits.cpp).

-- A window given as an interval in whole seconds (months count 30 days, as
-- pk_rate_limit_check counts them): 1 second to 366 days, else 22023.
CREATE FUNCTION pk_keys.pk_limit_window_seconds(window_size interval) RETURNS integer
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pk_keys AS $$
DECLARE
    v_secs numeric;
BEGIN
    -- OPERATOR() forms share one precedence: every product is parenthesised.
    v_secs := ((pg_catalog.date_part('year', window_size)::numeric OPERATOR(pg_catalog.*) 12)
                OPERATOR(pg_catalog.+) pg_catalog.date_part('month', window_size)::numeric)
              OPERATOR(pg_catalog.*) 2592000;
    v_secs := v_secs
              OPERATOR(pg_catalog.+) (pg_catalog.date_part('day', window_size)::numeric OPERATOR(pg_catalog.*) 86400)
              OPERATOR(pg_catalog.+) (pg_catalog.date_part('hour', window_size)::numeric OPERATOR(pg_catalog.*) 3600)
              OPERATOR(pg_catalog.+) (pg_catalog.date_part('minute', window_size)::numeric OPERATOR(pg_catalog.*) 60)
              OPERATOR(pg_catalog.+) pg_catalog.date_part('second', window_size)::numeric;
    IF v_secs OPERATOR(pg_catalog.<) 1 OR v_secs OPERATOR(pg_catalog.>) 31622400
       OR v_secs OPERATOR(pg_catalog.<>) pg_catalog.trunc(v_secs) THEN
        RAISE EXCEPTION 'window_size must be a whole number of seconds from 1 second to 366 days'
            USING ERRCODE = '22023';
    END IF;
    RETURN v_secs::integer;
END $$;

-- Creates or replaces the limit `name` of a key (api_key_id) or the
-- organization's pool of that name (api_key_id NULL); returns the row.
CREATE FUNCTION pk_keys.pk_limit_set(
    organization_id uuid,
    name text,
    lim integer,
    window_size interval,
    api_key_id uuid DEFAULT NULL,
    algorithm text DEFAULT 'sliding',
    enforce boolean DEFAULT true)
RETURNS pk_keys.limits
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
DECLARE
    v_org uuid := organization_id;
    v_key uuid := api_key_id;
    v_window integer;
    v_old pk_keys.limits;
    v_row pk_keys.limits;
BEGIN
    IF v_org IS NULL THEN RAISE EXCEPTION 'organization_id must not be NULL' USING ERRCODE = '22004'; END IF;
    IF name IS NULL THEN RAISE EXCEPTION 'name must not be NULL' USING ERRCODE = '22004'; END IF;
    IF lim IS NULL THEN RAISE EXCEPTION 'lim must not be NULL' USING ERRCODE = '22004'; END IF;
    IF window_size IS NULL THEN RAISE EXCEPTION 'window_size must not be NULL' USING ERRCODE = '22004'; END IF;
    IF algorithm IS NULL THEN RAISE EXCEPTION 'algorithm must not be NULL' USING ERRCODE = '22004'; END IF;
    IF enforce IS NULL THEN RAISE EXCEPTION 'enforce must not be NULL' USING ERRCODE = '22004'; END IF;
    IF pg_catalog.length(name) OPERATOR(pg_catalog.<) 1 OR pg_catalog.length(name) OPERATOR(pg_catalog.>) 200 THEN
        RAISE EXCEPTION 'name must be 1 to 200 characters' USING ERRCODE = '22023';
    END IF;
    IF lim OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'lim must not be negative' USING ERRCODE = '22023';
    END IF;
    IF algorithm OPERATOR(pg_catalog.<>) ALL (ARRAY['sliding', 'fixed']) THEN
        RAISE EXCEPTION 'algorithm must be sliding or fixed' USING ERRCODE = '22023';
    END IF;
    v_window := pk_keys.pk_limit_window_seconds(window_size);
    PERFORM 1 FROM pk_keys.organizations o WHERE o.id OPERATOR(pg_catalog.=) v_org;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'organization_id: no organization %', v_org USING ERRCODE = 'P0002';
    END IF;
    IF v_key IS NOT NULL THEN
        PERFORM 1 FROM pk_keys.api_keys k
         WHERE k.id OPERATOR(pg_catalog.=) v_key AND k.organization_id OPERATOR(pg_catalog.=) v_org;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'api_key_id: no key % in organization %', v_key, v_org USING ERRCODE = 'P0002';
        END IF;
    END IF;
    SELECT * INTO v_old FROM pk_keys.limits l
     WHERE l.organization_id OPERATOR(pg_catalog.=) v_org
       AND l.api_key_id IS NOT DISTINCT FROM v_key AND l.name OPERATOR(pg_catalog.=) pk_limit_set.name
     FOR UPDATE;
    INSERT INTO pk_keys.limits AS l (organization_id, api_key_id, name, lim, window_seconds, algorithm, enforce)
    VALUES (v_org, v_key, pk_limit_set.name, lim, v_window, algorithm, enforce)
    ON CONFLICT ON CONSTRAINT limits_name_key DO UPDATE
       SET lim = EXCLUDED.lim, window_seconds = EXCLUDED.window_seconds,
           algorithm = EXCLUDED.algorithm, enforce = EXCLUDED.enforce, updated_at = pg_catalog.now()
    RETURNING * INTO v_row;
    PERFORM pk_keys.pk_audit_write('limit.set', v_org, v_row.id, NULL,
        pk_keys.pk_audit_changes(
            CASE WHEN v_old.id IS NULL THEN NULL
                 ELSE pg_catalog.to_jsonb(v_old) OPERATOR(pg_catalog.-) 'updated_at' END,
            pg_catalog.to_jsonb(v_row) OPERATOR(pg_catalog.-) 'updated_at'));
    RETURN v_row;
END $$;

-- Deletes the limit `name` of a key, or the organization's pool of that
-- name (api_key_id NULL); true if there was one.
CREATE FUNCTION pk_keys.pk_limit_delete(organization_id uuid, name text, api_key_id uuid DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
DECLARE
    v_row pk_keys.limits;
BEGIN
    IF organization_id IS NULL THEN RAISE EXCEPTION 'organization_id must not be NULL' USING ERRCODE = '22004'; END IF;
    IF name IS NULL THEN RAISE EXCEPTION 'name must not be NULL' USING ERRCODE = '22004'; END IF;
    DELETE FROM pk_keys.limits l
     WHERE l.organization_id OPERATOR(pg_catalog.=) pk_limit_delete.organization_id
       AND l.api_key_id IS NOT DISTINCT FROM pk_limit_delete.api_key_id
       AND l.name OPERATOR(pg_catalog.=) pk_limit_delete.name
    RETURNING * INTO v_row;
    IF v_row.id IS NULL THEN
        RETURN false;
    END IF;
    -- Its windows go with it (rows are keyed by the limit's id).
    DELETE FROM pk_keys.rate_limit_tracking r WHERE r.api_key_id OPERATOR(pg_catalog.=) v_row.id;
    PERFORM pk_keys.pk_audit_write('limit.delete', v_row.organization_id, v_row.id, NULL,
        pg_catalog.jsonb_build_object('deleted', pg_catalog.to_jsonb(v_row)));
    RETURN true;
END $$;

REVOKE EXECUTE ON FUNCTION pk_keys.pk_limit_set(uuid, text, integer, interval, uuid, text, boolean),
    pk_keys.pk_limit_delete(uuid, text, uuid),
    pk_keys.pk_limit_window_seconds(interval) FROM PUBLIC;
