-- pk_rate_limit_check on a random key's one-minute window, with a limit never reached
\set i random(1, :nkeys)
SELECT * FROM pk_keys.pk_rate_limit_check(md5('key' || :i)::uuid, 1000000000);
