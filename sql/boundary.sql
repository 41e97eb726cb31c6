-- The C++/PostgreSQL error boundary, in both directions. The hooks are bound
-- here only; the extension itself exposes none of them.
\set VERBOSITY default
SELECT count(*) AS test_hooks_in_extension
FROM pg_proc WHERE proname LIKE 'pk_test_%';

CREATE FUNCTION pg_temp.pk_test_throw(text) RETURNS integer
    AS '$libdir/pk_keys', 'pk_test_throw' LANGUAGE C STRICT;
CREATE FUNCTION pg_temp.pk_test_pg_error() RETURNS integer
    AS '$libdir/pk_keys', 'pk_test_pg_error' LANGUAGE C;
CREATE FUNCTION pg_temp.pk_test_destroyed() RETURNS integer
    AS '$libdir/pk_keys', 'pk_test_destroyed' LANGUAGE C;

\set VERBOSITY sqlstate
SELECT pg_temp.pk_test_destroyed() AS before;
-- C++ exceptions become ERRORs with their SQLSTATE (22023), or XX000 when the
-- exception carries none; the Trace destructor runs each time.
SELECT pg_temp.pk_test_throw('pk');
SELECT pg_temp.pk_test_throw('std');
SELECT pg_temp.pk_test_throw('int');
SELECT pg_temp.pk_test_destroyed() AS after_three_throws;
\set VERBOSITY terse
SELECT pg_temp.pk_test_throw('pk');
SELECT pg_temp.pk_test_throw('std');
-- A PostgreSQL ERROR inside a guarded call keeps its SQLSTATE (22012) and
-- its message, and the live C++ object in the caller's frame is destroyed.
\set VERBOSITY sqlstate
SELECT pg_temp.pk_test_pg_error();
\set VERBOSITY terse
SELECT pg_temp.pk_test_pg_error();
SELECT pg_temp.pk_test_destroyed() AS after_pg_errors;
-- Inside a transaction with a savepoint the session goes on normally.
BEGIN;
SAVEPOINT s;
SELECT pg_temp.pk_test_pg_error();
ROLLBACK TO SAVEPOINT s;
SELECT pg_temp.pk_test_throw('none') AS no_throw;
COMMIT;
SELECT pg_temp.pk_test_destroyed() AS final_count;
SELECT pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 43)) AS session_still_works;
