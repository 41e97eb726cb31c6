-- Revocation, 1.1: pk_key_revoke and pk_key_delete_expired write audit
-- entries; a revocation raises a key.revoked event; pk_key_report_leak
-- revokes a key reported by a secret scanner. Same signatures as 1.0.

-- pk_key_revoke(key_id, reason, revoked_by): true when this call revoked the
-- key (audit entry 'key.revoke' and a key.revoked event), false when it was
-- already revoked (nothing written). Racing revokes: the loser re-checks the
-- committed row under READ COMMITTED and matches nothing.
CREATE OR REPLACE FUNCTION pk_keys.pk_key_revoke(key_id uuid, reason text, revoked_by uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    org uuid;
    at  timestamptz;
BEGIN
    IF key_id IS NULL THEN
        RAISE EXCEPTION 'key_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.length(reason) OPERATOR(pg_catalog.>) 1000 THEN
        RAISE EXCEPTION 'reason must be at most 1000 characters' USING ERRCODE = '22023';
    END IF;
    UPDATE pk_keys.api_keys k
    SET revoked_at = pg_catalog.now(), revoked_by = pk_key_revoke.revoked_by,
        revoked_reason = pk_key_revoke.reason
    WHERE k.id OPERATOR(pg_catalog.=) pk_key_revoke.key_id AND k.revoked_at IS NULL
    RETURNING k.organization_id, k.revoked_at INTO org, at;
    IF FOUND THEN
        PERFORM pk_keys.pk_audit_write('key.revoke', org, key_id, revoked_by,
            pg_catalog.jsonb_build_object(
                'revoked_at', pg_catalog.jsonb_build_object('old', NULL, 'new', at),
                'revoked_reason', pg_catalog.jsonb_build_object('old', NULL, 'new', reason)));
        PERFORM pk_keys.pk_event_emit('key.revoked', org, key_id,
            pg_catalog.jsonb_build_object('reason', reason, 'revoked_by', revoked_by));
        RETURN true;
    END IF;
    IF EXISTS (SELECT 1 FROM pk_keys.api_keys k
               WHERE k.id OPERATOR(pg_catalog.=) pk_key_revoke.key_id) THEN
        RETURN false;
    END IF;
    RAISE EXCEPTION 'api key % does not exist', key_id USING ERRCODE = 'P0002';
END $$;

-- pk_key_delete_expired(): deletes every key with expires_at <= now() (and
-- their rate-limit windows); their usage rows stay. One 'key.delete_expired'
-- audit entry per deleted key. Returns how many.
CREATE OR REPLACE FUNCTION pk_keys.pk_key_delete_expired() RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    n integer;
BEGIN
    WITH gone AS (
        DELETE FROM pk_keys.api_keys k
        WHERE k.expires_at OPERATOR(pg_catalog.<=) pg_catalog.now()
        RETURNING k.id, k.organization_id, k.expires_at
    ), windows AS (
        DELETE FROM pk_keys.rate_limit_tracking t
        USING gone
        WHERE t.api_key_id OPERATOR(pg_catalog.=) gone.id
    ), audited AS (
        INSERT INTO pk_keys.audit_log (action, organization_id, target_id, changes)
        SELECT 'key.delete_expired', gone.organization_id, gone.id,
               pg_catalog.jsonb_build_object('expires_at', gone.expires_at)
        FROM gone
    )
    SELECT pg_catalog.count(*) INTO n FROM gone;
    RETURN n;
END $$;

-- pk_key_report_leak(full_key, source): revokes the key (reason 'leaked:
-- <source>', source cut to 200 characters, or 'leaked') and raises a
-- key.leaked event; revoked says whether this call revoked it. An unknown or
-- malformed key gives no row (a scanner may report anything), so no key ever
-- makes it raise. The key is only hashed, never stored, logged or echoed.
CREATE FUNCTION pk_keys.pk_key_report_leak(full_key text, source text DEFAULT NULL)
RETURNS TABLE (key_id uuid, organization_id uuid, revoked boolean)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1 AS $$
DECLARE
    k      pk_keys.api_keys;
    reason text;
BEGIN
    IF full_key IS NULL THEN
        RAISE EXCEPTION 'full_key must not be NULL' USING ERRCODE = '22004';
    END IF;
    -- Cut, not refused: an error here would log the statement, and with it
    -- the key (the server logs the statement of a failed call).
    source := pg_catalog.left(source, 200);
    IF NOT pk_keys.pk_validate_key_format(full_key) THEN
        RETURN;
    END IF;
    SELECT x.* INTO k FROM pk_keys.api_keys x
    WHERE x.key_hash OPERATOR(pg_catalog.=) (pk_keys.pk_hash_key(full_key) COLLATE "C");
    IF NOT FOUND THEN
        RETURN;
    END IF;
    reason := 'leaked' OPERATOR(pg_catalog.||) COALESCE(': ' OPERATOR(pg_catalog.||) source, '');
    key_id := k.id;
    organization_id := k.organization_id;
    revoked := pk_keys.pk_key_revoke(k.id, reason, NULL);
    PERFORM pk_keys.pk_audit_write('key.report_leak', k.organization_id, k.id, NULL,
        pg_catalog.jsonb_build_object('source', source, 'revoked', revoked));
    PERFORM pk_keys.pk_event_emit('key.leaked', k.organization_id, k.id,
        pg_catalog.jsonb_build_object('source', source, 'revoked', revoked));
    RETURN NEXT;
END $$;

REVOKE EXECUTE ON FUNCTION pk_keys.pk_key_report_leak(text, text) FROM PUBLIC;
