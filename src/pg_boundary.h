// The C++ <-> PostgreSQL error boundary.
//
// Direction 1, C++ -> PostgreSQL: every SQL-callable function is declared with
// PK_FUNCTION(name). Its body runs inside try/catch; a caught exception is
// copied into a plain buffer and ereport(ERROR) is raised only after the catch
// scope has closed, so no C++ exception crosses an extern "C" frame and the
// longjmp never skips the exception object's destructor.
//
// Direction 2, PostgreSQL -> C++: a PostgreSQL function that may raise ERROR
// is called through pk::pg::guard(), which catches the longjmp in PG_TRY,
// copies the ErrorData and throws pk::PgError. Destructors of the C++ frames
// between the guard and the entry point then run normally, and the entry
// point re-throws the original error unchanged (SQLSTATE, detail, hint).
#pragma once

extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "utils/elog.h"
}

#include <exception>
#include <type_traits>
#include <utility>

#include "core/error.h"

namespace pk {

// A PostgreSQL error caught on its way through C++; owns a copy of ErrorData
// allocated in the memory context that was current at the guard.
class PgError : public std::exception {
public:
    explicit PgError(ErrorData* edata) : edata_(edata) {}
    ErrorData* data() const noexcept { return edata_; }
    const char* what() const noexcept override {
        return edata_ && edata_->message ? edata_->message : "PostgreSQL error";
    }

private:
    ErrorData* edata_;
};

namespace pg {

// Runs body(fcinfo); turns any exception into a PostgreSQL ERROR.
Datum run_guarded(Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo);

// Raises a pk::Error-style failure as a PostgreSQL ERROR (never returns).
[[noreturn]] void raise(const char* sqlstate, const char* message);

namespace detail {
// The one kind of function call_catching runs. It is noexcept by type: a C++
// exception must never leave it, because call_catching's PG_TRY frame would
// then be unwound without restoring PG_exception_stack and
// error_context_stack (both would point into a dead frame, and the next
// ERROR anywhere in the backend would longjmp there). guard() builds such a
// thunk for any callable: it catches C++ exceptions inside the thunk and
// re-throws them only after the PG_TRY block has been left.
using Thunk = void (*)(void*) noexcept;

// Calls thunk(ctx) inside PG_TRY, with PG_exception_stack and
// error_context_stack saved before and restored after, whatever happens. On a
// PostgreSQL ERROR it copies the error (in the memory context current at the
// call), clears the error state and throws pk::PgError once PG_TRY is left.
void call_catching(Thunk thunk, void* ctx);

// Runs f() and keeps any C++ exception it throws in *caught (never throws).
template <typename F>
void run_keeping_exception(F& f, std::exception_ptr* caught) noexcept {
    try {
        f();
    } catch (...) {
        *caught = std::current_exception();
    }
}

// Calls f() inside call_catching; a C++ exception thrown by f() is carried
// over the PG_TRY frame and re-thrown here, outside it.
template <typename F>
void call_guarded(F& f) {
    struct Ctx {
        F* f;
        std::exception_ptr caught;
    } ctx{&f, nullptr};
    call_catching(
        [](void* p) noexcept {
            auto* c = static_cast<Ctx*>(p);
            run_keeping_exception(*c->f, &c->caught);
        },
        &ctx);
    if (ctx.caught) std::rethrow_exception(ctx.caught);
}
}  // namespace detail

// Calls f(); if PostgreSQL raises an ERROR inside it, throws pk::PgError.
// Keep f a thin forwarding call: it must not own C++ objects with destructors
// across the PostgreSQL call it makes (an ERROR longjmps over them). A C++
// exception thrown by f() is re-thrown unchanged after the PG_TRY frame.
template <typename F>
auto guard(F&& f) -> decltype(f()) {
    using R = decltype(f());
    if constexpr (std::is_void_v<R>) {
        detail::call_guarded(f);
    } else {
        R result{};
        auto store = [&] { result = f(); };
        detail::call_guarded(store);
        return result;
    }
}

}  // namespace pg
}  // namespace pk

// Declares an SQL-callable function whose C++ body follows the macro.
#define PK_FUNCTION(name)                                                      \
    static Datum name##_body(FunctionCallInfo fcinfo);                        \
    extern "C" {                                                               \
    PG_FUNCTION_INFO_V1(name);                                                 \
    Datum name(PG_FUNCTION_ARGS) { return pk::pg::run_guarded(name##_body, fcinfo); } \
    }                                                                          \
    static Datum name##_body([[maybe_unused]] FunctionCallInfo fcinfo)
