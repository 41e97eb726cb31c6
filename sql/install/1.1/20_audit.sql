-- The audit log (table pk_keys.audit_log, created in 10_tables.sql): every
-- mutating function writes one entry per change through pk_audit_write, in
-- its own transaction (a rollback leaves no entry). Entries never hold a key
-- or a key hash: pk_audit_changes drops key_hash from every row it compares.
-- Append-only: only members of the table's owner role may UPDATE, DELETE or
-- TRUNCATE it (privileges already say so; the trigger holds even if someone
-- GRANTs them by mistake).

-- The changed fields between two row images as {"field": {"old": …, "new": …}};
-- key_hash never appears.
CREATE FUNCTION pk_keys.pk_audit_changes(old_row jsonb, new_row jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN COALESCE((
    SELECT pg_catalog.jsonb_object_agg(f.key, pg_catalog.jsonb_build_object(
               'old', old_row OPERATOR(pg_catalog.->) f.key, 'new', f.value))
    FROM pg_catalog.jsonb_each(COALESCE(new_row, '{}') OPERATOR(pg_catalog.-) 'key_hash') f
    WHERE f.value IS DISTINCT FROM (old_row OPERATOR(pg_catalog.->) f.key)), '{}');

-- Writes one audit entry (actor: the *_by argument of the call, if any).
-- The helper every mutating function calls, including pk_limit_set/delete.
CREATE FUNCTION pk_keys.pk_audit_write(action text, org_id uuid, target_id uuid, actor uuid,
                                       changes jsonb DEFAULT '{}')
RETURNS void
LANGUAGE sql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
BEGIN ATOMIC
    INSERT INTO pk_keys.audit_log (actor, action, organization_id, target_id, changes)
    VALUES (actor, action, org_id, target_id,
            COALESCE(changes, '{}') OPERATOR(pg_catalog.-) 'key_hash');
END;

-- Refuses UPDATE, DELETE and TRUNCATE on audit_log to anyone but members of
-- its owner role. Not SECURITY DEFINER: it judges the caller.
CREATE FUNCTION pk_keys.audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    IF NOT pg_catalog.pg_has_role(CURRENT_USER,
            (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) TG_RELID),
            'MEMBER') THEN
        RAISE EXCEPTION 'pk_keys.audit_log is append-only: % is refused', TG_OP
            USING ERRCODE = '42501';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON pk_keys.audit_log
    FOR EACH ROW EXECUTE FUNCTION pk_keys.audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON pk_keys.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION pk_keys.audit_log_append_only();

-- pk_audit_get(org_id, start_at, end_at): the organization's entries in
-- [start_at, end_at), oldest first; the range spans at most 3660 days.
CREATE FUNCTION pk_keys.pk_audit_get(org_id uuid, start_at timestamptz, end_at timestamptz)
RETURNS SETOF pk_keys.audit_log
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 100 AS $$
BEGIN
    IF org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF start_at IS NULL THEN
        RAISE EXCEPTION 'start_at must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF end_at IS NULL THEN
        RAISE EXCEPTION 'end_at must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF NOT pg_catalog.isfinite(start_at) OR NOT pg_catalog.isfinite(end_at) THEN
        RAISE EXCEPTION 'start_at and end_at must be finite' USING ERRCODE = '22023';
    END IF;
    IF end_at OPERATOR(pg_catalog.<) start_at THEN
        RAISE EXCEPTION 'end_at must not be before start_at' USING ERRCODE = '22023';
    END IF;
    IF end_at OPERATOR(pg_catalog.>) (start_at OPERATOR(pg_catalog.+) interval '3660 days') THEN
        RAISE EXCEPTION 'the range from start_at to end_at must span at most 3660 days'
            USING ERRCODE = '22023';
    END IF;
    RETURN QUERY SELECT a.* FROM pk_keys.audit_log a
                 WHERE a.organization_id OPERATOR(pg_catalog.=) pk_audit_get.org_id
                   AND a.at OPERATOR(pg_catalog.>=) start_at AND a.at OPERATOR(pg_catalog.<) end_at
                 ORDER BY a.at, a.id;
END $$;

REVOKE EXECUTE ON FUNCTION pk_keys.pk_audit_changes(jsonb, jsonb),
    pk_keys.pk_audit_write(text, uuid, uuid, uuid, jsonb),
    pk_keys.audit_log_append_only(), pk_keys.pk_audit_get(uuid, timestamptz, timestamptz)
FROM PUBLIC;
