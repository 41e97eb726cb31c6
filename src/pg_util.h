// Small helpers for moving values between Datums and C++.
#pragma once

#include <string_view>

#include "pg_boundary.h"

namespace pk::pg {

// The bytes of text argument n, detoasted without a copy when possible.
// Guarded: a detoasting ERROR becomes pk::PgError.
std::string_view text_arg(FunctionCallInfo fcinfo, int n);

// Throws pk::Error 22004 naming the argument when argument n is NULL.
void require_arg(FunctionCallInfo fcinfo, int n, const char* name);

// The following allocate with palloc and may raise ERROR: call them inside
// pk::pg::guard() or from a frame that holds no C++ object with a destructor.
Datum text_datum(std::string_view s);

// Returns one row (values/nulls in the function's declared result columns)
// from a set-returning function in materialize mode.
void return_one_row(FunctionCallInfo fcinfo, Datum* values, bool* nulls);

}  // namespace pk::pg
