// GUC definitions and library initialisation.
#include "settings.h"

#include "log_safety.h"
#include "events.h"
#include "module.h"
#include "session_context.h"
#include "shmem.h"
#include "stats.h"

extern "C" {
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"
}

namespace pk {

namespace settings {
int max_tracked_windows = 100000;
int flush_interval_ms = 10000;
}  // namespace settings

// Only a preloading postmaster may define a PGC_POSTMASTER setting.
void define_shared_memory_settings() {
    DefineCustomIntVariable(
        "pk_keys.max_tracked_windows",
        "Rate-limit windows kept in shared memory (one per key and window size).",
        "When full, stale windows are evicted; if none is stale the tables are used.",
        &settings::max_tracked_windows, 100000, 100, 10000000, PGC_POSTMASTER, 0, nullptr, nullptr,
        nullptr);
}

void module_init() {
    if (process_shared_preload_libraries_in_progress) define_shared_memory_settings();
    DefineCustomIntVariable(
        "pk_keys.flush_interval",
        "How often request_count, last_used_at and window rows are written to the tables.",
        "A crash can lose at most this much of those counters; never credits or revocations.",
        &settings::flush_interval_ms, 10000, 10, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr,
        nullptr, nullptr);
    session::define_setting();
    MarkGUCPrefixReserved("pk_keys");
    logsafety::install_log_hook();
    if (process_shared_preload_libraries_in_progress) {
        shm::install_hooks();
        stats::install_hooks();
        events::install_hooks();
    }
}

}  // namespace pk
