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

// One-row set-returning functions in value-per-call mode (no tuplestore).
// An entry point starts with
//     if (!pk::pg::one_row_pending(fcinfo)) return (Datum)0;
// and ends with
//     return pk::pg::one_row_result(fcinfo, cxt, values, nulls);
// The first call of each set produces the row, the second ends the set; a
// rescan of the calling expression (a callback) starts over.
bool one_row_pending(FunctionCallInfo fcinfo);

// Forms the row (in memory context cxt: the one current at entry, if the
// values live in SPI memory) and marks it returned.
Datum one_row_result(FunctionCallInfo fcinfo, MemoryContext cxt, Datum* values, bool* nulls);

}  // namespace pk::pg
