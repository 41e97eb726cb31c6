-- search_path hijacking: functions and operators that shadow pg_catalog's
-- are planted in public and in a user schema placed first on search_path
-- (even before pg_catalog). Every pk_keys function is then called with this
-- search_path; none of them may reach a planted object. Each planted object
-- records its use in public.hijacked and then behaves like the original.
\set VERBOSITY terse
CREATE SCHEMA evil;
CREATE TABLE public.hijacked (what text);
GRANT INSERT ON public.hijacked TO PUBLIC;

-- Shadowing functions with the same name and argument types as pg_catalog's.
DO $$
DECLARE
    f record;
    n integer := 0;
BEGIN
    FOR f IN
        SELECT p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid) AS args,
               pg_catalog.format_type(p.prorettype, NULL) AS ret, p.oid
        FROM pg_catalog.pg_proc p
        WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.prokind = 'f' AND NOT p.proretset
          AND p.proname IN ('lower', 'upper', 'now', 'sha256', 'encode', 'decode', 'convert_to',
                            'length', 'char_length', 'octet_length', 'jsonb_typeof',
                            'jsonb_build_object', 'to_char', 'date_trunc', 'array_length',
                            'cardinality', 'gen_random_uuid', 'regexp_replace', 'btrim',
                            'format', 'nextval', 'pg_notify', 'current_setting', 'clock_timestamp',
                            'statement_timestamp', 'timezone', 'md5', 'substr', 'left', 'right',
                            'concat', 'textcat', 'jsonb_set', 'to_jsonb', 'row_to_json',
                            'make_interval', 'extract', 'date_part', 'floor', 'ceil', 'round',
                            'abs', 'least_common', 'strpos', 'position', 'split_part', 'trim',
                            'hashtext', 'uuid_in', 'pg_is_in_recovery', 'txid_current',
                            'pg_current_xact_id', 'array_position', 'array_remove', 'random')
          AND p.prorettype <> 'internal'::regtype
          AND p.proargtypes::oid[] <@ ARRAY(SELECT oid FROM pg_catalog.pg_type WHERE typtype = 'b'
                                            AND typname NOT LIKE 'any%' AND typname <> 'cstring')::oid[]
          AND p.prorettype IN (SELECT oid FROM pg_catalog.pg_type WHERE typtype = 'b'
                               AND typname NOT LIKE 'any%' AND typname <> 'cstring')
    LOOP
        FOR s IN 1 .. 2 LOOP
            EXECUTE pg_catalog.format(
                'CREATE FUNCTION %s.%I(%s) RETURNS %s LANGUAGE plpgsql AS '
                '$b$ BEGIN INSERT INTO public.hijacked VALUES (%L); '
                'RETURN pg_catalog.%I(%s); END $b$',
                CASE s WHEN 1 THEN 'evil' ELSE 'public' END, f.proname, f.args, f.ret,
                f.proname || '(' || f.args || ')', f.proname,
                (SELECT pg_catalog.string_agg('$' || i, ', ')
                 FROM pg_catalog.generate_series(1, (SELECT pronargs FROM pg_catalog.pg_proc WHERE oid = f.oid)) i));
            n := n + 1;
        END LOOP;
    END LOOP;
    RAISE NOTICE 'planted % shadowing functions', CASE WHEN n > 100 THEN 'more than 100' ELSE n::text END;
END $$;

-- Shadowing operators for the types pk_keys compares and combines.
DO $$
DECLARE
    o record;
    n integer := 0;
BEGIN
    FOR o IN
        SELECT op.oprname, pg_catalog.format_type(op.oprleft, NULL) AS l,
               pg_catalog.format_type(op.oprright, NULL) AS r,
               pg_catalog.format_type(op.oprresult, NULL) AS res,
               op.oprcode::text AS fn, t.typname
        FROM pg_catalog.pg_operator op JOIN pg_catalog.pg_type t ON t.oid = op.oprleft
        WHERE op.oprnamespace = 'pg_catalog'::regnamespace AND op.oprkind = 'b'
          AND op.oprname IN ('=', '<>', '<', '<=', '>', '>=', '||', '~', '!~', '@>', '<@', '&&',
                             '+', '-', '->>', '->', '?')
          AND op.oprleft = op.oprright
          AND t.typname IN ('text', 'uuid', 'int4', 'int8', 'timestamptz', 'bool', 'jsonb', '_text',
                            'date', 'interval', 'inet')
    LOOP
        FOR s IN 1 .. 2 LOOP
            EXECUTE pg_catalog.format(
                'CREATE FUNCTION %1$s.hijack_%2$s(%3$s, %4$s) RETURNS %5$s LANGUAGE plpgsql AS '
                '$b$ BEGIN INSERT INTO public.hijacked VALUES (%6$L); RETURN pg_catalog.%7$s($1, $2); END $b$; '
                'CREATE OPERATOR %1$s.%8$s (LEFTARG = %3$s, RIGHTARG = %4$s, FUNCTION = %1$s.hijack_%2$s)',
                CASE s WHEN 1 THEN 'evil' ELSE 'public' END, n, o.l, o.r, o.res,
                'operator ' || o.oprname || ' ' || o.typname, o.fn, o.oprname);
            n := n + 1;
        END LOOP;
    END LOOP;
    RAISE NOTICE 'planted % shadowing operators', CASE WHEN n > 50 THEN 'more than 50' ELSE n::text END;
END $$;

-- The attack: the planted schema first, even before pg_catalog.
SET search_path = evil, pg_catalog, public, pk_keys;
-- Control: the planted objects do shadow pg_catalog's for unqualified SQL.
SELECT lower('X') AS lowered, 'a'::text = 'a'::text AS eq;
SELECT count(DISTINCT what) >= 2 AS control_hijacked FROM public.hijacked;
TRUNCATE public.hijacked;

-- Every pk_keys function of the contract, called as an application would.
CREATE TEMP TABLE org AS SELECT * FROM pk_keys.pk_org_create('Hijack Org', 'Hijack@Example.com', 'pro');
CREATE TEMP TABLE k AS SELECT * FROM pk_keys.pk_key_create((SELECT id FROM org), 'hk', 'live',
    '{read,write}', pg_catalog.now() OPERATOR(pg_catalog.+) interval '1 day', 5, 10, '{"a": 1}');
SELECT (pk_keys.pk_generate_key('test')).key_prefix;
SELECT pk_keys.pk_validate_key_format((SELECT full_key FROM k)) AS valid_format,
       pk_keys.pk_verify_key((SELECT full_key FROM k), pk_keys.pk_hash_key((SELECT full_key FROM k))) AS verifies;
SELECT valid, code, remaining, rate_limit, rate_limit_remaining
FROM pk_keys.pk_authenticate((SELECT full_key FROM k), '{read}', 2);
SELECT code FROM pk_keys.pk_authenticate((SELECT full_key FROM k), '{admin}');
SELECT allowed, remaining FROM pk_keys.pk_rate_limit_check((SELECT id FROM k), 3, '1 hour');
SELECT count(*) FROM pk_keys.pk_org_get_by_id((SELECT id FROM org));
SELECT count(*) FROM pk_keys.pk_org_get_by_slug('hijack-org');
SELECT count(*) FROM pk_keys.pk_org_get_by_email('HIJACK@example.com');
SELECT plan, rate_limit_per_minute FROM pk_keys.pk_org_update((SELECT id FROM org), '{"plan": "starter", "name": "Hijack 2"}');
SELECT count(*) > 0 AS listed FROM pk_keys.pk_org_get_all(1000, 0);
SELECT count(*) FROM pk_keys.pk_key_get_by_id((SELECT id FROM k));
SELECT count(*) FROM pk_keys.pk_key_get_by_hash(pk_keys.pk_hash_key((SELECT full_key FROM k)));
SELECT count(*) FROM pk_keys.pk_key_get_by_organization((SELECT id FROM org));
SELECT pk_keys.pk_key_update_last_used((SELECT id FROM k));
SELECT pk_keys.pk_key_increment_request_count((SELECT id FROM k));
SELECT status_code FROM pk_keys.pk_usage_create((SELECT id FROM k), '/v1/x', 'POST', 201, 12, '10.0.0.1', 'ua');
SELECT count(*) FROM pk_keys.pk_usage_get_by_key((SELECT id FROM k), pg_catalog.now() OPERATOR(pg_catalog.-) interval '1 day', pg_catalog.now() OPERATOR(pg_catalog.+) interval '1 day');
SELECT count(*) FROM pk_keys.pk_usage_get_by_organization((SELECT id FROM org), pg_catalog.now() OPERATOR(pg_catalog.-) interval '1 day', pg_catalog.now() OPERATOR(pg_catalog.+) interval '1 day');
SELECT (pk_keys.pk_usage_get_summary((SELECT id FROM org), CURRENT_DATE)) OPERATOR(pg_catalog.->>) 'total_requests' AS total;
SELECT count(*) FROM pk_keys.pk_usage_get_daily_stats((SELECT id FROM org), CURRENT_DATE, CURRENT_DATE);
SELECT pk_keys.pk_flush() OPERATOR(pg_catalog.>=) 0 AS flushed;
SELECT pk_keys.pk_key_revoke((SELECT id FROM k), 'hijack test', NULL) AS revoked;
SELECT pk_keys.pk_key_delete_expired() OPERATOR(pg_catalog.>=) 0 AS deleted;
-- Nothing above reached a planted function or operator.
SELECT count(*) AS hijacked_calls, pg_catalog.string_agg(DISTINCT what, ', ') AS what FROM public.hijacked;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA evil CASCADE;
DO $$ BEGIN EXECUTE (SELECT pg_catalog.string_agg(pg_catalog.format('DROP FUNCTION IF EXISTS public.%I(%s) CASCADE', p.proname,
    pg_catalog.pg_get_function_identity_arguments(p.oid)), '; ')
    FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'public'::regnamespace); END $$;
DROP TABLE public.hijacked;
