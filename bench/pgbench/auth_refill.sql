-- pk_authenticate on a key with credits and a monthly refill (none due during
-- the run): each call durably spends 1 in the same conditional UPDATE that
-- would apply a refill; compared with auth_credits (no refill setting)
SELECT * FROM pk_keys.pk_authenticate('pk_live_' || lpad(:refill::text, 42, '0') || 'A', '{}', 1);
