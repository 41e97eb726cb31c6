-- The four pure key functions, through the contract surface only: this file
-- also runs against a plain-PL/pgSQL reference implementation, so it uses
-- nothing but the contract's functions and PostgreSQL built-ins, shows errors
-- by SQLSTATE only and never prints a generated key.
-- Multibyte cases print byte counts and booleans only, so the output is the
-- same whatever the database encoding.
\set VERBOSITY sqlstate

-- A fixed key and its SHA-256, computed outside PostgreSQL (Python:
-- 'pk_live_' + secrets.token_urlsafe(32), hashlib.sha256(key).hexdigest()).
\set ext_key pk_live_ba23jBvstutLLL4V_1x2DVX4gyf1zyRLVVD20c0oL9k
\set ext_hash 862e25e9e21a6fddb107c97f0dcc5bf635a2705343cdf02637a7e0d2df56a453
-- A key whose token is 43 'A's (the first canonical encoding: 32 zero bytes).
\set good_key pk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA

--
-- pk_generate_key
--
-- One row; the default environment is live.
SELECT count(*) AS rows FROM pk_keys.pk_generate_key();
-- The result columns, in order.
SELECT (SELECT array_agg(c.key) FROM json_each(row_to_json(k)) AS c) AS columns
FROM pk_keys.pk_generate_key() AS k;
SELECT key_prefix, length(full_key) AS key_length,
       pk_keys.pk_validate_key_format(full_key) AS valid_format,
       left(full_key, 8) = key_prefix AS starts_with_prefix,
       key_hint = right(full_key, 4) AS hint_is_last_4,
       key_hash = pk_keys.pk_hash_key(full_key) AS hash_matches,
       key_hash = encode(sha256(convert_to(full_key, 'UTF8')), 'hex') AS hash_is_sha256,
       key_hash ~ '^[0-9a-f]{64}$' AS hash_is_lower_hex,
       full_key ~ '^pk_live_[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$' AS token_charset,
       pk_keys.pk_verify_key(full_key, key_hash) AS verifies
FROM pk_keys.pk_generate_key();
-- 'test' gives a pk_test_ key; the prefix names the environment.
SELECT key_prefix, length(full_key) AS key_length,
       pk_keys.pk_validate_key_format(full_key) AS valid_format,
       left(full_key, 8) = key_prefix AS starts_with_prefix,
       split_part(full_key, '_', 2) AS environment_in_key,
       key_hint = right(full_key, 4) AS hint_is_last_4,
       key_hash = pk_keys.pk_hash_key(full_key) AS hash_matches,
       full_key ~ '^pk_test_[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$' AS token_charset,
       pk_keys.pk_verify_key(full_key, upper(key_hash)) AS verifies_upper_hash
FROM pk_keys.pk_generate_key('test');
-- Named argument and explicit live.
SELECT key_prefix FROM pk_keys.pk_generate_key(environment => 'test');
SELECT key_prefix FROM pk_keys.pk_generate_key(environment => 'live');
SELECT key_prefix FROM pk_keys.pk_generate_key('live');
-- Two calls never give the same key.
SELECT a.full_key <> b.full_key AS different, a.key_hash <> b.key_hash AS different_hash
FROM pk_keys.pk_generate_key() a, pk_keys.pk_generate_key() b;
-- NULL is an error (22004), not NULL in, NULL out.
SELECT * FROM pk_keys.pk_generate_key(NULL);
SELECT * FROM pk_keys.pk_generate_key(environment => NULL);
-- The environment is exactly live or test: no case folding, no trimming.
SELECT * FROM pk_keys.pk_generate_key('prod');
SELECT * FROM pk_keys.pk_generate_key('LIVE');
SELECT * FROM pk_keys.pk_generate_key('Live');
SELECT * FROM pk_keys.pk_generate_key('TEST');
SELECT * FROM pk_keys.pk_generate_key(' live');
SELECT * FROM pk_keys.pk_generate_key('live ');
SELECT * FROM pk_keys.pk_generate_key(E'live\n');
SELECT * FROM pk_keys.pk_generate_key('');
SELECT * FROM pk_keys.pk_generate_key('pk_live_');
SELECT * FROM pk_keys.pk_generate_key('l');
SELECT * FROM pk_keys.pk_generate_key('lïve');
SELECT * FROM pk_keys.pk_generate_key('live; DROP SCHEMA pk_keys CASCADE');
SELECT * FROM pk_keys.pk_generate_key(repeat('a', 1000000));
-- The session is fine after the errors.
SELECT key_prefix FROM pk_keys.pk_generate_key();

--
-- pk_validate_key_format
--
SELECT pk_keys.pk_validate_key_format(:'good_key') AS all_a,
       pk_keys.pk_validate_key_format('pk_test_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') AS test_all_a,
       pk_keys.pk_validate_key_format(:'ext_key') AS python_key,
       pk_keys.pk_validate_key_format('pk_test_uclUEP5dx2akQAjS1G_fdSKfKwNaaLaIY8JYgezMe_M') AS python_test_key,
       pk_keys.pk_validate_key_format('pk_live_' || repeat('-', 42) || '8') AS dashes,
       pk_keys.pk_validate_key_format('pk_live_' || repeat('_', 42) || 'w') AS underscores,
       pk_keys.pk_validate_key_format(key => :'good_key') AS named;
SELECT pk_keys.pk_validate_key_format(NULL) IS NULL AS null_in_null_out;
-- Every wrong prefix (all keys below are 51 characters).
SELECT k AS key, length(k) AS len, pk_keys.pk_validate_key_format(k) AS valid
FROM (VALUES
    ('pk_prod_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('PK_LIVE_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('PK_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('pk_LIVE_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('pk_Live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('pk_TEST_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('sk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('sk_test_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('pk-live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('pk_live-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('pk_liveAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('pk_testAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('pklive_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('pk__liveAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('_pk_liveAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('pk_tst__AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('pk_lived_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('pk live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    (' pk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')
) AS v(k);
-- Every length: only 51 passes.
SELECT array_agg(n ORDER BY n) AS accepted_lengths
FROM generate_series(0, 200) AS n
WHERE pk_keys.pk_validate_key_format(left('pk_live_' || repeat('A', 200), n));
SELECT pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 42)) AS len_50,
       pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 44)) AS len_52,
       pk_keys.pk_validate_key_format('pk_test_' || repeat('A', 42)) AS test_len_50,
       pk_keys.pk_validate_key_format('pk_test_' || repeat('A', 44)) AS test_len_52,
       pk_keys.pk_validate_key_format(:'good_key' || ' ') AS trailing_space,
       pk_keys.pk_validate_key_format(' ' || :'good_key') AS leading_space,
       pk_keys.pk_validate_key_format(:'good_key' || E'\n') AS trailing_newline,
       pk_keys.pk_validate_key_format('pk_live_') AS prefix_only,
       pk_keys.pk_validate_key_format('') AS empty,
       pk_keys.pk_validate_key_format(repeat('a', 1000000)) AS one_mb,
       pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 1000000)) AS one_mb_with_prefix;
-- Character set: of the 127 ASCII characters only A-Z a-z 0-9 - _ pass, at
-- the first, a middle and the second-to-last token position.
SELECT pos, string_agg(chr(c), '' ORDER BY c) AS accepted
FROM generate_series(1, 127) AS c, (VALUES (9), (30), (50)) AS p(pos)
WHERE pk_keys.pk_validate_key_format(overlay(:'good_key' PLACING chr(c) FROM pos))
GROUP BY pos ORDER BY pos;
SELECT pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 20) || '+' || repeat('A', 22)) AS plus,
       pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 20) || '/' || repeat('A', 22)) AS slash,
       pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 41) || '==') AS padding,
       pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 20) || ' ' || repeat('A', 22)) AS space,
       pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 20) || E'\t' || repeat('A', 22)) AS tab,
       pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 20) || E'\x01' || repeat('A', 22)) AS ctrl_01,
       pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 20) || E'\x7f' || repeat('A', 22)) AS del,
       pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 20) || '.' || repeat('A', 22)) AS dot,
       pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 20) || '''' || repeat('A', 22)) AS quote;
-- The last token character must be a canonical encoding of 32 bytes.
SELECT string_agg(ch, '' ORDER BY i) AS accepted_last_chars
FROM (SELECT i, substr('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', i, 1)
      FROM generate_series(1, 64) AS i) AS a(i, ch)
WHERE pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 42) || ch);
SELECT pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 42) || 'B') AS last_b,
       pk_keys.pk_validate_key_format('pk_test_' || repeat('A', 42) || '_') AS last_underscore,
       pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 42) || '9') AS last_9;
-- Multibyte UTF-8: never a valid key, whether 51 characters or 51 bytes.
SELECT label, octet_length(k) AS bytes, pk_keys.pk_validate_key_format(k) AS valid
FROM (VALUES
    ('51 chars, last é', 'pk_live_' || repeat('A', 42) || 'é'),
    ('51 bytes, last é', 'pk_live_' || repeat('A', 41) || 'é'),
    ('51 chars, é inside', 'pk_live_' || repeat('A', 20) || 'é' || repeat('A', 22)),
    ('51 bytes, emoji', 'pk_live_' || repeat('A', 39) || '😀'),
    ('51 chars, emoji', 'pk_live_' || repeat('A', 42) || '😀'),
    ('token all é', 'pk_live_' || repeat('é', 43)),
    ('prefix with ï', 'pk_lïve_' || repeat('A', 43)),
    ('fullwidth A', 'pk_live_' || repeat('A', 42) || 'Ａ'),
    ('zero-width space', 'pk_live_' || repeat('A', 41) || convert_from('\xe2808b', 'UTF8') || 'A')
) AS v(label, k);

--
-- pk_hash_key
--
-- Known answers: lower-case hex SHA-256 of the key's bytes.
SELECT pk_keys.pk_hash_key(:'good_key') AS all_a,
       pk_keys.pk_hash_key(:'ext_key') = :'ext_hash' AS python_key,
       pk_keys.pk_hash_key(key => :'ext_key') = :'ext_hash' AS named;
SELECT pk_keys.pk_hash_key('abc') AS abc, pk_keys.pk_hash_key('') AS empty;
SELECT pk_keys.pk_hash_key(repeat('a', 1000000)) AS one_million_a;
SELECT pk_keys.pk_hash_key('é') AS e_acute;
SELECT pk_keys.pk_hash_key(NULL) IS NULL AS null_in_null_out;
-- The contract's definition, also for strings that are not keys.
SELECT k_label, pk_keys.pk_hash_key(k) = encode(sha256(convert_to(k, 'UTF8')), 'hex') AS matches
FROM (VALUES
    ('good key', :'good_key'),
    ('python key', :'ext_key'),
    ('empty', ''),
    ('space', ' '),
    ('control chars', E'\x01\x02\t\n\r\x7f'),
    ('1 MB', repeat('x', 1000000)),
    ('multibyte key', 'pk_live_' || repeat('é', 43)),
    ('emoji', '😀🔑'),
    ('mixed', 'pk_live_é😀Ａ' || convert_from('\xe2808b', 'UTF8'))
) AS v(k_label, k);

--
-- pk_verify_key
--
SELECT pk_keys.pk_verify_key(:'ext_key', :'ext_hash') AS lower_hex,
       pk_keys.pk_verify_key(:'ext_key', upper(:'ext_hash')) AS upper_hex,
       pk_keys.pk_verify_key(:'ext_key', '862E25E9e21a6fddb107c97f0dcc5bf635a2705343cdf02637a7e0d2df56A453') AS mixed_hex,
       pk_keys.pk_verify_key(key => :'ext_key', key_hash => :'ext_hash') AS named;
-- A hash computed by PostgreSQL's sha256() verifies.
SELECT pk_keys.pk_verify_key(k, encode(sha256(convert_to(k, 'UTF8')), 'hex')) AS lower_hex,
       pk_keys.pk_verify_key(k, upper(encode(sha256(convert_to(k, 'UTF8')), 'hex'))) AS upper_hex
FROM (VALUES (:'good_key'), ('pk_test_uclUEP5dx2akQAjS1G_fdSKfKwNaaLaIY8JYgezMe_M')) AS v(k);
-- Wrong key, wrong hash.
SELECT pk_keys.pk_verify_key(:'good_key', :'ext_hash') AS other_key,
       pk_keys.pk_verify_key('pk_test_ba23jBvstutLLL4V_1x2DVX4gyf1zyRLVVD20c0oL9k', :'ext_hash') AS other_env,
       pk_keys.pk_verify_key(:'ext_key', pk_keys.pk_hash_key(:'good_key')) AS other_hash,
       pk_keys.pk_verify_key(:'ext_key', '0' || right(:'ext_hash', 63)) AS first_digit,
       pk_keys.pk_verify_key(:'ext_key', left(:'ext_hash', 63) || '0') AS last_digit,
       pk_keys.pk_verify_key(:'ext_key', repeat('0', 64)) AS zeros;
-- Malformed hashes are false, never an error.
SELECT pk_keys.pk_verify_key(:'ext_key', left(:'ext_hash', 63)) AS hex_63,
       pk_keys.pk_verify_key(:'ext_key', :'ext_hash' || '0') AS hex_65,
       pk_keys.pk_verify_key(:'ext_key', :'ext_hash' || :'ext_hash') AS hex_128,
       pk_keys.pk_verify_key(:'ext_key', 'g' || right(:'ext_hash', 63)) AS non_hex_g,
       pk_keys.pk_verify_key(:'ext_key', left(:'ext_hash', 63) || 'z') AS non_hex_z,
       pk_keys.pk_verify_key(:'ext_key', ' ' || left(:'ext_hash', 63)) AS space,
       pk_keys.pk_verify_key(:'ext_key', :'ext_hash' || ' ') AS trailing_space,
       pk_keys.pk_verify_key(:'ext_key', ' ' || :'ext_hash') AS leading_space,
       pk_keys.pk_verify_key(:'ext_key', '\x' || :'ext_hash') AS bytea_style,
       pk_keys.pk_verify_key(:'ext_key', '') AS empty,
       pk_keys.pk_verify_key(:'ext_key', repeat('a', 1000000)) AS one_mb,
       pk_keys.pk_verify_key(:'ext_key', left(:'ext_hash', 62) || 'é') AS multibyte,
       pk_keys.pk_verify_key(:'ext_key', left(:'ext_hash', 63) || '３') AS fullwidth_digit;
-- Malformed keys are false even when the hash is exactly theirs.
SELECT label, pk_keys.pk_verify_key(k, encode(sha256(convert_to(k, 'UTF8')), 'hex')) AS verifies
FROM (VALUES
    ('wrong prefix', 'pk_prod_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('upper prefix', 'PK_LIVE_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
    ('length 50', 'pk_live_' || repeat('A', 42)),
    ('length 52', 'pk_live_' || repeat('A', 44)),
    ('plus sign', 'pk_live_' || repeat('A', 20) || '+' || repeat('A', 22)),
    ('last char B', 'pk_live_' || repeat('A', 42) || 'B'),
    ('multibyte', 'pk_live_' || repeat('A', 42) || 'é'),
    ('empty', ''),
    ('abc', 'abc'),
    ('1 MB', repeat('a', 1000000))
) AS v(label, k);
SELECT pk_keys.pk_verify_key(NULL, :'ext_hash') IS NULL AS null_key,
       pk_keys.pk_verify_key(:'ext_key', NULL) IS NULL AS null_hash,
       pk_keys.pk_verify_key(NULL, NULL) IS NULL AS both_null;

--
-- Properties over many generated keys.
--
-- pk_hash_key agrees with PostgreSQL's sha256 over 10,000 keys of both
-- environments, and every generated row is self-consistent.
SELECT count(*) AS keys,
       bool_and(pk_keys.pk_hash_key(k.full_key) = encode(sha256(convert_to(k.full_key, 'UTF8')), 'hex'))
           AS hash_is_sha256,
       bool_and(k.key_hash = pk_keys.pk_hash_key(k.full_key)) AS key_hash_matches,
       bool_and(pk_keys.pk_verify_key(k.full_key, k.key_hash)) AS all_verify,
       bool_and(k.key_hint = right(k.full_key, 4) AND left(k.full_key, 8) = k.key_prefix
                AND k.key_prefix = 'pk_' || e.env || '_') AS consistent
FROM generate_series(1, 10000) AS g,
     LATERAL (SELECT CASE g % 2 WHEN 0 THEN 'live' ELSE 'test' END) AS e(env),
     LATERAL pk_keys.pk_generate_key(e.env) AS k;
-- 100,000 generated keys are unique and well-formed.
SELECT count(*) AS keys,
       count(DISTINCT k.full_key) = 100000 AS unique_keys,
       count(DISTINCT k.key_hash) = 100000 AS unique_hashes,
       bool_and(pk_keys.pk_validate_key_format(k.full_key)) AS all_valid,
       bool_and(length(k.full_key) = 51) AS all_51,
       bool_and(k.full_key ~ '^pk_(live|test)_[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$') AS all_match_format,
       count(DISTINCT right(k.full_key, 1)) AS distinct_last_chars,
       count(*) FILTER (WHERE k.key_prefix = 'pk_live_') AS live,
       count(*) FILTER (WHERE k.key_prefix = 'pk_test_') AS test
FROM generate_series(1, 100000) AS g,
     LATERAL pk_keys.pk_generate_key(CASE g % 4 WHEN 0 THEN 'test' ELSE 'live' END) AS k;
