-- Reference implementation of the pk_keys SQL contract (docs/reference.md,
-- and the README) in plain SQL and PL/pgSQL, the way a
-- competent engineer would write it without a C extension:
--
--   * SHA-256 through pgcrypto's digest(), randomness through gen_random_bytes();
--   * ordinary tables and B-tree indexes (unique key_hash, usage by
--     (organization_id, occurred_at) and (api_key_id, occurred_at));
--   * a sliding-window rate limiter over rate_limit_tracking rows, credits spent
--     with UPDATE ... WHERE remaining >= cost;
--   * usage summaries and daily statistics by GROUP BY over the raw usage rows
--     (no rollups, no caches).
--
-- The benchmark (bench/run.sh) measures the extension against this file, and
-- bench/check_reference.sh runs the project's contract tests against it, so it
-- must stay correct and must not be made slow on purpose.
--
-- Usage, in an empty database:  psql -v ON_ERROR_STOP=1 -f bench/reference/install.sql
--
-- pgcrypto is expected in schema public (where CREATE EXTENSION puts it in a
-- fresh database); the functions call it as public.digest / public.gen_random_bytes.

\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA public;
DO $$
BEGIN
    IF (SELECT extnamespace::regnamespace::text FROM pg_catalog.pg_extension
         WHERE extname = 'pgcrypto') <> 'public' THEN
        RAISE EXCEPTION 'the reference expects pgcrypto in schema public';
    END IF;
END $$;

BEGIN;

CREATE SCHEMA pk_keys;
GRANT USAGE ON SCHEMA pk_keys TO PUBLIC;

------------------------------------------------------------------------------
-- Tables
------------------------------------------------------------------------------

-- Default rate_limit_per_minute of each plan; NULL for an unknown plan.
CREATE FUNCTION pk_keys.plan_rate_limit(plan text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE plan WHEN 'free' THEN 60 WHEN 'starter' THEN 600
                 WHEN 'pro' THEN 3000 WHEN 'enterprise' THEN 10000 END;

CREATE TABLE pk_keys.organizations (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name                  text        NOT NULL,
    slug                  text        NOT NULL UNIQUE
                          CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 63),
    email                 text        NOT NULL CHECK (email = lower(email)),
    plan                  text        NOT NULL DEFAULT 'free'
                          CHECK (plan IN ('free', 'starter', 'pro', 'enterprise')),
    is_active             boolean     NOT NULL DEFAULT true,
    rate_limit_per_minute integer     NOT NULL CHECK (rate_limit_per_minute >= 0),
    metadata              jsonb       NOT NULL DEFAULT '{}',
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX organizations_email_key ON pk_keys.organizations (lower(email));
CREATE INDEX organizations_created_at_idx ON pk_keys.organizations (created_at, id);

-- Fills rate_limit_per_minute from the plan when an INSERT leaves it NULL.
CREATE FUNCTION pk_keys.organizations_default_rate_limit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.rate_limit_per_minute IS NULL THEN
        NEW.rate_limit_per_minute := pk_keys.plan_rate_limit(NEW.plan);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER organizations_default_rate_limit
    BEFORE INSERT ON pk_keys.organizations
    FOR EACH ROW EXECUTE FUNCTION pk_keys.organizations_default_rate_limit();

-- key_hash is compared byte-wise (COLLATE "C"): it is hex, locale rules are useless.
CREATE TABLE pk_keys.api_keys (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id       uuid        NOT NULL
                          REFERENCES pk_keys.organizations (id) ON DELETE CASCADE,
    name                  text,
    key_prefix            text        NOT NULL CHECK (key_prefix IN ('pk_live_', 'pk_test_')),
    key_hash              text        COLLATE "C" NOT NULL UNIQUE
                          CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    key_hint              text        NOT NULL,
    environment           text        NOT NULL CHECK (environment IN ('live', 'test')),
    scopes                text[]      NOT NULL DEFAULT '{}',
    is_active             boolean     NOT NULL DEFAULT true,
    expires_at            timestamptz,
    last_used_at          timestamptz,
    request_count         bigint      NOT NULL DEFAULT 0,
    rate_limit_per_minute integer     CHECK (rate_limit_per_minute >= 0),
    remaining             bigint      CHECK (remaining >= 0),
    metadata              jsonb       NOT NULL DEFAULT '{}',
    created_by            uuid,
    created_at            timestamptz NOT NULL DEFAULT now(),
    revoked_at            timestamptz,
    revoked_by            uuid,
    revoked_reason        text
);
CREATE INDEX api_keys_organization_idx ON pk_keys.api_keys (organization_id, created_at);

-- Usage is a log: no foreign key, so deleting a key keeps its rows (contract)
-- and bulk inserts pay no per-row RI check.
CREATE TABLE pk_keys.api_key_usage (
    id               bigint      GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    api_key_id       uuid        NOT NULL,
    organization_id  uuid        NOT NULL,
    occurred_at      timestamptz NOT NULL DEFAULT now(),
    endpoint         text        NOT NULL,
    method           text        NOT NULL DEFAULT 'GET',
    status_code      integer     NOT NULL DEFAULT 200,
    response_time_ms integer,
    ip_address       inet,
    user_agent       text
);
CREATE INDEX api_key_usage_org_time_idx ON pk_keys.api_key_usage (organization_id, occurred_at);
CREATE INDEX api_key_usage_key_time_idx ON pk_keys.api_key_usage (api_key_id, occurred_at);

-- Sliding-window counters: one row per key, window size and fixed-window start.
-- Old windows are removed by pk_keys.pk_rate_limit_cleanup() (run it from cron).
CREATE TABLE pk_keys.rate_limit_tracking (
    api_key_id     uuid        NOT NULL,
    window_seconds integer     NOT NULL CHECK (window_seconds > 0),
    window_start   timestamptz NOT NULL,
    request_count  integer     NOT NULL DEFAULT 0 CHECK (request_count >= 0),
    PRIMARY KEY (api_key_id, window_seconds, window_start)
);

REVOKE ALL ON ALL TABLES IN SCHEMA pk_keys FROM PUBLIC;

------------------------------------------------------------------------------
-- Small helpers (not part of the contract, not granted to PUBLIC)
------------------------------------------------------------------------------

-- Raises 22004 naming the argument when it is NULL.
CREATE FUNCTION pk_keys.require(value anyelement, arg text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', arg USING ERRCODE = 'null_value_not_allowed';
    END IF;
END $$;

-- Trimmed, lower-cased email, or 22023 when it is not local@domain.
CREATE FUNCTION pk_keys.normalize_email(email text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    e text := lower(regexp_replace(email, '^[[:space:]]+|[[:space:]]+$', '', 'g'));
BEGIN
    PERFORM pk_keys.require(email, 'email');
    IF e !~ '^[^@[:space:]]+@[^@[:space:]]+$' THEN
        RAISE EXCEPTION 'email "%" is not a valid address', email
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN e;
END $$;

-- 22023 unless plan is one of the four plans.
CREATE FUNCTION pk_keys.check_plan(plan text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM pk_keys.require(plan, 'plan');
    IF pk_keys.plan_rate_limit(plan) IS NULL THEN
        RAISE EXCEPTION 'plan "%" is not one of free, starter, pro, enterprise', plan
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END $$;

-- 22023 unless slug matches the slug pattern.
CREATE FUNCTION pk_keys.check_slug(slug text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM pk_keys.require(slug, 'slug');
    IF slug !~ '^[a-z0-9]+(-[a-z0-9]+)*$' OR length(slug) > 63 THEN
        RAISE EXCEPTION 'slug "%" must match ^[a-z0-9]+(-[a-z0-9]+)*$ (at most 63 characters)', slug
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END $$;

-- 22023 when a count-like argument is negative.
CREATE FUNCTION pk_keys.check_not_negative(value bigint, arg text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF value < 0 THEN
        RAISE EXCEPTION '% must not be negative (got %)', arg, value
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END $$;

-- 22004 for a NULL date, 22023 for an infinite one.
CREATE FUNCTION pk_keys.check_date(d date, arg text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM pk_keys.require(d, arg);
    IF NOT isfinite(d) THEN
        RAISE EXCEPTION '% must be a finite date', arg USING ERRCODE = 'invalid_parameter_value';
    END IF;
END $$;

-- Slug base derived from a name: lower-case, runs of non [a-z0-9] -> '-', trimmed.
CREATE FUNCTION pk_keys.slugify(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
RETURN coalesce(nullif(btrim(left(btrim(regexp_replace(lower(name), '[^a-z0-9]+', '-', 'g'), '-'), 63), '-'), ''), 'org');

-- Consumes cost units of the sliding window (key, window) when allowed.
-- Sliding window = the current fixed window plus the previous one weighted by
-- the part of it still inside the sliding window:
--   allowed  <=>  prev * (1 - elapsed_fraction) + cur + greatest(cost, 1) <= lim
-- in double precision; cost 0 asks whether one more request would fit and
-- takes nothing. The decision and the increment happen in one upsert,
-- re-checked on the locked row, so concurrent sessions never admit more than lim.
-- reset_at: when no request fits now, the earliest instant one will; otherwise
-- the end of the current fixed window (when its count starts to decay).
CREATE FUNCTION pk_keys.rate_limit_take(p_key uuid, p_window integer, p_lim integer, p_cost integer,
    OUT allowed boolean, OUT remaining integer, OUT reset_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t_epoch    double precision := extract(epoch FROM now());
    cur_epoch  double precision := floor(t_epoch / p_window) * p_window;
    cur_start  timestamptz := to_timestamp(cur_epoch);
    prev_count integer;
    prev_part  double precision;
    cur_count  integer;
    room       double precision := p_lim - 1;
BEGIN
    SELECT t.request_count INTO prev_count
      FROM pk_keys.rate_limit_tracking t
     WHERE t.api_key_id = p_key AND t.window_seconds = p_window
       AND t.window_start = to_timestamp(cur_epoch - p_window);
    prev_count := coalesce(prev_count, 0);
    prev_part := prev_count * (1.0 - (t_epoch - cur_epoch) / p_window);

    IF p_cost > 0 THEN
        INSERT INTO pk_keys.rate_limit_tracking AS t (api_key_id, window_seconds, window_start, request_count)
        SELECT p_key, p_window, cur_start, p_cost
         WHERE prev_part + p_cost <= p_lim
        ON CONFLICT (api_key_id, window_seconds, window_start) DO UPDATE
           SET request_count = t.request_count + excluded.request_count
         WHERE prev_part + t.request_count + excluded.request_count <= p_lim
        RETURNING t.request_count INTO cur_count;
        allowed := FOUND;
    END IF;
    IF NOT coalesce(allowed, false) THEN
        SELECT t.request_count INTO cur_count
          FROM pk_keys.rate_limit_tracking t
         WHERE t.api_key_id = p_key AND t.window_seconds = p_window AND t.window_start = cur_start;
        cur_count := coalesce(cur_count, 0);
        allowed := p_cost = 0 AND prev_part + cur_count + 1 <= p_lim;
    END IF;
    remaining := greatest(0, floor(p_lim - prev_part - cur_count + 1e-9))::integer;

    IF p_lim <= 0 OR prev_part + cur_count <= room THEN
        reset_at := to_timestamp(cur_epoch + p_window);
    ELSIF cur_count <= room AND prev_count > 0 THEN
        -- later in this window: prev * (1 - f) + cur <= lim - 1
        reset_at := to_timestamp(cur_epoch + ceil((1 - (room - cur_count) / prev_count) * p_window * 1e6) / 1e6);
    ELSE
        -- in the next window, as this window's count decays
        reset_at := to_timestamp(cur_epoch + p_window + ceil((1 - room / cur_count) * p_window * 1e6) / 1e6);
    END IF;
END $$;

-- Gives back one unit taken by rate_limit_take in this transaction.
CREATE FUNCTION pk_keys.rate_limit_give_back(p_key uuid, p_window integer) RETURNS void
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    UPDATE pk_keys.rate_limit_tracking t
       SET request_count = t.request_count - 1
     WHERE t.api_key_id = p_key AND t.window_seconds = p_window
       AND t.window_start = to_timestamp(floor(extract(epoch FROM now()) / p_window) * p_window)
       AND t.request_count > 0;
END;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pk_keys FROM PUBLIC;

------------------------------------------------------------------------------
-- Pure key functions (executable by PUBLIC, no table access)
------------------------------------------------------------------------------

CREATE FUNCTION pk_keys.pk_validate_key_format(key text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN key ~ '^pk_(live|test)_[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$';

CREATE FUNCTION pk_keys.pk_hash_key(key text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN encode(public.digest(convert_to(key, 'UTF8'), 'sha256'), 'hex');

-- A plain comparison of two hex digests of a secret; SQL has no constant-time
-- equality, and comparing digests (not keys) leaks nothing useful.
CREATE FUNCTION pk_keys.pk_verify_key(key text, key_hash text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pk_keys.pk_validate_key_format(key)
       AND key_hash ~ '^[0-9a-fA-F]{64}$'
       AND pk_keys.pk_hash_key(key) = lower(key_hash);

CREATE FUNCTION pk_keys.pk_generate_key(environment text DEFAULT 'live')
RETURNS TABLE (full_key text, key_hash text, key_hint text, key_prefix text)
LANGUAGE plpgsql VOLATILE PARALLEL SAFE ROWS 1 AS $$
BEGIN
    IF environment IS NULL THEN
        RAISE EXCEPTION 'environment must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF environment NOT IN ('live', 'test') THEN
        RAISE EXCEPTION 'environment "%" must be live or test', environment
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    key_prefix := 'pk_' || environment || '_';
    -- 32 random bytes -> 44 base64 characters with one '=' of padding (no line break under 57 bytes)
    full_key := key_prefix || rtrim(translate(encode(public.gen_random_bytes(32), 'base64'), '+/', '-_'), '=');
    key_hash := encode(public.digest(full_key, 'sha256'), 'hex');
    key_hint := right(full_key, 4);
    RETURN NEXT;
END $$;

GRANT EXECUTE ON FUNCTION pk_keys.pk_validate_key_format(text), pk_keys.pk_hash_key(text),
    pk_keys.pk_verify_key(text, text), pk_keys.pk_generate_key(text) TO PUBLIC;

------------------------------------------------------------------------------
-- Organization repository
------------------------------------------------------------------------------

CREATE FUNCTION pk_keys.pk_org_get_by_id(org_id uuid) RETURNS SETOF pk_keys.organizations
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pk_keys ROWS 1 AS $$
BEGIN
    PERFORM pk_keys.require(org_id, 'org_id');
    RETURN QUERY SELECT * FROM pk_keys.organizations o WHERE o.id = org_id;
END $$;

CREATE FUNCTION pk_keys.pk_org_get_by_slug(slug text) RETURNS SETOF pk_keys.organizations
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pk_keys ROWS 1 AS $$
BEGIN
    PERFORM pk_keys.require(slug, 'slug');
    RETURN QUERY SELECT * FROM pk_keys.organizations o WHERE o.slug = pk_org_get_by_slug.slug;
END $$;

CREATE FUNCTION pk_keys.pk_org_get_by_email(email text) RETURNS SETOF pk_keys.organizations
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pk_keys ROWS 1 AS $$
BEGIN
    PERFORM pk_keys.require(email, 'email');
    RETURN QUERY SELECT * FROM pk_keys.organizations o
                  WHERE lower(o.email) = lower(regexp_replace(pk_org_get_by_email.email,
                                                              '^[[:space:]]+|[[:space:]]+$', '', 'g'));
END $$;

CREATE FUNCTION pk_keys.pk_org_create(name text, email text, plan text DEFAULT 'free', slug text DEFAULT NULL)
RETURNS SETOF pk_keys.organizations
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pk_keys ROWS 1 AS $$
DECLARE
    v_email text;
    v_base  text;
    v_slug  text;
    n       bigint := 1;
    v_row   pk_keys.organizations;
BEGIN
    PERFORM pk_keys.require(name, 'name');
    v_email := pk_keys.normalize_email(email);
    PERFORM pk_keys.check_plan(plan);
    IF EXISTS (SELECT 1 FROM pk_keys.organizations o WHERE lower(o.email) = v_email) THEN
        RAISE EXCEPTION 'email "%" is already used by another organization', v_email
            USING ERRCODE = 'unique_violation';
    END IF;
    IF slug IS NOT NULL THEN
        PERFORM pk_keys.check_slug(slug);
        IF EXISTS (SELECT 1 FROM pk_keys.organizations o WHERE o.slug = pk_org_create.slug) THEN
            RAISE EXCEPTION 'slug "%" is already used by another organization', slug
                USING ERRCODE = 'unique_violation';
        END IF;
        RETURN QUERY INSERT INTO pk_keys.organizations AS o (name, slug, email, plan)
                     VALUES (name, slug, v_email, plan) RETURNING o.*;
        RETURN;
    END IF;
    -- Derived slug: the first free one of base, base-2, base-3, ... The unique
    -- index arbitrates between sessions creating at once: on a clash the
    -- insert does nothing and the next candidate is tried.
    v_base := pk_keys.slugify(name);
    LOOP
        v_slug := CASE WHEN n = 1 THEN v_base
                       ELSE rtrim(left(v_base, 63 - length('-' || n)), '-') || '-' || n END;
        IF NOT EXISTS (SELECT 1 FROM pk_keys.organizations o WHERE o.slug = v_slug) THEN
            INSERT INTO pk_keys.organizations AS o (name, slug, email, plan)
            VALUES (name, v_slug, v_email, plan)
            ON CONFLICT ON CONSTRAINT organizations_slug_key DO NOTHING
            RETURNING o.* INTO v_row;
            IF FOUND THEN
                RETURN NEXT v_row;
                RETURN;
            END IF;
        END IF;
        n := n + 1;
    END LOOP;
END $$;

-- Applies a jsonb patch of known fields; unknown fields, wrong types -> 22023,
-- JSON null for a NOT NULL field -> 22004, unknown org -> P0002. A plan change
-- resets the rate limit to the plan's unless the patch sets it; updated_at
-- moves only when something changed.
CREATE FUNCTION pk_keys.pk_org_update(org_id uuid, changes jsonb) RETURNS SETOF pk_keys.organizations
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pk_keys ROWS 1 AS $$
DECLARE
    cur     pk_keys.organizations;
    nw      pk_keys.organizations;
    v_field text;
    v_value jsonb;
    v_type  text;
BEGIN
    PERFORM pk_keys.require(org_id, 'org_id');
    PERFORM pk_keys.require(changes, 'changes');
    IF jsonb_typeof(changes) <> 'object' THEN
        RAISE EXCEPTION 'changes must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR v_field, v_value IN SELECT e.key, e.value FROM jsonb_each(changes) e LOOP
        v_type := jsonb_typeof(v_value);
        IF v_field NOT IN ('name', 'email', 'plan', 'slug', 'is_active', 'rate_limit_per_minute', 'metadata') THEN
            RAISE EXCEPTION 'changes: unknown field "%"', v_field USING ERRCODE = 'invalid_parameter_value';
        ELSIF v_type = 'null' THEN
            RAISE EXCEPTION 'changes: field "%" must not be null', v_field USING ERRCODE = 'null_value_not_allowed';
        ELSIF v_field IN ('name', 'email', 'plan', 'slug') AND v_type <> 'string'
           OR v_field = 'is_active' AND v_type <> 'boolean'
           OR v_field = 'rate_limit_per_minute' AND v_type <> 'number'
           OR v_field = 'metadata' AND v_type <> 'object' THEN
            RAISE EXCEPTION 'changes: field "%" has the wrong type (%)', v_field, v_type
                USING ERRCODE = 'invalid_parameter_value';
        ELSIF v_field = 'rate_limit_per_minute' AND v_value::numeric < 0 THEN
            RAISE EXCEPTION 'rate_limit_per_minute must not be negative' USING ERRCODE = 'invalid_parameter_value';
        ELSIF v_field = 'rate_limit_per_minute'
              AND (v_value::numeric <> trunc(v_value::numeric) OR v_value::numeric > 2147483647) THEN
            RAISE EXCEPTION 'rate_limit_per_minute must be an integer' USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;

    SELECT * INTO cur FROM pk_keys.organizations o WHERE o.id = org_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'organization % (org_id) does not exist', org_id USING ERRCODE = 'no_data_found';
    END IF;
    nw := cur;
    IF changes ? 'name' THEN
        nw.name := changes ->> 'name';
    END IF;
    IF changes ? 'email' THEN
        nw.email := pk_keys.normalize_email(changes ->> 'email');
        IF EXISTS (SELECT 1 FROM pk_keys.organizations o WHERE lower(o.email) = nw.email AND o.id <> cur.id) THEN
            RAISE EXCEPTION 'changes: email "%" is already used by another organization', nw.email
                USING ERRCODE = 'unique_violation';
        END IF;
    END IF;
    IF changes ? 'slug' THEN
        nw.slug := changes ->> 'slug';
        PERFORM pk_keys.check_slug(nw.slug);
        IF EXISTS (SELECT 1 FROM pk_keys.organizations o WHERE o.slug = nw.slug AND o.id <> cur.id) THEN
            RAISE EXCEPTION 'changes: slug "%" is already used by another organization', nw.slug
                USING ERRCODE = 'unique_violation';
        END IF;
    END IF;
    IF changes ? 'plan' THEN
        nw.plan := changes ->> 'plan';
        PERFORM pk_keys.check_plan(nw.plan);
        IF nw.plan <> cur.plan THEN
            nw.rate_limit_per_minute := pk_keys.plan_rate_limit(nw.plan);
        END IF;
    END IF;
    IF changes ? 'rate_limit_per_minute' THEN
        nw.rate_limit_per_minute := (changes -> 'rate_limit_per_minute')::numeric::integer;
    END IF;
    IF changes ? 'is_active' THEN
        nw.is_active := (changes -> 'is_active')::boolean;
    END IF;
    IF changes ? 'metadata' THEN
        nw.metadata := changes -> 'metadata';
    END IF;

    IF nw IS NOT DISTINCT FROM cur THEN
        RETURN NEXT cur;
        RETURN;
    END IF;
    RETURN QUERY
    UPDATE pk_keys.organizations o
       SET name = nw.name, email = nw.email, plan = nw.plan, slug = nw.slug,
           is_active = nw.is_active, rate_limit_per_minute = nw.rate_limit_per_minute,
           metadata = nw.metadata, updated_at = clock_timestamp()
     WHERE o.id = cur.id
    RETURNING o.*;
END $$;

CREATE FUNCTION pk_keys.pk_org_get_all(lim integer DEFAULT 100, off integer DEFAULT 0)
RETURNS SETOF pk_keys.organizations
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    PERFORM pk_keys.require(lim, 'lim');
    PERFORM pk_keys.require(off, 'off');
    PERFORM pk_keys.check_not_negative(lim, 'lim');
    PERFORM pk_keys.check_not_negative(off, 'off');
    RETURN QUERY SELECT * FROM pk_keys.organizations o ORDER BY o.created_at, o.id LIMIT lim OFFSET off;
END $$;

------------------------------------------------------------------------------
-- API key repository
------------------------------------------------------------------------------

CREATE FUNCTION pk_keys.pk_key_get_by_id(key_id uuid) RETURNS SETOF pk_keys.api_keys
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pk_keys ROWS 1 AS $$
BEGIN
    PERFORM pk_keys.require(key_id, 'key_id');
    RETURN QUERY SELECT * FROM pk_keys.api_keys k WHERE k.id = key_id;
END $$;

CREATE FUNCTION pk_keys.pk_key_get_by_hash(key_hash text) RETURNS SETOF pk_keys.api_keys
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pk_keys ROWS 1 AS $$
BEGIN
    PERFORM pk_keys.require(key_hash, 'key_hash');
    IF key_hash !~ '^[0-9a-fA-F]{64}$' THEN
        RAISE EXCEPTION 'key_hash must be 64 hexadecimal digits' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY SELECT * FROM pk_keys.api_keys k WHERE k.key_hash = lower(pk_key_get_by_hash.key_hash);
END $$;

CREATE FUNCTION pk_keys.pk_key_get_by_organization(org_id uuid) RETURNS SETOF pk_keys.api_keys
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    PERFORM pk_keys.require(org_id, 'org_id');
    RETURN QUERY SELECT * FROM pk_keys.api_keys k WHERE k.organization_id = org_id
                  ORDER BY k.created_at, k.id;
END $$;

-- PL/pgSQL refuses an IN and an OUT parameter of the same name (environment,
-- expires_at), so the body lives in key_create_impl and pk_key_create is a
-- thin SQL wrapper with the contract's parameter names.
CREATE FUNCTION pk_keys.key_create_impl(p_org uuid, p_name text, p_env text, p_scopes text[],
    p_expires timestamptz, p_rate_limit integer, p_remaining bigint, p_metadata jsonb, p_created_by uuid)
RETURNS TABLE (id uuid, full_key text, key_prefix text, key_hint text, environment text,
               expires_at timestamptz, created_at timestamptz)
LANGUAGE plpgsql VOLATILE ROWS 1 AS $$
DECLARE
    g     record;
    v_row pk_keys.api_keys;
BEGIN
    PERFORM pk_keys.require(p_org, 'org_id');
    PERFORM pk_keys.require(p_env, 'environment');
    PERFORM pk_keys.require(p_scopes, 'scopes');
    PERFORM pk_keys.require(p_metadata, 'metadata');
    IF array_ndims(p_scopes) > 1 THEN
        RAISE EXCEPTION 'scopes must be a one-dimensional array' USING ERRCODE = 'invalid_parameter_value';
    ELSIF array_position(p_scopes, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'scopes must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF jsonb_typeof(p_metadata) <> 'object' THEN
        RAISE EXCEPTION 'metadata must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pk_keys.check_not_negative(p_rate_limit, 'rate_limit_per_minute');
    PERFORM pk_keys.check_not_negative(p_remaining, 'remaining');
    IF NOT EXISTS (SELECT 1 FROM pk_keys.organizations o WHERE o.id = p_org) THEN
        RAISE EXCEPTION 'organization % (org_id) does not exist', p_org USING ERRCODE = 'no_data_found';
    END IF;
    SELECT * INTO g FROM pk_keys.pk_generate_key(p_env);   -- 22023 for an unknown environment

    INSERT INTO pk_keys.api_keys AS k (organization_id, name, key_prefix, key_hash, key_hint, environment,
                                       scopes, expires_at, rate_limit_per_minute, remaining, metadata, created_by)
    VALUES (p_org, p_name, g.key_prefix, g.key_hash, g.key_hint, p_env, p_scopes,
            p_expires, p_rate_limit, p_remaining, p_metadata, p_created_by)
    RETURNING k.* INTO v_row;

    id := v_row.id;
    full_key := g.full_key;
    key_prefix := v_row.key_prefix;
    key_hint := v_row.key_hint;
    environment := v_row.environment;
    expires_at := v_row.expires_at;
    created_at := v_row.created_at;
    RETURN NEXT;
END $$;

CREATE FUNCTION pk_keys.pk_key_create(org_id uuid, name text DEFAULT NULL, environment text DEFAULT 'live',
    scopes text[] DEFAULT '{}', expires_at timestamptz DEFAULT NULL, rate_limit_per_minute integer DEFAULT NULL,
    remaining bigint DEFAULT NULL, metadata jsonb DEFAULT '{}', created_by uuid DEFAULT NULL)
RETURNS TABLE (id uuid, full_key text, key_prefix text, key_hint text, environment text,
               expires_at timestamptz, created_at timestamptz)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pk_keys ROWS 1
AS $$ SELECT * FROM pk_keys.key_create_impl($1, $2, $3, $4, $5, $6, $7, $8, $9) $$;

CREATE FUNCTION pk_keys.pk_key_update_last_used(key_id uuid) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    PERFORM pk_keys.require(key_id, 'key_id');
    UPDATE pk_keys.api_keys k SET last_used_at = now() WHERE k.id = key_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'API key % (key_id) does not exist', key_id USING ERRCODE = 'no_data_found';
    END IF;
END $$;

CREATE FUNCTION pk_keys.pk_key_increment_request_count(key_id uuid) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    PERFORM pk_keys.require(key_id, 'key_id');
    UPDATE pk_keys.api_keys k SET request_count = k.request_count + 1 WHERE k.id = key_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'API key % (key_id) does not exist', key_id USING ERRCODE = 'no_data_found';
    END IF;
END $$;

CREATE FUNCTION pk_keys.pk_key_revoke(key_id uuid, reason text, revoked_by uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    PERFORM pk_keys.require(key_id, 'key_id');
    UPDATE pk_keys.api_keys k
       SET revoked_at = now(), revoked_by = pk_key_revoke.revoked_by, revoked_reason = reason
     WHERE k.id = key_id AND k.revoked_at IS NULL;
    IF FOUND THEN
        RETURN true;
    ELSIF EXISTS (SELECT 1 FROM pk_keys.api_keys k WHERE k.id = key_id) THEN
        RETURN false;
    END IF;
    RAISE EXCEPTION 'API key % (key_id) does not exist', key_id USING ERRCODE = 'no_data_found';
END $$;

CREATE FUNCTION pk_keys.pk_key_delete_expired() RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
BEGIN ATOMIC
    -- the keys go with their rate-limit windows; their usage rows stay
    WITH gone AS (DELETE FROM pk_keys.api_keys k WHERE k.expires_at <= now() RETURNING k.id),
         windows AS (DELETE FROM pk_keys.rate_limit_tracking t USING gone WHERE t.api_key_id = gone.id)
    SELECT count(*)::integer FROM gone;
END;

------------------------------------------------------------------------------
-- Usage repository (ranges are [start, end); days and months are UTC)
------------------------------------------------------------------------------

CREATE FUNCTION pk_keys.pk_usage_create(key_id uuid, endpoint text, method text DEFAULT 'GET',
    status_code integer DEFAULT 200, response_time_ms integer DEFAULT NULL, ip_address inet DEFAULT NULL,
    user_agent text DEFAULT NULL, occurred_at timestamptz DEFAULT now())
RETURNS pk_keys.api_key_usage
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
DECLARE
    v_row pk_keys.api_key_usage;
BEGIN
    -- hot path: plain IFs rather than helper calls
    IF key_id IS NULL THEN
        RAISE EXCEPTION 'key_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF endpoint IS NULL THEN
        RAISE EXCEPTION 'endpoint must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF method IS NULL THEN
        RAISE EXCEPTION 'method must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF status_code IS NULL THEN
        RAISE EXCEPTION 'status_code must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF occurred_at IS NULL THEN
        RAISE EXCEPTION 'occurred_at must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF status_code < 100 OR status_code > 599 THEN
        RAISE EXCEPTION 'status_code must be between 100 and 599' USING ERRCODE = 'invalid_parameter_value';
    ELSIF response_time_ms < 0 THEN
        RAISE EXCEPTION 'response_time_ms must not be negative' USING ERRCODE = 'invalid_parameter_value';
    ELSIF NOT isfinite(occurred_at) THEN
        RAISE EXCEPTION 'occurred_at must be finite' USING ERRCODE = 'invalid_parameter_value';
    ELSIF octet_length(endpoint) > 2048 THEN
        RAISE EXCEPTION 'endpoint must be at most 2048 bytes' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO pk_keys.api_key_usage AS u (api_key_id, organization_id, occurred_at, endpoint, method,
                                            status_code, response_time_ms, ip_address, user_agent)
    SELECT k.id, k.organization_id, occurred_at, endpoint, method, status_code, response_time_ms,
           ip_address, user_agent
      FROM pk_keys.api_keys k
     WHERE k.id = key_id
    RETURNING u.* INTO v_row;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'API key % (key_id) does not exist', key_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN v_row;
END $$;

CREATE FUNCTION pk_keys.pk_usage_get_by_key(key_id uuid, start_date timestamptz, end_date timestamptz)
RETURNS SETOF pk_keys.api_key_usage
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    PERFORM pk_keys.require(key_id, 'key_id');
    PERFORM pk_keys.require(start_date, 'start_date');
    PERFORM pk_keys.require(end_date, 'end_date');
    RETURN QUERY SELECT * FROM pk_keys.api_key_usage u
                  WHERE u.api_key_id = key_id AND u.occurred_at >= start_date AND u.occurred_at < end_date
                  ORDER BY u.occurred_at, u.id;
END $$;

CREATE FUNCTION pk_keys.pk_usage_get_by_organization(org_id uuid, start_date timestamptz, end_date timestamptz)
RETURNS SETOF pk_keys.api_key_usage
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    PERFORM pk_keys.require(org_id, 'org_id');
    PERFORM pk_keys.require(start_date, 'start_date');
    PERFORM pk_keys.require(end_date, 'end_date');
    RETURN QUERY SELECT * FROM pk_keys.api_key_usage u
                  WHERE u.organization_id = org_id AND u.occurred_at >= start_date AND u.occurred_at < end_date
                  ORDER BY u.occurred_at, u.id;
END $$;

-- One month (UTC) of an organization's usage, aggregated from the raw rows.
CREATE FUNCTION pk_keys.pk_usage_get_summary(org_id uuid, month date) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
DECLARE
    v_from timestamptz;
    v_to   timestamptz;
    v_out  jsonb;
BEGIN
    PERFORM pk_keys.require(org_id, 'org_id');
    PERFORM pk_keys.check_date(month, 'month');
    v_from := date_trunc('month', month::timestamp) AT TIME ZONE 'UTC';
    v_to := (date_trunc('month', month::timestamp) + interval '1 month') AT TIME ZONE 'UTC';

    WITH u AS (
        SELECT u.api_key_id, u.endpoint, u.status_code, u.response_time_ms
          FROM pk_keys.api_key_usage u
         WHERE u.organization_id = org_id AND u.occurred_at >= v_from AND u.occurred_at < v_to
    ), top AS (
        SELECT u.endpoint, count(*) AS requests
          FROM u GROUP BY u.endpoint ORDER BY requests DESC, u.endpoint LIMIT 10
    )
    SELECT jsonb_build_object(
               'organization_id', org_id,
               'month', date_trunc('month', month::timestamp)::date,
               'total_requests', count(*),
               'successful_requests', count(*) FILTER (WHERE u.status_code < 400),
               'failed_requests', count(*) FILTER (WHERE u.status_code >= 400),
               'avg_response_time_ms', avg(u.response_time_ms)::double precision,
               'unique_keys', count(DISTINCT u.api_key_id),
               'top_endpoints', (SELECT coalesce(jsonb_agg(jsonb_build_object('endpoint', t.endpoint,
                                                                              'requests', t.requests)
                                                           ORDER BY t.requests DESC, t.endpoint), '[]')
                                   FROM top t))
      INTO v_out
      FROM u;
    RETURN v_out;
END $$;

-- One row per UTC day from start_date to end_date inclusive, empty days as zeros.
CREATE FUNCTION pk_keys.pk_usage_get_daily_stats(org_id uuid, start_date date, end_date date)
RETURNS TABLE (day date, total_requests bigint, successful_requests bigint, failed_requests bigint,
               avg_response_time_ms double precision, unique_keys bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    PERFORM pk_keys.require(org_id, 'org_id');
    PERFORM pk_keys.check_date(start_date, 'start_date');
    PERFORM pk_keys.check_date(end_date, 'end_date');
    IF end_date < start_date THEN
        RAISE EXCEPTION 'end_date (%) is before start_date (%)', end_date, start_date
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    WITH per_day AS (
        SELECT (u.occurred_at AT TIME ZONE 'UTC')::date AS d,
               count(*) AS total,
               count(*) FILTER (WHERE u.status_code < 400) AS ok,
               avg(u.response_time_ms)::double precision AS avg_ms,
               count(DISTINCT u.api_key_id) AS keys
          FROM pk_keys.api_key_usage u
         WHERE u.organization_id = org_id
           AND u.occurred_at >= start_date::timestamp AT TIME ZONE 'UTC'
           AND u.occurred_at < (end_date + 1)::timestamp AT TIME ZONE 'UTC'
         GROUP BY 1
    )
    SELECT g.d::date, coalesce(p.total, 0), coalesce(p.ok, 0), coalesce(p.total - p.ok, 0),
           p.avg_ms, coalesce(p.keys, 0)
      FROM generate_series(start_date::timestamp, end_date::timestamp, interval '1 day') AS g(d)
      LEFT JOIN per_day p ON p.d = g.d::date
     ORDER BY 1;
END $$;

------------------------------------------------------------------------------
-- Service: rate limit and authentication (the hot path)
------------------------------------------------------------------------------

CREATE FUNCTION pk_keys.pk_rate_limit_check(key_id uuid, lim integer, window_size interval DEFAULT '1 minute',
    cost integer DEFAULT 1)
RETURNS TABLE (allowed boolean, remaining integer, reset_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pk_keys ROWS 1 AS $$
DECLARE
    v_seconds numeric;
BEGIN
    IF key_id IS NULL THEN
        RAISE EXCEPTION 'key_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF lim IS NULL THEN
        RAISE EXCEPTION 'lim must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF window_size IS NULL THEN
        RAISE EXCEPTION 'window_size must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF cost IS NULL THEN
        RAISE EXCEPTION 'cost must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF lim < 0 THEN
        RAISE EXCEPTION 'lim must not be negative (got %)', lim USING ERRCODE = 'invalid_parameter_value';
    ELSIF cost < 0 THEN
        RAISE EXCEPTION 'cost must not be negative (got %)', cost USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_seconds := extract(epoch FROM window_size);
    IF v_seconds < 1 OR v_seconds <> trunc(v_seconds) OR v_seconds > 2147483647 THEN
        RAISE EXCEPTION 'window_size must be a positive whole number of seconds (got %)', window_size
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY SELECT * FROM pk_keys.rate_limit_take(key_id, v_seconds::integer, lim, cost);
END $$;

-- Deletes rate-limit windows that no longer count (run it periodically).
CREATE FUNCTION pk_keys.pk_rate_limit_cleanup() RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
BEGIN ATOMIC
    WITH gone AS (
        DELETE FROM pk_keys.rate_limit_tracking t
         WHERE t.window_start < now() - 2 * make_interval(secs => t.window_seconds)
        RETURNING 1)
    SELECT count(*)::integer FROM gone;
END;

-- Codes in contract order: MALFORMED, NOT_FOUND, REVOKED, EXPIRED, DISABLED,
-- INSUFFICIENT_SCOPE, RATE_LIMITED, USAGE_EXCEEDED, VALID. Only VALID consumes
-- (request_count, last_used_at, one rate-limit slot, cost credits).
CREATE FUNCTION pk_keys.pk_authenticate(key text, required_scopes text[] DEFAULT '{}', cost integer DEFAULT 1)
RETURNS TABLE (valid boolean, code text, key_id uuid, organization_id uuid, environment text, scopes text[],
               remaining bigint, rate_limit integer, rate_limit_remaining integer, rate_limit_reset timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pk_keys ROWS 1 AS $$
DECLARE
    k     record;
    rl    record;
    v_rem bigint;
BEGIN
    IF cost IS NULL THEN
        RAISE EXCEPTION 'cost must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    ELSIF cost < 0 THEN
        RAISE EXCEPTION 'cost must not be negative (got %)', cost USING ERRCODE = 'invalid_parameter_value';
    END IF;
    valid := false;

    IF key IS NULL OR NOT pk_keys.pk_validate_key_format(key) THEN
        code := 'MALFORMED';
        RETURN NEXT;
        RETURN;
    END IF;

    SELECT a.id, a.organization_id AS org, a.environment AS env, a.scopes AS sc, a.remaining AS rem,
           a.revoked_at, a.expires_at, a.is_active AND o.is_active AS active,
           coalesce(a.rate_limit_per_minute, o.rate_limit_per_minute) AS lim
      INTO k
      FROM pk_keys.api_keys a
      JOIN pk_keys.organizations o ON o.id = a.organization_id
     WHERE a.key_hash = pk_keys.pk_hash_key(key);
    IF NOT FOUND THEN
        code := 'NOT_FOUND';
        RETURN NEXT;
        RETURN;
    END IF;

    key_id := k.id;
    organization_id := k.org;
    environment := k.env;
    scopes := k.sc;
    remaining := k.rem;
    rate_limit := k.lim;

    IF k.revoked_at IS NOT NULL THEN
        code := 'REVOKED';
    ELSIF k.expires_at <= now() THEN
        code := 'EXPIRED';
    ELSIF NOT k.active THEN
        code := 'DISABLED';
    ELSIF NOT (k.sc @> coalesce(required_scopes, '{}')) THEN
        code := 'INSUFFICIENT_SCOPE';
    END IF;
    IF code IS NOT NULL THEN
        RETURN NEXT;
        RETURN;
    END IF;

    -- One slot of the key's one-minute window, whatever the cost.
    SELECT * INTO rl FROM pk_keys.rate_limit_take(k.id, 60, k.lim, 1);
    rate_limit_remaining := rl.remaining;
    rate_limit_reset := rl.reset_at;
    IF NOT rl.allowed THEN
        code := 'RATE_LIMITED';
        RETURN NEXT;
        RETURN;
    END IF;

    -- Credits and counters in one row update; the WHERE is re-checked on the
    -- locked row, so concurrent callers never overspend. cost 0 spends nothing
    -- but, like the rate limit, asks for room for one more call.
    UPDATE pk_keys.api_keys a
       SET request_count = a.request_count + 1,
           last_used_at = now(),
           remaining = a.remaining - cost
     WHERE a.id = k.id AND (a.remaining IS NULL OR a.remaining >= greatest(cost, 1))
    RETURNING a.remaining INTO v_rem;
    IF NOT FOUND THEN
        -- Not VALID, so the slot taken above goes back.
        PERFORM pk_keys.rate_limit_give_back(k.id, 60);
        rate_limit_remaining := rl.remaining + 1;
        SELECT a.remaining INTO remaining FROM pk_keys.api_keys a WHERE a.id = k.id;
        code := 'USAGE_EXCEEDED';
        RETURN NEXT;
        RETURN;
    END IF;

    valid := true;
    code := 'VALID';
    remaining := v_rem;
    RETURN NEXT;
END $$;

REVOKE ALL ON FUNCTION
    pk_keys.pk_org_get_by_id(uuid), pk_keys.pk_org_get_by_slug(text), pk_keys.pk_org_get_by_email(text),
    pk_keys.pk_org_create(text, text, text, text), pk_keys.pk_org_update(uuid, jsonb),
    pk_keys.pk_org_get_all(integer, integer),
    pk_keys.pk_key_get_by_id(uuid), pk_keys.pk_key_get_by_hash(text), pk_keys.pk_key_get_by_organization(uuid),
    pk_keys.pk_key_create(uuid, text, text, text[], timestamptz, integer, bigint, jsonb, uuid),
    pk_keys.pk_key_update_last_used(uuid), pk_keys.pk_key_increment_request_count(uuid),
    pk_keys.pk_key_revoke(uuid, text, uuid), pk_keys.pk_key_delete_expired(),
    pk_keys.pk_usage_create(uuid, text, text, integer, integer, inet, text, timestamptz),
    pk_keys.pk_usage_get_by_key(uuid, timestamptz, timestamptz),
    pk_keys.pk_usage_get_by_organization(uuid, timestamptz, timestamptz),
    pk_keys.pk_usage_get_summary(uuid, date), pk_keys.pk_usage_get_daily_stats(uuid, date, date),
    pk_keys.pk_rate_limit_check(uuid, integer, interval, integer), pk_keys.pk_rate_limit_cleanup(),
    pk_keys.pk_authenticate(text, text[], integer)
FROM PUBLIC;

COMMIT;
