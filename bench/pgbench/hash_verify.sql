-- pk_hash_key + pk_verify_key on a random valid key
\set i random(1, :nkeys)
SELECT pk_keys.pk_verify_key(k, pk_keys.pk_hash_key(k))
  FROM (SELECT 'pk_live_' || lpad(:i::text, 42, '0') || 'A' AS k) AS s;
