-- pk_usage_create for a random key
\set i random(1, :nkeys)
\set ms random(5, 400)
SELECT id FROM pk_keys.pk_usage_create(md5('key' || :i)::uuid, '/v1/orders', 'POST', 201, :ms);
