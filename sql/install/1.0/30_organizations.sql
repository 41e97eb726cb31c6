-- Organization repository. Every function below that reads or writes a table
-- is SECURITY DEFINER with a pinned search_path and no EXECUTE for PUBLIC;
-- names and operators inside the bodies are schema-qualified anyway.

-- Derives a slug from a name: lower case, every run of characters outside
-- a-z0-9 becomes one '-', '-' trimmed, at most 63 characters, 'org' if empty.
CREATE FUNCTION pk_keys.pk_org_slugify(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
RETURN COALESCE(
    NULLIF(
        pg_catalog.rtrim(
            pg_catalog.substr(
                pg_catalog.btrim(
                    pg_catalog.regexp_replace(pg_catalog.lower(name), '[^a-z0-9]+', '-', 'g'),
                    '-'),
                1, 63),
            '-'),
        ''),
    'org');

-- The n-th candidate for a derived slug: the base itself for n = 1, else the
-- base cut so that base || '-' || n stays within 63 characters.
CREATE FUNCTION pk_keys.pk_org_slug_candidate(base text, n bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
RETURN CASE WHEN n OPERATOR(pg_catalog.<=) 1 THEN base
       ELSE pg_catalog.rtrim(
                pg_catalog.substr(base, 1,
                    63 OPERATOR(pg_catalog.-) pg_catalog.length('-' OPERATOR(pg_catalog.||) n)),
                '-')
            OPERATOR(pg_catalog.||) '-' OPERATOR(pg_catalog.||) n
       END;

-- Trims white space and lower-cases an email; raises 22004/22023 when it is
-- NULL or not local@domain without white space.
CREATE FUNCTION pk_keys.pk_org_normalize_email(email text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pk_keys AS $$
DECLARE
    e text;
BEGIN
    IF email IS NULL THEN
        RAISE EXCEPTION 'email must not be NULL' USING ERRCODE = '22004';
    END IF;
    e := pg_catalog.lower(pg_catalog.regexp_replace(email, '^[[:space:]]+|[[:space:]]+$', '', 'g'));
    IF e OPERATOR(pg_catalog.!~) '^[^@[:space:]]+@[^@[:space:]]+$' THEN
        RAISE EXCEPTION 'invalid email: must be local@domain without white space'
            USING ERRCODE = '22023';
    END IF;
    RETURN e;
END $$;

-- Raises 22004/22023 unless plan is exactly one of the four plans.
CREATE FUNCTION pk_keys.pk_org_check_plan(plan text) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    IF plan IS NULL THEN
        RAISE EXCEPTION 'plan must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF pk_keys.pk_plan_rate_limit(plan) IS NULL THEN
        RAISE EXCEPTION 'invalid plan: must be one of free, starter, pro, enterprise'
            USING ERRCODE = '22023';
    END IF;
END $$;

-- Raises 22023 unless slug matches ^[a-z0-9]+(-[a-z0-9]+)*$ within 63
-- characters.
CREATE FUNCTION pk_keys.pk_org_check_slug(slug text) RETURNS void
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    IF slug OPERATOR(pg_catalog.!~) '^[a-z0-9]+(-[a-z0-9]+)*$' THEN
        RAISE EXCEPTION 'invalid slug: must match ^[a-z0-9]+(-[a-z0-9]+)*$'
            USING ERRCODE = '22023';
    END IF;
    IF pg_catalog.length(slug) OPERATOR(pg_catalog.>) 63 THEN
        RAISE EXCEPTION 'invalid slug: must be at most 63 characters' USING ERRCODE = '22023';
    END IF;
END $$;

-- True when some organization (other than except_id) already has this slug.
CREATE FUNCTION pk_keys.pk_org_slug_taken(slug text, except_id uuid DEFAULT NULL)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
BEGIN ATOMIC
    SELECT EXISTS (SELECT 1 FROM pk_keys.organizations o
                   WHERE o.slug OPERATOR(pg_catalog.=) pk_org_slug_taken.slug
                     AND o.id IS DISTINCT FROM pk_org_slug_taken.except_id);
END;

-- The first free slug derived from base: base, base-2, base-3, ... Probes
-- exponentially then bisects, so n clashes cost O(log n) index probes (it
-- returns the smallest free suffix whenever the taken ones are contiguous).
CREATE FUNCTION pk_keys.pk_org_free_slug(base text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
DECLARE
    lo  bigint := 1;
    hi  bigint := 2;
    mid bigint;
BEGIN
    IF NOT pk_keys.pk_org_slug_taken(base) THEN
        RETURN base;
    END IF;
    WHILE pk_keys.pk_org_slug_taken(pk_keys.pk_org_slug_candidate(base, hi)) LOOP
        lo := hi;
        hi := hi OPERATOR(pg_catalog.*) 2;
    END LOOP;
    -- Invariant: candidate lo is taken, candidate hi is free.
    WHILE hi OPERATOR(pg_catalog.-) lo OPERATOR(pg_catalog.>) 1 LOOP
        mid := (lo OPERATOR(pg_catalog.+) hi) OPERATOR(pg_catalog./) 2;
        IF pk_keys.pk_org_slug_taken(pk_keys.pk_org_slug_candidate(base, mid)) THEN
            lo := mid;
        ELSE
            hi := mid;
        END IF;
    END LOOP;
    RETURN pk_keys.pk_org_slug_candidate(base, hi);
END $$;

-- pk_org_get_by_id(org_id): the organization, or no row.
CREATE FUNCTION pk_keys.pk_org_get_by_id(org_id uuid)
RETURNS SETOF pk_keys.organizations
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1 AS $$
BEGIN
    IF org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    RETURN QUERY SELECT o.* FROM pk_keys.organizations o
                 WHERE o.id OPERATOR(pg_catalog.=) pk_org_get_by_id.org_id;
END $$;

-- pk_org_get_by_slug(slug): the organization with exactly this slug, or no row.
CREATE FUNCTION pk_keys.pk_org_get_by_slug(slug text)
RETURNS SETOF pk_keys.organizations
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1 AS $$
BEGIN
    IF slug IS NULL THEN
        RAISE EXCEPTION 'slug must not be NULL' USING ERRCODE = '22004';
    END IF;
    RETURN QUERY SELECT o.* FROM pk_keys.organizations o
                 WHERE o.slug OPERATOR(pg_catalog.=) pk_org_get_by_slug.slug;
END $$;

-- pk_org_get_by_email(email): case-insensitive (and white-space-trimmed)
-- lookup through the unique index on lower(email), or no row.
CREATE FUNCTION pk_keys.pk_org_get_by_email(email text)
RETURNS SETOF pk_keys.organizations
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1 AS $$
DECLARE
    e text;
BEGIN
    IF email IS NULL THEN
        RAISE EXCEPTION 'email must not be NULL' USING ERRCODE = '22004';
    END IF;
    e := pg_catalog.lower(pg_catalog.regexp_replace(email, '^[[:space:]]+|[[:space:]]+$', '', 'g'));
    RETURN QUERY SELECT o.* FROM pk_keys.organizations o
                 WHERE pg_catalog.lower(o.email) OPERATOR(pg_catalog.=) e;
END $$;

-- pk_org_create(name, email, plan, slug): inserts and returns the new
-- organization. A NULL slug is derived from the name and made unique with -2,
-- -3, ...; concurrent creators never hit a unique violation on it: the insert
-- uses ON CONFLICT (slug) DO NOTHING, which waits for an in-flight creator of
-- the same slug and, if that one commits, retries with a fresh snapshot.
CREATE FUNCTION pk_keys.pk_org_create(name text, email text, plan text DEFAULT 'free',
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
        -- A concurrent creator committed the same email or explicit slug
        -- after the checks above: the same 23505, with the same message.
        GET STACKED DIAGNOSTICS constraint_name = CONSTRAINT_NAME;
        IF constraint_name OPERATOR(pg_catalog.=) 'organizations_slug_key' THEN
            RAISE EXCEPTION 'slug "%" is already in use', slug USING ERRCODE = '23505';
        ELSIF constraint_name OPERATOR(pg_catalog.=) 'organizations_email_key' THEN
            RAISE EXCEPTION 'email is already in use by another organization' USING ERRCODE = '23505';
        END IF;
        RAISE;
    END;
    RETURN NEXT r;
END $$;

-- Validates one field of a pk_org_update patch: known name, JSON type, not
-- null. Raises 22023 (unknown field, wrong type) or 22004 (null).
CREATE FUNCTION pk_keys.pk_org_check_change(field text, value jsonb) RETURNS void
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
        WHEN 'metadata' THEN 'object' END;
    IF want IS NULL THEN
        -- Named, unless the name is an API key pasted into the wrong place.
        RAISE EXCEPTION 'unknown field in changes: "%"',
            CASE WHEN pk_keys.pk_validate_key_format(field) THEN '(an API key, not shown)'
                 ELSE field END
            USING ERRCODE = '22023',
            HINT = 'Allowed fields: name, email, plan, slug, is_active, rate_limit_per_minute, metadata.';
    END IF;
    IF t OPERATOR(pg_catalog.=) 'null' THEN
        RAISE EXCEPTION '% must not be NULL', field USING ERRCODE = '22004';
    END IF;
    IF t OPERATOR(pg_catalog.<>) want THEN
        RAISE EXCEPTION 'invalid type for %: expected a JSON %, got %',
            field, want, t USING ERRCODE = '22023';
    END IF;
END $$;

-- Reads a JSON number as a non-negative integer rate limit (22023 otherwise).
CREATE FUNCTION pk_keys.pk_org_json_rate_limit(value jsonb) RETURNS integer
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pk_keys AS $$
DECLARE
    n numeric := value::numeric;
BEGIN
    IF n OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'rate_limit_per_minute must not be negative' USING ERRCODE = '22023';
    END IF;
    IF n OPERATOR(pg_catalog.<>) pg_catalog.trunc(n) OR n OPERATOR(pg_catalog.>) 2147483647 THEN
        RAISE EXCEPTION 'invalid type for rate_limit_per_minute: expected an integer'
            USING ERRCODE = '22023';
    END IF;
    RETURN n::integer;
END $$;

-- pk_org_update(org_id, changes): applies a jsonb patch of name, email, plan,
-- slug, is_active, rate_limit_per_minute, metadata (replaced) and returns the
-- row. A plan change resets rate_limit_per_minute to the new plan's default
-- unless the patch sets it. updated_at moves when something changed; {}
-- changes nothing. The row is locked before it is read.
CREATE FUNCTION pk_keys.pk_org_update(org_id uuid, changes jsonb)
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

    IF nw IS NOT DISTINCT FROM cur THEN
        RETURN NEXT cur;
        RETURN;
    END IF;
    UPDATE pk_keys.organizations o
    SET name = nw.name, slug = nw.slug, email = nw.email, plan = nw.plan,
        is_active = nw.is_active, rate_limit_per_minute = nw.rate_limit_per_minute,
        metadata = nw.metadata,
        updated_at = pg_catalog.clock_timestamp()
    WHERE o.id OPERATOR(pg_catalog.=) cur.id
    RETURNING o.* INTO nw;
    RETURN NEXT nw;
END $$;

-- pk_org_get_all(lim, off): a page of organizations ordered by (created_at, id).
CREATE FUNCTION pk_keys.pk_org_get_all(lim integer DEFAULT 100, off integer DEFAULT 0)
RETURNS SETOF pk_keys.organizations
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 100 AS $$
BEGIN
    IF lim IS NULL THEN
        RAISE EXCEPTION 'lim must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF off IS NULL THEN
        RAISE EXCEPTION 'off must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF lim OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'lim must not be negative' USING ERRCODE = '22023';
    END IF;
    IF off OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'off must not be negative' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY SELECT o.* FROM pk_keys.organizations o
                 ORDER BY o.created_at, o.id
                 LIMIT pk_org_get_all.lim OFFSET pk_org_get_all.off;
END $$;

REVOKE EXECUTE ON FUNCTION
    pk_keys.pk_org_slug_taken(text, uuid), pk_keys.pk_org_free_slug(text),
    pk_keys.pk_org_get_by_id(uuid), pk_keys.pk_org_get_by_slug(text),
    pk_keys.pk_org_get_by_email(text), pk_keys.pk_org_create(text, text, text, text),
    pk_keys.pk_org_update(uuid, jsonb), pk_keys.pk_org_get_all(integer, integer),
    pk_keys.pk_org_slug_candidate(text, bigint), pk_keys.pk_org_normalize_email(text),
    pk_keys.pk_org_check_plan(text), pk_keys.pk_org_check_slug(text),
    pk_keys.pk_org_check_change(text, jsonb), pk_keys.pk_org_json_rate_limit(jsonb),
    pk_keys.pk_org_slugify(text)
FROM PUBLIC;
