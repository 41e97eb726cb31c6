-- Usage store: a raw log partitioned by UTC month, and per-day aggregates
-- kept in the same transaction as every insert. See docs/usage-store.md.
--
-- Tables (all registered with pg_extension_config_dump):
--   api_key_usage          the contract's table: the root of the raw log,
--                          PARTITION BY RANGE (occurred_at). Its statement-level
--                          AFTER INSERT trigger aggregates whatever is inserted
--                          into it (INSERT ... SELECT, COPY, multi-row VALUES) in
--                          one grouped upsert per statement.
--   api_key_usage_months   its single partition (MINVALUE .. MAXVALUE), itself
--                          partitioned by UTC month: api_key_usage_pYYYYMM,
--                          created by pk_usage_maintain() (ordinary tables, not
--                          extension members, so pg_dump dumps them whole), and
--                          the DEFAULT partition api_key_usage_default.
--                          pk_usage_create inserts here directly, so the root's
--                          trigger does not fire, and aggregates its one row
--                          itself with two index-driven statements: the
--                          per-request hot path pays no trigger, no transition
--                          table and no GROUP BY.
--   usage_rollup           (organization_id, day, endpoint, shard) counters;
--                          shard = backend pid % 8 keeps concurrent sessions off
--                          one row lock (bulk statements use shard 0);
--                          readers sum over shards; pk_usage_compact_rollups
--                          folds past days into shard 0.
--   usage_day_keys         distinct (organization_id, day, api_key_id)
--   usage_month_keys       distinct (organization_id, month, api_key_id)
--   usage_day_unique       per (organization_id, day): count of usage_day_keys
--   usage_month_unique     per (organization_id, month): count of usage_month_keys
-- The *_unique counters grow only by the key rows an insert really added (ON
-- CONFLICT DO NOTHING ... RETURNING), so unique_keys is exact without a
-- count(DISTINCT) over raw rows. A day's key row implies its month's key row
-- (both are written together), so "key already seen today" is the one probe
-- of the common path.
--
-- No foreign keys: deleting a key keeps its usage (contract), and a foreign
-- key to organizations would take a FOR KEY SHARE lock on the organization
-- row for every logged request (multixacts under concurrency). Usage of a
-- deleted organization stays until retention expires it or
-- pk_usage_purge_organization() erases it. No CHECK constraints either:
-- pk_usage_create validates its arguments, and a CHECK costs every INSERT
-- statement a deparse and an expression build.

CREATE SEQUENCE pk_keys.api_key_usage_id_seq AS bigint;

CREATE TABLE pk_keys.api_key_usage (
    id               bigint      NOT NULL
                     DEFAULT pg_catalog.nextval('pk_keys.api_key_usage_id_seq'::pg_catalog.regclass),
    api_key_id       uuid        NOT NULL,
    organization_id  uuid        NOT NULL,
    occurred_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    endpoint         text        NOT NULL,
    method           text        NOT NULL DEFAULT 'GET',
    status_code      integer     NOT NULL DEFAULT 200,
    response_time_ms integer,
    ip_address       inet,
    user_agent       text
) PARTITION BY RANGE (occurred_at);
ALTER SEQUENCE pk_keys.api_key_usage_id_seq OWNED BY pk_keys.api_key_usage.id;

CREATE TABLE pk_keys.api_key_usage_months PARTITION OF pk_keys.api_key_usage
    FOR VALUES FROM (MINVALUE) TO (MAXVALUE)
    PARTITION BY RANGE (occurred_at);

-- Rows of months without a partition land here; pk_usage_maintain() moves
-- them into their month's partition.
CREATE TABLE pk_keys.api_key_usage_default PARTITION OF pk_keys.api_key_usage_months DEFAULT;

-- Each leaf carries its own two indexes, created with it: there is
-- deliberately no partitioned index on the parents. With one, ATTACH
-- PARTITION in a restored dump would create the leaf's index itself and the
-- dump's own CREATE INDEX for that leaf would then fail.
CREATE INDEX api_key_usage_default_key_time_idx
    ON pk_keys.api_key_usage_default (api_key_id, occurred_at);
CREATE INDEX api_key_usage_default_org_time_idx
    ON pk_keys.api_key_usage_default (organization_id, occurred_at);

-- fillfactor leaves room on each page so counter updates stay HOT; endpoint
-- compares bytes (C collation) in the primary key probes.
CREATE TABLE pk_keys.usage_rollup (
    organization_id     uuid     NOT NULL,
    day                 date     NOT NULL,
    endpoint            text     COLLATE "C" NOT NULL,
    shard               smallint NOT NULL,
    requests            bigint   NOT NULL,
    successful          bigint   NOT NULL,
    failed              bigint   NOT NULL,
    response_time_sum   bigint   NOT NULL,
    response_time_count bigint   NOT NULL,
    PRIMARY KEY (organization_id, day, endpoint, shard)
) WITH (fillfactor = 70);

-- The rows pk_usage_compact_rollups still has to fold (few: today's, and
-- late arrivals for older days).
CREATE INDEX usage_rollup_sharded_idx ON pk_keys.usage_rollup (day) WHERE shard OPERATOR(pg_catalog.<>) 0;

CREATE TABLE pk_keys.usage_day_keys (
    organization_id uuid NOT NULL,
    day             date NOT NULL,
    api_key_id      uuid NOT NULL,
    PRIMARY KEY (organization_id, day, api_key_id)
);

CREATE TABLE pk_keys.usage_month_keys (
    organization_id uuid NOT NULL,
    month           date NOT NULL,
    api_key_id      uuid NOT NULL,
    PRIMARY KEY (organization_id, month, api_key_id)
);

CREATE TABLE pk_keys.usage_day_unique (
    organization_id uuid   NOT NULL,
    day             date   NOT NULL,
    unique_keys     bigint NOT NULL,
    PRIMARY KEY (organization_id, day)
) WITH (fillfactor = 70);

CREATE TABLE pk_keys.usage_month_unique (
    organization_id uuid   NOT NULL,
    month           date   NOT NULL,
    unique_keys     bigint NOT NULL,
    PRIMARY KEY (organization_id, month)
) WITH (fillfactor = 70);

-- The aggregation trigger, once per inserting statement whatever its row
-- count: one grouped upsert into usage_rollup and, only when some row brings
-- a key not yet seen that UTC day, the key sets and their counters (a day's
-- key row implies its month's key row: both are written together). Every
-- insert is sorted by its target key so concurrent loads lock rows in the
-- same order. The existence probe sees only committed (or own) rows; a key
-- another session is adding right now takes the slow path, whose ON CONFLICT
-- DO NOTHING waits for that session and counts the key only if it rolled back.
CREATE FUNCTION pk_keys.api_key_usage_aggregate() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
DECLARE
    v_shard smallint := 0;
BEGIN
    -- Small statements (an application's batched inserts, frequent and
    -- concurrent) use this backend's shard; a bulk load (rare, long) writes
    -- shard 0, so loads from many sessions do not multiply the rollup rows.
    IF NOT EXISTS (SELECT 1 FROM new_usage n OFFSET 100) THEN
        v_shard := (pg_catalog.pg_backend_pid() OPERATOR(pg_catalog.%) 8)::smallint;
    END IF;
    IF EXISTS (SELECT 1 FROM new_usage n
               WHERE NOT EXISTS (
                   SELECT 1 FROM pk_keys.usage_day_keys d
                   WHERE d.organization_id OPERATOR(pg_catalog.=) n.organization_id
                     AND d.day OPERATOR(pg_catalog.=) pg_catalog.timezone('UTC', n.occurred_at)::date
                     AND d.api_key_id OPERATOR(pg_catalog.=) n.api_key_id)) THEN
        WITH day_keys AS (
            INSERT INTO pk_keys.usage_day_keys AS t (organization_id, day, api_key_id)
            SELECT DISTINCT n.organization_id, pg_catalog.timezone('UTC', n.occurred_at)::date,
                   n.api_key_id
            FROM new_usage n
            ORDER BY 1, 2, 3
            ON CONFLICT DO NOTHING
            RETURNING t.organization_id, t.day
        ), month_keys AS (
            INSERT INTO pk_keys.usage_month_keys AS t (organization_id, month, api_key_id)
            SELECT DISTINCT n.organization_id,
                   pg_catalog.date_trunc('month', pg_catalog.timezone('UTC', n.occurred_at))::date,
                   n.api_key_id
            FROM new_usage n
            ORDER BY 1, 2, 3
            ON CONFLICT DO NOTHING
            RETURNING t.organization_id, t.month
        ), day_counts AS (
            INSERT INTO pk_keys.usage_day_unique AS t (organization_id, day, unique_keys)
            SELECT d.organization_id, d.day, pg_catalog.count(*)
            FROM day_keys d
            GROUP BY 1, 2
            ORDER BY 1, 2
            ON CONFLICT (organization_id, day) DO UPDATE
            SET unique_keys = t.unique_keys OPERATOR(pg_catalog.+) excluded.unique_keys
        )
        INSERT INTO pk_keys.usage_month_unique AS t (organization_id, month, unique_keys)
        SELECT m.organization_id, m.month, pg_catalog.count(*)
        FROM month_keys m
        GROUP BY 1, 2
        ORDER BY 1, 2
        ON CONFLICT (organization_id, month) DO UPDATE
        SET unique_keys = t.unique_keys OPERATOR(pg_catalog.+) excluded.unique_keys;
    END IF;

    INSERT INTO pk_keys.usage_rollup AS t
        (organization_id, day, endpoint, shard, requests, successful, failed,
         response_time_sum, response_time_count)
    SELECT n.organization_id, pg_catalog.timezone('UTC', n.occurred_at)::date, n.endpoint, v_shard,
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE n.status_code OPERATOR(pg_catalog.<) 400),
           pg_catalog.count(*) FILTER (WHERE n.status_code OPERATOR(pg_catalog.>=) 400),
           COALESCE(pg_catalog.sum(n.response_time_ms), 0),
           pg_catalog.count(n.response_time_ms)
    FROM new_usage n
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (organization_id, day, endpoint, shard) DO UPDATE
    SET requests = t.requests OPERATOR(pg_catalog.+) excluded.requests,
        successful = t.successful OPERATOR(pg_catalog.+) excluded.successful,
        failed = t.failed OPERATOR(pg_catalog.+) excluded.failed,
        response_time_sum = t.response_time_sum OPERATOR(pg_catalog.+) excluded.response_time_sum,
        response_time_count = t.response_time_count OPERATOR(pg_catalog.+) excluded.response_time_count;
    RETURN NULL;
END $$;

CREATE TRIGGER api_key_usage_aggregate
    AFTER INSERT ON pk_keys.api_key_usage
    REFERENCING NEW TABLE AS new_usage
    FOR EACH STATEMENT EXECUTE FUNCTION pk_keys.api_key_usage_aggregate();

-- Raises 22004/22023 unless d is a finite date.
CREATE FUNCTION pk_keys.pk_usage_check_date(d date, argname text) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    IF d IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', argname USING ERRCODE = '22004';
    END IF;
    IF NOT pg_catalog.isfinite(d) THEN
        RAISE EXCEPTION '% must be a finite date', argname USING ERRCODE = '22023';
    END IF;
END $$;

-- Counts a (organization, day, key) triple in the key sets and the unique-key
-- counters unless it is already there: the rare path, once per key and UTC
-- day. ON CONFLICT DO NOTHING waits for a session adding the same triple and
-- counts it only if that session rolled back.
CREATE FUNCTION pk_keys.pk_usage_note_key(org_id uuid, day date, key_id uuid) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
BEGIN
    INSERT INTO pk_keys.usage_day_keys AS t (organization_id, day, api_key_id)
    VALUES ($1, $2, $3) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO pk_keys.usage_day_unique AS t (organization_id, day, unique_keys)
    VALUES ($1, $2, 1)
    ON CONFLICT ON CONSTRAINT usage_day_unique_pkey DO UPDATE
    SET unique_keys = t.unique_keys OPERATOR(pg_catalog.+) 1;
    INSERT INTO pk_keys.usage_month_keys AS t (organization_id, month, api_key_id)
    VALUES ($1, pg_catalog.date_trunc('month', $2::timestamp)::date, $3) ON CONFLICT DO NOTHING;
    IF FOUND THEN
        INSERT INTO pk_keys.usage_month_unique AS t (organization_id, month, unique_keys)
        VALUES ($1, pg_catalog.date_trunc('month', $2::timestamp)::date, 1)
        ON CONFLICT ON CONSTRAINT usage_month_unique_pkey DO UPDATE
        SET unique_keys = t.unique_keys OPERATOR(pg_catalog.+) 1;
    END IF;
END $$;

-- pk_usage_create(...): logs one request of a key, under the key's
-- organization, and returns the row. Unknown key → P0002. The per-request
-- path: the row goes straight into api_key_usage_months (no trigger), then one
-- UPDATE bumps this backend's rollup row and, in its RETURNING, probes
-- whether the key was already seen that UTC day; the rest runs only for the
-- first request of an endpoint (per shard) or of a key in a day.
CREATE FUNCTION pk_keys.pk_usage_create(
    key_id uuid, endpoint text, method text DEFAULT 'GET', status_code integer DEFAULT 200,
    response_time_ms integer DEFAULT NULL, ip_address inet DEFAULT NULL,
    user_agent text DEFAULT NULL, occurred_at timestamptz DEFAULT pg_catalog.now())
RETURNS pk_keys.api_key_usage
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    r       pk_keys.api_key_usage;
    v_day   date;
    v_shard smallint;
    v_seen  boolean;
BEGIN
    IF key_id IS NULL THEN
        RAISE EXCEPTION 'key_id must not be NULL' USING ERRCODE = '22004';
    ELSIF endpoint IS NULL THEN
        RAISE EXCEPTION 'endpoint must not be NULL' USING ERRCODE = '22004';
    ELSIF method IS NULL THEN
        RAISE EXCEPTION 'method must not be NULL' USING ERRCODE = '22004';
    ELSIF status_code IS NULL THEN
        RAISE EXCEPTION 'status_code must not be NULL' USING ERRCODE = '22004';
    ELSIF occurred_at IS NULL THEN
        RAISE EXCEPTION 'occurred_at must not be NULL' USING ERRCODE = '22004';
    ELSIF status_code OPERATOR(pg_catalog.<) 100 OR status_code OPERATOR(pg_catalog.>) 599 THEN
        RAISE EXCEPTION 'status_code must be between 100 and 599' USING ERRCODE = '22023';
    ELSIF response_time_ms OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'response_time_ms must not be negative' USING ERRCODE = '22023';
    ELSIF NOT pg_catalog.isfinite(occurred_at) THEN
        RAISE EXCEPTION 'occurred_at must be finite' USING ERRCODE = '22023';
    ELSIF pg_catalog.octet_length(endpoint) OPERATOR(pg_catalog.>) 2048 THEN
        RAISE EXCEPTION 'endpoint must be at most 2048 bytes' USING ERRCODE = '22023';
    END IF;

    INSERT INTO pk_keys.api_key_usage_months AS u
        (api_key_id, organization_id, occurred_at, endpoint, method, status_code,
         response_time_ms, ip_address, user_agent)
    SELECT k.id, k.organization_id, pk_usage_create.occurred_at, pk_usage_create.endpoint,
           pk_usage_create.method, pk_usage_create.status_code,
           pk_usage_create.response_time_ms, pk_usage_create.ip_address,
           pk_usage_create.user_agent
    FROM pk_keys.api_keys k
    WHERE k.id OPERATOR(pg_catalog.=) pk_usage_create.key_id
    RETURNING u.* INTO r;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'api key % does not exist', key_id USING ERRCODE = 'P0002';
    END IF;

    v_day := pg_catalog.timezone('UTC', r.occurred_at)::date;
    v_shard := (pg_catalog.pg_backend_pid() OPERATOR(pg_catalog.%) 8)::smallint;
    UPDATE pk_keys.usage_rollup AS t
    SET requests = t.requests OPERATOR(pg_catalog.+) 1,
        successful = t.successful OPERATOR(pg_catalog.+)
                     (r.status_code OPERATOR(pg_catalog.<) 400)::integer,
        failed = t.failed OPERATOR(pg_catalog.+) (r.status_code OPERATOR(pg_catalog.>=) 400)::integer,
        response_time_sum = t.response_time_sum OPERATOR(pg_catalog.+) COALESCE(r.response_time_ms, 0),
        response_time_count = t.response_time_count OPERATOR(pg_catalog.+)
                              (r.response_time_ms IS NOT NULL)::integer
    WHERE t.organization_id OPERATOR(pg_catalog.=) r.organization_id
      AND t.day OPERATOR(pg_catalog.=) v_day
      AND t.endpoint OPERATOR(pg_catalog.=) (r.endpoint COLLATE "C")
      AND t.shard OPERATOR(pg_catalog.=) v_shard
    RETURNING EXISTS (SELECT 1 FROM pk_keys.usage_day_keys dk
                      WHERE dk.organization_id OPERATOR(pg_catalog.=) r.organization_id
                        AND dk.day OPERATOR(pg_catalog.=) v_day
                        AND dk.api_key_id OPERATOR(pg_catalog.=) r.api_key_id)
    INTO v_seen;
    IF NOT FOUND THEN
        -- First request of this endpoint today in this shard.
        INSERT INTO pk_keys.usage_rollup AS t
            (organization_id, day, endpoint, shard, requests, successful, failed,
             response_time_sum, response_time_count)
        VALUES (r.organization_id, v_day, r.endpoint, v_shard, 1,
                (r.status_code OPERATOR(pg_catalog.<) 400)::integer,
                (r.status_code OPERATOR(pg_catalog.>=) 400)::integer,
                COALESCE(r.response_time_ms, 0), (r.response_time_ms IS NOT NULL)::integer)
        ON CONFLICT ON CONSTRAINT usage_rollup_pkey DO UPDATE
        SET requests = t.requests OPERATOR(pg_catalog.+) excluded.requests,
            successful = t.successful OPERATOR(pg_catalog.+) excluded.successful,
            failed = t.failed OPERATOR(pg_catalog.+) excluded.failed,
            response_time_sum = t.response_time_sum OPERATOR(pg_catalog.+) excluded.response_time_sum,
            response_time_count = t.response_time_count OPERATOR(pg_catalog.+) excluded.response_time_count;
        v_seen := false;
    END IF;
    IF NOT v_seen THEN
        PERFORM pk_keys.pk_usage_note_key(r.organization_id, v_day, r.api_key_id);
    END IF;
    RETURN r;
END $$;

-- pk_usage_get_by_key(key_id, start_date, end_date): the key's rows with
-- start_date <= occurred_at < end_date, oldest first.
CREATE FUNCTION pk_keys.pk_usage_get_by_key(key_id uuid, start_date timestamptz,
                                            end_date timestamptz)
RETURNS SETOF pk_keys.api_key_usage
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
BEGIN
    IF key_id IS NULL THEN
        RAISE EXCEPTION 'key_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF start_date IS NULL THEN
        RAISE EXCEPTION 'start_date must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF end_date IS NULL THEN
        RAISE EXCEPTION 'end_date must not be NULL' USING ERRCODE = '22004';
    END IF;
    RETURN QUERY SELECT u.* FROM pk_keys.api_key_usage u
                 WHERE u.api_key_id OPERATOR(pg_catalog.=) pk_usage_get_by_key.key_id
                   AND u.occurred_at OPERATOR(pg_catalog.>=) pk_usage_get_by_key.start_date
                   AND u.occurred_at OPERATOR(pg_catalog.<) pk_usage_get_by_key.end_date
                 ORDER BY u.occurred_at, u.id;
END $$;

-- pk_usage_get_by_organization(org_id, start_date, end_date): the
-- organization's rows (also of keys deleted since) in [start_date, end_date),
-- oldest first.
CREATE FUNCTION pk_keys.pk_usage_get_by_organization(org_id uuid, start_date timestamptz,
                                                     end_date timestamptz)
RETURNS SETOF pk_keys.api_key_usage
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
BEGIN
    IF org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF start_date IS NULL THEN
        RAISE EXCEPTION 'start_date must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF end_date IS NULL THEN
        RAISE EXCEPTION 'end_date must not be NULL' USING ERRCODE = '22004';
    END IF;
    RETURN QUERY SELECT u.* FROM pk_keys.api_key_usage u
                 WHERE u.organization_id OPERATOR(pg_catalog.=) pk_usage_get_by_organization.org_id
                   AND u.occurred_at OPERATOR(pg_catalog.>=) pk_usage_get_by_organization.start_date
                   AND u.occurred_at OPERATOR(pg_catalog.<) pk_usage_get_by_organization.end_date
                 ORDER BY u.occurred_at, u.id;
END $$;

-- pk_usage_get_summary(org_id, month): the UTC month containing `month`, from
-- the rollups: reads one month counter and at most days x endpoints x shards
-- rollup rows, never the raw rows.
CREATE FUNCTION pk_keys.pk_usage_get_summary(org_id uuid, month date) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    m_start date;
    m_end   date;
    result  jsonb;
BEGIN
    IF org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    PERFORM pk_keys.pk_usage_check_date(month, 'month');
    m_start := pg_catalog.date_trunc('month', month::timestamp)::date;
    m_end := (m_start OPERATOR(pg_catalog.+) '1 month'::interval)::date;

    WITH per_endpoint AS (
        SELECT r.endpoint,
               pg_catalog.sum(r.requests)::bigint AS requests,
               pg_catalog.sum(r.successful)::bigint AS successful,
               pg_catalog.sum(r.failed)::bigint AS failed,
               pg_catalog.sum(r.response_time_sum) AS rt_sum,
               pg_catalog.sum(r.response_time_count) AS rt_count
        FROM pk_keys.usage_rollup r
        WHERE r.organization_id OPERATOR(pg_catalog.=) pk_usage_get_summary.org_id
          AND r.day OPERATOR(pg_catalog.>=) m_start AND r.day OPERATOR(pg_catalog.<) m_end
        GROUP BY r.endpoint
    ), top AS (
        SELECT e.endpoint, e.requests FROM per_endpoint e
        ORDER BY e.requests DESC, e.endpoint COLLATE "default"
        LIMIT 10
    )
    SELECT pg_catalog.jsonb_build_object(
        'organization_id', pk_usage_get_summary.org_id,
        'month', m_start,
        'total_requests', COALESCE(pg_catalog.sum(e.requests), 0)::bigint,
        'successful_requests', COALESCE(pg_catalog.sum(e.successful), 0)::bigint,
        'failed_requests', COALESCE(pg_catalog.sum(e.failed), 0)::bigint,
        'avg_response_time_ms',
            pg_catalog.sum(e.rt_sum)::double precision
            OPERATOR(pg_catalog./) NULLIF(pg_catalog.sum(e.rt_count), 0)::double precision,
        'unique_keys', COALESCE(
            (SELECT mu.unique_keys FROM pk_keys.usage_month_unique mu
             WHERE mu.organization_id OPERATOR(pg_catalog.=) pk_usage_get_summary.org_id
               AND mu.month OPERATOR(pg_catalog.=) m_start), 0),
        'top_endpoints', COALESCE(
            (SELECT pg_catalog.jsonb_agg(
                        pg_catalog.jsonb_build_object('endpoint', t.endpoint, 'requests', t.requests)
                        ORDER BY t.requests DESC, t.endpoint COLLATE "default")
             FROM top t), '[]'::jsonb))
    INTO result
    FROM per_endpoint e;
    RETURN result;
END $$;

-- pk_usage_get_daily_stats(org_id, start_date, end_date): one row per UTC day
-- of [start_date, end_date], zeros for days without usage, from the rollups.
CREATE FUNCTION pk_keys.pk_usage_get_daily_stats(org_id uuid, start_date date, end_date date)
RETURNS TABLE (day date, total_requests bigint, successful_requests bigint,
               failed_requests bigint, avg_response_time_ms double precision,
               unique_keys bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
BEGIN
    IF org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    PERFORM pk_keys.pk_usage_check_date(start_date, 'start_date');
    PERFORM pk_keys.pk_usage_check_date(end_date, 'end_date');
    IF end_date OPERATOR(pg_catalog.<) start_date THEN
        RAISE EXCEPTION 'end_date must not be before start_date' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    WITH per_day AS (
        SELECT r.day,
               pg_catalog.sum(r.requests)::bigint AS requests,
               pg_catalog.sum(r.successful)::bigint AS successful,
               pg_catalog.sum(r.failed)::bigint AS failed,
               pg_catalog.sum(r.response_time_sum) AS rt_sum,
               pg_catalog.sum(r.response_time_count) AS rt_count
        FROM pk_keys.usage_rollup r
        WHERE r.organization_id OPERATOR(pg_catalog.=) pk_usage_get_daily_stats.org_id
          AND r.day OPERATOR(pg_catalog.>=) pk_usage_get_daily_stats.start_date
          AND r.day OPERATOR(pg_catalog.<=) pk_usage_get_daily_stats.end_date
        GROUP BY r.day
    )
    SELECT (pk_usage_get_daily_stats.start_date OPERATOR(pg_catalog.+) g.i)::date,
           COALESCE(p.requests, 0::bigint),
           COALESCE(p.successful, 0::bigint),
           COALESCE(p.failed, 0::bigint),
           p.rt_sum::double precision
           OPERATOR(pg_catalog./) NULLIF(p.rt_count, 0)::double precision,
           COALESCE(u.unique_keys, 0::bigint)
    FROM pg_catalog.generate_series(0, pk_usage_get_daily_stats.end_date
                                       OPERATOR(pg_catalog.-) pk_usage_get_daily_stats.start_date) g(i)
    LEFT JOIN per_day p
           ON p.day OPERATOR(pg_catalog.=)
              (pk_usage_get_daily_stats.start_date OPERATOR(pg_catalog.+) g.i)
    LEFT JOIN pk_keys.usage_day_unique u
           ON u.organization_id OPERATOR(pg_catalog.=) pk_usage_get_daily_stats.org_id
          AND u.day OPERATOR(pg_catalog.=)
              (pk_usage_get_daily_stats.start_date OPERATOR(pg_catalog.+) g.i)
    ORDER BY g.i;
END $$;

-- The bounds of the UTC month containing d, as timestamptz.
CREATE FUNCTION pk_keys.pk_usage_month_bounds(d date, OUT lower_bound timestamptz,
                                              OUT upper_bound timestamptz)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
BEGIN ATOMIC
    SELECT pg_catalog.timezone('UTC', pg_catalog.date_trunc('month', d::timestamp)),
           pg_catalog.timezone('UTC', pg_catalog.date_trunc('month', d::timestamp)
                                      OPERATOR(pg_catalog.+) '1 month'::interval);
END;

-- Creates the partition of the UTC month containing `month` unless it exists
-- (api_key_usage_pYYYYMM). Rows of that month waiting in the DEFAULT
-- partition are moved into it first (directly, so the aggregation trigger
-- does not count them twice). Needs only SHARE UPDATE EXCLUSIVE on the parent
-- (ATTACH PARTITION); the DEFAULT partition is locked while it is checked.
-- Returns the partition's name (and how many rows moved), NULL if it
-- already existed.
CREATE FUNCTION pk_keys.pk_usage_create_partition(month date) RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    part  text;
    lo    timestamptz;
    hi    timestamptz;
    moved bigint;
BEGIN
    PERFORM pk_keys.pk_usage_check_date(month, 'month');
    part := 'api_key_usage_p' OPERATOR(pg_catalog.||) pg_catalog.to_char(month, 'YYYYMM');
    -- Self-conflicting: one creator at a time; inserts and reads go on.
    LOCK TABLE pk_keys.api_key_usage_months IN SHARE UPDATE EXCLUSIVE MODE;
    IF pg_catalog.to_regclass('pk_keys.' OPERATOR(pg_catalog.||) part) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    SELECT b.lower_bound, b.upper_bound INTO lo, hi FROM pk_keys.pk_usage_month_bounds(month) b;
    EXECUTE pg_catalog.format(
        'CREATE TABLE pk_keys.%I (LIKE pk_keys.api_key_usage INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
        part);
    EXECUTE pg_catalog.format('REVOKE ALL ON TABLE pk_keys.%I FROM PUBLIC', part);
    IF EXISTS (SELECT 1 FROM pk_keys.api_key_usage_default d
               WHERE d.occurred_at OPERATOR(pg_catalog.>=) lo
                 AND d.occurred_at OPERATOR(pg_catalog.<) hi) THEN
        LOCK TABLE pk_keys.api_key_usage_default IN ACCESS EXCLUSIVE MODE;
        EXECUTE pg_catalog.format(
            'WITH m AS (DELETE FROM pk_keys.api_key_usage_default d '
            'WHERE d.occurred_at >= $1 AND d.occurred_at < $2 RETURNING d.*) '
            'INSERT INTO pk_keys.%I SELECT * FROM m', part) USING lo, hi;
        GET DIAGNOSTICS moved = ROW_COUNT;
    END IF;
    EXECUTE pg_catalog.format(
        'CREATE INDEX %I ON pk_keys.%I (api_key_id, occurred_at)', part OPERATOR(pg_catalog.||) '_key_time_idx', part);
    EXECUTE pg_catalog.format(
        'CREATE INDEX %I ON pk_keys.%I (organization_id, occurred_at)', part OPERATOR(pg_catalog.||) '_org_time_idx', part);
    EXECUTE pg_catalog.format(
        'ALTER TABLE pk_keys.api_key_usage_months ATTACH PARTITION pk_keys.%I FOR VALUES FROM (%L) TO (%L)',
        part, pg_catalog.to_char(pg_catalog.timezone('UTC', lo), 'YYYY-MM-DD"T"HH24:MI:SS"+00"'),
        pg_catalog.to_char(pg_catalog.timezone('UTC', hi), 'YYYY-MM-DD"T"HH24:MI:SS"+00"'));
    IF moved IS NOT NULL THEN
        RETURN pg_catalog.format('%s (%s rows moved from api_key_usage_default)', part, moved);
    END IF;
    RETURN part;
END $$;

-- pk_usage_compact_rollups(before): folds every shard of the rollup rows of
-- days before `before` (default: the current UTC day) into shard 0, so that
-- history costs one row per (organization, day, endpoint). A late
-- pk_usage_create for such a day is safe: its UPDATE of a row folded
-- meanwhile matches nothing and it inserts a new shard row, folded next time.
-- Returns the number of shard rows folded.
CREATE FUNCTION pk_keys.pk_usage_compact_rollups(before date DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    cutoff date := COALESCE(before, pg_catalog.timezone('UTC', pg_catalog.now())::date);
    n      bigint;
BEGIN
    IF NOT pg_catalog.isfinite(cutoff) THEN
        RAISE EXCEPTION 'before must be a finite date' USING ERRCODE = '22023';
    END IF;
    WITH moved AS (
        DELETE FROM pk_keys.usage_rollup r
        WHERE r.day OPERATOR(pg_catalog.<) cutoff AND r.shard OPERATOR(pg_catalog.<>) 0
        RETURNING r.*
    ), folded AS (
        INSERT INTO pk_keys.usage_rollup AS t
            (organization_id, day, endpoint, shard, requests, successful, failed,
             response_time_sum, response_time_count)
        SELECT m.organization_id, m.day, m.endpoint, 0, pg_catalog.sum(m.requests),
               pg_catalog.sum(m.successful), pg_catalog.sum(m.failed),
               pg_catalog.sum(m.response_time_sum), pg_catalog.sum(m.response_time_count)
        FROM moved m
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        ON CONFLICT ON CONSTRAINT usage_rollup_pkey DO UPDATE
        SET requests = t.requests OPERATOR(pg_catalog.+) excluded.requests,
            successful = t.successful OPERATOR(pg_catalog.+) excluded.successful,
            failed = t.failed OPERATOR(pg_catalog.+) excluded.failed,
            response_time_sum = t.response_time_sum OPERATOR(pg_catalog.+) excluded.response_time_sum,
            response_time_count = t.response_time_count OPERATOR(pg_catalog.+) excluded.response_time_count
    )
    SELECT pg_catalog.count(*) INTO n FROM moved;
    RETURN n;
END $$;

-- pk_usage_maintain(months_ahead, retention, rollup_retention): run it daily
-- (pg_cron or any scheduler). Creates the partitions of the current UTC month
-- and the next months_ahead months, gives every month still waiting in the
-- DEFAULT partition its own partition, and with a retention drops every
-- partition (and deletes DEFAULT rows) older than now() - retention. It
-- folds the rollup shards of past days (pk_usage_compact_rollups). With a
-- rollup_retention it also deletes aggregates of days older than that
-- (aggregates outlive raw rows by default: summaries of old months stay).
-- Returns one line per action.
CREATE FUNCTION pk_keys.pk_usage_maintain(months_ahead integer DEFAULT 3,
                                          retention interval DEFAULT NULL,
                                          rollup_retention interval DEFAULT NULL)
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    this_month date := pg_catalog.date_trunc('month', pg_catalog.timezone('UTC', pg_catalog.now()))::date;
    cutoff     timestamptz;
    m          date;
    part       text;
    n          bigint;
BEGIN
    IF months_ahead IS NULL THEN
        RAISE EXCEPTION 'months_ahead must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF months_ahead OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'months_ahead must not be negative' USING ERRCODE = '22023';
    END IF;
    IF retention OPERATOR(pg_catalog.<=) '0'::interval
       OR rollup_retention OPERATOR(pg_catalog.<=) '0'::interval THEN
        RAISE EXCEPTION 'retention and rollup_retention must be positive' USING ERRCODE = '22023';
    END IF;
    -- One maintainer at a time; inserts and reads go on.
    LOCK TABLE pk_keys.api_key_usage_months IN SHARE UPDATE EXCLUSIVE MODE;
    cutoff := pg_catalog.now() OPERATOR(pg_catalog.-) retention;

    IF cutoff IS NOT NULL THEN
        FOR part IN
            SELECT c.relname FROM pg_catalog.pg_inherits i
            JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.inhrelid
            WHERE i.inhparent OPERATOR(pg_catalog.=) 'pk_keys.api_key_usage_months'::pg_catalog.regclass
              AND c.relname OPERATOR(pg_catalog.~) '^api_key_usage_p[0-9]{6}$'
              AND (SELECT b.upper_bound FROM pk_keys.pk_usage_month_bounds(
                       pg_catalog.to_date(pg_catalog.substr(c.relname, 16), 'YYYYMM')) b)
                  OPERATOR(pg_catalog.<=) cutoff
            ORDER BY c.relname
        LOOP
            EXECUTE pg_catalog.format('DROP TABLE pk_keys.%I', part);
            RETURN NEXT 'dropped ' OPERATOR(pg_catalog.||) part;
        END LOOP;
        DELETE FROM pk_keys.api_key_usage_default d
        WHERE d.occurred_at OPERATOR(pg_catalog.<) cutoff;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n OPERATOR(pg_catalog.>) 0 THEN
            RETURN NEXT pg_catalog.format('deleted %s rows older than %s from api_key_usage_default',
                                          n, cutoff);
        END IF;
    END IF;

    FOR m IN
        SELECT DISTINCT pg_catalog.date_trunc('month', pg_catalog.timezone('UTC', d.occurred_at))::date
        FROM pk_keys.api_key_usage_default d
        UNION
        SELECT (this_month OPERATOR(pg_catalog.+) pg_catalog.make_interval(months => g.i))::date
        FROM pg_catalog.generate_series(0, months_ahead) g(i)
        ORDER BY 1
    LOOP
        part := pk_keys.pk_usage_create_partition(m);
        IF part IS NOT NULL THEN
            RETURN NEXT 'created ' OPERATOR(pg_catalog.||) part;
        END IF;
    END LOOP;

    n := pk_keys.pk_usage_compact_rollups();
    IF n OPERATOR(pg_catalog.>) 0 THEN
        RETURN NEXT pg_catalog.format('folded %s rollup shard rows of past days into shard 0', n);
    END IF;

    IF rollup_retention IS NOT NULL THEN
        m := pg_catalog.timezone('UTC', pg_catalog.now() OPERATOR(pg_catalog.-) rollup_retention)::date;
        DELETE FROM pk_keys.usage_rollup r WHERE r.day OPERATOR(pg_catalog.<) m;
        DELETE FROM pk_keys.usage_day_keys r WHERE r.day OPERATOR(pg_catalog.<) m;
        DELETE FROM pk_keys.usage_day_unique r WHERE r.day OPERATOR(pg_catalog.<) m;
        -- A month goes when all of its days have gone.
        DELETE FROM pk_keys.usage_month_keys r
        WHERE r.month OPERATOR(pg_catalog.+) '1 month'::interval OPERATOR(pg_catalog.<=) m;
        DELETE FROM pk_keys.usage_month_unique r
        WHERE r.month OPERATOR(pg_catalog.+) '1 month'::interval OPERATOR(pg_catalog.<=) m;
        RETURN NEXT 'deleted aggregates of days before ' OPERATOR(pg_catalog.||) m;
    END IF;
END $$;

-- pk_usage_rebuild_rollups(from_month, to_month): recomputes every aggregate
-- of the UTC months from_month .. to_month from the raw rows (after a restore
-- with --load-via-partition-root, a manual DELETE/UPDATE of raw rows, ...).
-- Blocks inserts into api_key_usage meanwhile (SHARE lock). Months whose raw
-- partitions retention has dropped would come out empty: rebuild only months
-- whose raw rows are all there. Returns the number of raw rows aggregated.
CREATE FUNCTION pk_keys.pk_usage_rebuild_rollups(from_month date, to_month date) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    m_start date;
    m_end   date;
    lo      timestamptz;
    hi      timestamptz;
    n       bigint;
BEGIN
    PERFORM pk_keys.pk_usage_check_date(from_month, 'from_month');
    PERFORM pk_keys.pk_usage_check_date(to_month, 'to_month');
    IF to_month OPERATOR(pg_catalog.<) from_month THEN
        RAISE EXCEPTION 'to_month must not be before from_month' USING ERRCODE = '22023';
    END IF;
    m_start := pg_catalog.date_trunc('month', from_month::timestamp)::date;
    m_end := (pg_catalog.date_trunc('month', to_month::timestamp)
              OPERATOR(pg_catalog.+) '1 month'::interval)::date;
    lo := pg_catalog.timezone('UTC', m_start::timestamp);
    hi := pg_catalog.timezone('UTC', m_end::timestamp);
    LOCK TABLE pk_keys.api_key_usage IN SHARE MODE;

    DELETE FROM pk_keys.usage_rollup r
    WHERE r.day OPERATOR(pg_catalog.>=) m_start AND r.day OPERATOR(pg_catalog.<) m_end;
    DELETE FROM pk_keys.usage_day_keys r
    WHERE r.day OPERATOR(pg_catalog.>=) m_start AND r.day OPERATOR(pg_catalog.<) m_end;
    DELETE FROM pk_keys.usage_day_unique r
    WHERE r.day OPERATOR(pg_catalog.>=) m_start AND r.day OPERATOR(pg_catalog.<) m_end;
    DELETE FROM pk_keys.usage_month_keys r
    WHERE r.month OPERATOR(pg_catalog.>=) m_start AND r.month OPERATOR(pg_catalog.<) m_end;
    DELETE FROM pk_keys.usage_month_unique r
    WHERE r.month OPERATOR(pg_catalog.>=) m_start AND r.month OPERATOR(pg_catalog.<) m_end;

    INSERT INTO pk_keys.usage_rollup
        (organization_id, day, endpoint, shard, requests, successful, failed,
         response_time_sum, response_time_count)
    SELECT u.organization_id, pg_catalog.timezone('UTC', u.occurred_at)::date, u.endpoint, 0,
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE u.status_code OPERATOR(pg_catalog.<) 400),
           pg_catalog.count(*) FILTER (WHERE u.status_code OPERATOR(pg_catalog.>=) 400),
           COALESCE(pg_catalog.sum(u.response_time_ms), 0),
           pg_catalog.count(u.response_time_ms)
    FROM pk_keys.api_key_usage u
    WHERE u.occurred_at OPERATOR(pg_catalog.>=) lo AND u.occurred_at OPERATOR(pg_catalog.<) hi
    GROUP BY 1, 2, 3;

    INSERT INTO pk_keys.usage_day_keys (organization_id, day, api_key_id)
    SELECT DISTINCT u.organization_id, pg_catalog.timezone('UTC', u.occurred_at)::date, u.api_key_id
    FROM pk_keys.api_key_usage u
    WHERE u.occurred_at OPERATOR(pg_catalog.>=) lo AND u.occurred_at OPERATOR(pg_catalog.<) hi;
    INSERT INTO pk_keys.usage_day_unique (organization_id, day, unique_keys)
    SELECT k.organization_id, k.day, pg_catalog.count(*)
    FROM pk_keys.usage_day_keys k
    WHERE k.day OPERATOR(pg_catalog.>=) m_start AND k.day OPERATOR(pg_catalog.<) m_end
    GROUP BY 1, 2;

    INSERT INTO pk_keys.usage_month_keys (organization_id, month, api_key_id)
    SELECT DISTINCT k.organization_id, pg_catalog.date_trunc('month', k.day::timestamp)::date,
           k.api_key_id
    FROM pk_keys.usage_day_keys k
    WHERE k.day OPERATOR(pg_catalog.>=) m_start AND k.day OPERATOR(pg_catalog.<) m_end;
    INSERT INTO pk_keys.usage_month_unique (organization_id, month, unique_keys)
    SELECT k.organization_id, k.month, pg_catalog.count(*)
    FROM pk_keys.usage_month_keys k
    WHERE k.month OPERATOR(pg_catalog.>=) m_start AND k.month OPERATOR(pg_catalog.<) m_end
    GROUP BY 1, 2;

    SELECT COALESCE(pg_catalog.sum(r.requests), 0)::bigint INTO n
    FROM pk_keys.usage_rollup r
    WHERE r.day OPERATOR(pg_catalog.>=) m_start AND r.day OPERATOR(pg_catalog.<) m_end;
    RETURN n;
END $$;

-- pk_usage_purge_organization(org_id): erases every raw row and aggregate of
-- an organization (for instance after deleting it). Returns raw rows deleted.
CREATE FUNCTION pk_keys.pk_usage_purge_organization(org_id uuid) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    n bigint;
BEGIN
    IF org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    DELETE FROM pk_keys.api_key_usage u
    WHERE u.organization_id OPERATOR(pg_catalog.=) pk_usage_purge_organization.org_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM pk_keys.usage_rollup r
    WHERE r.organization_id OPERATOR(pg_catalog.=) pk_usage_purge_organization.org_id;
    DELETE FROM pk_keys.usage_day_keys r
    WHERE r.organization_id OPERATOR(pg_catalog.=) pk_usage_purge_organization.org_id;
    DELETE FROM pk_keys.usage_day_unique r
    WHERE r.organization_id OPERATOR(pg_catalog.=) pk_usage_purge_organization.org_id;
    DELETE FROM pk_keys.usage_month_keys r
    WHERE r.organization_id OPERATOR(pg_catalog.=) pk_usage_purge_organization.org_id;
    DELETE FROM pk_keys.usage_month_unique r
    WHERE r.organization_id OPERATOR(pg_catalog.=) pk_usage_purge_organization.org_id;
    RETURN n;
END $$;

SELECT pg_catalog.pg_extension_config_dump('pk_keys.api_key_usage_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pk_keys.api_key_usage', '');
SELECT pg_catalog.pg_extension_config_dump('pk_keys.api_key_usage_months', '');
SELECT pg_catalog.pg_extension_config_dump('pk_keys.api_key_usage_default', '');
SELECT pg_catalog.pg_extension_config_dump('pk_keys.usage_rollup', '');
SELECT pg_catalog.pg_extension_config_dump('pk_keys.usage_day_keys', '');
SELECT pg_catalog.pg_extension_config_dump('pk_keys.usage_month_keys', '');
SELECT pg_catalog.pg_extension_config_dump('pk_keys.usage_day_unique', '');
SELECT pg_catalog.pg_extension_config_dump('pk_keys.usage_month_unique', '');

REVOKE ALL ON pk_keys.api_key_usage, pk_keys.api_key_usage_months, pk_keys.api_key_usage_default, pk_keys.usage_rollup,
    pk_keys.usage_day_keys, pk_keys.usage_month_keys, pk_keys.usage_day_unique,
    pk_keys.usage_month_unique
FROM PUBLIC;
REVOKE ALL ON SEQUENCE pk_keys.api_key_usage_id_seq FROM PUBLIC;

REVOKE EXECUTE ON FUNCTION
    pk_keys.api_key_usage_aggregate(), pk_keys.pk_usage_check_date(date, text),
    pk_keys.pk_usage_note_key(uuid, date, uuid),
    pk_keys.pk_usage_create(uuid, text, text, integer, integer, inet, text, timestamptz),
    pk_keys.pk_usage_get_by_key(uuid, timestamptz, timestamptz),
    pk_keys.pk_usage_get_by_organization(uuid, timestamptz, timestamptz),
    pk_keys.pk_usage_get_summary(uuid, date),
    pk_keys.pk_usage_get_daily_stats(uuid, date, date),
    pk_keys.pk_usage_month_bounds(date), pk_keys.pk_usage_create_partition(date),
    pk_keys.pk_usage_maintain(integer, interval, interval),
    pk_keys.pk_usage_rebuild_rollups(date, date), pk_keys.pk_usage_compact_rollups(date),
    pk_keys.pk_usage_purge_organization(uuid)
FROM PUBLIC;
