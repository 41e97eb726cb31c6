-- The pure key functions, beyond the shared contract test: error messages,
-- catalog attributes, privileges, and databases whose encoding is not UTF-8.
-- (contract_pure_functions.sql holds the behaviour, by SQLSTATE.)

--
-- Error messages name the argument.
--
\set VERBOSITY terse
SELECT * FROM pk_keys.pk_generate_key(NULL);
SELECT * FROM pk_keys.pk_generate_key('prod');
SELECT * FROM pk_keys.pk_generate_key('');
-- The message never echoes the input.
SELECT * FROM pk_keys.pk_generate_key(repeat('x', 100000));
\set VERBOSITY sqlstate
SELECT * FROM pk_keys.pk_generate_key('Live');
\set VERBOSITY terse

--
-- Catalog attributes: generation is VOLATILE, the others IMMUTABLE; all are
-- PARALLEL SAFE; STRICT except pk_generate_key (NULL there is an error).
--
SELECT p.proname, p.provolatile, p.proisstrict, p.proparallel, p.prosecdef,
       p.proretset, p.prorows, p.proconfig, l.lanname
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'pk_keys'::regnamespace
  AND p.proname IN ('pk_generate_key', 'pk_validate_key_format', 'pk_hash_key', 'pk_verify_key')
ORDER BY p.proname;
SELECT p.oid::regprocedure AS function, pg_get_function_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result
FROM pg_proc p
WHERE p.pronamespace = 'pk_keys'::regnamespace
  AND p.proname IN ('pk_generate_key', 'pk_validate_key_format', 'pk_hash_key', 'pk_verify_key')
ORDER BY p.proname;
-- Each is a member of the extension.
SELECT count(*) AS pure_functions_in_extension
FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass
WHERE e.extname = 'pk_keys' AND d.deptype = 'e' AND d.classid = 'pg_proc'::regclass
  AND d.objid IN ('pk_keys.pk_generate_key(text)'::regprocedure,
                  'pk_keys.pk_validate_key_format(text)'::regprocedure,
                  'pk_keys.pk_hash_key(text)'::regprocedure,
                  'pk_keys.pk_verify_key(text, text)'::regprocedure);

--
-- Privileges: PUBLIC may use the schema and execute the four pure functions,
-- and has no right on any table or sequence.
--
SELECT has_schema_privilege('public', 'pk_keys', 'USAGE') AS public_schema_usage,
       has_schema_privilege('public', 'pk_keys', 'CREATE') AS public_schema_create;
SELECT f AS function, has_function_privilege('public', f, 'EXECUTE') AS public_execute
FROM unnest(ARRAY['pk_keys.pk_generate_key(text)', 'pk_keys.pk_validate_key_format(text)',
                  'pk_keys.pk_hash_key(text)', 'pk_keys.pk_verify_key(text, text)']) AS f
ORDER BY f;
SELECT t AS contract_table,
       has_table_privilege('public', to_regclass('pk_keys.' || t),
           'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER') AS public_any_right
FROM unnest(ARRAY['api_key_usage', 'api_keys', 'organizations', 'rate_limit_tracking']) AS t
ORDER BY t;
-- Every relation of the schema (partitions, rollups and sequences included).
SELECT count(*) AS relations_public_can_touch
FROM pg_class c
WHERE c.relnamespace = 'pk_keys'::regnamespace
  AND (   (c.relkind IN ('r', 'p', 'v', 'm', 'f')
           AND has_table_privilege('public', c.oid,
                   'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER'))
       OR (c.relkind = 'S' AND has_sequence_privilege('public', c.oid, 'USAGE, SELECT, UPDATE')));
-- The pure functions are the only callable ones PUBLIC can execute (trigger
-- functions cannot be called, so they are left out), and every SECURITY
-- DEFINER function pins its search_path.
SELECT p.oid::regprocedure AS public_executable
FROM pg_proc p
WHERE p.pronamespace = 'pk_keys'::regnamespace AND p.prorettype <> 'trigger'::regtype
  AND has_function_privilege('public', p.oid, 'EXECUTE')
ORDER BY p.oid::regprocedure::text;
SELECT p.oid::regprocedure AS definer_without_search_path
FROM pg_proc p
WHERE p.pronamespace = 'pk_keys'::regnamespace AND p.prosecdef
  AND NOT EXISTS (SELECT FROM unnest(p.proconfig) AS c WHERE c LIKE 'search\_path=%')
ORDER BY p.oid::regprocedure::text;

-- An unprivileged role can call the pure functions and nothing else.
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_pk_nobody;
RESET client_min_messages;
CREATE ROLE regress_pk_nobody;
SET ROLE regress_pk_nobody;
SELECT key_prefix, pk_keys.pk_validate_key_format(full_key) AS valid,
       pk_keys.pk_verify_key(full_key, key_hash) AS verifies,
       pk_keys.pk_hash_key(full_key) = key_hash AS hash_matches
FROM pk_keys.pk_generate_key('test');
SELECT count(*) FROM pk_keys.api_keys;
SELECT count(*) FROM pk_keys.organizations;
SELECT count(*) FROM pk_keys.rate_limit_tracking;
SELECT count(*) FROM pk_keys.api_key_usage;
INSERT INTO pk_keys.organizations (name, slug, email) VALUES ('x', 'x', 'x@example.com');
SELECT * FROM pk_keys.pk_authenticate('pk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
SELECT * FROM pk_keys.pk_org_get_all();
RESET ROLE;
DROP ROLE regress_pk_nobody;

--
-- Databases that are not UTF-8: the hash is still that of the key's UTF-8
-- bytes, exactly as convert_to(k, 'UTF8') gives them.
--
SELECT current_database() AS regress_db \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS regress_pk_sql_ascii;
DROP DATABASE IF EXISTS regress_pk_latin1;
RESET client_min_messages;
CREATE DATABASE regress_pk_sql_ascii TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C';
CREATE DATABASE regress_pk_latin1 TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C';
\c regress_pk_sql_ascii
CREATE EXTENSION pk_keys;
SELECT current_setting('server_encoding') AS server_encoding;
SELECT pk_keys.pk_hash_key('pk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') AS all_a,
       pk_keys.pk_hash_key('') AS empty,
       pk_keys.pk_hash_key('é') AS e_acute;
SELECT label, pk_keys.pk_hash_key(k) = encode(sha256(convert_to(k, 'UTF8')), 'hex') AS matches
FROM (VALUES ('key', 'pk_live_ba23jBvstutLLL4V_1x2DVX4gyf1zyRLVVD20c0oL9k'), ('empty', ''),
             ('one byte', 'a'), ('multibyte', 'pk_live_é😀'), ('1 MB', repeat('a', 1000000))) AS v(label, k);
SELECT pk_keys.pk_verify_key('pk_live_ba23jBvstutLLL4V_1x2DVX4gyf1zyRLVVD20c0oL9k',
                             '862e25e9e21a6fddb107c97f0dcc5bf635a2705343cdf02637a7e0d2df56a453') AS verifies;
SELECT count(*) AS keys,
       bool_and(pk_keys.pk_hash_key(k.full_key) = encode(sha256(convert_to(k.full_key, 'UTF8')), 'hex')
                AND k.key_hash = pk_keys.pk_hash_key(k.full_key)
                AND pk_keys.pk_verify_key(k.full_key, k.key_hash)
                AND pk_keys.pk_validate_key_format(k.full_key)) AS consistent
FROM generate_series(1, 1000) AS g,
     LATERAL pk_keys.pk_generate_key(CASE g % 2 WHEN 0 THEN 'live' ELSE 'test' END) AS k;
\c regress_pk_latin1
SET client_encoding = 'UTF8';
CREATE EXTENSION pk_keys;
SELECT current_setting('server_encoding') AS server_encoding;
-- 'é' is one byte in LATIN1 and two in UTF-8: the hash is of the two.
SELECT octet_length('é') AS latin1_bytes,
       pk_keys.pk_hash_key('é') AS e_acute,
       pk_keys.pk_hash_key('pk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') AS all_a;
SELECT label, pk_keys.pk_hash_key(k) = encode(sha256(convert_to(k, 'UTF8')), 'hex') AS matches
FROM (VALUES ('key', 'pk_live_ba23jBvstutLLL4V_1x2DVX4gyf1zyRLVVD20c0oL9k'), ('empty', ''),
             ('latin1', 'pk_live_éàüß'), ('1 MB', repeat('é', 1000000))) AS v(label, k);
SELECT pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 42) || 'é') AS latin1_last_char,
       pk_keys.pk_verify_key('pk_live_ba23jBvstutLLL4V_1x2DVX4gyf1zyRLVVD20c0oL9k',
                             '862E25E9E21A6FDDB107C97F0DCC5BF635A2705343CDF02637A7E0D2DF56A453') AS verifies;
SELECT count(*) AS keys,
       bool_and(pk_keys.pk_hash_key(k.full_key) = encode(sha256(convert_to(k.full_key, 'UTF8')), 'hex')
                AND k.key_hash = pk_keys.pk_hash_key(k.full_key)
                AND pk_keys.pk_verify_key(k.full_key, k.key_hash)
                AND pk_keys.pk_validate_key_format(k.full_key)) AS consistent
FROM generate_series(1, 1000) AS g,
     LATERAL pk_keys.pk_generate_key(CASE g % 2 WHEN 0 THEN 'live' ELSE 'test' END) AS k;
\c :regress_db
DROP DATABASE regress_pk_sql_ascii;
DROP DATABASE regress_pk_latin1;
-- The session is back in the test database.
SELECT current_database() = :'regress_db' AS back;
