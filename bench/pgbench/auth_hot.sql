-- pk_authenticate with every client on the same key (:hot)
SELECT * FROM pk_keys.pk_authenticate('pk_live_' || lpad(:hot::text, 42, '0') || 'A');
