-- one API request on the reference: its authenticate, then its usage_create
\set i random(1, :nkeys)
\set ms random(5, 400)
SELECT a.code, (pk_keys.pk_usage_create(a.key_id, '/v1/orders', 'POST', 201, :ms)).id
FROM pk_keys.pk_authenticate('pk_live_' || lpad(:i::text, 42, '0') || 'A') a;
