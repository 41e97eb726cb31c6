// Monitoring counters (see stats.h) and pk_stats_read(), the function behind
// the view pk_keys.pk_stats.
#include "stats.h"
#include "usage_queue.h"

#include "pg_boundary.h"
#include "settings.h"

extern "C" {
#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"
}

namespace pk::stats {

namespace {

// Every field is an atomic: writers never wait, readers see each counter
// exactly (a row read while writers run may mix instants, as
// pg_stat_statements_info does).
struct Counters {
    pg_atomic_uint64 windows_created;
    pg_atomic_uint64 evictions;
    pg_atomic_uint64 fallbacks;
    pg_atomic_uint64 flushes;
    pg_atomic_uint64 flushed_rows;
    pg_atomic_uint64 flush_errors;
    pg_atomic_uint64 last_flush_at;       // TimestampTz of the last batch's end; 0 = none
    pg_atomic_uint64 last_flush_us;       // its duration
    pg_atomic_uint64 last_error_at;       // TimestampTz of the last failed batch; 0 = none
    TimestampTz started_at;               // when the counters were created
};

Counters* counters = nullptr;
shmem_request_hook_type prev_request_hook = nullptr;
shmem_startup_hook_type prev_startup_hook = nullptr;

void request_shmem() {
    if (prev_request_hook) prev_request_hook();
    RequestAddinShmemSpace(MAXALIGN(sizeof(Counters)));
}

void startup_shmem() {
    if (prev_startup_hook) prev_startup_hook();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    auto* c = static_cast<Counters*>(ShmemInitStruct("pk_keys stats", sizeof(Counters), &found));
    if (!found) {
        for (pg_atomic_uint64* a : {&c->windows_created, &c->evictions, &c->fallbacks, &c->flushes,
                                    &c->flushed_rows, &c->flush_errors, &c->last_flush_at,
                                    &c->last_flush_us, &c->last_error_at}) {
            pg_atomic_init_u64(a, 0);
        }
        c->started_at = GetCurrentTimestamp();
    }
    counters = c;
    LWLockRelease(AddinShmemInitLock);
}

void add(pg_atomic_uint64 Counters::*field, uint64 n) {
    if (counters && n > 0) pg_atomic_fetch_add_u64(&(counters->*field), n);
}

}  // namespace

void install_hooks() {
    prev_request_hook = shmem_request_hook;
    shmem_request_hook = request_shmem;
    prev_startup_hook = shmem_startup_hook;
    shmem_startup_hook = startup_shmem;
}

void note_window_created() { add(&Counters::windows_created, 1); }
void note_evictions(long n) { add(&Counters::evictions, n > 0 ? static_cast<uint64>(n) : 0); }
void note_table_fallback() { add(&Counters::fallbacks, 1); }

void note_flush(TimestampTz started, int64 rows, bool failed) {
    if (!counters) return;
    TimestampTz now = GetCurrentTimestamp();
    if (failed) {
        add(&Counters::flush_errors, 1);
        pg_atomic_write_u64(&counters->last_error_at, static_cast<uint64>(now));
        return;
    }
    if (rows <= 0) return;  // an idle round wrote nothing: not a flush
    add(&Counters::flushes, 1);
    add(&Counters::flushed_rows, static_cast<uint64>(rows));
    pg_atomic_write_u64(&counters->last_flush_us, static_cast<uint64>(Max(now - started, (int64)0)));
    pg_atomic_write_u64(&counters->last_flush_at, static_cast<uint64>(now));
}

}  // namespace pk::stats

namespace {

// Result columns of pk_stats_read(), in order.
enum Col {
    kSharedMemory, kWindowsInUse, kWindowsCapacity, kEvictions, kFallbacks, kQueuedRows,
    kFlushes, kFlushedRows, kLastFlushAt, kLastFlushMs, kFlushErrors, kLastErrorAt, kSince, kNCols
};

}  // namespace

// pk_stats_read(): one row of the counters above; without preload only
// shared_memory (false) is filled, every other column is NULL.
PK_FUNCTION(pk_stats_read) {
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE) {
        throw pk::Error("0A000", "pk_stats_read: must be called as a row source");
    }
    Datum v[kNCols] = {};
    bool n[kNCols];
    for (bool& b : n) b = true;
    pk::stats::Counters* c = pk::stats::counters;
    v[kSharedMemory] = BoolGetDatum(c != nullptr);
    n[kSharedMemory] = false;
    if (c) {
        auto put = [&](int col, Datum d) { v[col] = d; n[col] = false; };
        auto u = [](pg_atomic_uint64* a) { return static_cast<int64>(pg_atomic_read_u64(a)); };
        int64 created = u(&c->windows_created), evicted = u(&c->evictions);
        put(kWindowsInUse, Int64GetDatum(Max(created - evicted, (int64)0)));
        put(kWindowsCapacity, Int64GetDatum(pk::settings::max_tracked_windows));
        put(kEvictions, Int64GetDatum(evicted));
        put(kFallbacks, Int64GetDatum(u(&c->fallbacks)));
        put(kQueuedRows, Int64GetDatum(pk::usage_queue::queued_rows()));
        put(kFlushes, Int64GetDatum(u(&c->flushes)));
        put(kFlushedRows, Int64GetDatum(u(&c->flushed_rows)));
        if (int64 at = u(&c->last_flush_at)) {
            put(kLastFlushAt, TimestampTzGetDatum(at));
            put(kLastFlushMs, Float8GetDatum(static_cast<double>(u(&c->last_flush_us)) / 1000.0));
        }
        put(kFlushErrors, Int64GetDatum(u(&c->flush_errors)));
        if (int64 at = u(&c->last_error_at)) put(kLastErrorAt, TimestampTzGetDatum(at));
        put(kSince, TimestampTzGetDatum(c->started_at));
    }
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, n)));
}
