-- Usage history of organization 1: rows g = :first .. :last spread over the
-- :days UTC days that start at :'t0', ~20 endpoints with a skewed mix, the
-- organization's 1000 keys, realistic methods, statuses and response times.
-- Deterministic (hashes of g, no random()), so every database gets the same rows.
-- One INSERT ... SELECT: the extension maintains its aggregates on this path.
\set ON_ERROR_STOP 1

INSERT INTO pk_keys.api_key_usage (api_key_id, organization_id, occurred_at, endpoint, method,
                                   status_code, response_time_ms, ip_address, user_agent)
SELECT md5('key' || (1 + h.a % 1000))::uuid,
       md5('org1')::uuid,
       :'t0'::timestamptz + (h.b % (:days * 86400)) * interval '1 second',
       (ARRAY['/v1/users', '/v1/orders', '/v1/products', '/v1/users/{id}', '/v1/orders/{id}',
              '/v1/search', '/v1/payments', '/v1/products/{id}', '/v1/customers', '/v1/invoices',
              '/v1/auth/token', '/v1/events', '/v1/webhooks', '/v1/reports', '/v1/files',
              '/v1/files/{id}', '/v1/teams', '/v1/settings', '/v1/metrics', '/v1/health']
       )[20 - floor(sqrt(h.c % 400))::int],
       CASE WHEN h.d % 100 < 65 THEN 'GET' WHEN h.d % 100 < 90 THEN 'POST'
            WHEN h.d % 100 < 95 THEN 'PUT' ELSE 'DELETE' END,
       CASE WHEN h.e % 100 < 80 THEN 200 WHEN h.e % 100 < 88 THEN 201 WHEN h.e % 100 < 93 THEN 400
            WHEN h.e % 100 < 96 THEN 404 WHEN h.e % 100 < 98 THEN 429 ELSE 500 END,
       CASE WHEN h.e % 97 = 0 THEN NULL ELSE 5 + (h.d / 100) % 400 + (h.c / 400) % 50 END,
       '198.51.100.0'::inet + (h.a / 1000) % 250,
       (ARRAY['python-requests/2.31', 'curl/8.4.0', 'node-fetch/3.3', 'Go-http-client/2.0'])[1 + (h.b / 86400) % 4]
  FROM generate_series(:first::bigint, :last::bigint) AS g,
       LATERAL (SELECT hashint8extended(g, 1) & 1073741823, hashint8extended(g, 2) & 1073741823,
                       hashint8extended(g, 3) & 1073741823, hashint8extended(g, 4) & 1073741823,
                       hashint8extended(g, 5) & 1073741823) AS h(a, b, c, d, e);
