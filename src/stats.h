// Monitoring counters of the shared-memory paths, read by the view
// pk_keys.pk_stats (through pk_stats_read()). They live in their own small
// shared-memory struct (requested by their own shmem hooks), apart from the
// windows they describe, and are updated with atomics only: no lock, so a
// hook may be called from any frame, holding any lock, and never raises.
// Without shared_preload_libraries nothing is allocated and every note_*
// is a no-op.
#pragma once

extern "C" {
#include "postgres.h"

#include "datatype/timestamp.h"
}

namespace pk::stats {

// Chains this module's shmem_request/startup hooks; call from _PG_init
// while preloading.
void install_hooks();

// A window entry was created in shared memory.
void note_window_created();
// `n` stale window entries were evicted.
void note_evictions(long n);
// The window table was full: a call counted in the tables instead.
void note_table_fallback();
// One flush batch ended: when it started, rows (keys and windows) written,
// and whether it failed (its error was logged and the batch dropped).
void note_flush(TimestampTz started, int64 rows, bool failed);

}  // namespace pk::stats
