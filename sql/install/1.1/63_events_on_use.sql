-- Events raised on use by the request path (src/events.cpp): credits.low
-- needs the balance it is 10 % of, "the last refill or creation balance".
-- api_keys.credits_baseline keeps it: set when a key is created with
-- credits and whenever its balance rises (a refill, pk_key_add_credits,
-- pk_key_update): the refill amount for a 'replace' refill, else the new
-- balance. Spends, which only lower it, never run the trigger function (the
-- WHEN clause filters them out at no cost).

ALTER TABLE pk_keys.api_keys ADD COLUMN credits_baseline bigint;
UPDATE pk_keys.api_keys SET credits_baseline = remaining WHERE remaining IS NOT NULL;

CREATE FUNCTION pk_keys.api_keys_credits_baseline() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    IF TG_OP OPERATOR(pg_catalog.=) 'UPDATE' AND NEW.refill_amount IS NOT NULL
       AND NEW.refill_mode OPERATOR(pg_catalog.=) 'replace'
       AND NEW.last_refill_at IS DISTINCT FROM OLD.last_refill_at THEN
        NEW.credits_baseline := NEW.refill_amount;
    ELSE
        NEW.credits_baseline := NEW.remaining;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER api_keys_credits_baseline_insert
    BEFORE INSERT ON pk_keys.api_keys FOR EACH ROW
    WHEN (NEW.remaining IS NOT NULL)
    EXECUTE FUNCTION pk_keys.api_keys_credits_baseline();
CREATE TRIGGER api_keys_credits_baseline_raise
    BEFORE UPDATE OF remaining ON pk_keys.api_keys FOR EACH ROW
    WHEN (NEW.remaining IS NOT NULL AND (OLD.remaining IS NULL OR NEW.remaining > OLD.remaining))
    EXECUTE FUNCTION pk_keys.api_keys_credits_baseline();

-- Events that could be neither written nor queued (a standby, a read-only
-- transaction without preload, a full queue): shared count when preloaded,
-- else this backend's.
CREATE FUNCTION pk_keys.pk_events_dropped() RETURNS bigint
AS 'MODULE_PATHNAME', 'pk_events_dropped'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

REVOKE EXECUTE ON FUNCTION pk_keys.api_keys_credits_baseline(), pk_keys.pk_events_dropped() FROM PUBLIC;
