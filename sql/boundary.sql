-- The C++/PostgreSQL error boundary, in both directions. The hooks live in
-- the test-only library pk_keys_test_hooks and are bound here only; neither
-- the extension nor the production pk_keys.so exposes any of them.
\set VERBOSITY default
SELECT count(*) AS test_hooks_in_extension
FROM pg_proc WHERE proname LIKE 'pk_test_%';

CREATE FUNCTION pg_temp.pk_test_throw(text) RETURNS integer
    AS '$libdir/pk_keys_test_hooks', 'pk_test_throw' LANGUAGE C STRICT;
CREATE FUNCTION pg_temp.pk_test_pg_error() RETURNS integer
    AS '$libdir/pk_keys_test_hooks', 'pk_test_pg_error' LANGUAGE C;
CREATE FUNCTION pg_temp.pk_test_destroyed() RETURNS integer
    AS '$libdir/pk_keys_test_hooks', 'pk_test_destroyed' LANGUAGE C;
CREATE FUNCTION pg_temp.pk_test_guard_throw(boolean) RETURNS integer
    AS '$libdir/pk_keys_test_hooks', 'pk_test_guard_throw' LANGUAGE C STRICT;

\set VERBOSITY sqlstate
-- The production library has no test entry point (42883: not found).
CREATE FUNCTION pg_temp.pk_absent() RETURNS integer
    AS '$libdir/pk_keys', 'pk_test_throw' LANGUAGE C;
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
-- A C++ exception thrown inside pk::pg::guard comes out of it as itself and
-- leaves PG_exception_stack and error_context_stack as they were (1); a
-- PostgreSQL ERROR raised afterwards in the same call still reaches SQL as a
-- clean 22012, and the session goes on.
SELECT pg_temp.pk_test_guard_throw(false) AS stacks_intact;
\set VERBOSITY sqlstate
SELECT pg_temp.pk_test_guard_throw(true);
SELECT 1 / 0;
\set VERBOSITY terse
SELECT pg_temp.pk_test_guard_throw(false) AS stacks_intact_again;
SELECT pg_temp.pk_test_destroyed() AS after_guard_throws;
-- Inside a transaction with a savepoint the session goes on normally.
BEGIN;
SAVEPOINT s;
SELECT pg_temp.pk_test_pg_error();
ROLLBACK TO SAVEPOINT s;
SELECT pg_temp.pk_test_throw('none') AS no_throw;
COMMIT;
SELECT pg_temp.pk_test_destroyed() AS final_count;
SELECT pk_keys.pk_validate_key_format('pk_live_' || repeat('A', 43)) AS session_still_works;
