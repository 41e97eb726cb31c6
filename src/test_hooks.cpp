// Entry points that exist only for the regression suite (sql/boundary.sql
// binds them with CREATE FUNCTION ... AS '$libdir/pk_keys'); the extension's
// install script never creates SQL functions for them.
#include <stdexcept>

#include "pg_util.h"

extern "C" {
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
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
