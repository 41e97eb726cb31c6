-- Usage store, 1.1: maintenance. It never waits for a writer: rows a writer
-- holds locked are skipped (SKIP LOCKED) and folded or deleted next time, so
-- maintenance beside any number of writers can neither deadlock nor fail
-- them. It never fails because of a stored row either: months outside
-- 2000-01 .. now are never given a partition (their rows stay in DEFAULT,
-- where retention still deletes them).

-- Creates the partition of the UTC month containing `month` (2000-01 ..
-- 9999-12) unless it exists (api_key_usage_pYYYYMM), moving that month's
-- rows out of DEFAULT. A month that can still receive rows (up to now() + 1
-- day) is attached under an EXCLUSIVE lock on api_key_usage_months, which
-- waits for the open writing transactions and holds new ones back until
-- commit: a writer that routed a row of that month to DEFAULT with the old
-- partition map would otherwise fail. Returns the partition's name (and how
-- many rows moved), NULL if it already existed.
CREATE OR REPLACE FUNCTION pk_keys.pk_usage_create_partition(month date) RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    part  text;
    lo    timestamptz;
    hi    timestamptz;
    moved bigint;
BEGIN
    PERFORM pk_keys.pk_usage_check_date(month, 'month');
    IF month OPERATOR(pg_catalog.<) '2000-01-01'::date OR month OPERATOR(pg_catalog.>) '9999-12-31'::date THEN
        RAISE EXCEPTION 'month must be between 2000-01-01 and 9999-12-31' USING ERRCODE = '22023';
    END IF;
    part := 'api_key_usage_p' OPERATOR(pg_catalog.||) pg_catalog.to_char(month, 'YYYYMM');
    -- Self-conflicting: one creator at a time; inserts and reads go on.
    LOCK TABLE pk_keys.api_key_usage_months IN SHARE UPDATE EXCLUSIVE MODE;
    IF pg_catalog.to_regclass('pk_keys.' OPERATOR(pg_catalog.||) part) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    SELECT b.lower_bound, b.upper_bound INTO lo, hi FROM pk_keys.pk_usage_month_bounds(month) b;
    IF lo OPERATOR(pg_catalog.<=) (pg_catalog.now() OPERATOR(pg_catalog.+) '1 day'::interval) THEN
        LOCK TABLE pk_keys.api_key_usage_months IN EXCLUSIVE MODE;
    END IF;
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

-- pk_usage_compact_rollups(before): folds the writers' shards of every day
-- before `before` (default: the current UTC day) into shard 0 — rollup rows
-- and day key rows — and of every month before `before`'s month for month
-- key rows, so history costs one row per (organization, day, endpoint) and
-- per (organization, day or month, key). Rows a writer holds locked (a late
-- row for a past day, not yet committed) are skipped and folded next time.
-- Returns the number of rollup shard rows folded.
CREATE OR REPLACE FUNCTION pk_keys.pk_usage_compact_rollups(before date DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    cutoff date := COALESCE(before, pg_catalog.timezone('UTC', pg_catalog.now())::date);
    month_cutoff date;
    n      bigint;
BEGIN
    PERFORM pk_keys.pk_usage_check_date(cutoff, 'before');
    month_cutoff := pg_catalog.date_trunc('month', cutoff::timestamp)::date;
    -- One folder at a time (pk_usage_maintain holds this lock too); writers
    -- (ROW EXCLUSIVE) are not blocked.
    LOCK TABLE pk_keys.api_key_usage_months IN SHARE UPDATE EXCLUSIVE MODE;
    WITH moved AS (
        DELETE FROM pk_keys.usage_rollup r
        WHERE r.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(
            SELECT l.ctid FROM pk_keys.usage_rollup l
            WHERE l.day OPERATOR(pg_catalog.<) cutoff AND l.shard OPERATOR(pg_catalog.<>) 0
            FOR UPDATE SKIP LOCKED))
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
        ON CONFLICT ON CONSTRAINT usage_rollup_pkey DO UPDATE
        SET requests = t.requests OPERATOR(pg_catalog.+) excluded.requests,
            successful = t.successful OPERATOR(pg_catalog.+) excluded.successful,
            failed = t.failed OPERATOR(pg_catalog.+) excluded.failed,
            response_time_sum = t.response_time_sum OPERATOR(pg_catalog.+) excluded.response_time_sum,
            response_time_count = t.response_time_count OPERATOR(pg_catalog.+) excluded.response_time_count
    )
    SELECT pg_catalog.count(*) INTO n FROM moved;

    WITH moved AS (
        DELETE FROM pk_keys.usage_day_keys k
        WHERE k.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(
            SELECT l.ctid FROM pk_keys.usage_day_keys l
            WHERE l.day OPERATOR(pg_catalog.<) cutoff AND l.shard OPERATOR(pg_catalog.<>) 0
            FOR UPDATE SKIP LOCKED))
        RETURNING k.organization_id, k.day, k.api_key_id
    ), added AS (
        INSERT INTO pk_keys.usage_day_keys AS t (organization_id, day, api_key_id, shard)
        SELECT DISTINCT m.organization_id, m.day, m.api_key_id, 0 FROM moved m
        ON CONFLICT DO NOTHING
        RETURNING t.organization_id, t.day
    )
    INSERT INTO pk_keys.usage_day_unique AS t (organization_id, day, unique_keys)
    SELECT a.organization_id, a.day, pg_catalog.count(*) FROM added a GROUP BY 1, 2
    ON CONFLICT ON CONSTRAINT usage_day_unique_pkey DO UPDATE
    SET unique_keys = t.unique_keys OPERATOR(pg_catalog.+) excluded.unique_keys;

    WITH moved AS (
        DELETE FROM pk_keys.usage_month_keys k
        WHERE k.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(
            SELECT l.ctid FROM pk_keys.usage_month_keys l
            WHERE l.month OPERATOR(pg_catalog.<) month_cutoff AND l.shard OPERATOR(pg_catalog.<>) 0
            FOR UPDATE SKIP LOCKED))
        RETURNING k.organization_id, k.month, k.api_key_id
    ), added AS (
        INSERT INTO pk_keys.usage_month_keys AS t (organization_id, month, api_key_id, shard)
        SELECT DISTINCT m.organization_id, m.month, m.api_key_id, 0 FROM moved m
        ON CONFLICT DO NOTHING
        RETURNING t.organization_id, t.month
    )
    INSERT INTO pk_keys.usage_month_unique AS t (organization_id, month, unique_keys)
    SELECT a.organization_id, a.month, pg_catalog.count(*) FROM added a GROUP BY 1, 2
    ON CONFLICT ON CONSTRAINT usage_month_unique_pkey DO UPDATE
    SET unique_keys = t.unique_keys OPERATOR(pg_catalog.+) excluded.unique_keys;
    RETURN n;
END $$;

-- pk_usage_maintain(months_ahead, retention, rollup_retention): run it daily.
-- Partitions for the current UTC month and the next months_ahead, and for
-- the months from 2000-01 on still waiting in DEFAULT (rows outside that
-- stay in DEFAULT); with retention,
-- drops older partitions and deletes older DEFAULT rows; folds past days'
-- shards; with rollup_retention, deletes older aggregates (skipping rows a
-- writer holds). Returns one line per action.
CREATE OR REPLACE FUNCTION pk_keys.pk_usage_maintain(months_ahead integer DEFAULT 3,
                                                     retention interval DEFAULT NULL,
                                                     rollup_retention interval DEFAULT NULL)
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
DECLARE
    this_month date := pg_catalog.date_trunc('month', pg_catalog.timezone('UTC', pg_catalog.now()))::date;
    oldest     date;
    cutoff     timestamptz;
    m          date;
    part       text;
    n          bigint;
BEGIN
    IF months_ahead IS NULL THEN
        RAISE EXCEPTION 'months_ahead must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF months_ahead OPERATOR(pg_catalog.<) 0 OR months_ahead OPERATOR(pg_catalog.>) 120 THEN
        RAISE EXCEPTION 'months_ahead must be between 0 and 120' USING ERRCODE = '22023';
    END IF;
    IF retention OPERATOR(pg_catalog.<=) '0'::interval
       OR rollup_retention OPERATOR(pg_catalog.<=) '0'::interval THEN
        RAISE EXCEPTION 'retention and rollup_retention must be positive' USING ERRCODE = '22023';
    END IF;
    IF retention OPERATOR(pg_catalog.>) '100 years'::interval
       OR rollup_retention OPERATOR(pg_catalog.>) '100 years'::interval THEN
        RAISE EXCEPTION 'retention and rollup_retention must be at most 100 years' USING ERRCODE = '22023';
    END IF;
    -- One maintainer at a time; inserts and reads go on.
    LOCK TABLE pk_keys.api_key_usage_months IN SHARE UPDATE EXCLUSIVE MODE;
    cutoff := pg_catalog.now() OPERATOR(pg_catalog.-) retention;
    oldest := '2000-01-01'::date;

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
        SELECT (this_month OPERATOR(pg_catalog.+) pg_catalog.make_interval(months => g.i))::date
        FROM pg_catalog.generate_series(0, months_ahead) g(i)
        UNION
        SELECT x.m FROM (
            SELECT DISTINCT pg_catalog.date_trunc('month', pg_catalog.timezone('UTC', d.occurred_at))::date AS m
            FROM pk_keys.api_key_usage_default d
            WHERE d.occurred_at OPERATOR(pg_catalog.>=) pg_catalog.timezone('UTC', oldest::timestamp)
              AND d.occurred_at OPERATOR(pg_catalog.<)
                  pg_catalog.timezone('UTC', (this_month OPERATOR(pg_catalog.+) '2 months'::interval))) x
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
        DELETE FROM pk_keys.usage_rollup r
        WHERE r.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(
            SELECT l.ctid FROM pk_keys.usage_rollup l WHERE l.day OPERATOR(pg_catalog.<) m
            FOR UPDATE SKIP LOCKED));
        DELETE FROM pk_keys.usage_day_keys r
        WHERE r.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(
            SELECT l.ctid FROM pk_keys.usage_day_keys l WHERE l.day OPERATOR(pg_catalog.<) m
            FOR UPDATE SKIP LOCKED));
        DELETE FROM pk_keys.usage_day_unique r WHERE r.day OPERATOR(pg_catalog.<) m;
        -- A month goes when all of its days have gone.
        DELETE FROM pk_keys.usage_month_keys r
        WHERE r.ctid OPERATOR(pg_catalog.=) ANY (ARRAY(
            SELECT l.ctid FROM pk_keys.usage_month_keys l
            WHERE l.month OPERATOR(pg_catalog.+) '1 month'::interval OPERATOR(pg_catalog.<=) m
            FOR UPDATE SKIP LOCKED));
        DELETE FROM pk_keys.usage_month_unique r
        WHERE r.month OPERATOR(pg_catalog.+) '1 month'::interval OPERATOR(pg_catalog.<=) m;
        RETURN NEXT 'deleted aggregates of days before ' OPERATOR(pg_catalog.||) m;
    END IF;
END $$;

-- pk_usage_rebuild_rollups(from_month, to_month): recomputes every aggregate
-- of those UTC months from the raw rows, into shard 0. Blocks inserts into
-- api_key_usage meanwhile (SHARE lock): run it while no writer is busy.
-- Returns the number of raw rows aggregated.
CREATE OR REPLACE FUNCTION pk_keys.pk_usage_rebuild_rollups(from_month date, to_month date) RETURNS bigint
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
    DELETE FROM pk_keys.usage_month_keys r
    WHERE r.month OPERATOR(pg_catalog.>=) m_start AND r.month OPERATOR(pg_catalog.<) m_end;
    DELETE FROM pk_keys.usage_day_unique r
    WHERE r.day OPERATOR(pg_catalog.>=) m_start AND r.day OPERATOR(pg_catalog.<) m_end;
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

    INSERT INTO pk_keys.usage_day_keys (organization_id, day, api_key_id, shard)
    SELECT DISTINCT u.organization_id, pg_catalog.timezone('UTC', u.occurred_at)::date, u.api_key_id, 0
    FROM pk_keys.api_key_usage u
    WHERE u.occurred_at OPERATOR(pg_catalog.>=) lo AND u.occurred_at OPERATOR(pg_catalog.<) hi;

    INSERT INTO pk_keys.usage_month_keys (organization_id, month, api_key_id, shard)
    SELECT DISTINCT k.organization_id, pg_catalog.date_trunc('month', k.day::timestamp)::date,
           k.api_key_id, 0
    FROM pk_keys.usage_day_keys k
    WHERE k.day OPERATOR(pg_catalog.>=) m_start AND k.day OPERATOR(pg_catalog.<) m_end;

    INSERT INTO pk_keys.usage_day_unique (organization_id, day, unique_keys)
    SELECT k.organization_id, k.day, pg_catalog.count(*) FROM pk_keys.usage_day_keys k
    WHERE k.day OPERATOR(pg_catalog.>=) m_start AND k.day OPERATOR(pg_catalog.<) m_end
    GROUP BY 1, 2;
    INSERT INTO pk_keys.usage_month_unique (organization_id, month, unique_keys)
    SELECT k.organization_id, k.month, pg_catalog.count(*) FROM pk_keys.usage_month_keys k
    WHERE k.month OPERATOR(pg_catalog.>=) m_start AND k.month OPERATOR(pg_catalog.<) m_end
    GROUP BY 1, 2;

    SELECT COALESCE(pg_catalog.sum(r.requests), 0)::bigint INTO n
    FROM pk_keys.usage_rollup r
    WHERE r.day OPERATOR(pg_catalog.>=) m_start AND r.day OPERATOR(pg_catalog.<) m_end;
    RETURN n;
END $$;

-- pk_usage_purge_organization(org_id): erases every raw row and aggregate of
-- an organization (for instance after deleting it). Returns raw rows deleted.
CREATE OR REPLACE FUNCTION pk_keys.pk_usage_purge_organization(org_id uuid) RETURNS bigint
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
    DELETE FROM pk_keys.usage_month_keys r
    WHERE r.organization_id OPERATOR(pg_catalog.=) pk_usage_purge_organization.org_id;
    DELETE FROM pk_keys.usage_day_unique r
    WHERE r.organization_id OPERATOR(pg_catalog.=) pk_usage_purge_organization.org_id;
    DELETE FROM pk_keys.usage_month_unique r
    WHERE r.organization_id OPERATOR(pg_catalog.=) pk_usage_purge_organization.org_id;
    RETURN n;
END $$;
