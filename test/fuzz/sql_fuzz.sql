-- The SQL fuzzer: calls every function of schema pk_keys (enumerated from
-- pg_proc, so functions added later are covered) with hostile arguments and
-- classifies what comes back. Loaded into a scratch database by
-- test/t/070_sql_fuzz.pl; objects live in schema fuzz.
--
-- Each call passes its arguments as one text[] parameter cast to the
-- argument types inside the statement. The casts are first evaluated alone:
-- when they fail (an argument that is not valid input for its type, as a
-- client might send) the error is PostgreSQL's own type input, before pk_keys
-- runs, and is counted as such ("input"). Otherwise the call's SQLSTATE must
-- be one of the contract's (22023 22004 23505 P0002 55000); anything else is
-- recorded in fuzz.unexpected. Every 20th call, should it fail, is checked
-- for half writes: pk_flush() and a digest of every pk_keys table before and
-- after. Calls over 2 s are recorded in fuzz.slow (unbounded work).
CREATE SCHEMA fuzz;

CREATE TABLE fuzz.pool (typ text, val text);      -- text form of a value (NULL = SQL NULL)
CREATE TABLE fuzz.outcome (fn text, code text, calls bigint, PRIMARY KEY (fn, code));
CREATE TABLE fuzz.unexpected (fn text, code text, message text, args text);
CREATE TABLE fuzz.half_written (fn text, args text);
CREATE TABLE fuzz.slow (fn text, took interval, args text);

-- A deterministic nesting of depth n: [[[...]]] or {"a":{"a":...}}.
CREATE FUNCTION fuzz.deep(n integer, obj boolean) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN obj THEN repeat('{"a":', n) || '1' || repeat('}', n)
                ELSE repeat('[', n) || '1' || repeat(']', n) END $$;

-- Values every type gets, then values by type. The ids of real rows are
-- added by fuzz.seed_rows().
INSERT INTO fuzz.pool SELECT t, NULL FROM unnest('{text,uuid,integer,bigint,smallint,boolean,
    timestamptz,timestamp,date,interval,jsonb,json,"text[]",inet,cidr,numeric,
    "double precision",real,bytea,"uuid[]",name,oid}'::text[]) t;
INSERT INTO fuzz.pool VALUES
  ('text', ''), ('text', 'live'), ('text', 'test'), ('text', 'free'), ('text', 'pro'),
  ('text', 'enterprise'), ('text', 'LIVE'), ('text', ' live'), ('text', 'a@b.c'),
  ('text', 'ops@example.com'), ('text', ' Mixed@Example.COM '), ('text', 'a b@c'),
  ('text', 'acme'), ('text', 'acme-2'), ('text', '-bad-'), ('text', 'GET'), ('text', '/v1/x'),
  ('text', 'pk_live_'), ('text', 'pk_live_' || repeat('A', 43)), ('text', 'pk_test_' || repeat('_', 42) || 'w'),
  ('text', 'pk_live_' || repeat('A', 42) || 'B'), ('text', repeat('f', 64)), ('text', repeat('F', 64)),
  ('text', repeat('g', 64)), ('text', repeat('0', 63)), ('text', '%s %n %x %%'), ('text', E'\\'),
  ('text', ''''), ('text', '"); DROP TABLE pk_keys.api_keys; --'), ('text', '.*+?[(^$'),
  ('text', chr(1) || chr(127)), ('text', repeat('é', 200)), ('text', repeat('x', 129)),
  ('text', repeat('x', 2049)), ('text', repeat('x', 65537)), ('text', '-1'), ('text', '0'),
  ('text', 'infinity'), ('text', 'NaN'), ('text', '{}'),
  ('uuid', '00000000-0000-0000-0000-000000000000'), ('uuid', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
  ('uuid', 'not-a-uuid'),
  ('integer', '0'), ('integer', '1'), ('integer', '-1'), ('integer', '2'), ('integer', '60'),
  ('integer', '2147483647'), ('integer', '-2147483648'), ('integer', '2147483648'),
  ('bigint', '0'), ('bigint', '-1'), ('bigint', '1'), ('bigint', '9223372036854775807'),
  ('bigint', '-9223372036854775808'), ('smallint', '32767'), ('smallint', '-1'),
  ('boolean', 'true'), ('boolean', 'false'),
  ('timestamptz', 'infinity'), ('timestamptz', '-infinity'), ('timestamptz', '4713-01-01 00:00:00+00 BC'),
  ('timestamptz', '294276-12-31 23:59:59+00'), ('timestamptz', '1999-12-31 23:59:59+00'),
  ('timestamptz', '2000-01-01 00:00:00+00'), ('timestamptz', 'now'), ('timestamptz', '2100-01-01'),
  ('timestamptz', '0044-03-15 12:00:00+00 BC'), ('timestamptz', 'epoch'),
  ('timestamp', 'infinity'), ('timestamp', '4713-01-01 BC'), ('timestamp', 'now'),
  ('date', 'infinity'), ('date', '-infinity'), ('date', '4713-01-01 BC'), ('date', '5874897-12-31'),
  ('date', 'today'), ('date', '2000-01-01'), ('date', '1999-12-01'), ('date', '2026-02-29'),
  ('interval', '0'), ('interval', '1 microsecond'), ('interval', '1 second'), ('interval', '-1 second'),
  ('interval', '1 minute'), ('interval', '1 day'), ('interval', '366 days'), ('interval', '367 days'),
  ('interval', '40 years'), ('interval', '178000000 years'), ('interval', '-178000000 years'),
  ('interval', '1 mon'), ('interval', '13 months'), ('interval', '2147483647 days'),
  ('jsonb', '{}'), ('jsonb', '[]'), ('jsonb', 'null'), ('jsonb', '1e308'), ('jsonb', '"x"'),
  ('jsonb', '{"name": null}'), ('jsonb', '{"name": "n2"}'), ('jsonb', '{"plan": "pro"}'),
  ('jsonb', '{"plan": "gold"}'), ('jsonb', '{"email": "X@Y.Z"}'), ('jsonb', '{"slug": "s-1"}'),
  ('jsonb', '{"is_active": false}'), ('jsonb', '{"is_active": "yes"}'),
  ('jsonb', '{"rate_limit_per_minute": -1}'), ('jsonb', '{"rate_limit_per_minute": 1e20}'),
  ('jsonb', '{"rate_limit_per_minute": 2147483648}'), ('jsonb', '{"metadata": [1,2]}'),
  ('jsonb', '{"unknown": 1}'), ('jsonb', '{"": 1}'), ('jsonb', fuzz.deep(500, true)),
  ('jsonb', fuzz.deep(5000, false)), ('jsonb', '{"a":"' || repeat('x', 70000) || '"}'),
  ('jsonb', '{bad'),
  ('json', '{}'), ('json', '{"a": 1, "a": 2}'),
  ('text[]', '{}'), ('text[]', '{NULL}'), ('text[]', '{read,NULL}'), ('text[]', '{read}'),
  ('text[]', '{read,write}'), ('text[]', '{""}'), ('text[]', '{{a,b},{c,d}}'), ('text[]', '[2:3]={a,b}'),
  ('text[]', '{' || repeat('s,', 300) || 's}'), ('text[]', '{' || repeat('x', 200) || '}'),
  ('text[]', '{"read:*", "admin", "*"}'), ('text[]', '{{{a}}}'), ('text[]', '{a,'),
  ('inet', '127.0.0.1'), ('inet', '::1'), ('inet', '0.0.0.0/0'), ('inet', '255.255.255.255'),
  ('inet', '2001:db8::/32'), ('cidr', '10.0.0.0/8'), ('numeric', 'NaN'), ('numeric', '1e1000'),
  ('double precision', 'Infinity'), ('double precision', 'NaN'), ('real', '-0'),
  ('bytea', '\xdeadbeef'), ('uuid[]', '{NULL}'), ('name', 'x'), ('oid', '0');

-- Characters beyond ASCII, where the database encoding has them.
DO $$
BEGIN
    IF current_setting('server_encoding') = 'UTF8' THEN
        INSERT INTO fuzz.pool VALUES
          ('text', chr(101) || chr(769) || chr(8205) || chr(65279)), ('text', chr(1114111)),
          ('text', chr(65534) || chr(65535)), ('text', repeat(chr(128512), 129)),
          ('text[]', '{' || chr(128512) || '}'), ('jsonb', '{"' || chr(1114111) || '": 1}');
    END IF;
END $$;

-- Adds the ids of real rows (an organization, live and test keys with and
-- without credits, a revoked key) as uuid values, and their full keys and
-- hashes as text values.
CREATE FUNCTION fuzz.seed_rows() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    o uuid;
    k record;
BEGIN
    SELECT id INTO o FROM pk_keys.pk_org_create('Fuzz Org', 'fuzz@example.com', 'pro');
    INSERT INTO fuzz.pool VALUES ('uuid', o::text);
    FOR k IN SELECT * FROM pk_keys.pk_key_create(o, 'a', 'live', '{read,write}', remaining => 1000000)
             UNION ALL SELECT * FROM pk_keys.pk_key_create(o, 'b', 'test')
             UNION ALL SELECT * FROM pk_keys.pk_key_create(o, 'c', 'live', remaining => 0)
             UNION ALL SELECT * FROM pk_keys.pk_key_create(o, 'd', 'live', expires_at => now() + interval '1 hour')
    LOOP
        INSERT INTO fuzz.pool VALUES ('uuid', k.id::text), ('text', k.full_key),
                                     ('text', pk_keys.pk_hash_key(k.full_key));
    END LOOP;
    PERFORM pk_keys.pk_key_revoke(k.id, 'fuzz', NULL);
END $$;

-- A digest of every table of schema pk_keys (rows and contents).
CREATE FUNCTION fuzz.digest() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r record;
    d text := '';
    part text;
BEGIN
    FOR r IN SELECT c.oid::regclass AS t FROM pg_class c
             WHERE c.relnamespace = 'pk_keys'::regnamespace AND c.relkind IN ('r', 'p')
             ORDER BY c.relname LOOP
        EXECUTE format('SELECT count(*) || '':'' || coalesce(sum(hashtext(x::text)), 0) FROM %s x', r.t)
            INTO part;
        d := d || r.t || '=' || part || ';';
    END LOOP;
    RETURN d;
END $$;

-- The functions to fuzz: every function of schema pk_keys except trigger
-- functions (callable only as triggers), with their argument types.
CREATE VIEW fuzz.targets AS
SELECT p.oid, p.proname::text AS fn, p.proretset, p.prokind,
       array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) t) AS types
FROM pg_proc p
WHERE p.pronamespace = 'pk_keys'::regnamespace
  AND p.prorettype <> 'trigger'::regtype AND p.prokind IN ('f', 'p');

-- One value of type typ as text (NULL is a value too).
CREATE FUNCTION fuzz.pick(typ text) RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT val FROM fuzz.pool WHERE pool.typ = COALESCE(
        (SELECT p.typ FROM fuzz.pool p WHERE p.typ = pick.typ LIMIT 1), 'text')
    ORDER BY random() LIMIT 1 $$;

-- Runs n calls chosen at random (seeded); commits every 200 calls.
CREATE PROCEDURE fuzz.run(n integer, seed double precision) LANGUAGE plpgsql AS $$
DECLARE
    fns fuzz.targets[];
    f fuzz.targets;
    args text[];
    casts text;
    call text;
    v_code text;
    msg text;
    failed bigint := 0;
    before text;
    check_this boolean;
    started timestamptz;
BEGIN
    PERFORM setseed(seed);
    SELECT array_agg(t ORDER BY t.fn, t.oid) INTO fns FROM fuzz.targets t;
    FOR i IN 1 .. n LOOP
        f := fns[1 + floor(random() * array_length(fns, 1))::int];
        args := array(SELECT fuzz.pick(t) FROM unnest(f.types) t);
        SELECT string_agg(format('$1[%s]::%s', o, t), ', ' ORDER BY o) INTO casts
        FROM unnest(f.types) WITH ORDINALITY AS u(t, o);
        v_code := NULL;
        BEGIN
            EXECUTE 'SELECT ' || COALESCE(casts, '1') USING args;
        EXCEPTION WHEN OTHERS THEN
            v_code := 'input';
        END;
        IF v_code IS NULL THEN
            call := CASE WHEN f.prokind = 'p' THEN 'CALL pk_keys.%I(%s)'
                         ELSE 'SELECT count(*) FROM pk_keys.%I(%s)' END;
            call := format(call, f.fn, COALESCE(casts, ''));
            -- Every 20th call is checked for half writes, should it fail.
            check_this := i % 20 = 0;
            IF check_this THEN
                PERFORM pk_keys.pk_flush();
                before := fuzz.digest();
            END IF;
            started := clock_timestamp();
            BEGIN
                EXECUTE call USING args;
                v_code := 'ok';
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS v_code = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
            END;
            IF clock_timestamp() - started > interval '2 seconds' THEN
                INSERT INTO fuzz.slow VALUES (f.fn, clock_timestamp() - started, left(args::text, 400));
            END IF;
            IF v_code <> 'ok' THEN
                failed := failed + 1;
                IF v_code NOT IN ('22023', '22004', '23505', 'P0002', '55000') THEN
                    INSERT INTO fuzz.unexpected
                    VALUES (f.fn, v_code, left(msg, 300),
                            left(array(SELECT left(coalesce(a, 'NULL'), 60) FROM unnest(args) a)::text, 400));
                END IF;
                IF check_this THEN
                    PERFORM pk_keys.pk_flush();
                    IF fuzz.digest() <> before THEN
                        INSERT INTO fuzz.half_written VALUES (f.fn, left(args::text, 400));
                    END IF;
                END IF;
            END IF;
        END IF;
        INSERT INTO fuzz.outcome VALUES (f.fn, v_code, 1)
        ON CONFLICT (fn, code) DO UPDATE SET calls = outcome.calls + 1;
        IF i % 200 = 0 THEN COMMIT; END IF;
    END LOOP;
END $$;
