-- the reference has no pk_usage_record: its pk_usage_create is the comparison
\set i random(1, :nkeys)
\set ms random(5, 400)
SELECT id FROM pk_keys.pk_usage_create(md5('key' || :i)::uuid, '/v1/orders', 'POST', 201, :ms);
