-- Organizations and API keys. Every name below is schema-qualified so the
-- script is safe under any search_path.

-- Default rate_limit_per_minute of each plan (the contract's numbers).
CREATE FUNCTION pk_keys.pk_plan_rate_limit(plan text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE plan WHEN 'free' THEN 60 WHEN 'starter' THEN 600
                 WHEN 'pro' THEN 3000 WHEN 'enterprise' THEN 10000 END;

CREATE TABLE pk_keys.organizations (
    id                    uuid        PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    name                  text        NOT NULL,
    slug                  text        NOT NULL UNIQUE
                          CHECK (slug OPERATOR(pg_catalog.~) '^[a-z0-9]+(-[a-z0-9]+)*$'),
    email                 text        NOT NULL
                          CHECK (email OPERATOR(pg_catalog.=) pg_catalog.lower(email)),
    plan                  text        NOT NULL DEFAULT 'free'
                          CHECK (plan IN ('free', 'starter', 'pro', 'enterprise')),
    is_active             boolean     NOT NULL DEFAULT true,
    rate_limit_per_minute integer     NOT NULL CHECK (rate_limit_per_minute >= 0),
    metadata              jsonb       NOT NULL DEFAULT '{}',
    created_at            timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at            timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE UNIQUE INDEX organizations_email_key ON pk_keys.organizations (pg_catalog.lower(email));
CREATE INDEX organizations_created_at_idx ON pk_keys.organizations (created_at, id);

-- Fills rate_limit_per_minute from the plan when an INSERT leaves it NULL.
CREATE FUNCTION pk_keys.organizations_default_rate_limit() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    IF NEW.rate_limit_per_minute IS NULL THEN
        NEW.rate_limit_per_minute := pk_keys.pk_plan_rate_limit(NEW.plan);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER organizations_default_rate_limit
    BEFORE INSERT ON pk_keys.organizations
    FOR EACH ROW EXECUTE FUNCTION pk_keys.organizations_default_rate_limit();

-- key_hash uses the "C" collation: the per-request index probe then compares
-- bytes instead of calling the locale's strcoll.
CREATE TABLE pk_keys.api_keys (
    id                    uuid        PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    organization_id       uuid        NOT NULL
                          REFERENCES pk_keys.organizations (id) ON DELETE CASCADE,
    name                  text,
    key_prefix            text        NOT NULL CHECK (key_prefix IN ('pk_live_', 'pk_test_')),
    key_hash              text        COLLATE "C" NOT NULL UNIQUE
                          -- 64 lower-case hex digits; ltrim instead of a regular
                          -- expression, which every UPDATE of a key row (request
                          -- counts, credits) would otherwise run again
                          CHECK (pg_catalog.octet_length(key_hash) = 64 AND
                                 pg_catalog.ltrim(key_hash, '0123456789abcdef') = ''),
    key_hint              text        NOT NULL CHECK (pg_catalog.length(key_hint) = 4),
    environment           text        NOT NULL CHECK (environment IN ('live', 'test')),
    scopes                text[]      NOT NULL DEFAULT '{}',
    is_active             boolean     NOT NULL DEFAULT true,
    expires_at            timestamptz,
    last_used_at          timestamptz,
    request_count         bigint      NOT NULL DEFAULT 0 CHECK (request_count >= 0),
    rate_limit_per_minute integer     CHECK (rate_limit_per_minute >= 0),
    remaining             bigint      CHECK (remaining >= 0),
    metadata              jsonb       NOT NULL DEFAULT '{}',
    created_by            uuid,
    created_at            timestamptz NOT NULL DEFAULT pg_catalog.now(),
    revoked_at            timestamptz,
    revoked_by            uuid,
    revoked_reason        text,
    CONSTRAINT api_keys_prefix_matches_environment
        CHECK (key_prefix OPERATOR(pg_catalog.=) ('pk_' OPERATOR(pg_catalog.||) environment OPERATOR(pg_catalog.||) '_'))
) WITH (fillfactor = 80);
-- fillfactor 80 leaves room on each page so the frequent updates of
-- request_count, last_used_at and remaining (none indexed) stay HOT updates
-- that touch no index.
CREATE INDEX api_keys_organization_idx ON pk_keys.api_keys (organization_id, created_at);
CREATE INDEX api_keys_expires_at_idx ON pk_keys.api_keys (expires_at) WHERE expires_at IS NOT NULL;

-- Sliding-window rate-limit counters: one row per key, window size and
-- fixed-window start.
CREATE TABLE pk_keys.rate_limit_tracking (
    api_key_id     uuid        NOT NULL,
    window_seconds integer     NOT NULL CHECK (window_seconds > 0),
    window_start   timestamptz NOT NULL,
    request_count  integer     NOT NULL DEFAULT 0 CHECK (request_count >= 0),
    PRIMARY KEY (api_key_id, window_seconds, window_start)
);

SELECT pg_catalog.pg_extension_config_dump('pk_keys.organizations', '');
SELECT pg_catalog.pg_extension_config_dump('pk_keys.api_keys', '');
SELECT pg_catalog.pg_extension_config_dump('pk_keys.rate_limit_tracking', '');

REVOKE ALL ON pk_keys.organizations, pk_keys.api_keys, pk_keys.rate_limit_tracking FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pk_keys.pk_plan_rate_limit(text),
    pk_keys.organizations_default_rate_limit() FROM PUBLIC;
