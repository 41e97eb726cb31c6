-- 1.1 table changes shared by several concerns: new columns of api_keys and
-- organizations, and the tables for named limits, the audit log and events.
-- New columns default to values that keep 1.0 behaviour (NULL: no refill,
-- no allowlist, not rotated).

ALTER TABLE pk_keys.api_keys
    ADD COLUMN refill_amount   bigint CHECK (refill_amount >= 0),
    ADD COLUMN refill_interval text   CHECK (refill_interval IN ('day', 'month')),
    ADD COLUMN refill_day      integer CHECK (refill_day BETWEEN 1 AND 31),
    ADD COLUMN refill_mode     text   NOT NULL DEFAULT 'replace'
                               CHECK (refill_mode IN ('replace', 'add')),
    ADD COLUMN last_refill_at  timestamptz,
    ADD COLUMN rotated_from    uuid,
    ADD COLUMN allowed_ips     cidr[],
    ADD CONSTRAINT api_keys_refill_complete
        CHECK ((refill_amount IS NULL) = (refill_interval IS NULL));

ALTER TABLE pk_keys.organizations
    ADD COLUMN allowed_ips cidr[];

-- Named limits: per key (api_key_id set) or an organization pool (NULL).
CREATE TABLE pk_keys.limits (
    id              uuid        PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    organization_id uuid        NOT NULL
                    REFERENCES pk_keys.organizations (id) ON DELETE CASCADE,
    api_key_id      uuid        REFERENCES pk_keys.api_keys (id) ON DELETE CASCADE,
    name            text        NOT NULL CHECK (pg_catalog.length(name) BETWEEN 1 AND 200),
    lim             integer     NOT NULL CHECK (lim >= 0),
    window_seconds  integer     NOT NULL CHECK (window_seconds BETWEEN 1 AND 31622400),
    algorithm       text        NOT NULL DEFAULT 'sliding' CHECK (algorithm IN ('sliding', 'fixed')),
    enforce         boolean     NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- One pool of a name per organization, one limit of a name per key.
    CONSTRAINT limits_name_key UNIQUE NULLS NOT DISTINCT (organization_id, api_key_id, name)
);
CREATE INDEX limits_api_key_idx ON pk_keys.limits (api_key_id) WHERE api_key_id IS NOT NULL;

-- The audit log: one row per change made by a mutating function, in the
-- same transaction. Never holds a key or a key hash.
CREATE SEQUENCE pk_keys.audit_log_id_seq AS bigint;
CREATE TABLE pk_keys.audit_log (
    id              bigint      PRIMARY KEY
                    DEFAULT pg_catalog.nextval('pk_keys.audit_log_id_seq'::pg_catalog.regclass),
    at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
    actor           uuid,
    db_role         text        NOT NULL DEFAULT SESSION_USER,
    action          text        NOT NULL,
    organization_id uuid,
    target_id       uuid,
    changes         jsonb       NOT NULL DEFAULT '{}',
    txid            bigint      NOT NULL DEFAULT pg_catalog.txid_current()
);
ALTER SEQUENCE pk_keys.audit_log_id_seq OWNED BY pk_keys.audit_log.id;
CREATE INDEX audit_log_organization_idx ON pk_keys.audit_log (organization_id, at, id);

-- Events for applications (LISTEN pk_keys_events).
CREATE SEQUENCE pk_keys.events_id_seq AS bigint;
CREATE TABLE pk_keys.events (
    id              bigint      PRIMARY KEY
                    DEFAULT pg_catalog.nextval('pk_keys.events_id_seq'::pg_catalog.regclass),
    at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
    kind            text        NOT NULL CHECK (kind IN ('credits.low', 'credits.exhausted',
                                    'rate_limit.exceeded', 'key.expiring', 'key.revoked',
                                    'key.rotated', 'key.leaked')),
    organization_id uuid        NOT NULL,
    api_key_id      uuid,
    payload         jsonb       NOT NULL DEFAULT '{}'
);
ALTER SEQUENCE pk_keys.events_id_seq OWNED BY pk_keys.events.id;
CREATE INDEX events_organization_idx ON pk_keys.events (organization_id, at, id);

SELECT pg_catalog.pg_extension_config_dump('pk_keys.limits', '');
SELECT pg_catalog.pg_extension_config_dump('pk_keys.audit_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pk_keys.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('pk_keys.events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pk_keys.events', '');

REVOKE ALL ON pk_keys.limits, pk_keys.audit_log, pk_keys.events,
    pk_keys.audit_log_id_seq, pk_keys.events_id_seq FROM PUBLIC;
