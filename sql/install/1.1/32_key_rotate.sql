-- pk_key_rotate: a new key replaces an old one, which stays valid for a
-- grace period. One balance: the new key takes the old key's remaining
-- (refills due applied first); the old key's balance_key_id then names the
-- new key (as does every earlier key of the chain still pointing at the old
-- one), its own remaining becomes 0, and both keys spend the new key's row
-- (see 23_key_refill.sql and the shared spend statements in spi_plans.cpp).
-- Locking: the old key's row is locked first (FOR UPDATE), so a concurrent
-- revoke, spend or second rotation of it waits and then sees the result.

-- pk_key_rotate(key_id, grace, rotated_by): the new key (its full key seen
-- only here) and when the old one expires: LEAST(its expires_at, now() +
-- grace). grace from 0 to 30 days (else 22023); a revoked, expired or
-- already rotated key → 55000; unknown id → P0002.
CREATE FUNCTION pk_keys.pk_key_rotate(key_id uuid, grace interval DEFAULT '24 hours',
                                      rotated_by uuid DEFAULT NULL)
RETURNS TABLE (id uuid, full_key text, key_prefix text, key_hint text, environment text,
               expires_at timestamptz, created_at timestamptz, old_key_expires_at timestamptz)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1 AS $$
DECLARE
    old     pk_keys.api_keys;
    nw      pk_keys.api_keys;
    k_hash  text;
    balance bigint;
    last_at timestamptz;
    old_exp timestamptz;
BEGIN
    IF key_id IS NULL THEN
        RAISE EXCEPTION 'key_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF grace IS NULL THEN
        RAISE EXCEPTION 'grace must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF grace OPERATOR(pg_catalog.<) interval '0' OR grace OPERATOR(pg_catalog.>) interval '30 days' THEN
        RAISE EXCEPTION 'grace must be between 0 and 30 days' USING ERRCODE = '22023';
    END IF;
    SELECT k.* INTO old FROM pk_keys.api_keys k
    WHERE k.id OPERATOR(pg_catalog.=) pk_key_rotate.key_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'api key % does not exist', key_id USING ERRCODE = 'P0002';
    END IF;
    IF old.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'api key % is revoked and cannot be rotated', key_id USING ERRCODE = '55000';
    END IF;
    IF old.expires_at OPERATOR(pg_catalog.<=) pg_catalog.now() THEN
        RAISE EXCEPTION 'api key % is expired and cannot be rotated', key_id USING ERRCODE = '55000';
    END IF;
    -- balance_key_id is set by a rotation and never cleared.
    IF old.balance_key_id IS NOT NULL THEN
        RAISE EXCEPTION 'api key % was already rotated: rotate its newest successor', key_id
            USING ERRCODE = '55000';
    END IF;

    balance := pk_keys.pk_refill_remaining(old.remaining, old.refill_amount, old.refill_interval,
        old.refill_day, old.refill_mode, old.last_refill_at, old.created_at, pg_catalog.now());
    last_at := pk_keys.pk_refill_last(old.remaining, old.refill_amount, old.refill_interval,
        old.refill_day, old.refill_mode, old.last_refill_at, old.created_at, pg_catalog.now());
    SELECT g.full_key, g.key_hash INTO full_key, k_hash FROM pk_keys.pk_generate_key(old.environment) g;

    INSERT INTO pk_keys.api_keys AS k
        (organization_id, name, key_prefix, key_hash, key_hint, environment, scopes, is_active,
         expires_at, rate_limit_per_minute, remaining, metadata, created_by, refill_amount,
         refill_interval, refill_day, refill_mode, last_refill_at, rotated_from, allowed_ips)
    VALUES (old.organization_id, old.name, old.key_prefix, k_hash,
            pg_catalog.right(full_key, 4), old.environment, old.scopes, old.is_active,
            old.expires_at, old.rate_limit_per_minute, balance, old.metadata, rotated_by,
            old.refill_amount, old.refill_interval, old.refill_day, old.refill_mode,
            last_at,
            old.id, old.allowed_ips)
    RETURNING k.* INTO nw;

    old_exp := LEAST(old.expires_at, pg_catalog.now() OPERATOR(pg_catalog.+) grace);
    UPDATE pk_keys.api_keys k
    SET expires_at = old_exp, balance_key_id = nw.id,
        remaining = CASE WHEN k.remaining IS NULL AND balance IS NULL THEN NULL ELSE 0 END
    WHERE k.id OPERATOR(pg_catalog.=) old.id;
    -- Earlier keys of the chain still in their grace period follow the balance.
    UPDATE pk_keys.api_keys k SET balance_key_id = nw.id
    WHERE k.balance_key_id OPERATOR(pg_catalog.=) old.id;

    PERFORM pk_keys.pk_audit_write('key.rotate', old.organization_id, old.id, rotated_by,
        pg_catalog.jsonb_build_object('new_key_id', nw.id,
            'expires_at', pg_catalog.jsonb_build_object('old', old.expires_at, 'new', old_exp)));
    PERFORM pk_keys.pk_event_emit('key.rotated', old.organization_id, old.id,
        pg_catalog.jsonb_build_object('new_key_id', nw.id, 'old_key_expires_at', old_exp,
                                      'rotated_by', rotated_by));
    id := nw.id;
    key_prefix := nw.key_prefix;
    key_hint := nw.key_hint;
    environment := nw.environment;
    expires_at := nw.expires_at;
    created_at := nw.created_at;
    old_key_expires_at := old_exp;
    RETURN NEXT;
END $$;

REVOKE EXECUTE ON FUNCTION pk_keys.pk_key_rotate(uuid, interval, uuid) FROM PUBLIC;
