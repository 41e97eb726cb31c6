-- Refills (1.1): known-answer instants of the arithmetic shared by the SQL
-- getters and the per-request path (pk_refill_remaining / pk_refill_last),
-- then refills seen through pk_key_get_by_id, pk_authenticate and
-- pk_key_add_credits on keys whose anchor is moved into the past.
\set VERBOSITY terse
CREATE FUNCTION pg_temp.err(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g');
END $$;
-- r(remaining, amount, interval, day, mode, last_refill_at, created_at, at)
CREATE FUNCTION pg_temp.r(rem bigint, amount bigint, iv text, d integer, mode text,
                          last_at timestamptz, created timestamptz, at timestamptz)
RETURNS text LANGUAGE sql AS $$
    SELECT pk_keys.pk_refill_remaining(rem, amount, iv, d, mode, last_at, created, at) || ' @ ' ||
           COALESCE(to_char(pk_keys.pk_refill_last(rem, amount, iv, d, mode, last_at, created, at)
                            AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), 'none')
$$;
SET TimeZone = 'America/New_York';  -- instants are UTC whatever the session says

-- The refill instant itself: one microsecond before midnight UTC nothing, at
-- midnight the refill.
SELECT pg_temp.r(3, 100, 'day', NULL, 'replace', NULL, '2026-05-01 12:00+00', '2026-05-01 23:59:59.999999+00') AS before_instant,
       pg_temp.r(3, 100, 'day', NULL, 'replace', NULL, '2026-05-01 12:00+00', '2026-05-02 00:00+00') AS at_instant;
-- An instant already applied (last_refill_at) is not applied again; the
-- creation instant itself counts when no refill was applied yet.
SELECT pg_temp.r(7, 10, 'day', NULL, 'add', '2026-05-02 00:00+00', '2026-05-01 12:00+00', '2026-05-02 18:00+00') AS applied_once,
       pg_temp.r(7, 10, 'day', NULL, 'add', NULL, '2026-05-02 00:00+00', '2026-05-02 00:00+00') AS creation_instant;
-- replace: once however many instants were missed; add: once per instant.
SELECT pg_temp.r(0, 50, 'day', NULL, 'replace', NULL, '2026-01-01 08:00+00', '2026-03-15 09:00+00') AS replace_missed,
       pg_temp.r(5, 10, 'day', NULL, 'add', NULL, '2026-01-01 08:00+00', '2026-01-11 00:00+00') AS add_ten_days,
       pg_temp.r(500, 50, 'day', NULL, 'replace', NULL, '2026-01-01 08:00+00', '2026-01-02 00:00+00') AS replace_lowers;
-- The 31st in a 30-day month is its last day: April 30, then May 31.
SELECT pg_temp.r(1, 100, 'month', 31, 'add', NULL, '2026-04-01 00:00+00', '2026-04-29 23:59:59+00') AS apr_29,
       pg_temp.r(1, 100, 'month', 31, 'add', NULL, '2026-04-01 00:00+00', '2026-04-30 00:00+00') AS apr_30,
       pg_temp.r(1, 100, 'month', 31, 'add', '2026-04-30 00:00+00', '2026-04-01 00:00+00', '2026-05-30 23:00+00') AS may_30,
       pg_temp.r(1, 100, 'month', 31, 'add', '2026-04-30 00:00+00', '2026-04-01 00:00+00', '2026-05-31 00:00+00') AS may_31;
-- Leap day: the 29th (or later) is Feb 29 in a leap year, Feb 28 otherwise.
SELECT pg_temp.r(0, 100, 'month', 29, 'replace', NULL, '2024-02-01 00:00+00', '2024-02-28 23:00+00') AS feb_28_2024,
       pg_temp.r(0, 100, 'month', 29, 'replace', NULL, '2024-02-01 00:00+00', '2024-02-29 00:00+00') AS feb_29_2024,
       pg_temp.r(0, 100, 'month', 30, 'replace', NULL, '2025-02-01 00:00+00', '2025-02-28 00:00+00') AS feb_28_2025,
       pg_temp.r(0, 1, 'day', NULL, 'add', '2024-02-28 00:00+00', '2024-01-01 00:00+00', '2024-03-01 00:00+00') AS days_leap;
-- A month refill on the 1st defaults the day; many missed months add up.
SELECT pg_temp.r(0, 1000, 'month', NULL, 'add', NULL, '2025-01-15 00:00+00', '2026-01-15 00:00+00') AS twelve_months;
-- No refill settings or no balance: unchanged; add saturates at bigint max.
SELECT pk_keys.pk_refill_remaining(9, NULL, NULL, NULL, 'replace', NULL, now(), now() + interval '9 days') AS no_refill,
       pk_keys.pk_refill_remaining(NULL, 5, 'day', NULL, 'replace', NULL, now(), now() + interval '9 days') IS NULL AS unlimited,
       pk_keys.pk_refill_remaining(9223372036854775000, 9223372036854775000, 'day', NULL, 'add', NULL,
                                   '2026-01-01 00:00+00', '2026-01-05 00:00+00') AS saturated;
SELECT pg_temp.err($$SELECT pk_keys.pk_refill_remaining(1, 5, 'week', NULL, 'replace', NULL, now(), now())$$);
RESET TimeZone;

--
-- Keys with refills: created, reported, spent.
--
CREATE TEMP TABLE o AS SELECT id FROM pk_keys.pk_org_create('Refill Org', 'refill@example.com', 'pro');
CREATE TEMP TABLE k AS SELECT c.id, c.full_key, 'daily'::text AS label
    FROM pk_keys.pk_key_create((SELECT id FROM o), 'daily', remaining => 5,
                               refill_amount => 100, refill_interval => 'day') c;
INSERT INTO k SELECT c.id, c.full_key, 'unlimited' FROM pk_keys.pk_key_create((SELECT id FROM o), 'unlimited',
    refill_amount => 40, refill_interval => 'month', refill_mode => 'add') c;
INSERT INTO k SELECT c.id, c.full_key, 'plain' FROM pk_keys.pk_key_create((SELECT id FROM o), 'plain', remaining => 3) c;
-- Stored settings: a refill on a key without a balance starts it at the
-- amount; a monthly refill without a day is on the 1st.
SELECT k.label, a.remaining, a.refill_amount, a.refill_interval, a.refill_day, a.refill_mode,
       a.last_refill_at IS NULL AS never_refilled
FROM k JOIN pk_keys.api_keys a USING (id) ORDER BY k.label;
-- Nothing due yet: reported as stored, spent as usual.
SELECT code, remaining FROM k, pk_keys.pk_authenticate(k.full_key) WHERE label = 'daily';
-- Move the creation two days back: one replace refill is due (reported by
-- the getters without a write), applied once by the next spend.
UPDATE pk_keys.api_keys SET created_at = now() - interval '2 days'
WHERE id IN (SELECT id FROM k WHERE label IN ('daily', 'plain'));
SELECT k.label, g.remaining,
       g.last_refill_at = date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS last_is_today
FROM k, pk_keys.pk_key_get_by_id(k.id) g WHERE k.label IN ('daily', 'plain') ORDER BY k.label;
SELECT remaining AS stored_still FROM pk_keys.api_keys WHERE id = (SELECT id FROM k WHERE label = 'daily');
SELECT count(*) AS by_org, count(*) FILTER (WHERE remaining = 100 AND name = 'daily') AS refilled
FROM pk_keys.pk_key_get_by_organization((SELECT id FROM o));
SELECT remaining = 100 AS by_hash
FROM pk_keys.pk_key_get_by_hash((SELECT pk_keys.pk_hash_key(full_key) FROM k WHERE label = 'daily'));
SELECT code, remaining FROM k, pk_keys.pk_authenticate(k.full_key) WHERE label = 'daily';
SELECT code, remaining FROM k, pk_keys.pk_authenticate(k.full_key, '{}', 0) WHERE label = 'daily';
SELECT remaining AS stored_after_spend,
       last_refill_at = date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS last_is_today
FROM pk_keys.api_keys WHERE id = (SELECT id FROM k WHERE label = 'daily');
-- A spend of all credits, then USAGE_EXCEEDED until the next instant, which
-- makes the key usable again (cost 0 admitted on a refilled balance).
SELECT code, remaining FROM k, pk_keys.pk_authenticate(k.full_key, '{}', 99) WHERE label = 'daily';
SELECT code, remaining FROM k, pk_keys.pk_authenticate(k.full_key) WHERE label = 'daily';
UPDATE pk_keys.api_keys SET last_refill_at = last_refill_at - interval '1 day'
WHERE id = (SELECT id FROM k WHERE label = 'daily');
SELECT code, remaining FROM k, pk_keys.pk_authenticate(k.full_key, '{}', 0) WHERE label = 'daily';
SELECT code, remaining FROM k, pk_keys.pk_authenticate(k.full_key, '{}', 100) WHERE label = 'daily';
-- pk_key_add_credits reports and stores the refilled balance plus delta.
UPDATE pk_keys.api_keys SET last_refill_at = last_refill_at - interval '1 day'
WHERE id = (SELECT id FROM k WHERE label = 'daily');
SELECT pk_keys.pk_key_add_credits((SELECT id FROM k WHERE label = 'daily'), 5) AS after_credits;
SELECT remaining FROM pk_keys.api_keys WHERE id = (SELECT id FROM k WHERE label = 'daily');
-- add mode, monthly: one refill per month passed.
UPDATE pk_keys.api_keys SET created_at = date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '2 months 1 day'
WHERE id = (SELECT id FROM k WHERE label = 'unlimited');
SELECT remaining AS three_refills FROM pk_keys.pk_key_get_by_id((SELECT id FROM k WHERE label = 'unlimited'));
SELECT code, remaining FROM k, pk_keys.pk_authenticate(k.full_key, '{}', 20) WHERE label = 'unlimited';
-- A key without refill settings is untouched by time.
SELECT code, remaining FROM k, pk_keys.pk_authenticate(k.full_key) WHERE label = 'plain';

--
-- Refill settings: validation (22023 naming the argument).
--
SELECT pg_temp.err($$SELECT pk_keys.pk_key_create((SELECT id FROM o), refill_amount => 5)$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_key_create((SELECT id FROM o), refill_interval => 'day')$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_key_create((SELECT id FROM o), refill_amount => -1, refill_interval => 'day')$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_key_create((SELECT id FROM o), refill_amount => 1, refill_interval => 'week')$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_key_create((SELECT id FROM o), refill_amount => 1, refill_interval => 'month', refill_day => 0)$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_key_create((SELECT id FROM o), refill_amount => 1, refill_interval => 'month', refill_day => 32)$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_key_create((SELECT id FROM o), refill_amount => 1, refill_interval => 'day', refill_day => 3)$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_key_create((SELECT id FROM o), refill_amount => 1, refill_interval => 'day', refill_mode => 'top-up')$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_key_create((SELECT id FROM o), refill_amount => 1, refill_interval => 'day', refill_mode => NULL)$$);
SELECT pg_temp.err($$SELECT pk_keys.pk_key_create((SELECT id FROM o), refill_day => 3)$$);
-- Nothing half-written by the failures above.
SELECT count(*) AS keys FROM pk_keys.api_keys WHERE organization_id = (SELECT id FROM o);
