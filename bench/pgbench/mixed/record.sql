-- mixed writers: 1..200 pk_usage_record calls in one transaction
\set n random(1, 200)
\set s random(1, 999)
BEGIN;
SELECT count(pk_keys.pk_usage_record(md5('key' || (1 + (g * :s) % 1000))::uuid, '/v1/e' || (g % 7), 'GET', 200, g % 300))
FROM generate_series(1, :n) g;
COMMIT;
