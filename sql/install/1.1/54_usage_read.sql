-- Usage store, 1.1: readers. Summaries and daily statistics read the
-- rollups, the folded key counts (usage_day_unique / usage_month_unique:
-- shard-0 key rows) and the few key rows of the writers' shards that are not
-- in shard 0 yet, never the raw rows. Date arguments are
-- bounded (22023, never 22008 or unbounded work).

-- Raises 22004/22023 unless d is a date whose UTC month is a valid
-- timestamp range (4713-12-01 BC .. 294276-11-30).
CREATE OR REPLACE FUNCTION pk_keys.pk_usage_check_date(d date, argname text) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys AS $$
BEGIN
    IF d IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', argname USING ERRCODE = '22004';
    END IF;
    IF NOT pg_catalog.isfinite(d) THEN
        RAISE EXCEPTION '% must be a finite date', argname USING ERRCODE = '22023';
    END IF;
    IF d OPERATOR(pg_catalog.<) '4713-12-01 BC'::date OR d OPERATOR(pg_catalog.>) '294276-11-30'::date THEN
        RAISE EXCEPTION '% is out of range', argname USING ERRCODE = '22023';
    END IF;
END $$;

-- pk_usage_get_summary(org_id, month): the UTC month containing `month`.
CREATE OR REPLACE FUNCTION pk_keys.pk_usage_get_summary(org_id uuid, month date) RETURNS jsonb
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
        'unique_keys',
            COALESCE((SELECT mu.unique_keys FROM pk_keys.usage_month_unique mu
                      WHERE mu.organization_id OPERATOR(pg_catalog.=) pk_usage_get_summary.org_id
                        AND mu.month OPERATOR(pg_catalog.=) m_start), 0)
            OPERATOR(pg_catalog.+)
            (SELECT pg_catalog.count(DISTINCT mk.api_key_id) FROM pk_keys.usage_month_keys mk
             WHERE mk.organization_id OPERATOR(pg_catalog.=) pk_usage_get_summary.org_id
               AND mk.month OPERATOR(pg_catalog.=) m_start AND mk.shard OPERATOR(pg_catalog.<>) 0
               AND NOT EXISTS (SELECT 1 FROM pk_keys.usage_month_keys z
                               WHERE z.organization_id OPERATOR(pg_catalog.=) mk.organization_id
                                 AND z.month OPERATOR(pg_catalog.=) mk.month
                                 AND z.api_key_id OPERATOR(pg_catalog.=) mk.api_key_id
                                 AND z.shard OPERATOR(pg_catalog.=) 0)),
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
-- of [start_date, end_date] (at most 3660 days), zeros for days without usage.
CREATE OR REPLACE FUNCTION pk_keys.pk_usage_get_daily_stats(org_id uuid, start_date date, end_date date)
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
    IF end_date OPERATOR(pg_catalog.-) start_date OPERATOR(pg_catalog.>=) 3660 THEN
        RAISE EXCEPTION 'start_date .. end_date must span at most 3660 days' USING ERRCODE = '22023';
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
    ), unfolded AS (
        SELECT k.day, pg_catalog.count(DISTINCT k.api_key_id) AS unique_keys
        FROM pk_keys.usage_day_keys k
        WHERE k.organization_id OPERATOR(pg_catalog.=) pk_usage_get_daily_stats.org_id
          AND k.day OPERATOR(pg_catalog.>=) pk_usage_get_daily_stats.start_date
          AND k.day OPERATOR(pg_catalog.<=) pk_usage_get_daily_stats.end_date
          AND k.shard OPERATOR(pg_catalog.<>) 0
          AND NOT EXISTS (SELECT 1 FROM pk_keys.usage_day_keys z
                          WHERE z.organization_id OPERATOR(pg_catalog.=) k.organization_id
                            AND z.day OPERATOR(pg_catalog.=) k.day
                            AND z.api_key_id OPERATOR(pg_catalog.=) k.api_key_id
                            AND z.shard OPERATOR(pg_catalog.=) 0)
        GROUP BY k.day
    ), keys_per_day AS (
        SELECT COALESCE(f.day, x.day) AS day,
               COALESCE(f.unique_keys, 0) OPERATOR(pg_catalog.+) COALESCE(x.unique_keys, 0) AS unique_keys
        FROM (SELECT du.day, du.unique_keys FROM pk_keys.usage_day_unique du
              WHERE du.organization_id OPERATOR(pg_catalog.=) pk_usage_get_daily_stats.org_id
                AND du.day OPERATOR(pg_catalog.>=) pk_usage_get_daily_stats.start_date
                AND du.day OPERATOR(pg_catalog.<=) pk_usage_get_daily_stats.end_date) f
        FULL JOIN unfolded x ON x.day OPERATOR(pg_catalog.=) f.day
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
    LEFT JOIN keys_per_day u
           ON u.day OPERATOR(pg_catalog.=)
              (pk_usage_get_daily_stats.start_date OPERATOR(pg_catalog.+) g.i)
    ORDER BY g.i;
END $$;
