// The flusher: one dynamic background worker per database in use. It wakes
// every pk_keys.flush_interval, moves pending counters out of shared memory
// and applies them in one transaction; on SIGTERM (clean shutdown) it flushes
// once more before exiting; after a few idle rounds it exits (so it never
// holds up DROP DATABASE for long) and the next VALID request relaunches it.
// Written in C style: no C++ object with a destructor lives in these frames,
// so PostgreSQL's longjmps cannot skip one.
#include "flusher.h"
#include "events.h"

#include <csignal>
#include <cstdio>

#include "key_lookup.h"
#include "pg_boundary.h"
#include "settings.h"
#include "shmem.h"
#include "stats.h"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "storage/lmgr.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace {

constexpr int kBatch = 4096;
constexpr int kIdleRoundsBeforeExit = 3;
// Window rows are for observability, not for enforcement (that is in shared
// memory): write them at most once a minute, and drop expired ones (a scan
// of rate_limit_tracking) at most every ten minutes.
constexpr int64 kWindowEveryUs = 60 * USECS_PER_SEC;
constexpr int64 kCleanupEveryUs = 600 * USECS_PER_SEC;

volatile sig_atomic_t got_sigterm = 0;

void handle_sigterm(SIGNAL_ARGS) {
    int save_errno = errno;
    got_sigterm = 1;
    SetLatch(MyLatch);
    errno = save_errno;
}

// The flush of request counters, in three simple statements (index probes
// per key, no table scan). It locks with SKIP LOCKED: the flusher never
// waits behind an application's transaction, nor queues other sessions
// behind itself; counters of skipped keys go back to shared memory.
// 1. Lock what can be locked now; returns the 1-based positions locked.
const char* const kLockKeys =
    "SELECT d.i FROM pg_catalog.unnest($1::pg_catalog.uuid[]) WITH ORDINALITY AS d(id, i)"
    "  JOIN pk_keys.api_keys AS k ON k.id OPERATOR(pg_catalog.=) d.id"
    "   FOR NO KEY UPDATE OF k SKIP LOCKED";
// 2. Add the counters of the locked keys.
const char* const kAddCounts =
    "UPDATE pk_keys.api_keys AS k"
    "   SET request_count = k.request_count OPERATOR(pg_catalog.+) d.n,"
    "       last_used_at = GREATEST(k.last_used_at, d.t)"
    "  FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.uuid[]), pg_catalog.unnest($2::pg_catalog.int8[]),"
    "                 pg_catalog.unnest($3::pg_catalog.timestamptz[])) AS d(id, n, t)"
    " WHERE k.id OPERATOR(pg_catalog.=) d.id";
// 3. Of the keys not locked, those that still exist (the others were deleted).
const char* const kExistingKeys =
    "SELECT d.i FROM pg_catalog.unnest($1::pg_catalog.uuid[]) WITH ORDINALITY AS d(id, i)"
    "  JOIN pk_keys.api_keys AS k ON k.id OPERATOR(pg_catalog.=) d.id";

const char* const kFlushWindows =
    "INSERT INTO pk_keys.rate_limit_tracking AS r"
    "       (api_key_id, window_seconds, window_start, request_count)"
    "SELECT d.id, d.w, d.s, d.c"
    "  FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.uuid[]), pg_catalog.unnest($2::pg_catalog.int4[]),"
    "                 pg_catalog.unnest($3::pg_catalog.timestamptz[]),"
    "                 pg_catalog.unnest($4::pg_catalog.int4[])) AS d(id, w, s, c)"
    "    ON CONFLICT (api_key_id, window_seconds, window_start)"
    "    DO UPDATE SET request_count = EXCLUDED.request_count";

const char* const kDeleteOldWindows =
    "DELETE FROM pk_keys.rate_limit_tracking"
    " WHERE window_start OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-)"
    "       pg_catalog.make_interval(secs => (2 OPERATOR(pg_catalog.*) window_seconds)))";

Datum array_of(Datum* elems, int n, Oid type, int len, bool byval, char align) {
    return PointerGetDatum(construct_array(elems, n, type, len, byval, align));
}

using pk::shm::PendingUse;
using pk::shm::PendingWindow;

Datum uuid_array(const PendingUse* uses, const int* pick, int n) {
    Datum* ids = static_cast<Datum*>(palloc(sizeof(Datum) * Max(n, 1)));
    for (int i = 0; i < n; ++i) ids[i] = UUIDPGetDatum(const_cast<pg_uuid_t*>(&uses[pick[i]].key));
    return array_of(ids, n, UUIDOID, 16, false, TYPALIGN_CHAR);
}

// Positions (0-based, into the picked list) returned by a positions query.
void positions(bool* hit, int n) {
    for (uint64 r = 0; r < SPI_processed; ++r) {
        bool isnull = false;
        int64 i = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
        if (!isnull && i >= 1 && i <= n) hit[i - 1] = true;
    }
}

void run_uses(Oid generation, const PendingUse* uses, int n) {
    if (n == 0) return;
    int* all = static_cast<int*>(palloc(sizeof(int) * n));
    for (int i = 0; i < n; ++i) all[i] = i;
    Oid uuid_type[1] = {UUIDARRAYOID};
    Datum lock_args[1] = {uuid_array(uses, all, n)};
    SPI_execute_with_args(kLockKeys, 1, uuid_type, lock_args, nullptr, false, 0);
    bool* locked = static_cast<bool*>(palloc0(sizeof(bool) * n));
    positions(locked, n);

    int* got = static_cast<int*>(palloc(sizeof(int) * n));
    int* missed = static_cast<int*>(palloc(sizeof(int) * n));
    int n_got = 0, n_missed = 0;
    for (int i = 0; i < n; ++i) (locked[i] ? got[n_got++] : missed[n_missed++]) = i;

    if (n_got > 0) {
        Datum* counts = static_cast<Datum*>(palloc(sizeof(Datum) * n_got));
        Datum* times = static_cast<Datum*>(palloc(sizeof(Datum) * n_got));
        for (int i = 0; i < n_got; ++i) {
            counts[i] = Int64GetDatum(uses[got[i]].requests);
            times[i] = TimestampTzGetDatum(uses[got[i]].last_used);
        }
        Oid types[3] = {UUIDARRAYOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID};
        Datum args[3] = {uuid_array(uses, got, n_got),
                         array_of(counts, n_got, INT8OID, 8, true, TYPALIGN_DOUBLE),
                         array_of(times, n_got, TIMESTAMPTZOID, 8, true, TYPALIGN_DOUBLE)};
        SPI_execute_with_args(kAddCounts, 3, types, args, nullptr, false, 0);
    }
    if (n_missed > 0) {
        Datum args[1] = {uuid_array(uses, missed, n_missed)};
        SPI_execute_with_args(kExistingKeys, 1, uuid_type, args, nullptr, true, 0);
        bool* exists = static_cast<bool*>(palloc0(sizeof(bool) * n_missed));
        positions(exists, n_missed);
        for (int i = 0; i < n_missed; ++i) {
            if (exists[i]) pk::shm::restore_use(generation, uses[missed[i]]);
        }
    }
}

void run_windows(const PendingWindow* w, int n) {
    if (n == 0) return;
    Datum* ids = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    Datum* sizes = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    Datum* indexes = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    Datum* counts = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    for (int i = 0; i < n; ++i) {
        ids[i] = UUIDPGetDatum(const_cast<pg_uuid_t*>(&w[i].key));
        sizes[i] = Int32GetDatum(w[i].window_seconds);
        // Window indexes count whole windows since the PostgreSQL epoch.
        indexes[i] = TimestampTzGetDatum(w[i].index * w[i].window_seconds * USECS_PER_SEC);
        counts[i] = Int32GetDatum(static_cast<int32>(Min(w[i].count, (int64)PG_INT32_MAX)));
    }
    Oid types[4] = {UUIDARRAYOID, INT4ARRAYOID, TIMESTAMPTZARRAYOID, INT4ARRAYOID};
    Datum args[4] = {array_of(ids, n, UUIDOID, 16, false, TYPALIGN_CHAR),
                     array_of(sizes, n, INT4OID, 4, true, TYPALIGN_INT),
                     array_of(indexes, n, TIMESTAMPTZOID, 8, true, TYPALIGN_DOUBLE),
                     array_of(counts, n, INT4OID, 4, true, TYPALIGN_INT)};
    SPI_execute_with_args(kFlushWindows, 4, types, args, nullptr, false, 0);
}

// Takes one batch of this database's pending counters and writes them; needs
// SPI and a snapshot. Counters of a dropped pk_keys are discarded. Returns
// how many keys and windows were taken.
// Serialises flushes of one database until their transactions end, so that
// pk_flush() returns only once counters taken by a concurrent flusher are
// committed (a lock on the pk_keys extension object, held to commit; DROP
// EXTENSION waits for a running flush too).
void lock_flushes() {
    Oid ext = get_extension_oid("pk_keys", true);
    if (OidIsValid(ext)) LockDatabaseObject(ExtensionRelationId, ext, 0, ShareUpdateExclusiveLock);
}

int take_and_write(PendingUse* uses, PendingWindow* w, bool with_windows) {
    int n_uses = 0, n_windows = 0;
    lock_flushes();
    Oid generation = pk::lookup::lookup_generation();
    pk::shm::take_pending(MyDatabaseId, generation, uses, &n_uses, w, &n_windows, kBatch,
                          with_windows);
    if (OidIsValid(generation)) {
        run_uses(generation, uses, n_uses);
        run_windows(w, n_windows);
        pk::events::write_queued();  // events of read-only transactions
    }
    return Max(n_uses, n_windows);
}

// Writes one batch in its own transaction; true if a full batch was taken
// (more may be pending). An error is logged and the batch dropped: these
// counters are best effort by design (credits never pass here).
bool flush_batch(PendingUse* uses, PendingWindow* w, bool with_windows, bool cleanup, bool* any) {
    MemoryContext cxt = CurrentMemoryContext;
    volatile int taken = 0;
    volatile bool failed = false;
    TimestampTz started = GetCurrentTimestamp();
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PG_TRY();
    {
        SPI_connect();
        PushActiveSnapshot(GetTransactionSnapshot());
        pgstat_report_activity(STATE_RUNNING, "pk_keys flush");
        // Batches are small next to api_keys: probe its index per key
        // rather than hash-joining a scan of the whole table.
        SPI_execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off", false, 0);
        taken = take_and_write(uses, w, with_windows);
        if (cleanup && OidIsValid(pk::lookup::lookup_generation())) {
            SPI_execute(kDeleteOldWindows, false, 0);
        }
        SPI_finish();
        PopActiveSnapshot();
        CommitTransactionCommand();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(cxt);
        EmitErrorReport();
        FlushErrorState();
        AbortCurrentTransaction();
        failed = true;
    }
    PG_END_TRY();
    pk::stats::note_flush(started, taken, failed);
    pgstat_report_activity(STATE_IDLE, nullptr);
    if (taken > 0) *any = true;
    return taken == kBatch;
}

// Drains what is pending for this database (windows too when with_windows);
// true if anything was written.
bool flush_all(PendingUse* uses, PendingWindow* w, bool with_windows, bool cleanup) {
    bool any = false;
    while (flush_batch(uses, w, with_windows, cleanup, &any)) {
        cleanup = false;
    }
    return any;
}

void on_exit_mark_stopped(int, Datum db) { pk::shm::flusher_stopped(DatumGetObjectId(db)); }

}  // namespace

namespace pk::flusher {

bool launch(Oid db) {
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART;
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "pk_keys");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "pk_keys_flusher_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "pk_keys flusher for database %u", db);
    snprintf(worker.bgw_type, BGW_MAXLEN, "pk_keys flusher");
    worker.bgw_main_arg = ObjectIdGetDatum(db);
    worker.bgw_notify_pid = 0;
    return RegisterDynamicBackgroundWorker(&worker, nullptr);
}

}  // namespace pk::flusher

void pk_keys_flusher_main(Datum db) {
    pqsignal(SIGTERM, handle_sigterm);
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    BackgroundWorkerUnblockSignals();
    before_shmem_exit(on_exit_mark_stopped, db);
    BackgroundWorkerInitializeConnectionByOid(DatumGetObjectId(db), InvalidOid, 0);

    auto* uses = static_cast<PendingUse*>(palloc(sizeof(PendingUse) * kBatch));
    auto* w = static_cast<PendingWindow*>(palloc(sizeof(PendingWindow) * kBatch));
    int idle_rounds = 0;
    TimestampTz last_windows = GetCurrentTimestamp();
    TimestampTz last_cleanup = last_windows;
    while (!got_sigterm) {
        int rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
                           pk::settings::flush_interval_ms, PG_WAIT_EXTENSION);
        if (rc & WL_LATCH_SET) ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        TimestampTz now = GetCurrentTimestamp();
        bool windows = now - last_windows >= kWindowEveryUs;
        bool cleanup = now - last_cleanup >= kCleanupEveryUs;
        if (windows) last_windows = now;
        if (cleanup) last_cleanup = now;
        bool wrote = flush_all(uses, w, windows, cleanup);
        idle_rounds = wrote ? 0 : idle_rounds + 1;
        if (idle_rounds >= kIdleRoundsBeforeExit) {
            // Quiet: write the windows too, then leave if nothing came in.
            flush_all(uses, w, true, false);
            if (pk::shm::retire_flusher_if_idle(MyDatabaseId)) proc_exit(0);
        }
    }
    // Clean shutdown: write what is left before the server stops.
    flush_all(uses, w, true, false);
    proc_exit(0);
}

// pk_flush(): writes this database's pending shared-memory counters now, in
// the caller's transaction (a rollback discards them). Returns how many keys
// and windows were written; 0 without shared memory.
PK_FUNCTION(pk_flush) {
    if (!pk::shm::available()) PG_RETURN_INT64(0);
    if (RecoveryInProgress()) PG_RETURN_INT64(0);
    auto* uses = static_cast<PendingUse*>(palloc(sizeof(PendingUse) * kBatch));
    auto* w = static_cast<PendingWindow*>(palloc(sizeof(PendingWindow) * kBatch));
    int64 total = 0;
    SPI_connect();
    for (;;) {
        int taken = take_and_write(uses, w, true);
        total += taken;
        if (taken < kBatch) break;
    }
    SPI_finish();
    PG_RETURN_INT64(total);
}
