-- the write floor: one row of the usage columns into a plain table, one commit
\set i random(1, :nkeys)
\set ms random(5, 400)
INSERT INTO usage_plain (api_key_id, organization_id, occurred_at, endpoint, method, status_code, response_time_ms)
VALUES (md5('key' || :i)::uuid, md5('org1')::uuid, now(), '/v1/orders', 'POST', 201, :ms);
