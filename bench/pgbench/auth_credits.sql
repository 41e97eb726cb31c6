-- pk_authenticate on the key with credits (remaining set): each call durably spends 1
SELECT * FROM pk_keys.pk_authenticate('pk_live_' || lpad(:credits::text, 42, '0') || 'A', '{}', 1);
