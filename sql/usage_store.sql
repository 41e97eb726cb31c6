-- The usage store's internals: its tables, the aggregates kept by
-- pk_usage_create and by the statement trigger (bulk INSERT ... SELECT, COPY,
-- multi-row VALUES), their exactness against the raw rows, rollback, the
-- partitions and their maintenance, retention, rebuild and purge.
-- Its rows use 2019-2021 only (no other test does), so the partition
-- maintenance output below is the same whatever ran before.
\set VERBOSITY terse
SET DateStyle = 'ISO, YMD';
-- Not UTC on purpose (UTC+05:30): the store must not care.
SET TimeZone = 'Asia/Kolkata';

--
-- Structure.
--
SELECT c.relname, c.relkind, c.relispartition AS is_partition,
       pg_get_expr(c.relpartbound, c.oid) AS bound, pg_get_partkeydef(c.oid) AS partition_key
FROM pg_class c
WHERE c.relnamespace = 'pk_keys'::regnamespace AND c.relname LIKE 'api\_key\_usage%' AND c.relkind IN ('r', 'p')
  AND c.relname !~ '_p[0-9]{6}$'
ORDER BY c.relname;
-- No partitioned index on the parents (a restored dump would clash with
-- ATTACH PARTITION); the leaf has its two.
SELECT count(*) AS partitioned_indexes
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.oid IN ('pk_keys.api_key_usage'::regclass, 'pk_keys.api_key_usage_months'::regclass);
SELECT pg_get_indexdef(indexrelid) AS leaf_index FROM pg_index
WHERE indrelid = 'pk_keys.api_key_usage_default'::regclass ORDER BY 1;
SELECT pg_get_triggerdef(t.oid) AS trigger FROM pg_trigger t
WHERE t.tgrelid = 'pk_keys.api_key_usage'::regclass AND NOT t.tgisinternal;
-- Every table and the sequence: registered for pg_dump, nothing for PUBLIC.
SELECT c.relname, c.relkind,
       c.oid IN (SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'pk_keys') AS dumped,
       has_table_privilege('public', c.oid, 'SELECT') OR has_table_privilege('public', c.oid, 'INSERT')
           OR has_any_column_privilege('public', c.oid, 'UPDATE') AS public_rights
FROM pg_class c
WHERE c.relnamespace = 'pk_keys'::regnamespace AND c.relkind IN ('r', 'p', 'S')
  AND (c.relname LIKE 'usage\_%' OR c.relname LIKE 'api\_key\_usage%') AND c.relname !~ '_p[0-9]{6}$'
ORDER BY c.relname;
-- The usage functions.
SELECT p.proname, p.provolatile AS vol, p.proparallel AS par, p.prosecdef AS secdef,
       'search_path=pg_catalog, pk_keys' = ANY (p.proconfig) AS pinned,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_exec
FROM pg_proc p
WHERE p.pronamespace = 'pk_keys'::regnamespace
  AND (p.proname LIKE 'pk\_usage\_%' OR p.proname = 'api_key_usage_aggregate')
ORDER BY p.proname;

--
-- Fixed organizations and keys (so that COPY data can name them).
--
INSERT INTO pk_keys.organizations (id, name, slug, email) VALUES
    ('10000000-0000-0000-0000-000000000001', 'Usage Store One', 'usage-store-one', 'usage-store-1@example.com'),
    ('10000000-0000-0000-0000-000000000002', 'Usage Store Two', 'usage-store-two', 'usage-store-2@example.com'),
    ('10000000-0000-0000-0000-000000000003', 'Usage Store Three', 'usage-store-three', 'usage-store-3@example.com');
INSERT INTO pk_keys.api_keys (id, organization_id, key_prefix, key_hash, key_hint, environment)
SELECT k.id::uuid, k.org::uuid, 'pk_live_', encode(sha256(convert_to('usage-store-' || k.id, 'UTF8')), 'hex'),
       'abcd', 'live'
FROM (VALUES ('a0000000-0000-0000-0000-00000000000a', '10000000-0000-0000-0000-000000000001'),
             ('b0000000-0000-0000-0000-00000000000b', '10000000-0000-0000-0000-000000000001'),
             ('c0000000-0000-0000-0000-00000000000c', '10000000-0000-0000-0000-000000000002'),
             ('d0000000-0000-0000-0000-00000000000d', '10000000-0000-0000-0000-000000000001'),
             ('e0000000-0000-0000-0000-00000000000e', '10000000-0000-0000-0000-000000000003')) AS k(id, org);

-- Compares every aggregate of these organizations with the raw rows:
-- per day, per day and endpoint, per month, and the key sets. All zero
-- means exact.
CREATE FUNCTION pg_temp.mismatches() RETURNS TABLE (aggregate text, mismatched bigint)
LANGUAGE sql AS $$
    WITH raw AS (
        SELECT u.organization_id AS o, (u.occurred_at AT TIME ZONE 'UTC')::date AS d, u.endpoint AS e,
               u.api_key_id AS k, u.status_code, u.response_time_ms
        FROM pk_keys.api_key_usage u
        WHERE u.organization_id::text LIKE '10000000-%'),
    raw_de AS (
        SELECT o, d, e, count(*) AS t, count(*) FILTER (WHERE status_code < 400) AS s,
               count(*) FILTER (WHERE status_code >= 400) AS f,
               COALESCE(sum(response_time_ms), 0) AS rs, count(response_time_ms) AS rc
        FROM raw GROUP BY 1, 2, 3),
    roll_de AS (
        SELECT organization_id AS o, day AS d, endpoint::text AS e, sum(requests) AS t,
               sum(successful) AS s, sum(failed) AS f, sum(response_time_sum) AS rs,
               sum(response_time_count) AS rc
        FROM pk_keys.usage_rollup WHERE organization_id::text LIKE '10000000-%' GROUP BY 1, 2, 3),
    day_keys AS (SELECT organization_id AS o, day AS d, api_key_id AS k
                 FROM pk_keys.usage_day_keys WHERE organization_id::text LIKE '10000000-%'),
    month_keys AS (SELECT organization_id AS o, month AS m, api_key_id AS k
                   FROM pk_keys.usage_month_keys WHERE organization_id::text LIKE '10000000-%'),
    raw_day_u AS (SELECT o, d, count(DISTINCT k) AS u FROM raw GROUP BY 1, 2),
    raw_month_u AS (SELECT o, date_trunc('month', d)::date AS m, count(DISTINCT k) AS u FROM raw GROUP BY 1, 2)
    SELECT 'requests per day and endpoint', count(*)
    FROM raw_de r FULL JOIN roll_de x USING (o, d, e)
    WHERE (r.t, r.s, r.f, r.rs, r.rc) IS DISTINCT FROM (x.t, x.s, x.f, x.rs, x.rc)
    UNION ALL
    SELECT 'keys per day', count(*)
    FROM (SELECT DISTINCT o, d, k FROM raw) r FULL JOIN day_keys x USING (o, d, k)
    WHERE r.o IS NULL OR x.o IS NULL
    UNION ALL
    SELECT 'keys per month', count(*)
    FROM (SELECT DISTINCT o, date_trunc('month', d)::date AS m, k FROM raw) r FULL JOIN month_keys x USING (o, m, k)
    WHERE r.o IS NULL OR x.o IS NULL
    UNION ALL
    SELECT 'unique keys per day', count(*)
    FROM raw_day_u r
    FULL JOIN (SELECT organization_id AS o, day AS d, unique_keys AS u FROM pk_keys.usage_day_unique
               WHERE organization_id::text LIKE '10000000-%') x USING (o, d)
    WHERE r.u IS DISTINCT FROM x.u
    UNION ALL
    SELECT 'unique keys per month', count(*)
    FROM raw_month_u r
    FULL JOIN (SELECT organization_id AS o, month AS m, unique_keys AS u FROM pk_keys.usage_month_unique
               WHERE organization_id::text LIKE '10000000-%') x USING (o, m)
    WHERE r.u IS DISTINCT FROM x.u
$$;

--
-- pk_usage_create: the row goes to the partitioned table, the aggregates
-- follow in the same transaction, in this backend's shard.
--
SELECT (pk_keys.pk_usage_create(k::uuid, e, 'GET', s, rt, NULL, NULL, t)).endpoint AS logged
FROM (VALUES
    ('a0000000-0000-0000-0000-00000000000a', '/s/one', 200, 10, timestamptz '2021-03-10 10:00:00+00'),
    ('a0000000-0000-0000-0000-00000000000a', '/s/one', 503, NULL, timestamptz '2021-03-10 11:00:00+00'),
    ('b0000000-0000-0000-0000-00000000000b', '/s/two', 201, 30, timestamptz '2021-03-10 23:59:59.999999+00'),
    ('a0000000-0000-0000-0000-00000000000a', '/s/one', 404, 5, timestamptz '2021-03-11 00:00:00+00'),
    ('c0000000-0000-0000-0000-00000000000c', '/s/one', 200, 1, timestamptz '2021-03-10 12:00:00+00'))
    AS r(k, e, s, rt, t);
SELECT day, endpoint, shard = pg_backend_pid() % 8 AS this_backends_shard, requests, successful, failed,
       response_time_sum, response_time_count
FROM pk_keys.usage_rollup WHERE organization_id = '10000000-0000-0000-0000-000000000001' ORDER BY day, endpoint;
SELECT day, unique_keys FROM pk_keys.usage_day_unique
WHERE organization_id = '10000000-0000-0000-0000-000000000001' ORDER BY day;
SELECT month, unique_keys FROM pk_keys.usage_month_unique
WHERE organization_id = '10000000-0000-0000-0000-000000000001';
SELECT * FROM pg_temp.mismatches();
-- The rows sit in the DEFAULT partition until their month has one.
SELECT tableoid::regclass AS partition, count(*) FROM pk_keys.api_key_usage
WHERE organization_id::text LIKE '10000000-%' GROUP BY 1;

--
-- pk_usage_create argument checks (beyond the contract).
--
SELECT pk_keys.pk_usage_create('a0000000-0000-0000-0000-00000000000a', '/s', 'GET', 99);
SELECT pk_keys.pk_usage_create('a0000000-0000-0000-0000-00000000000a', '/s', 'GET', 600);
SELECT pk_keys.pk_usage_create('a0000000-0000-0000-0000-00000000000a', '/s', 'GET', 200, -1);
SELECT pk_keys.pk_usage_create('a0000000-0000-0000-0000-00000000000a', '/s', occurred_at => 'infinity');
SELECT pk_keys.pk_usage_create('a0000000-0000-0000-0000-00000000000a', repeat('/', 2049));
SELECT pk_keys.pk_usage_create('a0000000-0000-0000-0000-00000000000a', NULL);
SELECT pk_keys.pk_usage_create('a0000000-0000-0000-0000-00000000000a', '/s', NULL);
SELECT pk_keys.pk_usage_create('a0000000-0000-0000-0000-00000000000a', '/s', 'GET', NULL);
SELECT pk_keys.pk_usage_create('a0000000-0000-0000-0000-00000000000a', '/s', occurred_at => NULL);
SELECT pk_keys.pk_usage_create('00000000-0000-0000-0000-000000000000', '/s');
SELECT pk_keys.pk_usage_get_summary('10000000-0000-0000-0000-000000000001', 'infinity');
SELECT * FROM pk_keys.pk_usage_get_daily_stats('10000000-0000-0000-0000-000000000001', '2021-03-02', '2021-03-01');
SELECT * FROM pk_keys.pk_usage_get_daily_stats('10000000-0000-0000-0000-000000000001', '-infinity', '2021-03-01');
-- 100 <= status <= 599 and 2048 bytes of endpoint are accepted.
SELECT (pk_keys.pk_usage_create('a0000000-0000-0000-0000-00000000000a', repeat('/', 2048), 'GET', 100, 0,
                                occurred_at => '2021-03-12 00:00:00+00')).status_code;
SELECT (pk_keys.pk_usage_create('a0000000-0000-0000-0000-00000000000a', '/s/one', 'GET', 599,
                                occurred_at => '2021-03-12 00:00:00+00')).status_code;

--
-- A bulk INSERT ... SELECT through pk_keys.api_key_usage: one grouped upsert
-- for the whole statement; keys already seen that day are not counted again.
--
INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint, method,
                                   status_code, response_time_ms)
SELECT (ARRAY['a0000000-0000-0000-0000-00000000000a', 'b0000000-0000-0000-0000-00000000000b',
              'd0000000-0000-0000-0000-00000000000d'])[1 + g % 3]::uuid,
       '10000000-0000-0000-0000-000000000001',
       timestamptz '2021-03-09 00:00:00+00' + (g * 397 % (4 * 86400)) * interval '1 second',
       '/bulk/' || (g % 7), 'POST', (ARRAY[200, 201, 302, 400, 404, 500])[1 + g % 6],
       CASE WHEN g % 11 = 0 THEN NULL ELSE g % 250 END
FROM generate_series(1, 3000) AS g;
SELECT * FROM pg_temp.mismatches();
SELECT day, unique_keys FROM pk_keys.usage_day_unique
WHERE organization_id = '10000000-0000-0000-0000-000000000001' ORDER BY day;
SELECT unique_keys FROM pk_keys.usage_month_unique
WHERE organization_id = '10000000-0000-0000-0000-000000000001' AND month = '2021-03-01';

--
-- COPY through pk_keys.api_key_usage is aggregated the same way: across a
-- month boundary, a new key, another organization, NULL response times.
--
COPY pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint, method, status_code, response_time_ms) FROM stdin;
a0000000-0000-0000-0000-00000000000a	10000000-0000-0000-0000-000000000001	2021-03-31 23:59:59.999999+00	/copy	GET	200	7
a0000000-0000-0000-0000-00000000000a	10000000-0000-0000-0000-000000000001	2021-04-01 00:00:00+00	/copy	GET	500	\N
d0000000-0000-0000-0000-00000000000d	10000000-0000-0000-0000-000000000001	2021-04-01 00:00:00+00	/copy	GET	200	9
c0000000-0000-0000-0000-00000000000c	10000000-0000-0000-0000-000000000002	2021-04-15 08:00:00+00	/copy	PUT	204	3
c0000000-0000-0000-0000-00000000000c	10000000-0000-0000-0000-000000000002	2021-04-15 09:00:00+00	/copy	PUT	204	\N
\.
SELECT * FROM pg_temp.mismatches();
SELECT j->'total_requests' AS total, j->'failed_requests' AS failed, j->'avg_response_time_ms' AS avg_ms,
       j->'unique_keys' AS keys, j->'top_endpoints' AS top
FROM pk_keys.pk_usage_get_summary('10000000-0000-0000-0000-000000000001', '2021-04-01') AS j;
-- A multi-row VALUES insert too.
INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint, status_code, response_time_ms)
VALUES ('b0000000-0000-0000-0000-00000000000b', '10000000-0000-0000-0000-000000000001', '2021-04-02 00:00:00+00', '/values', 200, 1),
       ('b0000000-0000-0000-0000-00000000000b', '10000000-0000-0000-0000-000000000001', '2021-04-02 01:00:00+00', '/values', 200, 3),
       ('d0000000-0000-0000-0000-00000000000d', '10000000-0000-0000-0000-000000000001', '2021-05-02 00:00:00+00', '/values', 418, NULL);
SELECT * FROM pg_temp.mismatches();

-- Shards: pk_usage_create and statements of up to 100 rows write this
-- backend's shard (concurrent writers do not queue on one row); a bulk
-- statement writes shard 0 (loads from many sessions do not multiply the
-- rows a summary reads).
SELECT bool_and(shard = pg_backend_pid() % 8) AS small_writes_in_backend_shard
FROM pk_keys.usage_rollup
WHERE organization_id = '10000000-0000-0000-0000-000000000001' AND endpoint IN ('/s/one', '/values', '/copy');
SELECT bool_and(shard = 0) AS bulk_in_shard_0, count(*) AS rows_for_7_endpoints_4_days
FROM pk_keys.usage_rollup
WHERE organization_id = '10000000-0000-0000-0000-000000000001' AND endpoint LIKE '/bulk/%';
-- pk_usage_compact_rollups folds the shards of past days into shard 0.
SELECT count(*) AS sharded_rows_to_fold
FROM pk_keys.usage_rollup WHERE day < '2021-04-02' AND shard <> 0 AND organization_id::text LIKE '10000000-%' \gset
-- (It folds something exactly when there are shards to fold: none when this
-- backend's shard happens to be 0.)
SELECT (pk_keys.pk_usage_compact_rollups('2021-04-02') > 0) = (:sharded_rows_to_fold > 0)
       AS compacted_iff_shards_to_fold;
SELECT count(*) AS sharded_rows_before_apr_2
FROM pk_keys.usage_rollup WHERE day < '2021-04-02' AND shard <> 0 AND organization_id::text LIKE '10000000-%';
SELECT count(*) > 0 AS sharded_rows_from_apr_2
FROM pk_keys.usage_rollup WHERE day >= '2021-04-02' AND organization_id::text LIKE '10000000-%'
  AND shard = pg_backend_pid() % 8;
SELECT * FROM pg_temp.mismatches();
SELECT pk_keys.pk_usage_compact_rollups('infinity');

--
-- Same transaction: a rollback takes the rows and their aggregates along.
--
CREATE TEMP TABLE agg_before AS
    SELECT (SELECT sum(requests) FROM pk_keys.usage_rollup) AS requests,
           (SELECT count(*) FROM pk_keys.usage_day_keys) AS day_keys,
           (SELECT sum(unique_keys) FROM pk_keys.usage_month_unique) AS month_unique;
BEGIN;
SELECT (pk_keys.pk_usage_create('e0000000-0000-0000-0000-00000000000e', '/rolled-back',
                                occurred_at => '2021-06-01 00:00:00+00')).endpoint;
INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint)
SELECT 'e0000000-0000-0000-0000-00000000000e', '10000000-0000-0000-0000-000000000003',
       timestamptz '2021-06-02 00:00:00+00' + g * interval '1 hour', '/rolled-back'
FROM generate_series(1, 50) g;
SELECT (pk_keys.pk_usage_get_summary('10000000-0000-0000-0000-000000000003', '2021-06-01'))->'total_requests' AS seen_inside;
ROLLBACK;
SELECT (SELECT sum(requests) FROM pk_keys.usage_rollup) = requests AS requests_unchanged,
       (SELECT count(*) FROM pk_keys.usage_day_keys) = day_keys AS day_keys_unchanged,
       (SELECT sum(unique_keys) FROM pk_keys.usage_month_unique) = month_unique AS month_unique_unchanged
FROM agg_before;
SELECT (pk_keys.pk_usage_get_summary('10000000-0000-0000-0000-000000000003', '2021-06-01'))->'total_requests' AS after_rollback;
-- Within one transaction, pk_usage_create and a bulk insert of the same key
-- and day count it once.
BEGIN;
SELECT (pk_keys.pk_usage_create('e0000000-0000-0000-0000-00000000000e', '/once',
                                occurred_at => '2021-06-01 00:00:00+00')).endpoint;
INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint)
VALUES ('e0000000-0000-0000-0000-00000000000e', '10000000-0000-0000-0000-000000000003', '2021-06-01 05:00:00+00', '/once'),
       ('e0000000-0000-0000-0000-00000000000e', '10000000-0000-0000-0000-000000000003', '2021-06-01 06:00:00+00', '/once');
SELECT (pk_keys.pk_usage_create('e0000000-0000-0000-0000-00000000000e', '/once',
                                occurred_at => '2021-06-01 07:00:00+00')).endpoint;
COMMIT;
SELECT day, total_requests, unique_keys
FROM pk_keys.pk_usage_get_daily_stats('10000000-0000-0000-0000-000000000003', '2021-06-01', '2021-06-01');
SELECT * FROM pg_temp.mismatches();

--
-- Summaries and daily statistics read the aggregates, never the raw rows.
--
-- (Scan counters of this backend, read before and after inside one
-- transaction block, where they are not flushed.)
CREATE FUNCTION pg_temp.scans(pattern text) RETURNS bigint LANGUAGE sql AS $$
    SELECT COALESCE(sum(COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0)), 0)::bigint
    FROM pg_stat_xact_user_tables WHERE schemaname = 'pk_keys' AND relname LIKE pattern $$;
BEGIN;
CREATE TEMP TABLE scans_before AS
    SELECT pg_temp.scans('api\_key\_usage%') AS raw, pg_temp.scans('usage\_rollup') AS rollup;
SELECT (pk_keys.pk_usage_get_summary('10000000-0000-0000-0000-000000000001', '2021-03-15'))->'total_requests' AS march_total;
SELECT count(*) AS days FROM pk_keys.pk_usage_get_daily_stats('10000000-0000-0000-0000-000000000001', '2021-01-01', '2021-12-31');
SELECT pg_temp.scans('api\_key\_usage%') - raw AS raw_scans, pg_temp.scans('usage\_rollup') - rollup AS rollup_scans
FROM scans_before;
COMMIT;
-- ... so a row written around the trigger (straight into a partition) is
-- not counted until pk_usage_rebuild_rollups recomputes the months.
INSERT INTO pk_keys.api_key_usage_months (api_key_id, organization_id, occurred_at, endpoint)
VALUES ('b0000000-0000-0000-0000-00000000000b', '10000000-0000-0000-0000-000000000001', '2021-03-20 00:00:00+00', '/around');
SELECT (pk_keys.pk_usage_get_summary('10000000-0000-0000-0000-000000000001', '2021-03-15'))->'total_requests' AS march_total;
SELECT * FROM pg_temp.mismatches();
-- (rebuild covers every organization's rows of those months: other tests
-- have none in 2019-2021)
SELECT pk_keys.pk_usage_rebuild_rollups('2021-03-01', '2021-03-31') AS march_rows_aggregated;
SELECT (pk_keys.pk_usage_get_summary('10000000-0000-0000-0000-000000000001', '2021-03-15'))->'total_requests' AS march_total;
SELECT * FROM pg_temp.mismatches();
SELECT DISTINCT shard FROM pk_keys.usage_rollup WHERE day BETWEEN '2021-03-01' AND '2021-03-31';
SELECT pk_keys.pk_usage_rebuild_rollups('2021-04-01', '2021-03-01');
SELECT pk_keys.pk_usage_rebuild_rollups(NULL, '2021-03-01');

--
-- Partitions. Rows of a month without a partition wait in the DEFAULT one;
-- creating the month's partition moves them (directly: nothing is counted
-- twice) and later rows go straight there.
--
CREATE TEMP TABLE summaries_before AS
SELECT m, pk_keys.pk_usage_get_summary(o, m) AS j
FROM unnest(ARRAY['10000000-0000-0000-0000-000000000001', '10000000-0000-0000-0000-000000000002',
                  '10000000-0000-0000-0000-000000000003']::uuid[]) AS o,
     unnest(ARRAY[date '2021-03-01', '2021-04-01', '2021-05-01', '2021-06-01']) AS m;
SELECT pk_keys.pk_usage_create_partition('2021-03-17') AS created;
SELECT pk_keys.pk_usage_create_partition('2021-03-01') AS again;
SELECT pg_get_expr(c.relpartbound, c.oid) AS bound, c.relispartition,
       (SELECT count(*) FROM pk_keys.api_key_usage_p202103) AS rows_moved_in,
       (SELECT count(*) FROM pk_keys.api_key_usage_default
        WHERE occurred_at >= '2021-03-01 00:00:00+00' AND occurred_at < '2021-04-01 00:00:00+00') AS march_left_in_default
FROM pg_class c WHERE c.oid = 'pk_keys.api_key_usage_p202103'::regclass;
SELECT pg_get_indexdef(indexrelid) AS partition_index FROM pg_index
WHERE indrelid = 'pk_keys.api_key_usage_p202103'::regclass ORDER BY 1;
-- Maintenance gives every month waiting in DEFAULT its partition (only this
-- file's months are printed: the current and coming months depend on today).
SELECT line FROM pk_keys.pk_usage_maintain(2) AS line WHERE line ~ '_p20(19|20|21)' ORDER BY line;
SELECT to_regclass('pk_keys.api_key_usage_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')) IS NOT NULL AS current_month,
       to_regclass('pk_keys.api_key_usage_p' || to_char((now() AT TIME ZONE 'UTC') + interval '2 months', 'YYYYMM')) IS NOT NULL AS in_two_months;
SELECT count(*) AS rows_left_in_default FROM pk_keys.api_key_usage_default WHERE organization_id::text LIKE '10000000-%';
SELECT tableoid::regclass AS partition, count(*) FROM pk_keys.api_key_usage
WHERE organization_id::text LIKE '10000000-%' GROUP BY 1 ORDER BY 1;
-- Nothing was counted twice, nothing lost.
SELECT count(*) AS summaries, count(*) FILTER (WHERE pk_keys.pk_usage_get_summary(o.o, s.m) = s.j) AS unchanged
FROM summaries_before s, LATERAL (SELECT (s.j->>'organization_id')::uuid AS o) o;
SELECT * FROM pg_temp.mismatches();
-- New rows of those months go to their partition, aggregated as before.
CREATE TEMP TABLE late AS
    SELECT id FROM pk_keys.pk_usage_create('a0000000-0000-0000-0000-00000000000a', '/s/late',
                                           occurred_at => '2021-03-25 00:00:00+00');
SELECT u.tableoid::regclass AS partition FROM pk_keys.api_key_usage u WHERE u.id = (SELECT id FROM late);
INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint)
VALUES ('c0000000-0000-0000-0000-00000000000c', '10000000-0000-0000-0000-000000000002', '2021-04-30 23:00:00+00', '/late');
SELECT * FROM pg_temp.mismatches();
-- Month partitions are ordinary tables, not extension members (pg_dump
-- dumps them, their rows and their ATTACH), and closed to PUBLIC.
SELECT c.relname,
       EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
               AND d.deptype = 'e') AS extension_member,
       has_table_privilege('public', c.oid, 'SELECT') AS public_select
FROM pg_class c WHERE c.relname IN ('api_key_usage_p202103', 'api_key_usage_default') ORDER BY 1;
SELECT pk_keys.pk_usage_create_partition(NULL);
SELECT pk_keys.pk_usage_maintain(-1);
SELECT pk_keys.pk_usage_maintain(NULL);
SELECT pk_keys.pk_usage_maintain(1, '-1 day');
SELECT pk_keys.pk_usage_maintain(1, NULL, '0 days');

--
-- Retention: partitions whose every instant is older than now() - retention
-- are dropped (here the cut-off is 2022-01-01 00:00 UTC). The aggregates
-- outlive the raw rows: the summaries still answer.
--
SELECT line FROM pk_keys.pk_usage_maintain(0, now() - timestamptz '2022-01-01 00:00:00+00') AS line
WHERE line ~ '_p20(19|20|21)' ORDER BY line;
SELECT count(*) AS raw_rows_left FROM pk_keys.api_key_usage WHERE organization_id::text LIKE '10000000-%';
SELECT count(*) AS by_key FROM pk_keys.pk_usage_get_by_key('a0000000-0000-0000-0000-00000000000a', '-infinity', 'infinity');
SELECT j->'total_requests' AS total, j->'unique_keys' AS keys
FROM pk_keys.pk_usage_get_summary('10000000-0000-0000-0000-000000000001', '2021-03-01') AS j;
-- A rollup retention deletes the aggregates of older days (cut-off
-- 2021-03-11): March keeps its days from the 11th and its month row.
SELECT line ~ '^deleted aggregates of days before 2021-03-11$' AS deleted
FROM pk_keys.pk_usage_maintain(0, NULL, now() - timestamptz '2021-03-11 00:00:00+00') AS line
WHERE line LIKE 'deleted aggregates%';
SELECT day, total_requests, unique_keys
FROM pk_keys.pk_usage_get_daily_stats('10000000-0000-0000-0000-000000000001', '2021-03-09', '2021-03-12');
SELECT j->'unique_keys' AS keys FROM pk_keys.pk_usage_get_summary('10000000-0000-0000-0000-000000000001', '2021-03-01') AS j;

--
-- pk_usage_purge_organization erases an organization's rows and aggregates.
--
INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint)
VALUES ('e0000000-0000-0000-0000-00000000000e', '10000000-0000-0000-0000-000000000003', '2021-12-01 00:00:00+00', '/purge');
SELECT pk_keys.pk_usage_purge_organization('10000000-0000-0000-0000-000000000003') AS raw_rows_deleted;
SELECT (SELECT count(*) FROM pk_keys.api_key_usage WHERE organization_id = '10000000-0000-0000-0000-000000000003') AS raw,
       (SELECT count(*) FROM pk_keys.usage_rollup WHERE organization_id = '10000000-0000-0000-0000-000000000003') AS rollup,
       (SELECT count(*) FROM pk_keys.usage_day_keys WHERE organization_id = '10000000-0000-0000-0000-000000000003') AS day_keys,
       (SELECT count(*) FROM pk_keys.usage_month_unique WHERE organization_id = '10000000-0000-0000-0000-000000000003') AS month_unique;
SELECT pk_keys.pk_usage_purge_organization(NULL);
RESET TimeZone;
RESET DateStyle;
