#include "pg_boundary.h"

#include <cstdio>
#include <cstring>

#include "log_safety.h"

namespace pk::pg {

namespace {

// What an exception left behind once its catch scope has closed: plain data
// only, so the longjmp of ereport cannot skip a destructor.
struct Failure {
    char sqlstate[6];
    char message[512];
    ErrorData* pg_error;
};

void record(Failure& f, const char* code, const char* message) {
    std::snprintf(f.sqlstate, sizeof f.sqlstate, "%s", code);
    std::snprintf(f.message, sizeof f.message, "%s", message);
    f.pg_error = nullptr;
}

int sqlstate_code(const char* s) { return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]); }

}  // namespace

void raise(const char* sqlstate, const char* message) {
    // A statement that holds a full key is never written to the log with it.
    ereport(ERROR, (errcode(sqlstate_code(sqlstate)), errmsg("%s", message),
                    errhidestmt(logsafety::statement_holds_key())));
    pg_unreachable();
}

namespace detail {
void call_catching(Thunk thunk, void* ctx) {
    MemoryContext cxt = CurrentMemoryContext;
    sigjmp_buf* const saved_exception_stack = PG_exception_stack;
    ErrorContextCallback* const saved_context_stack = error_context_stack;
    ErrorData* volatile edata = nullptr;
    PG_TRY();
    { thunk(ctx); }
    PG_CATCH();
    {
        MemoryContextSwitchTo(cxt);
        edata = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    // PG_END_TRY restores both stacks on either path; restoring them again
    // from our own copies makes this frame correct even if a thunk broke the
    // contract and left them pointing elsewhere.
    PG_exception_stack = saved_exception_stack;
    error_context_stack = saved_context_stack;
    if (edata) throw PgError(edata);
}
}  // namespace detail

Datum run_guarded(Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo) {
    Failure failure;
    try {
        return body(fcinfo);
    } catch (const PgError& e) {
        record(failure, "XX000", "");
        failure.pg_error = e.data();
    } catch (const Error& e) {
        record(failure, e.code(), e.what());
    } catch (const std::bad_alloc&) {
        record(failure, "53200", "out of memory in pk_keys");
    } catch (const std::exception& e) {
        record(failure, "XX000", e.what());
    } catch (...) {
        record(failure, "XX000", "unknown C++ exception in pk_keys");
    }
    // The catch scope is closed: every C++ object is destroyed.
    if (failure.pg_error) {
        if (logsafety::statement_holds_key()) failure.pg_error->hide_stmt = true;
        ReThrowError(failure.pg_error);
    }
    raise(failure.sqlstate, failure.message);
}

}  // namespace pk::pg
