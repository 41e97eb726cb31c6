-- Events raised on use, each once per occasion (not once per refused call):
-- credits.low (below 10 % of the creation/refill balance), credits.exhausted,
-- rate_limit.exceeded (per key, limit and window), key.expiring (7 days
-- before expires_at, once); in a read-only transaction: queued and written
-- by the flusher when preloaded (events_on_use_1.out), else dropped and
-- counted.
\set VERBOSITY sqlstate
CREATE TABLE ev_org AS SELECT id FROM pk_keys.pk_org_create('Events Org', 'events@example.com', 'pro');
CREATE TABLE ev_k (name text PRIMARY KEY, id uuid, full_key text);
INSERT INTO ev_k SELECT 'credits', id, full_key FROM pk_keys.pk_key_create((SELECT id FROM ev_org), 'credits', remaining => 20);
INSERT INTO ev_k SELECT 'limited', id, full_key FROM pk_keys.pk_key_create((SELECT id FROM ev_org), 'limited', rate_limit_per_minute => 1);
INSERT INTO ev_k SELECT 'pooled', id, full_key FROM pk_keys.pk_key_create((SELECT id FROM ev_org), 'pooled');
INSERT INTO ev_k SELECT 'expiring', id, full_key
    FROM pk_keys.pk_key_create((SELECT id FROM ev_org), 'expiring', expires_at => now() + interval '3 days');
INSERT INTO ev_k SELECT 'later', id, full_key
    FROM pk_keys.pk_key_create((SELECT id FROM ev_org), 'later', expires_at => now() + interval '8 days');
CREATE VIEW ev AS
    SELECT e.kind, k.name AS key, e.payload - 'occasion' - 'window_start' - 'limit_id' - 'expires_at' AS payload
    FROM pk_keys.events e JOIN ev_k k ON k.id = e.api_key_id
    WHERE e.organization_id = (SELECT id FROM ev_org);
SELECT credits_baseline FROM pk_keys.api_keys WHERE id = (SELECT id FROM ev_k WHERE name = 'credits');

-- credits: 20 → 17 → 2 (crosses below 2 = 10 %) → 1 → 0 (exhausted) → refused.
SELECT n, a.code, a.remaining FROM ev_k k, (VALUES (1, 3), (2, 15), (3, 1), (4, 1), (5, 1)) v(n, c),
    LATERAL pk_keys.pk_authenticate(k.full_key, cost => c) a
WHERE k.name = 'credits' ORDER BY n;
SELECT kind, key, payload FROM ev WHERE key = 'credits' ORDER BY kind;
-- A refill (a raise of the balance) is a new period.
UPDATE pk_keys.api_keys SET remaining = 10 WHERE id = (SELECT id FROM ev_k WHERE name = 'credits');
SELECT credits_baseline FROM pk_keys.api_keys WHERE id = (SELECT id FROM ev_k WHERE name = 'credits');
SELECT a.code, a.remaining FROM ev_k k, pk_keys.pk_authenticate(k.full_key, cost => 10) a WHERE k.name = 'credits';
SELECT kind, count(*) FROM ev WHERE key = 'credits' GROUP BY kind ORDER BY kind;

-- rate_limit.exceeded: three refusals in one window, one event.
DO $$ BEGIN
    IF extract(second FROM clock_timestamp()) > 50 THEN
        PERFORM pg_sleep(61 - extract(second FROM clock_timestamp()));
    END IF;
END $$;
-- (cost => i - i: one call per row, each of cost 0)
SELECT i, a.code FROM ev_k k, generate_series(1, 4) i, LATERAL pk_keys.pk_authenticate(k.full_key, cost => i - i) a
WHERE k.name = 'limited' ORDER BY i;
SELECT kind, key, payload FROM ev WHERE kind = 'rate_limit.exceeded';
-- Named limits too, per limit; shadow limits never refuse, so never raise.
SELECT name FROM pk_keys.pk_limit_set((SELECT id FROM ev_org), 'pool', 1, '1 day', algorithm => 'fixed');
SELECT name FROM pk_keys.pk_limit_set((SELECT id FROM ev_org), 'watch', 0, '1 day', enforce => false);
SELECT i, a.code FROM ev_k k, generate_series(1, 3) i,
    LATERAL pk_keys.pk_authenticate_request(k.full_key, cost => i - i, limits => '{"pool": 1, "watch": 1}') a
WHERE k.name = 'pooled' ORDER BY i;
SELECT kind, key, payload FROM ev WHERE kind = 'rate_limit.exceeded' ORDER BY payload->>'limit';

-- key.expiring: on use within 7 days of expiry, once; not 8 days before.
SELECT k.name, i, a.code FROM ev_k k, generate_series(1, 3) i, LATERAL pk_keys.pk_authenticate(k.full_key, cost => i - i) a
WHERE k.name IN ('expiring', 'later') ORDER BY k.name, i;
SELECT kind, key FROM ev WHERE kind = 'key.expiring';
-- Another session does not raise it again.
\c
SELECT code FROM pk_keys.pk_authenticate((SELECT full_key FROM ev_k WHERE name = 'expiring'));
SELECT count(*) FROM ev WHERE kind = 'key.expiring';
-- A new expiry is a new occasion.
UPDATE pk_keys.api_keys SET expires_at = now() + interval '5 days' WHERE id = (SELECT id FROM ev_k WHERE name = 'expiring');
SELECT code FROM pk_keys.pk_authenticate((SELECT full_key FROM ev_k WHERE name = 'expiring'));
SELECT count(*) FROM ev WHERE kind = 'key.expiring';
-- A rolled-back call leaves no event.
BEGIN;
UPDATE pk_keys.api_keys SET remaining = 1 WHERE id = (SELECT id FROM ev_k WHERE name = 'credits');
SELECT code FROM pk_keys.pk_authenticate((SELECT full_key FROM ev_k WHERE name = 'credits'));
SELECT count(*) AS exhausted_inside FROM ev WHERE kind = 'credits.exhausted';
ROLLBACK;
SELECT count(*) AS exhausted_after FROM ev WHERE kind = 'credits.exhausted';

-- A read-only transaction cannot write events: queued when preloaded (and
-- written by the flusher or pk_flush), else dropped and counted.
CREATE TABLE ev_dropped_before AS SELECT pk_keys.pk_events_dropped() AS n;
UPDATE pk_keys.api_keys SET expires_at = now() + interval '6 days' WHERE id = (SELECT id FROM ev_k WHERE name = 'later');
BEGIN READ ONLY;
SELECT code, recorded FROM pk_keys.pk_authenticate((SELECT full_key FROM ev_k WHERE name = 'later'));
COMMIT;
SELECT pk_keys.pk_events_dropped() - (SELECT n FROM ev_dropped_before) AS dropped;
SELECT pk_keys.pk_flush() >= 0 AS flushed;
SELECT kind, key FROM ev WHERE key = 'later';
-- pk_event_emit: one row per occasion; NULL for a repeat.
SELECT pk_keys.pk_event_emit('key.expiring', (SELECT id FROM ev_org), (SELECT id FROM ev_k WHERE name = 'later'),
                             '{"occasion": "test"}') IS NOT NULL AS first,
       pk_keys.pk_event_emit('key.expiring', (SELECT id FROM ev_org), (SELECT id FROM ev_k WHERE name = 'later'),
                             '{"occasion": "test"}') IS NULL AS repeat_ignored;
DROP VIEW ev;
DROP TABLE ev_k, ev_org, ev_dropped_before;
