-- pk_usage_record for a random key (the extension: queued when preloaded)
\set i random(1, :nkeys)
\set ms random(5, 400)
SELECT pk_keys.pk_usage_record(md5('key' || :i)::uuid, '/v1/orders', 'POST', 201, :ms);
