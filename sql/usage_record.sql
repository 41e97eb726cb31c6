-- pk_usage_record (contract 1.1): the same row as pk_usage_create, queued in
-- shared memory when preloaded (written by the flusher, or now by
-- pk_flush()), written at once otherwise. Both modes give this output.
\set VERBOSITY terse
SELECT o.id AS org FROM pk_keys.pk_org_create('Record Org', 'record@example.com') o \gset
SELECT k.id AS key FROM pk_keys.pk_key_create(:'org', 'record key') k \gset
SELECT k.id AS key2 FROM pk_keys.pk_key_create(:'org', 'record key 2') k \gset

-- Argument errors and an unknown key come at the call, in both modes.
SELECT pk_keys.pk_usage_record(NULL, '/x');
SELECT pk_keys.pk_usage_record(:'key', NULL);
SELECT pk_keys.pk_usage_record(:'key', '/x', NULL);
SELECT pk_keys.pk_usage_record(:'key', '/x', 'GET', NULL);
SELECT pk_keys.pk_usage_record(:'key', '/x', 'GET', 99);
SELECT pk_keys.pk_usage_record(:'key', '/x', 'GET', 200, -1);
SELECT pk_keys.pk_usage_record(:'key', '/x', occurred_at => NULL);
SELECT pk_keys.pk_usage_record(:'key', '/x', occurred_at => 'infinity');
SELECT pk_keys.pk_usage_record(:'key', '/x', occurred_at => '1999-12-31 23:59:59+00');
SELECT pk_keys.pk_usage_record(:'key', '/x', occurred_at => now() + interval '1 day 1 second');
SELECT pk_keys.pk_usage_record(:'key', repeat('e', 2049));
SELECT pk_keys.pk_usage_record(:'key', '/x', repeat('M', 17));
SELECT pk_keys.pk_usage_record(:'key', '/x', user_agent => repeat('u', 1025));
SELECT pk_keys.pk_usage_record('00000000-0000-0000-0000-000000000000', '/x');
SELECT count(*) AS nothing_queued_or_written FROM (SELECT pk_keys.pk_flush()) f, pk_keys.api_key_usage
WHERE organization_id = :'org';

-- Recorded rows: every column kept, aggregates included.
SELECT pk_keys.pk_usage_record(:'key', '/v1/a', 'POST', 201, 12, '203.0.113.7', 'curl/8', '2024-07-01 10:00:00+00');
SELECT pk_keys.pk_usage_record(:'key', '/v1/a', 'GET', 503, NULL, NULL, NULL, '2024-07-01 11:00:00+00');
SELECT pk_keys.pk_usage_record(:'key2', '/v1/b', 'GET', 200, 30, '2001:db8::1', NULL, '2024-07-02 00:00:00+00');
SELECT pk_keys.pk_usage_record(:'key', repeat('e', 2048), repeat('M', 16), 200, 0, NULL, repeat('u', 1024),
                               '2024-07-02 00:00:01+00');
SELECT count(*) >= 0 AS flushed FROM (SELECT pk_keys.pk_flush()) f;
SELECT api_key_id = :'key' AS first_key, organization_id = :'org' AS org, occurred_at, left(endpoint, 8) AS endpoint,
       length(endpoint) AS endpoint_len, method, status_code, response_time_ms, ip_address, left(user_agent, 8) AS ua,
       length(user_agent) AS ua_len
FROM pk_keys.api_key_usage WHERE organization_id = :'org' ORDER BY occurred_at;
SELECT day, total_requests, successful_requests, failed_requests, avg_response_time_ms, unique_keys
FROM pk_keys.pk_usage_get_daily_stats(:'org', '2024-07-01', '2024-07-03');
SELECT s->'total_requests' AS total, s->'unique_keys' AS keys FROM pk_keys.pk_usage_get_summary(:'org', '2024-07-01') s;
-- Nothing more to write: a second flush writes no row twice.
SELECT count(*) >= 0 AS flushed_again FROM (SELECT pk_keys.pk_flush()) f;
SELECT count(*) AS rows FROM pk_keys.api_key_usage WHERE organization_id = :'org';

-- In shared memory when preloaded (without preload there is no queue).
SELECT pk_keys.pk_shared_memory_enabled() = (current_setting('shared_preload_libraries') LIKE '%pk_keys%')
       AS mode_as_configured;
