// Rate limiting per (key, window size): in shared memory when preloaded,
// otherwise in pk_keys.rate_limit_tracking under a row lock. Both use the
// sliding-window counter of core/sliding_window.h. C-style: no destructors,
// so PostgreSQL errors may unwind through these frames.
#pragma once

extern "C" {
#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/uuid.h"
}

#include "core/sliding_window.h"
#include "spi_plans.h"

namespace pk::rl {

enum class Where { kNone, kSharedMemory, kTable };

// The outcome of begin(); finish() must be called once with it.
struct Ticket {
    bool allowed;
    int64 remaining;
    TimestampTz reset;
    Where where;  // kNone: could not be enforced here (read-only, table full)
    Oid generation;
    pg_uuid_t key;
    int32 window_seconds;
    int64 index;
    int64 cost;
    TimestampTz window_start;
    bool recorded;  // the request was also counted in shared memory
    bool counted;   // slots were taken (allowed, or forced in shadow mode)
    bool first_refusal;  // refused, and the first refusal of this window (events)
};

// How a window decides (see core/sliding_window.h).
struct Mode {
    WindowAlgorithm algorithm = WindowAlgorithm::kSliding;
    bool force = false;  // shadow mode: count even what is refused
};

// Decides `cost` slots (0 = check only) under `limit`. In shared memory the
// slots are taken at once; in the table the row stays locked and nothing is
// added until finish(). `can_write` is false on a standby or in a read-only
// transaction.
// When record_at is not 0 and the slots are taken in shared memory, the
// request is counted there too (Ticket::recorded).
// `key` is any uuid naming the counter: a key's id (per-minute limit,
// pk_rate_limit_check) or a named limit's id (per-key limits and pools).
Ticket begin(spi::Conn& conn, const pg_uuid_t& key, int32 window_seconds, int64 limit, int64 cost,
             bool can_write, TimestampTz record_at = 0, Mode mode = Mode{});

// Keeps (consume = true) or gives back the slots decided by begin().
void finish(spi::Conn& conn, const Ticket& t, bool consume);

}  // namespace pk::rl
