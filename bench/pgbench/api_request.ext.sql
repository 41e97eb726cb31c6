-- one API request: authenticate a random key, then record its usage
\set i random(1, :nkeys)
\set ms random(5, 400)
SELECT a.code, pk_keys.pk_usage_record(a.key_id, '/v1/orders', 'POST', 201, :ms)
FROM pk_keys.pk_authenticate('pk_live_' || lpad(:i::text, 42, '0') || 'A') a;
