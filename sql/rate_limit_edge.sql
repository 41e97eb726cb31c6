-- A rate-limit window edge crossed at SQL level (the unit tests cover the
-- arithmetic): a 2-second window with a limit of 2. Two calls late in one
-- fixed window; just after the edge a fixed window would admit two more, the
-- sliding window still counts most of the previous window's two and refuses;
-- two windows later everything has decayed and calls are admitted again.
\set VERBOSITY terse
CREATE TEMP TABLE edge AS SELECT gen_random_uuid() AS id;
-- Wait until 1.6 s into a 2-second fixed window (windows start at multiples
-- of 2 s since the epoch of PostgreSQL timestamps, 2000-01-01, an even
-- number of seconds after the Unix epoch).
SELECT true AS waited FROM pg_sleep((3.6 - (extract(epoch FROM clock_timestamp()) % 2)) % 2);
SELECT allowed, remaining FROM pk_keys.pk_rate_limit_check((SELECT id FROM edge), 2, '2 seconds');
SELECT allowed, remaining FROM pk_keys.pk_rate_limit_check((SELECT id FROM edge), 2, '2 seconds');
SELECT allowed FROM pk_keys.pk_rate_limit_check((SELECT id FROM edge), 2, '2 seconds');
-- Just after the edge (about 0.2 s in; the previous window still weighs
-- 0.9 x 2 = 1.8 until 1 s in, so one more does not fit).
SELECT true AS waited FROM pg_sleep((2.2 - (extract(epoch FROM clock_timestamp()) % 2)) % 2);
SELECT extract(epoch FROM clock_timestamp()) % 2 < 1 AS early_in_the_new_window;
SELECT allowed FROM pk_keys.pk_rate_limit_check((SELECT id FROM edge), 2, '2 seconds');
-- Two windows later nothing is left of either window.
SELECT true AS waited FROM pg_sleep(4.1);
SELECT allowed, remaining FROM pk_keys.pk_rate_limit_check((SELECT id FROM edge), 2, '2 seconds');
SELECT allowed, remaining FROM pk_keys.pk_rate_limit_check((SELECT id FROM edge), 2, '2 seconds');
