-- Verification analytics (contract 1.1): every pk_authenticate outcome per
-- (organization, key, code, minute) with the credits spent; MALFORMED and
-- NOT_FOUND are not counted per organization. Preloaded the counts are in
-- shared memory until flushed (pk_flush()); both modes give this output.
\set VERBOSITY terse
SELECT o.id AS org FROM pk_keys.pk_org_create('Verification Stats Org', 'verification-stats@example.com', 'pro') o \gset
SELECT o.id AS other_org FROM pk_keys.pk_org_create('Verification Stats Other', 'verification-other@example.com') o \gset
SELECT id AS credited, full_key AS credited_key FROM pk_keys.pk_key_create(:'org', 'credited', scopes => '{read}', remaining => 10) \gset
SELECT id AS unlimited, full_key AS unlimited_key FROM pk_keys.pk_key_create(:'org', 'unlimited') \gset
SELECT id AS revoked, full_key AS revoked_key FROM pk_keys.pk_key_create(:'org', 'revoked') \gset
SELECT id AS other, full_key AS other_key FROM pk_keys.pk_key_create(:'other_org', 'other') \gset
SELECT pk_keys.pk_key_revoke(:'revoked', 'test', NULL);

-- One transaction: one minute for every call.
BEGIN;
SELECT (pk_keys.pk_authenticate(:'credited_key', '{read}', 2)).remaining FROM generate_series(1, 3);
SELECT code FROM pk_keys.pk_authenticate(:'credited_key', '{write}');
SELECT code FROM pk_keys.pk_authenticate(:'credited_key', '{}', 0);
SELECT (pk_keys.pk_authenticate(:'unlimited_key')).code FROM generate_series(1, 4);
SELECT code FROM pk_keys.pk_authenticate(:'revoked_key');
SELECT code FROM pk_keys.pk_authenticate(:'other_key');
SELECT code FROM pk_keys.pk_authenticate('not a key');
SELECT code FROM pk_keys.pk_authenticate('pk_live_' || repeat('A', 43));
CREATE TEMP TABLE t0 AS SELECT now() AS at;
COMMIT;
SELECT count(*) >= 0 AS flushed FROM (SELECT pk_keys.pk_flush()) f;

SELECT bucket = date_trunc('minute', t0.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS this_minute, code,
       verifications, credits_spent
FROM t0, pk_keys.pk_verification_stats(:'org', t0.at - interval '1 hour', t0.at + interval '1 hour', 'minute');
SELECT bucket = date_trunc('hour', t0.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS this_hour, code, verifications
FROM t0, pk_keys.pk_verification_stats(:'org', t0.at - interval '1 hour', t0.at + interval '1 hour');
SELECT bucket = date_trunc('day', t0.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS this_day, code, verifications
FROM t0, pk_keys.pk_verification_stats(:'org', t0.at - interval '1 day', t0.at + interval '1 day', 'day', :'unlimited');
-- [start_at, end_at): a range that ends at the minute sees nothing.
SELECT count(*) AS before_the_minute
FROM t0, pk_keys.pk_verification_stats(:'org', t0.at - interval '1 hour', date_trunc('minute', t0.at), 'minute');
SELECT code, verifications FROM t0, pk_keys.pk_verification_stats(:'other_org', t0.at - interval '1 hour', t0.at + interval '1 hour');
-- Calls without an organization are not counted anywhere.
SELECT count(*) AS unowned FROM pk_keys.verification_counts WHERE code IN ('MALFORMED', 'NOT_FOUND');

-- Errors.
SELECT * FROM pk_keys.pk_verification_stats(NULL, now(), now());
SELECT * FROM pk_keys.pk_verification_stats(:'org', NULL, now());
SELECT * FROM pk_keys.pk_verification_stats(:'org', now(), NULL);
SELECT * FROM pk_keys.pk_verification_stats(:'org', now(), now(), NULL);
SELECT * FROM pk_keys.pk_verification_stats(:'org', now(), now(), 'week');
SELECT * FROM pk_keys.pk_verification_stats(:'org', '-infinity', now());
SELECT * FROM pk_keys.pk_verification_stats(:'org', '2000-01-01', '2010-01-12');
SELECT count(*) AS ten_years_ok FROM pk_keys.pk_verification_stats(:'org', '2000-01-01', timestamptz '2000-01-01' + interval '3660 days');
