-- pk_authenticate on a random valid key among :nkeys (key i is rebuilt from i, see sql/prepare_keys.sql)
\set i random(1, :nkeys)
SELECT * FROM pk_keys.pk_authenticate('pk_live_' || lpad(:i::text, 42, '0') || 'A');
