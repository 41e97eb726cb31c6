-- Organization repository, 1.1: the 1.0 functions gain the input bounds
-- (name, metadata), allowed_ips in pk_org_update, and an audit entry per
-- change. Signatures are unchanged (CREATE OR REPLACE keeps GRANTs).

-- pk_org_create(name, email, plan, slug): as in 1.0 (slug derivation safe
-- under concurrency), plus the name bound and an 'org.create' audit entry.
CREATE OR REPLACE FUNCTION pk_keys.pk_org_create(name text, email text, plan text DEFAULT 'free',
                                                 slug text DEFAULT NULL)
RETURNS SETOF pk_keys.organizations
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1 AS $$
DECLARE
    e               text;
    base            text;
    s               text;
    r               pk_keys.organizations;
    constraint_name text;
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION 'name must not be NULL' USING ERRCODE = '22004';
    END IF;
    PERFORM pk_keys.pk_check_name(name);
    e := pk_keys.pk_org_normalize_email(email);
    PERFORM pk_keys.pk_org_check_plan(plan);
    IF EXISTS (SELECT 1 FROM pk_keys.organizations o
               WHERE pg_catalog.lower(o.email) OPERATOR(pg_catalog.=) e) THEN
        RAISE EXCEPTION 'email is already in use by another organization'
            USING ERRCODE = '23505';
    END IF;

    IF slug IS NOT NULL THEN
        PERFORM pk_keys.pk_org_check_slug(slug);
        IF pk_keys.pk_org_slug_taken(slug) THEN
            RAISE EXCEPTION 'slug "%" is already in use', slug USING ERRCODE = '23505';
        END IF;
    END IF;

    BEGIN
        IF slug IS NOT NULL THEN
            INSERT INTO pk_keys.organizations AS o (name, slug, email, plan)
            VALUES (pk_org_create.name, pk_org_create.slug, e, pk_org_create.plan)
            RETURNING o.* INTO r;
        ELSE
            base := pk_keys.pk_org_slugify(name);
            LOOP
                s := pk_keys.pk_org_free_slug(base);
                INSERT INTO pk_keys.organizations AS o (name, slug, email, plan)
                VALUES (pk_org_create.name, s, e, pk_org_create.plan)
                ON CONFLICT ON CONSTRAINT organizations_slug_key DO NOTHING
                RETURNING o.* INTO r;
                EXIT WHEN FOUND;
                -- Another session committed this slug meanwhile: the next
                -- statement's snapshot sees it, so the next candidate differs.
            END LOOP;
        END IF;
    EXCEPTION WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS constraint_name = CONSTRAINT_NAME;
        IF constraint_name OPERATOR(pg_catalog.=) 'organizations_slug_key' THEN
            RAISE EXCEPTION 'slug "%" is already in use', slug USING ERRCODE = '23505';
        ELSIF constraint_name OPERATOR(pg_catalog.=) 'organizations_email_key' THEN
            RAISE EXCEPTION 'email is already in use by another organization' USING ERRCODE = '23505';
        END IF;
        RAISE;
    END;
    PERFORM pk_keys.pk_audit_write('org.create', r.id, r.id, NULL,
                                   pk_keys.pk_audit_changes(NULL, pg_catalog.to_jsonb(r)));
    RETURN NEXT r;
END $$;

-- Validates one field of a pk_org_update patch: known name, JSON type, not
-- null (allowed_ips may be null), bounds. 22023 (unknown field, wrong type,
-- out of bounds) or 22004 (null).
CREATE OR REPLACE FUNCTION pk_keys.pk_org_check_change(field text, value jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pk_keys AS $$
DECLARE
    want text;
    t    text := pg_catalog.jsonb_typeof(value);
BEGIN
    want := CASE field
        WHEN 'name' THEN 'string' WHEN 'email' THEN 'string'
        WHEN 'plan' THEN 'string' WHEN 'slug' THEN 'string'
        WHEN 'is_active' THEN 'boolean'
        WHEN 'rate_limit_per_minute' THEN 'number'
        WHEN 'metadata' THEN 'object'
        WHEN 'allowed_ips' THEN 'array' END;
    IF want IS NULL THEN
        -- Named, unless the name is an API key pasted into the wrong place.
        RAISE EXCEPTION 'unknown field in changes: "%"',
            CASE WHEN pk_keys.pk_validate_key_format(field) THEN '(an API key, not shown)'
                 ELSE pg_catalog.left(field, 100) END
            USING ERRCODE = '22023',
            HINT = 'Allowed fields: name, email, plan, slug, is_active, rate_limit_per_minute, metadata, allowed_ips.';
    END IF;
    IF t OPERATOR(pg_catalog.=) 'null' THEN
        IF field OPERATOR(pg_catalog.=) 'allowed_ips' THEN
            RETURN;
        END IF;
        RAISE EXCEPTION '% must not be NULL', field USING ERRCODE = '22004';
    END IF;
    IF t OPERATOR(pg_catalog.<>) want THEN
        RAISE EXCEPTION 'invalid type for %: expected a JSON %, got %',
            field, want, t USING ERRCODE = '22023';
    END IF;
    IF field OPERATOR(pg_catalog.=) 'name' THEN
        PERFORM pk_keys.pk_check_name(value OPERATOR(pg_catalog.#>>) '{}');
    ELSIF field OPERATOR(pg_catalog.=) 'metadata' THEN
        PERFORM pk_keys.pk_check_metadata(value);
    ELSIF field OPERATOR(pg_catalog.=) 'allowed_ips' THEN
        PERFORM pk_keys.pk_json_cidrs(value);
    END IF;
END $$;

-- pk_org_update(org_id, changes): as in 1.0, plus allowed_ips (a JSON array
-- of CIDR strings, or null for any address) and an 'org.update' audit entry
-- of the changed fields. The row is locked before it is read.
CREATE OR REPLACE FUNCTION pk_keys.pk_org_update(org_id uuid, changes jsonb)
RETURNS SETOF pk_keys.organizations
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1 AS $$
DECLARE
    f   text;
    v   jsonb;
    cur pk_keys.organizations;
    nw  pk_keys.organizations;
BEGIN
    IF org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF changes IS NULL THEN
        RAISE EXCEPTION 'changes must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.jsonb_typeof(changes) OPERATOR(pg_catalog.<>) 'object' THEN
        RAISE EXCEPTION 'changes must be a JSON object' USING ERRCODE = '22023';
    END IF;
    FOR f, v IN SELECT c.key, c.value FROM pg_catalog.jsonb_each(changes) c LOOP
        PERFORM pk_keys.pk_org_check_change(f, v);
    END LOOP;

    SELECT o.* INTO cur FROM pk_keys.organizations o
    WHERE o.id OPERATOR(pg_catalog.=) pk_org_update.org_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'organization % does not exist', org_id USING ERRCODE = 'P0002';
    END IF;

    nw := cur;
    IF changes OPERATOR(pg_catalog.?) 'name' THEN
        nw.name := changes OPERATOR(pg_catalog.->>) 'name';
    END IF;
    IF changes OPERATOR(pg_catalog.?) 'email' THEN
        nw.email := pk_keys.pk_org_normalize_email(changes OPERATOR(pg_catalog.->>) 'email');
        IF EXISTS (SELECT 1 FROM pk_keys.organizations o
                   WHERE pg_catalog.lower(o.email) OPERATOR(pg_catalog.=) nw.email
                     AND o.id OPERATOR(pg_catalog.<>) cur.id) THEN
            RAISE EXCEPTION 'email is already in use by another organization'
                USING ERRCODE = '23505';
        END IF;
    END IF;
    IF changes OPERATOR(pg_catalog.?) 'slug' THEN
        nw.slug := changes OPERATOR(pg_catalog.->>) 'slug';
        PERFORM pk_keys.pk_org_check_slug(nw.slug);
        IF pk_keys.pk_org_slug_taken(nw.slug, cur.id) THEN
            RAISE EXCEPTION 'slug "%" is already in use', nw.slug USING ERRCODE = '23505';
        END IF;
    END IF;
    IF changes OPERATOR(pg_catalog.?) 'plan' THEN
        nw.plan := changes OPERATOR(pg_catalog.->>) 'plan';
        PERFORM pk_keys.pk_org_check_plan(nw.plan);
        IF nw.plan OPERATOR(pg_catalog.<>) cur.plan THEN
            nw.rate_limit_per_minute := pk_keys.pk_plan_rate_limit(nw.plan);
        END IF;
    END IF;
    IF changes OPERATOR(pg_catalog.?) 'rate_limit_per_minute' THEN
        nw.rate_limit_per_minute :=
            pk_keys.pk_org_json_rate_limit(changes OPERATOR(pg_catalog.->) 'rate_limit_per_minute');
    END IF;
    IF changes OPERATOR(pg_catalog.?) 'is_active' THEN
        nw.is_active := (changes OPERATOR(pg_catalog.->) 'is_active')::boolean;
    END IF;
    IF changes OPERATOR(pg_catalog.?) 'metadata' THEN
        nw.metadata := changes OPERATOR(pg_catalog.->) 'metadata';
    END IF;
    IF changes OPERATOR(pg_catalog.?) 'allowed_ips' THEN
        nw.allowed_ips := pk_keys.pk_json_cidrs(changes OPERATOR(pg_catalog.->) 'allowed_ips');
    END IF;

    IF nw IS NOT DISTINCT FROM cur THEN
        RETURN NEXT cur;
        RETURN;
    END IF;
    UPDATE pk_keys.organizations o
    SET name = nw.name, slug = nw.slug, email = nw.email, plan = nw.plan,
        is_active = nw.is_active, rate_limit_per_minute = nw.rate_limit_per_minute,
        metadata = nw.metadata, allowed_ips = nw.allowed_ips,
        updated_at = pg_catalog.clock_timestamp()
    WHERE o.id OPERATOR(pg_catalog.=) cur.id
    RETURNING o.* INTO nw;
    PERFORM pk_keys.pk_audit_write('org.update', cur.id, cur.id, NULL,
        pk_keys.pk_audit_changes(pg_catalog.to_jsonb(cur), pg_catalog.to_jsonb(nw) OPERATOR(pg_catalog.-) 'updated_at'));
    RETURN NEXT nw;
END $$;
