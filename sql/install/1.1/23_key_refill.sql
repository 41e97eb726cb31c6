-- Refill settings of API keys and the reported view of a key row.
--
-- The balance is reported as if a job had run at every refill instant, but
-- nothing runs: readers compute it (pk_key_view), and writers store it in
-- the same UPDATE that changes the balance (the spend statements of the
-- per-request path, pk_key_add_credits, pk_key_update), so a refill is
-- applied once whoever gets the row lock first. The arithmetic is the C++
-- core's (src/core/refill.cpp), reached here through two C functions.
--
-- One balance during a rotation's grace period: the old key's
-- balance_key_id names the key holding the balance (the newest key of the
-- rotation chain); the old key's own remaining is 0 and unused while it is
-- set. A missing holder (deleted by hand) leaves the old key with 0.

ALTER TABLE pk_keys.api_keys ADD COLUMN balance_key_id uuid;
CREATE INDEX api_keys_balance_key_idx ON pk_keys.api_keys (balance_key_id)
    WHERE balance_key_id IS NOT NULL;

-- The balance at `at` of a row with these refill settings (remaining when
-- the row has none). Instants count strictly after last_refill_at, or from
-- created_at included when no refill was applied yet.
CREATE FUNCTION pk_keys.pk_refill_remaining(remaining bigint, refill_amount bigint,
    refill_interval text, refill_day integer, refill_mode text, last_refill_at timestamptz,
    created_at timestamptz, at timestamptz)
RETURNS bigint
AS 'MODULE_PATHNAME', 'pk_refill_remaining'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

-- The value of last_refill_at at `at`: the latest refill instant applied, or
-- last_refill_at unchanged when none is due.
CREATE FUNCTION pk_keys.pk_refill_last(remaining bigint, refill_amount bigint,
    refill_interval text, refill_day integer, refill_mode text, last_refill_at timestamptz,
    created_at timestamptz, at timestamptz)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'pk_refill_last'
LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;

-- Validates a complete set of refill settings; returns refill_day as stored
-- (1 when a monthly refill leaves it NULL). 22023 naming the argument.
CREATE FUNCTION pk_keys.pk_key_check_refill(refill_amount bigint, refill_interval text,
                                            refill_day integer, refill_mode text)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    IF refill_mode IS NULL THEN
        RAISE EXCEPTION 'refill_mode must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF refill_mode OPERATOR(pg_catalog.<>) ALL (ARRAY['replace', 'add']) THEN
        RAISE EXCEPTION 'invalid refill_mode: must be ''replace'' or ''add''' USING ERRCODE = '22023';
    END IF;
    IF refill_amount IS NULL AND refill_interval IS NULL THEN
        IF refill_day IS NOT NULL THEN
            RAISE EXCEPTION 'refill_day needs refill_interval ''month''' USING ERRCODE = '22023';
        END IF;
        RETURN NULL;
    END IF;
    IF refill_amount IS NULL THEN
        RAISE EXCEPTION 'refill_interval needs refill_amount' USING ERRCODE = '22023';
    END IF;
    IF refill_interval IS NULL THEN
        RAISE EXCEPTION 'refill_amount needs refill_interval' USING ERRCODE = '22023';
    END IF;
    IF refill_amount OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'refill_amount must not be negative' USING ERRCODE = '22023';
    END IF;
    IF refill_interval OPERATOR(pg_catalog.<>) ALL (ARRAY['day', 'month']) THEN
        RAISE EXCEPTION 'invalid refill_interval: must be ''day'' or ''month''' USING ERRCODE = '22023';
    END IF;
    IF refill_interval OPERATOR(pg_catalog.=) 'day' THEN
        IF refill_day IS NOT NULL THEN
            RAISE EXCEPTION 'refill_day applies to refill_interval ''month'' only' USING ERRCODE = '22023';
        END IF;
        RETURN NULL;
    END IF;
    IF refill_day NOT BETWEEN 1 AND 31 THEN
        RAISE EXCEPTION 'refill_day must be between 1 and 31' USING ERRCODE = '22023';
    END IF;
    RETURN COALESCE(refill_day, 1);
END $$;

-- A key row as the API reports it: remaining (and last_refill_at) as of
-- now with every refill due applied; a rotated key reports the balance it
-- shares with its newest successor. Writes nothing.
CREATE FUNCTION pk_keys.pk_key_view(k pk_keys.api_keys) RETURNS pk_keys.api_keys
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
DECLARE
    b pk_keys.api_keys;
BEGIN
    IF k.balance_key_id IS NULL THEN
        SELECT pk_keys.pk_refill_remaining(k.remaining, k.refill_amount, k.refill_interval,
                   k.refill_day, k.refill_mode, k.last_refill_at, k.created_at, pg_catalog.now()),
               pk_keys.pk_refill_last(k.remaining, k.refill_amount, k.refill_interval,
                   k.refill_day, k.refill_mode, k.last_refill_at, k.created_at, pg_catalog.now())
        INTO k.remaining, k.last_refill_at;
        RETURN k;
    END IF;
    SELECT x.* INTO b FROM pk_keys.api_keys x WHERE x.id OPERATOR(pg_catalog.=) k.balance_key_id;
    k.remaining := CASE WHEN FOUND THEN pk_keys.pk_refill_remaining(b.remaining, b.refill_amount,
        b.refill_interval, b.refill_day, b.refill_mode, b.last_refill_at, b.created_at,
        pg_catalog.now()) ELSE 0 END;
    RETURN k;
END $$;

REVOKE EXECUTE ON FUNCTION
    pk_keys.pk_refill_remaining(bigint, bigint, text, integer, text, timestamptz, timestamptz, timestamptz),
    pk_keys.pk_refill_last(bigint, bigint, text, integer, text, timestamptz, timestamptz, timestamptz),
    pk_keys.pk_key_check_refill(bigint, text, integer, text),
    pk_keys.pk_key_view(pk_keys.api_keys)
FROM PUBLIC;
