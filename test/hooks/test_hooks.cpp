// Entry points that exist only for the regression suite, in their own
// library pk_keys_test_hooks.so (sql/boundary.sql binds them with CREATE
// FUNCTION ... AS '$libdir/pk_keys_test_hooks'); the production pk_keys.so
// and the extension's install script contain none of them.
#include <stdexcept>

#include "pg_util.h"

extern "C" {
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

PG_MODULE_MAGIC;
}

namespace {

// Counts destructor runs so SQL can see whether unwinding happened.
int destroyed_count = 0;

struct Trace {
    ~Trace() { ++destroyed_count; }
};

}  // namespace

// pk_test_throw(kind text): throws a C++ exception of the named kind.
PK_FUNCTION(pk_test_throw) {
    std::string_view kind = pk::pg::text_arg(fcinfo, 0);
    Trace trace;
    if (kind == "pk") throw pk::Error(pk::sqlstate::kInvalidParameter, "kind: pk::Error thrown");
    if (kind == "std") throw std::runtime_error("std::runtime_error thrown");
    if (kind == "int") throw 42;
    PG_RETURN_INT32(0);
}

// pk_test_pg_error(): raises division_by_zero inside PostgreSQL while a C++
// object with a destructor is alive in this frame.
PK_FUNCTION(pk_test_pg_error) {
    Trace trace;
    pk::pg::guard([] { return DirectFunctionCall2(int4div, Int32GetDatum(1), Int32GetDatum(0)); });
    PG_RETURN_INT32(0);
}

// pk_test_destroyed(): how many Trace objects have been destroyed so far.
PK_FUNCTION(pk_test_destroyed) { PG_RETURN_INT32(destroyed_count); }

// pk_test_guard_throw(): a C++ exception thrown inside pk::pg::guard reaches
// the caller as itself, and PG_exception_stack / error_context_stack are the
// same after the guard as before it. Returns 1 when both hold; then raises
// division_by_zero through a guard, which must reach SQL as a clean 22012 (a
// stale PG_exception_stack would longjmp into a dead frame instead).
PK_FUNCTION(pk_test_guard_throw) {
    Trace trace;
    sigjmp_buf* stack_before = PG_exception_stack;
    ErrorContextCallback* context_before = error_context_stack;
    bool caught = false;
    try {
        pk::pg::guard([]() -> int { throw std::runtime_error("thrown inside guard"); });
    } catch (const std::runtime_error&) {
        caught = true;
    }
    bool intact = caught && PG_exception_stack == stack_before && error_context_stack == context_before;
    if (!intact) PG_RETURN_INT32(0);
    if (PG_NARGS() > 0 && PG_GETARG_BOOL(0)) {
        pk::pg::guard([] { return DirectFunctionCall2(int4div, Int32GetDatum(1), Int32GetDatum(0)); });
    }
    PG_RETURN_INT32(1);
}
