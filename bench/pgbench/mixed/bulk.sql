-- mixed writers: INSERT ... SELECT of 1..2000 rows through the trigger, then a few calls in reverse order
\set n random(1, 2000)
\set s random(1, 999)
BEGIN;
INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint, method, status_code, response_time_ms)
SELECT md5('key' || (1000 - (g * :s) % 1000))::uuid, md5('org1')::uuid, now() - (g % 3) * interval '1 day',
       '/v1/e' || (g % 7), 'POST', 201 + (g % 2) * 300, g % 300
FROM generate_series(1, :n) g;
SELECT count(pk_keys.pk_usage_create(md5('key' || (1 + (g * :s) % 1000))::uuid, '/v1/e' || (g % 5), 'GET', 404, g))
FROM generate_series(1, 20) g;
COMMIT;
