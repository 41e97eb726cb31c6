-- Bounds on usage input (contract 1.1): 22023 naming the argument, never a
-- crash, an unbounded allocation or a stored row that breaks maintenance.
\set VERBOSITY terse
SELECT o.id AS org FROM pk_keys.pk_org_create('Bounds Org', 'bounds@example.com') o \gset
SELECT k.id AS key FROM pk_keys.pk_key_create(:'org', 'bounds key') k \gset

-- pk_usage_create: lengths in bytes, occurred_at finite in [2000-01-01, now() + 1 day].
SELECT (pk_keys.pk_usage_create(:'key', repeat('é', 1024), repeat('M', 16), 200, NULL, NULL, repeat('u', 1024),
                                '2000-01-01 00:00:00+00')).status_code AS at_the_limits;
SELECT pk_keys.pk_usage_create(:'key', repeat('é', 1025));
SELECT pk_keys.pk_usage_create(:'key', '/x', repeat('M', 17));
SELECT pk_keys.pk_usage_create(:'key', '/x', user_agent => repeat('u', 1025));
SELECT pk_keys.pk_usage_create(:'key', '/x', user_agent => repeat('u', 100000000));
SELECT pk_keys.pk_usage_create(:'key', '/x', occurred_at => '1999-12-31 23:59:59.999999+00');
SELECT pk_keys.pk_usage_create(:'key', '/x', occurred_at => '0044-03-15 12:00:00+00 BC');
SELECT pk_keys.pk_usage_create(:'key', '/x', occurred_at => '294276-12-31 23:59:59+00');
SELECT pk_keys.pk_usage_create(:'key', '/x', occurred_at => '-infinity');
SELECT (pk_keys.pk_usage_create(:'key', '/x', occurred_at => now() + interval '1 day')).endpoint AS skew_ok;

-- A COPY or INSERT ... SELECT holding one such row fails as a whole.
CREATE TEMP TABLE before AS SELECT count(*) AS n FROM pk_keys.api_key_usage;
INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint)
SELECT :'key', :'org', CASE WHEN g = 3 THEN timestamptz '1990-01-01 00:00:00+00' ELSE now() END, '/bulk'
FROM generate_series(1, 5) g;
INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint)
SELECT :'key', :'org', now(), CASE WHEN g = 5 THEN repeat('x', 2049) ELSE '/bulk' END FROM generate_series(1, 5) g;
INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint, method)
VALUES (:'key', :'org', now(), '/bulk', repeat('M', 17));
INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint, user_agent)
VALUES (:'key', :'org', now(), '/bulk', repeat('u', 1025));
INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint)
VALUES (:'key', :'org', 'infinity', '/bulk');
COPY pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint) FROM stdin;
00000000-0000-0000-0000-000000000001	00000000-0000-0000-0000-000000000002	2024-01-01 00:00:00+00	/ok
00000000-0000-0000-0000-000000000001	00000000-0000-0000-0000-000000000002	294276-01-01 00:00:00+00	/far
\.
SELECT (SELECT count(*) FROM pk_keys.api_key_usage) - n AS rows_added, 
       (SELECT sum(requests) FROM pk_keys.usage_rollup WHERE organization_id = :'org') AS counted
FROM before;

-- Readers: ranges of at most 3660 days, out-of-range dates 22023 (not 22008).
SELECT count(*) AS days FROM pk_keys.pk_usage_get_daily_stats(:'org', '2000-01-01', date '2000-01-01' + 3659);
SELECT count(*) FROM pk_keys.pk_usage_get_daily_stats(:'org', '2000-01-01', date '2000-01-01' + 3660);
SELECT count(*) FROM pk_keys.pk_usage_get_daily_stats(:'org', '2000-01-01', '5874897-12-31');
SELECT count(*) FROM pk_keys.pk_usage_get_daily_stats(:'org', '5874897-12-01', '5874897-12-31');
SELECT count(*) FROM pk_keys.pk_usage_get_daily_stats(:'org', '4713-01-01 BC', '4713-01-02 BC');
SELECT pk_keys.pk_usage_get_summary(:'org', '5874897-12-31');
SELECT pk_keys.pk_usage_get_summary(:'org', '4713-01-01 BC');
SELECT (pk_keys.pk_usage_get_summary(:'org', '294276-11-30'))->'total_requests' AS last_month_ok;
SELECT pk_keys.pk_usage_create_partition('1999-12-31');
SELECT pk_keys.pk_usage_compact_rollups('5874897-12-31');
SELECT pk_keys.pk_usage_maintain(1, '1000 years');

-- Rows stored around the checks (written straight into a partition, as a
-- 1.0 database may hold them) never break maintenance: their months get
-- no partition, they stay in DEFAULT, retention still deletes them.
INSERT INTO pk_keys.api_key_usage_default (api_key_id, organization_id, occurred_at, endpoint)
VALUES (:'key', :'org', '294276-12-31 23:59:59+00', '/far'),
       (:'key', :'org', '0044-03-15 12:00:00+00 BC', '/bc'),
       (:'key', :'org', '1970-01-01 00:00:00+00', '/old');
SELECT 'no error' AS maintained FROM (SELECT count(*) FROM pk_keys.pk_usage_maintain(1)) m;
SELECT endpoint, tableoid::regclass AS partition FROM pk_keys.api_key_usage
WHERE endpoint IN ('/far', '/bc', '/old') ORDER BY endpoint;
SELECT line ~ '^deleted 2 rows older than .* from api_key_usage_default$' AS bc_and_1970_deleted
FROM pk_keys.pk_usage_maintain(1, '30 years') line WHERE line LIKE 'deleted %';
SELECT endpoint FROM pk_keys.api_key_usage WHERE endpoint IN ('/far', '/bc', '/old') ORDER BY endpoint;
DELETE FROM pk_keys.api_key_usage_default WHERE endpoint = '/far';
