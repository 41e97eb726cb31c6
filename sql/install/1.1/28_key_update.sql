-- pk_key_update and pk_key_add_credits.
--
-- Locking: a key's balance lives in one row (the key's own, or for a key in
-- a rotation's grace period the row named by balance_key_id). Writers take
-- that row's lock (SELECT … FOR UPDATE) before reading the balance, apply
-- the refills due (pk_refill_remaining/pk_refill_last) and write the result
-- in one UPDATE, so concurrent spends, credits and refills serialise on it
-- and a refill is applied once. pk_key_update locks the key's own row.

-- Reads a JSON number as an integer in [lo, hi]; 22023 naming the field.
CREATE FUNCTION pk_keys.pk_json_integer(value jsonb, field text, lo numeric, hi numeric)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pk_keys AS $$
DECLARE
    n numeric;
BEGIN
    IF pg_catalog.jsonb_typeof(value) OPERATOR(pg_catalog.<>) 'number' THEN
        RAISE EXCEPTION 'invalid type for %: expected a JSON number, got %',
            field, pg_catalog.jsonb_typeof(value) USING ERRCODE = '22023';
    END IF;
    n := value::numeric;
    IF n OPERATOR(pg_catalog.<>) pg_catalog.trunc(n) THEN
        RAISE EXCEPTION 'invalid type for %: expected an integer', field USING ERRCODE = '22023';
    END IF;
    IF n OPERATOR(pg_catalog.<) lo OR n OPERATOR(pg_catalog.>) hi THEN
        RAISE EXCEPTION '% must be between % and %', field, lo, hi USING ERRCODE = '22023';
    END IF;
    RETURN n::bigint;
END $$;

-- Reads one field of a pk_key_update patch as the column's type, checking
-- its JSON type and bounds: 22023 naming the field (unknown field, wrong
-- type, out of bounds), 22004 for a JSON null on a NOT NULL field. A JSON
-- null gives NULL for the nullable fields.
CREATE FUNCTION pk_keys.pk_key_change_value(field text, value jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pk_keys AS $$
DECLARE
    t      text := pg_catalog.jsonb_typeof(value);
    want   text;
    ts     timestamptz;
    scopes text[];
BEGIN
    want := CASE field
        WHEN 'name' THEN 'string' WHEN 'scopes' THEN 'array' WHEN 'is_active' THEN 'boolean'
        WHEN 'expires_at' THEN 'string' WHEN 'rate_limit_per_minute' THEN 'number'
        WHEN 'remaining' THEN 'number' WHEN 'metadata' THEN 'object'
        WHEN 'allowed_ips' THEN 'array' WHEN 'refill_amount' THEN 'number'
        WHEN 'refill_interval' THEN 'string' WHEN 'refill_day' THEN 'number'
        WHEN 'refill_mode' THEN 'string' END;
    IF want IS NULL THEN
        RAISE EXCEPTION 'unknown field in changes: "%"',
            CASE WHEN pk_keys.pk_validate_key_format(field) THEN '(an API key, not shown)'
                 ELSE pg_catalog.left(field, 100) END
            USING ERRCODE = '22023',
            HINT = 'Allowed fields: name, scopes, is_active, expires_at, rate_limit_per_minute, remaining, metadata, allowed_ips, refill_amount, refill_interval, refill_day, refill_mode.';
    END IF;
    IF t OPERATOR(pg_catalog.=) 'null' THEN
        IF field OPERATOR(pg_catalog.=) ANY (ARRAY['scopes', 'is_active', 'metadata', 'refill_mode']) THEN
            RAISE EXCEPTION '% must not be NULL', field USING ERRCODE = '22004';
        END IF;
        RETURN NULL;
    END IF;
    IF t OPERATOR(pg_catalog.<>) want THEN
        RAISE EXCEPTION 'invalid type for %: expected a JSON %, got %', field, want, t
            USING ERRCODE = '22023';
    END IF;
    CASE field
    WHEN 'name' THEN
        PERFORM pk_keys.pk_check_name(value OPERATOR(pg_catalog.#>>) '{}');
    WHEN 'scopes' THEN
        IF EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(value) e
                   WHERE pg_catalog.jsonb_typeof(e) OPERATOR(pg_catalog.<>) 'string') THEN
            RAISE EXCEPTION 'invalid type for scopes: expected a JSON array of strings'
                USING ERRCODE = '22023';
        END IF;
        SELECT COALESCE(pg_catalog.array_agg(e ORDER BY n), '{}') INTO scopes
        FROM pg_catalog.jsonb_array_elements_text(value) WITH ORDINALITY AS x(e, n);
        PERFORM pk_keys.pk_check_scopes(scopes);
        RETURN scopes::text;
    WHEN 'expires_at' THEN
        BEGIN
            ts := (value OPERATOR(pg_catalog.#>>) '{}')::timestamptz;
        EXCEPTION WHEN data_exception THEN
            RAISE EXCEPTION 'invalid value for expires_at: expected a timestamp such as 2030-01-01T00:00:00Z'
                USING ERRCODE = '22023';
        END;
        RETURN ts::text;
    WHEN 'rate_limit_per_minute' THEN
        RETURN pk_keys.pk_json_integer(value, field, 0, 2147483647)::text;
    WHEN 'remaining', 'refill_amount' THEN
        RETURN pk_keys.pk_json_integer(value, field, 0, 9223372036854775807)::text;
    WHEN 'refill_day' THEN
        RETURN pk_keys.pk_json_integer(value, field, 1, 31)::text;
    WHEN 'refill_interval' THEN
        IF value OPERATOR(pg_catalog.#>>) '{}' OPERATOR(pg_catalog.<>) ALL (ARRAY['day', 'month']) THEN
            RAISE EXCEPTION 'invalid refill_interval: must be ''day'' or ''month''' USING ERRCODE = '22023';
        END IF;
    WHEN 'refill_mode' THEN
        IF value OPERATOR(pg_catalog.#>>) '{}' OPERATOR(pg_catalog.<>) ALL (ARRAY['replace', 'add']) THEN
            RAISE EXCEPTION 'invalid refill_mode: must be ''replace'' or ''add''' USING ERRCODE = '22023';
        END IF;
    WHEN 'metadata' THEN
        PERFORM pk_keys.pk_check_metadata(value);
    WHEN 'allowed_ips' THEN
        RETURN pk_keys.pk_json_cidrs(value)::text;
    ELSE
        NULL;
    END CASE;
    RETURN value OPERATOR(pg_catalog.#>>) '{}';
END $$;

-- pk_key_update(key_id, changes): applies a jsonb patch of name, scopes,
-- is_active, expires_at, rate_limit_per_minute, remaining, metadata
-- (replaced), allowed_ips and the refill settings; returns the row as
-- reported. {} changes nothing. Refills due under the old settings are
-- applied first; a change of the refill settings restarts the schedule now
-- and starts a key without a balance at refill_amount. A key in a rotation's
-- grace period shares its successor's balance: its remaining and refill
-- settings are changed on that key (55000 here).
CREATE FUNCTION pk_keys.pk_key_update(key_id uuid, changes jsonb)
RETURNS SETOF pk_keys.api_keys
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1 AS $$
DECLARE
    f        text;
    v        jsonb;
    vals     jsonb := '{}';
    cur      pk_keys.api_keys;
    nw       pk_keys.api_keys;
    refill_changed boolean;
BEGIN
    IF key_id IS NULL THEN
        RAISE EXCEPTION 'key_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF changes IS NULL THEN
        RAISE EXCEPTION 'changes must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.jsonb_typeof(changes) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'changes must be a JSON object' USING ERRCODE = '22023';
    END IF;
    -- Validated and converted before any lock: vals maps field -> text value.
    FOR f, v IN SELECT c.key, c.value FROM pg_catalog.jsonb_each(changes) c LOOP
        vals := vals OPERATOR(pg_catalog.||)
                pg_catalog.jsonb_build_object(f, pk_keys.pk_key_change_value(f, v));
    END LOOP;

    SELECT k.* INTO cur FROM pk_keys.api_keys k
    WHERE k.id OPERATOR(pg_catalog.=) pk_key_update.key_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'api key % does not exist', key_id USING ERRCODE = 'P0002';
    END IF;
    IF vals OPERATOR(pg_catalog.=) '{}' THEN
        RETURN NEXT pk_keys.pk_key_view(cur);
        RETURN;
    END IF;
    IF cur.balance_key_id IS NOT NULL AND vals OPERATOR(pg_catalog.?|)
            ARRAY['remaining', 'refill_amount', 'refill_interval', 'refill_day', 'refill_mode'] THEN
        RAISE EXCEPTION 'api key % was rotated: its balance is held by key %; change remaining and refills there',
            cur.id, cur.balance_key_id USING ERRCODE = '55000';
    END IF;
    -- The balance as of now under the old settings.
    IF cur.balance_key_id IS NULL THEN
        SELECT pk_keys.pk_refill_remaining(cur.remaining, cur.refill_amount, cur.refill_interval,
                   cur.refill_day, cur.refill_mode, cur.last_refill_at, cur.created_at, pg_catalog.now()),
               pk_keys.pk_refill_last(cur.remaining, cur.refill_amount, cur.refill_interval,
                   cur.refill_day, cur.refill_mode, cur.last_refill_at, cur.created_at, pg_catalog.now())
        INTO cur.remaining, cur.last_refill_at;
    END IF;

    nw := cur;
    IF vals OPERATOR(pg_catalog.?) 'name' THEN nw.name := vals OPERATOR(pg_catalog.->>) 'name'; END IF;
    IF vals OPERATOR(pg_catalog.?) 'scopes' THEN nw.scopes := (vals OPERATOR(pg_catalog.->>) 'scopes')::text[]; END IF;
    IF vals OPERATOR(pg_catalog.?) 'is_active' THEN nw.is_active := (vals OPERATOR(pg_catalog.->>) 'is_active')::boolean; END IF;
    IF vals OPERATOR(pg_catalog.?) 'expires_at' THEN nw.expires_at := (vals OPERATOR(pg_catalog.->>) 'expires_at')::timestamptz; END IF;
    IF vals OPERATOR(pg_catalog.?) 'rate_limit_per_minute' THEN
        nw.rate_limit_per_minute := (vals OPERATOR(pg_catalog.->>) 'rate_limit_per_minute')::integer;
    END IF;
    IF vals OPERATOR(pg_catalog.?) 'remaining' THEN nw.remaining := (vals OPERATOR(pg_catalog.->>) 'remaining')::bigint; END IF;
    IF vals OPERATOR(pg_catalog.?) 'metadata' THEN nw.metadata := changes OPERATOR(pg_catalog.->) 'metadata'; END IF;
    IF vals OPERATOR(pg_catalog.?) 'allowed_ips' THEN nw.allowed_ips := (vals OPERATOR(pg_catalog.->>) 'allowed_ips')::cidr[]; END IF;
    IF vals OPERATOR(pg_catalog.?) 'refill_amount' THEN nw.refill_amount := (vals OPERATOR(pg_catalog.->>) 'refill_amount')::bigint; END IF;
    IF vals OPERATOR(pg_catalog.?) 'refill_interval' THEN
        nw.refill_interval := vals OPERATOR(pg_catalog.->>) 'refill_interval';
        -- A day of the month means nothing to a daily refill.
        IF NOT vals OPERATOR(pg_catalog.?) 'refill_day' AND nw.refill_interval IS DISTINCT FROM 'month' THEN
            nw.refill_day := NULL;
        END IF;
    END IF;
    IF vals OPERATOR(pg_catalog.?) 'refill_day' THEN nw.refill_day := (vals OPERATOR(pg_catalog.->>) 'refill_day')::integer; END IF;
    IF vals OPERATOR(pg_catalog.?) 'refill_mode' THEN nw.refill_mode := vals OPERATOR(pg_catalog.->>) 'refill_mode'; END IF;

    refill_changed := (nw.refill_amount, nw.refill_interval, nw.refill_day, nw.refill_mode)
        IS DISTINCT FROM (cur.refill_amount, cur.refill_interval, cur.refill_day, cur.refill_mode);
    IF refill_changed THEN
        nw.refill_day := pk_keys.pk_key_check_refill(nw.refill_amount, nw.refill_interval,
                                                      nw.refill_day, nw.refill_mode);
        nw.last_refill_at := pg_catalog.now();
    END IF;
    IF nw.refill_amount IS NOT NULL AND nw.remaining IS NULL AND nw.balance_key_id IS NULL THEN
        IF vals OPERATOR(pg_catalog.?) 'remaining' THEN
            RAISE EXCEPTION 'remaining must not be NULL (unlimited) while a refill is set; set refill_amount and refill_interval to null too'
                USING ERRCODE = '22023';
        END IF;
        nw.remaining := nw.refill_amount;
    END IF;

    IF nw IS NOT DISTINCT FROM cur THEN
        RETURN NEXT pk_keys.pk_key_view(cur);
        RETURN;
    END IF;
    UPDATE pk_keys.api_keys k
    SET name = nw.name, scopes = nw.scopes, is_active = nw.is_active, expires_at = nw.expires_at,
        rate_limit_per_minute = nw.rate_limit_per_minute, remaining = nw.remaining,
        metadata = nw.metadata, allowed_ips = nw.allowed_ips, refill_amount = nw.refill_amount,
        refill_interval = nw.refill_interval, refill_day = nw.refill_day,
        refill_mode = nw.refill_mode, last_refill_at = nw.last_refill_at
    WHERE k.id OPERATOR(pg_catalog.=) cur.id
    RETURNING k.* INTO nw;
    PERFORM pk_keys.pk_audit_write('key.update', nw.organization_id, nw.id, NULL,
        pk_keys.pk_audit_changes(pg_catalog.to_jsonb(cur), pg_catalog.to_jsonb(nw)));
    RETURN NEXT pk_keys.pk_key_view(nw);
END $$;

-- Locks the row that holds key_id's balance and returns it (no row when the
-- key does not exist). A rotated key's balance is its successor's; a
-- rotation moving the pointer meanwhile is seen on the re-check.
CREATE FUNCTION pk_keys.pk_key_lock_balance(key_id uuid) RETURNS SETOF pk_keys.api_keys
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1 AS $$
DECLARE
    holder uuid;
    again  uuid;
    b      pk_keys.api_keys;
BEGIN
    SELECT COALESCE(k.balance_key_id, k.id) INTO holder FROM pk_keys.api_keys k
    WHERE k.id OPERATOR(pg_catalog.=) pk_key_lock_balance.key_id;
    LOOP
        IF holder IS NULL THEN
            RETURN;
        END IF;
        SELECT x.* INTO b FROM pk_keys.api_keys x WHERE x.id OPERATOR(pg_catalog.=) holder FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'api key % was rotated and the key holding its balance no longer exists', key_id
                USING ERRCODE = '55000';
        END IF;
        -- Each statement sees the latest commits: is it still the holder?
        SELECT COALESCE(k.balance_key_id, k.id) INTO again FROM pk_keys.api_keys k
        WHERE k.id OPERATOR(pg_catalog.=) pk_key_lock_balance.key_id;
        IF again OPERATOR(pg_catalog.=) holder AND b.balance_key_id IS NULL THEN
            RETURN NEXT b;
            RETURN;
        END IF;
        holder := COALESCE(b.balance_key_id, again);
    END LOOP;
END $$;

-- pk_key_add_credits(key_id, delta): adds delta (may be negative) to the
-- key's balance as of now (refills due applied) and returns the new
-- balance. Unlimited (NULL) → 55000; a result below 0 → 22023, nothing
-- changes. Exact under concurrency: the balance row is locked first.
CREATE FUNCTION pk_keys.pk_key_add_credits(key_id uuid, delta bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    b      pk_keys.api_keys;
    before bigint;
    after  numeric;
    org    uuid;
BEGIN
    IF key_id IS NULL THEN
        RAISE EXCEPTION 'key_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF delta IS NULL THEN
        RAISE EXCEPTION 'delta must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT l.* INTO b FROM pk_keys.pk_key_lock_balance(key_id) l;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'api key % does not exist', key_id USING ERRCODE = 'P0002';
    END IF;
    IF b.remaining IS NULL THEN
        RAISE EXCEPTION 'api key % has unlimited credits (remaining is NULL): set remaining with pk_key_update first',
            key_id USING ERRCODE = '55000';
    END IF;
    before := pk_keys.pk_refill_remaining(b.remaining, b.refill_amount, b.refill_interval,
        b.refill_day, b.refill_mode, b.last_refill_at, b.created_at, pg_catalog.now());
    after := before::numeric OPERATOR(pg_catalog.+) delta::numeric;
    IF after OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'delta would make the balance negative (it is %)', before USING ERRCODE = '22023';
    END IF;
    IF after OPERATOR(pg_catalog.>) 9223372036854775807 THEN
        RAISE EXCEPTION 'delta would make the balance exceed the bigint range' USING ERRCODE = '22023';
    END IF;
    UPDATE pk_keys.api_keys x
    SET remaining = after::bigint,
        last_refill_at = pk_keys.pk_refill_last(x.remaining, x.refill_amount, x.refill_interval,
            x.refill_day, x.refill_mode, x.last_refill_at, x.created_at, pg_catalog.now())
    WHERE x.id OPERATOR(pg_catalog.=) b.id;
    SELECT k.organization_id INTO org FROM pk_keys.api_keys k WHERE k.id OPERATOR(pg_catalog.=) key_id;
    PERFORM pk_keys.pk_audit_write('key.add_credits', org, key_id, NULL,
        pg_catalog.jsonb_build_object('delta', delta,
            'remaining', pg_catalog.jsonb_build_object('old', before, 'new', after::bigint)));
    RETURN after::bigint;
END $$;

REVOKE EXECUTE ON FUNCTION pk_keys.pk_json_integer(jsonb, text, numeric, numeric),
    pk_keys.pk_key_change_value(text, jsonb), pk_keys.pk_key_update(uuid, jsonb),
    pk_keys.pk_key_lock_balance(uuid), pk_keys.pk_key_add_credits(uuid, bigint)
FROM PUBLIC;
