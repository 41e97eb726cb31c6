// Refill settings of a key row, read from SQL values and applied through the
// pure core (src/core/refill.h). Used by the SQL functions pk_refill_remaining
// and pk_refill_last and by the per-request lookup, so the arithmetic exists
// once.
#pragma once

extern "C" {
#include "postgres.h"

#include "datatype/timestamp.h"
}

#include <string_view>

#include "core/refill.h"

namespace pk::refill {

// A row's refill settings, or none (amount or interval NULL).
struct Settings {
    bool set = false;
    pk::RefillPolicy policy;
    bool finite = false;    // after is a finite timestamp
    TimestampTz after = 0;  // instants strictly after this count
};

// Parses interval ('day'/'month') and mode ('replace'/'add'); false when
// either is unknown.
bool parse(std::string_view interval, std::string_view mode, pk::RefillPolicy* p);

// Instants count strictly after last_refill_at, or from created_at included
// when no refill was applied yet.
TimestampTz after_of(bool has_last, TimestampTz last_refill_at, TimestampTz created_at);

// The balance at `now` and the refill instant applied last (s.after when
// none is due).
int64 balance_at(const Settings& s, int64 remaining, TimestampTz now, TimestampTz* last);

}  // namespace pk::refill
