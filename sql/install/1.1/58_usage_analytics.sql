-- Verification analytics (contract 1.1): every pk_authenticate outcome
-- counted per (organization, key, code, UTC minute) with the credits spent.
-- Written by src/usage_analytics.cpp: by the flusher from shared memory when
-- preloaded, else by the call itself. Each writer adds to its own shard's
-- row (proc number + 1), so concurrent transactions never wait for one
-- another; readers sum over shards.

CREATE TABLE pk_keys.verification_counts (
    organization_id uuid        NOT NULL,
    minute          timestamptz NOT NULL,
    api_key_id      uuid        NOT NULL,
    code            text        COLLATE "C" NOT NULL,
    shard           smallint    NOT NULL,
    verifications   bigint      NOT NULL,
    credits_spent   bigint      NOT NULL,
    CONSTRAINT verification_counts_pkey PRIMARY KEY (organization_id, minute, api_key_id, code, shard)
) WITH (fillfactor = 70);

SELECT pg_catalog.pg_extension_config_dump('pk_keys.verification_counts', '');
REVOKE ALL ON pk_keys.verification_counts FROM PUBLIC;

-- pk_verification_stats(org_id, start_at, end_at, granularity, key_id):
-- outcomes in [start_at, end_at) (at most 3660 days) by UTC bucket of
-- granularity minute, hour or day, then code; buckets without traffic
-- omitted. With key_id, that key's only. Preloaded, counts appear once
-- flushed (pk_keys.flush_interval, or pk_flush()).
CREATE FUNCTION pk_keys.pk_verification_stats(org_id uuid, start_at timestamptz, end_at timestamptz,
                                              granularity text DEFAULT 'hour', key_id uuid DEFAULT NULL)
RETURNS TABLE (bucket timestamptz, code text, verifications bigint, credits_spent bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
AS $$
BEGIN
    IF org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be NULL' USING ERRCODE = '22004';
    ELSIF start_at IS NULL THEN
        RAISE EXCEPTION 'start_at must not be NULL' USING ERRCODE = '22004';
    ELSIF end_at IS NULL THEN
        RAISE EXCEPTION 'end_at must not be NULL' USING ERRCODE = '22004';
    ELSIF granularity IS NULL THEN
        RAISE EXCEPTION 'granularity must not be NULL' USING ERRCODE = '22004';
    ELSIF granularity OPERATOR(pg_catalog.<>) ALL (ARRAY['minute', 'hour', 'day']) THEN
        RAISE EXCEPTION 'granularity must be minute, hour or day' USING ERRCODE = '22023';
    ELSIF NOT pg_catalog.isfinite(start_at) OR NOT pg_catalog.isfinite(end_at) THEN
        RAISE EXCEPTION 'start_at and end_at must be finite' USING ERRCODE = '22023';
    ELSIF end_at OPERATOR(pg_catalog.-) start_at OPERATOR(pg_catalog.>) '3660 days'::interval THEN
        RAISE EXCEPTION 'start_at .. end_at must span at most 3660 days' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    SELECT pg_catalog.timezone('UTC', pg_catalog.date_trunc(granularity, pg_catalog.timezone('UTC', v.minute))) AS b,
           v.code::text, pg_catalog.sum(v.verifications)::bigint, pg_catalog.sum(v.credits_spent)::bigint
    FROM pk_keys.verification_counts v
    WHERE v.organization_id OPERATOR(pg_catalog.=) pk_verification_stats.org_id
      AND v.minute OPERATOR(pg_catalog.>=) pk_verification_stats.start_at
      AND v.minute OPERATOR(pg_catalog.<) pk_verification_stats.end_at
      AND (pk_verification_stats.key_id IS NULL
           OR v.api_key_id OPERATOR(pg_catalog.=) pk_verification_stats.key_id)
    GROUP BY 1, 2
    ORDER BY 1, 2;
END $$;

REVOKE EXECUTE ON FUNCTION pk_keys.pk_verification_stats(uuid, timestamptz, timestamptz, text, uuid) FROM PUBLIC;
