-- Events for applications: one row in pk_keys.events plus a
-- NOTIFY pk_keys_events (payload {"id": …, "kind": …}) delivered on commit.
-- Every place that raises an event calls pk_event_emit, so the row, the
-- notification and the read-only rule live here once.

-- Events raised "once per occasion" carry payload->>'occasion' (for
-- instance rate_limit.exceeded: limit id and window; key.expiring: the
-- expiry): one row per kind, key and occasion, however many sessions race.
CREATE UNIQUE INDEX events_once ON pk_keys.events
    (kind, api_key_id, (payload OPERATOR(pg_catalog.->>) 'occasion'))
    WHERE payload OPERATOR(pg_catalog.?) 'occasion';

-- Records one event; returns its id, or NULL where nothing may be written
-- (a standby or a read-only transaction: see the C++ event queue) or when
-- the event's occasion was already recorded.
CREATE FUNCTION pk_keys.pk_event_emit(kind text, org_id uuid, key_id uuid, payload jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
DECLARE
    v_id bigint;
BEGIN
    IF pg_catalog.pg_is_in_recovery() OR pg_catalog.current_setting('transaction_read_only')::boolean THEN
        RETURN NULL;
    END IF;
    INSERT INTO pk_keys.events (kind, organization_id, api_key_id, payload)
    VALUES (kind, org_id, key_id, COALESCE(payload, '{}'))
    ON CONFLICT DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM pg_catalog.pg_notify('pk_keys_events',
        pg_catalog.jsonb_build_object('id', v_id, 'kind', kind)::text);
    RETURN v_id;
END $$;

REVOKE EXECUTE ON FUNCTION pk_keys.pk_event_emit(text, uuid, uuid, jsonb) FROM PUBLIC;
