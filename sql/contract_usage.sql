-- The usage repository through the contract surface only (also run against
-- the plain PL/pgSQL reference in bench/): [start, end) ranges, UTC days and
-- months whatever the session's TimeZone, the boundaries of a day, a month
-- and a leap day, every field of the summary and of the daily statistics.
\set VERBOSITY sqlstate
SET DateStyle = 'ISO, YMD';
-- Not UTC on purpose: the UTC day of some rows below is another local day.
SET TimeZone = 'America/Los_Angeles';

CREATE TEMP TABLE org AS
    SELECT id FROM pk_keys.pk_org_create('Usage Contract Org', 'usage-contract@example.com');
CREATE TEMP TABLE other_org AS
    SELECT id FROM pk_keys.pk_org_create('Usage Contract Other', 'usage-contract-other@example.com');
CREATE TEMP TABLE k (name text PRIMARY KEY, id uuid);
INSERT INTO k SELECT 'a', id FROM pk_keys.pk_key_create((SELECT id FROM org));
INSERT INTO k SELECT 'b', id FROM pk_keys.pk_key_create((SELECT id FROM org), environment => 'test');
INSERT INTO k SELECT 'c', id FROM pk_keys.pk_key_create((SELECT id FROM org));
INSERT INTO k SELECT 'x', id FROM pk_keys.pk_key_create((SELECT id FROM other_org));

--
-- pk_usage_create: the row, under the key's organization.
--
SELECT id IS NOT NULL AS has_id, api_key_id = (SELECT id FROM k WHERE name = 'a') AS right_key,
       organization_id = (SELECT id FROM org) AS right_org, endpoint, method, status_code,
       response_time_ms, ip_address, user_agent, occurred_at = now() AS occurred_now
FROM pk_keys.pk_usage_create((SELECT id FROM k WHERE name = 'a'), '/v1/defaults');
SELECT endpoint, method, status_code, response_time_ms, ip_address, user_agent,
       occurred_at AT TIME ZONE 'UTC' AS occurred_utc
FROM pk_keys.pk_usage_create(
    key_id => (SELECT id FROM k WHERE name = 'b'), endpoint => '/v1/everything', method => 'PATCH',
    status_code => 204, response_time_ms => 12, ip_address => '203.0.113.7',
    user_agent => 'curl/8.4.0', occurred_at => '2023-06-15 10:00:00+00');
-- The stored row is the returned row.
SELECT count(*) AS stored FROM pk_keys.api_key_usage
WHERE api_key_id = (SELECT id FROM k WHERE name = 'b') AND endpoint = '/v1/everything'
  AND method = 'PATCH' AND status_code = 204 AND response_time_ms = 12
  AND ip_address = '203.0.113.7' AND user_agent = 'curl/8.4.0' AND occurred_at = '2023-06-15 10:00:00+00';
-- Errors: NULL for a required argument 22004, unknown key P0002; nothing written.
SELECT * FROM pk_keys.pk_usage_create(NULL, '/v1/x');
SELECT * FROM pk_keys.pk_usage_create((SELECT id FROM k WHERE name = 'a'), NULL);
SELECT * FROM pk_keys.pk_usage_create((SELECT id FROM k WHERE name = 'a'), '/v1/x', NULL);
SELECT * FROM pk_keys.pk_usage_create((SELECT id FROM k WHERE name = 'a'), '/v1/x', 'GET', NULL);
SELECT * FROM pk_keys.pk_usage_create((SELECT id FROM k WHERE name = 'a'), '/v1/x', occurred_at => NULL);
SELECT * FROM pk_keys.pk_usage_create('00000000-0000-0000-0000-000000000000', '/v1/x');
SELECT count(*) AS rows_written_by_errors FROM pk_keys.api_key_usage WHERE endpoint = '/v1/x';

--
-- The data set (UTC): a leap day, both sides of midnight, the first and the
-- last instant of March, two rows at the same instant, another organization.
--
SELECT count(*) AS rows_logged FROM (
    SELECT pk_keys.pk_usage_create((SELECT id FROM k WHERE name = r.key), r.endpoint, r.method,
                                   r.status, r.rt, NULL, NULL, r.at)
    FROM (VALUES
        (1, 'a', '/v1/users',  'GET',    200, 10,   timestamptz '2024-02-29 23:59:59.999999+00'),
        (2, 'b', '/v1/orders', 'POST',   201, NULL, timestamptz '2024-02-29 12:00:00+00'),
        (3, 'a', '/v1/users',  'GET',    399, 20,   timestamptz '2024-03-01 00:00:00+00'),
        (4, 'b', '/v1/orders', 'POST',   400, 30,   timestamptz '2024-03-01 00:00:00+00'),
        (5, 'c', '/v1/items',  'DELETE', 500, NULL, timestamptz '2024-03-15 08:30:00+00'),
        (6, 'a', '/v1/users',  'GET',    404, 41,   timestamptz '2024-03-31 23:59:59.999999+00'),
        (7, 'a', '/v1/users',  'GET',    200, 5,    timestamptz '2024-04-01 00:00:00+00'),
        (8, 'x', '/v1/users',  'GET',    200, 1,    timestamptz '2024-03-10 00:00:00+00'),
        (9, 'c', '/v1/items',  'GET',    200, 7,    timestamptz '2024-01-31 23:59:59.999999+00'))
        AS r(n, key, endpoint, method, status, rt, at)
    ORDER BY r.n) x;

--
-- pk_usage_get_by_key / pk_usage_get_by_organization: [start, end), oldest
-- first (rows of one instant in insertion order).
--
SELECT endpoint, status_code, occurred_at AT TIME ZONE 'UTC' AS occurred_utc
FROM pk_keys.pk_usage_get_by_key((SELECT id FROM k WHERE name = 'a'),
                                 '2024-03-01 00:00:00+00', '2024-04-01 00:00:00+00');
SELECT (SELECT k.name FROM k WHERE k.id = u.api_key_id) AS key, u.status_code,
       u.occurred_at AT TIME ZONE 'UTC' AS occurred_utc
FROM pk_keys.pk_usage_get_by_organization((SELECT id FROM org),
                                          '2024-03-01 00:00:00+00', '2024-04-01 00:00:00+00') u;
-- The same window written in the session's time zone.
SELECT count(*) AS rows FROM pk_keys.pk_usage_get_by_organization((SELECT id FROM org),
                                          '2024-02-29 16:00:00', '2024-03-31 17:00:00');
-- One microsecond either side.
SELECT count(*) AS rows FROM pk_keys.pk_usage_get_by_key((SELECT id FROM k WHERE name = 'a'),
       '2024-03-01 00:00:00.000001+00', '2024-03-31 23:59:59.999999+00');
SELECT count(*) AS rows FROM pk_keys.pk_usage_get_by_key((SELECT id FROM k WHERE name = 'a'),
       '2024-02-29 23:59:59.999999+00', '2024-04-01 00:00:00.000001+00');
-- Empty and reversed ranges are empty, not errors.
SELECT count(*) AS rows FROM pk_keys.pk_usage_get_by_key((SELECT id FROM k WHERE name = 'a'),
       '2024-03-01 00:00:00+00', '2024-03-01 00:00:00+00');
SELECT count(*) AS rows FROM pk_keys.pk_usage_get_by_key((SELECT id FROM k WHERE name = 'a'),
       '2024-04-01 00:00:00+00', '2024-03-01 00:00:00+00');
-- Unknown ids: no rows; another organization's rows never show.
SELECT count(*) AS rows FROM pk_keys.pk_usage_get_by_key('00000000-0000-0000-0000-000000000000', '-infinity', 'infinity');
SELECT count(*) AS rows FROM pk_keys.pk_usage_get_by_organization('00000000-0000-0000-0000-000000000000', '-infinity', 'infinity');
SELECT count(*) AS rows, bool_and(organization_id = (SELECT id FROM org)) AS all_of_org
FROM pk_keys.pk_usage_get_by_organization((SELECT id FROM org), '-infinity', 'infinity');
SELECT count(*) AS rows FROM pk_keys.pk_usage_get_by_organization((SELECT id FROM other_org), '-infinity', 'infinity');
-- Oldest first over everything.
WITH l AS (SELECT row_number() OVER () AS n, occurred_at, id
           FROM pk_keys.pk_usage_get_by_organization((SELECT id FROM org), '-infinity', 'infinity'))
SELECT bool_and((a.occurred_at, a.id) < (b.occurred_at, b.id)) AS oldest_first
FROM l a JOIN l b ON b.n = a.n + 1;
SELECT * FROM pk_keys.pk_usage_get_by_key(NULL, '2024-01-01', '2024-02-01');
SELECT * FROM pk_keys.pk_usage_get_by_key((SELECT id FROM k WHERE name = 'a'), NULL, '2024-02-01');
SELECT * FROM pk_keys.pk_usage_get_by_key((SELECT id FROM k WHERE name = 'a'), '2024-01-01', NULL);
SELECT * FROM pk_keys.pk_usage_get_by_organization(NULL, '2024-01-01', '2024-02-01');
SELECT * FROM pk_keys.pk_usage_get_by_organization((SELECT id FROM org), NULL, '2024-02-01');
SELECT * FROM pk_keys.pk_usage_get_by_organization((SELECT id FROM org), '2024-01-01', NULL);

--
-- pk_usage_get_summary: the UTC month containing the date.
--
CREATE TEMP TABLE s AS
SELECT m AS asked, pk_keys.pk_usage_get_summary((SELECT id FROM org), m) AS j
FROM unnest(ARRAY[date '2024-03-01', '2024-03-17', '2024-03-31', '2024-02-29', '2024-02-01',
                  '2024-04-30', '2024-01-31', '2024-05-01', '2023-06-30']) AS m;
SELECT asked, j->'total_requests' AS total, j->'successful_requests' AS ok,
       j->'failed_requests' AS failed, round((j->>'avg_response_time_ms')::numeric, 4) AS avg_ms,
       j->'unique_keys' AS keys, j->'top_endpoints' AS top
FROM s ORDER BY asked;
-- The contract's fields have the contract's JSON types.
SELECT asked, jsonb_typeof(j->'total_requests') AS total, jsonb_typeof(j->'successful_requests') AS ok,
       jsonb_typeof(j->'failed_requests') AS failed, jsonb_typeof(j->'avg_response_time_ms') AS avg_ms,
       jsonb_typeof(j->'unique_keys') AS keys, jsonb_typeof(j->'top_endpoints') AS top
FROM s WHERE asked IN ('2024-03-01', '2024-05-01') ORDER BY asked;
-- Same answer under any session time zone.
SET TimeZone = 'Asia/Tokyo';
SELECT count(*) AS same_in_tokyo FROM s WHERE pk_keys.pk_usage_get_summary((SELECT id FROM org), asked) = j;
SET TimeZone = 'Pacific/Kiritimati';
SELECT count(*) AS same_at_utc_plus_14 FROM s WHERE pk_keys.pk_usage_get_summary((SELECT id FROM org), asked) = j;
SET TimeZone = 'America/Los_Angeles';
-- Unknown organization: an empty month, not an error.
SELECT j->'total_requests' AS total, j->'successful_requests' AS ok, j->'failed_requests' AS failed,
       j->'avg_response_time_ms' AS avg_ms, j->'unique_keys' AS keys, j->'top_endpoints' AS top
FROM pk_keys.pk_usage_get_summary('00000000-0000-0000-0000-000000000000', '2024-03-01') AS j;
SELECT pk_keys.pk_usage_get_summary(NULL, '2024-03-01');
SELECT pk_keys.pk_usage_get_summary((SELECT id FROM org), NULL);

-- top_endpoints: at most 10, by requests descending, ties by endpoint.
CREATE TEMP TABLE top_org AS
    SELECT id FROM pk_keys.pk_org_create('Usage Contract Top', 'usage-contract-top@example.com');
CREATE TEMP TABLE top_key AS SELECT id FROM pk_keys.pk_key_create((SELECT id FROM top_org));
SELECT count(*) AS rows_logged FROM (
    SELECT pk_keys.pk_usage_create((SELECT id FROM top_key), '/t' || lpad(e::text, 2, '0'),
                                   occurred_at => '2024-07-04 12:00:00+00')
    FROM generate_series(1, 12) AS e, generate_series(1, 12) AS n
    WHERE n <= (e * 7) % 5 + 1) x;
SELECT jsonb_array_length(j->'top_endpoints') AS listed, j->'total_requests' AS total,
       j->'top_endpoints' AS top
FROM pk_keys.pk_usage_get_summary((SELECT id FROM top_org), '2024-07-01') AS j;
SELECT e->>'endpoint' AS endpoint, (e->>'requests')::int AS requests
FROM pk_keys.pk_usage_get_summary((SELECT id FROM top_org), '2024-07-01') AS j,
     jsonb_array_elements(j->'top_endpoints') AS e;

--
-- pk_usage_get_daily_stats: every UTC day of [start_date, end_date], empty
-- days as zeros, ordered by day.
--
SELECT * FROM pk_keys.pk_usage_get_daily_stats((SELECT id FROM org), '2024-02-27', '2024-03-02');
SELECT * FROM pk_keys.pk_usage_get_daily_stats((SELECT id FROM org), '2024-03-14', '2024-03-16');
SELECT * FROM pk_keys.pk_usage_get_daily_stats((SELECT id FROM org), '2024-03-31', '2024-04-01');
SELECT * FROM pk_keys.pk_usage_get_daily_stats((SELECT id FROM org), '2024-01-31', '2024-01-31');
-- The same under another session time zone.
SET TimeZone = 'Asia/Tokyo';
SELECT day, total_requests, unique_keys
FROM pk_keys.pk_usage_get_daily_stats((SELECT id FROM org), '2024-02-29', '2024-03-01');
SET TimeZone = 'America/Los_Angeles';
-- A whole year: 366 days in 2024, their sum is the year's usage.
SELECT count(*) AS days, sum(total_requests) AS requests, sum(failed_requests) AS failed,
       min(day) AS first_day, max(day) AS last_day,
       bool_and(total_requests = successful_requests + failed_requests) AS ok_plus_failed
FROM pk_keys.pk_usage_get_daily_stats((SELECT id FROM org), '2024-01-01', '2024-12-31');
WITH d AS (SELECT row_number() OVER () AS n, day
           FROM pk_keys.pk_usage_get_daily_stats((SELECT id FROM org), '2024-01-01', '2024-12-31'))
SELECT bool_and(b.day = a.day + 1) AS consecutive FROM d a JOIN d b ON b.n = a.n + 1;
-- Unknown organization: zeros.
SELECT * FROM pk_keys.pk_usage_get_daily_stats('00000000-0000-0000-0000-000000000000', '2024-03-01', '2024-03-02');
-- end_date before start_date: 22023; NULLs: 22004.
SELECT * FROM pk_keys.pk_usage_get_daily_stats((SELECT id FROM org), '2024-03-02', '2024-03-01');
SELECT * FROM pk_keys.pk_usage_get_daily_stats(NULL, '2024-03-01', '2024-03-02');
SELECT * FROM pk_keys.pk_usage_get_daily_stats((SELECT id FROM org), NULL, '2024-03-02');
SELECT * FROM pk_keys.pk_usage_get_daily_stats((SELECT id FROM org), '2024-03-01', NULL);

--
-- Deleting a key keeps its usage rows, under its organization, in every
-- read.
--
CREATE TEMP TABLE doomed AS
    SELECT id FROM pk_keys.pk_key_create((SELECT id FROM org), expires_at => now() - interval '1 day');
SELECT count(*) AS rows_logged FROM (
    SELECT pk_keys.pk_usage_create((SELECT id FROM doomed), '/v1/gone', 'GET', 200, 8, NULL, NULL,
                                   '2024-09-09 09:09:09+00')
    FROM generate_series(1, 3)) x;
SELECT pk_keys.pk_key_delete_expired() >= 1 AS deleted;
SELECT count(*) AS key_rows FROM pk_keys.api_keys WHERE id = (SELECT id FROM doomed);
SELECT count(*) AS by_key FROM pk_keys.pk_usage_get_by_key((SELECT id FROM doomed), '-infinity', 'infinity');
SELECT count(*) AS by_org FROM pk_keys.pk_usage_get_by_organization((SELECT id FROM org),
                                                                    '2024-09-01', '2024-10-01');
SELECT j->'total_requests' AS total, j->'unique_keys' AS keys, j->'top_endpoints' AS top
FROM pk_keys.pk_usage_get_summary((SELECT id FROM org), '2024-09-09') AS j;
SELECT day, total_requests, unique_keys
FROM pk_keys.pk_usage_get_daily_stats((SELECT id FROM org), '2024-09-09', '2024-09-09');
-- Logging for the deleted key is an unknown key now.
SELECT * FROM pk_keys.pk_usage_create((SELECT id FROM doomed), '/v1/gone');
RESET TimeZone;
RESET DateStyle;
