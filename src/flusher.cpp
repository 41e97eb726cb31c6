// The flusher: one dynamic background worker per database in use. It wakes
// every pk_keys.flush_interval, moves pending counters out of shared memory
// and applies them in one transaction; on SIGTERM (clean shutdown) it flushes
// once more before exiting; after a few idle rounds it exits (so it never
// holds up DROP DATABASE for long) and the next VALID request relaunches it.
// Written in C style: no C++ object with a destructor lives in these frames,
// so PostgreSQL's longjmps cannot skip one.
#include "flusher.h"

#include <csignal>
#include <cstdio>

#include "key_lookup.h"
#include "pg_boundary.h"
#include "settings.h"
#include "shmem.h"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
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

volatile sig_atomic_t got_sigterm = 0;

void handle_sigterm(SIGNAL_ARGS) {
    int save_errno = errno;
    got_sigterm = 1;
    SetLatch(MyLatch);
    errno = save_errno;
}

// Updates only the key rows it can lock at once (SKIP LOCKED): the flusher
// never waits behind an application's transaction, nor queues other sessions
// behind itself. Returns the positions (1-based) of the keys it skipped.
const char* const kFlushUses =
    "WITH d AS ("
    "  SELECT * FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.uuid[]),"
    "                           pg_catalog.unnest($2::pg_catalog.int8[]),"
    "                           pg_catalog.unnest($3::pg_catalog.timestamptz[]))"
    "         WITH ORDINALITY AS d(id, n, t, i)),"
    " l AS (SELECT k.id FROM pk_keys.api_keys AS k JOIN d ON k.id OPERATOR(pg_catalog.=) d.id"
    "       FOR NO KEY UPDATE OF k SKIP LOCKED),"
    " u AS (UPDATE pk_keys.api_keys AS k"
    "          SET request_count = k.request_count OPERATOR(pg_catalog.+) d.n,"
    "              last_used_at = GREATEST(k.last_used_at, d.t)"
    "         FROM d JOIN l ON l.id OPERATOR(pg_catalog.=) d.id"
    "        WHERE k.id OPERATOR(pg_catalog.=) d.id RETURNING k.id)"
    "SELECT d.i FROM d"
    " WHERE NOT EXISTS (SELECT 1 FROM l WHERE l.id OPERATOR(pg_catalog.=) d.id)"
    "   AND EXISTS (SELECT 1 FROM pk_keys.api_keys AS x WHERE x.id OPERATOR(pg_catalog.=) d.id)";

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

void run_uses(Oid generation, const PendingUse* uses, int n) {
    if (n == 0) return;
    Datum* ids = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    Datum* counts = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    Datum* times = static_cast<Datum*>(palloc(sizeof(Datum) * n));
    for (int i = 0; i < n; ++i) {
        ids[i] = UUIDPGetDatum(const_cast<pg_uuid_t*>(&uses[i].key));
        counts[i] = Int64GetDatum(uses[i].requests);
        times[i] = TimestampTzGetDatum(uses[i].last_used);
    }
    Oid types[3] = {UUIDARRAYOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID};
    Datum args[3] = {array_of(ids, n, UUIDOID, 16, false, TYPALIGN_CHAR),
                     array_of(counts, n, INT8OID, 8, true, TYPALIGN_DOUBLE),
                     array_of(times, n, TIMESTAMPTZOID, 8, true, TYPALIGN_DOUBLE)};
    SPI_execute_with_args(kFlushUses, 3, types, args, nullptr, false, 0);
    for (uint64 r = 0; r < SPI_processed; ++r) {
        bool isnull = false;
        int64 i = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull));
        if (!isnull && i >= 1 && i <= n) pk::shm::restore_use(generation, uses[i - 1]);
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
    SPI_execute(kDeleteOldWindows, false, 0);
}

// Takes one batch of this database's pending counters and writes them; needs
// SPI and a snapshot. Counters of a dropped pk_keys are discarded. Returns
// how many keys and windows were taken.
int take_and_write(PendingUse* uses, PendingWindow* w) {
    int n_uses = 0, n_windows = 0;
    Oid generation = pk::lookup::lookup_generation();
    pk::shm::take_pending(MyDatabaseId, generation, uses, &n_uses, w, &n_windows, kBatch);
    if (OidIsValid(generation)) {
        run_uses(generation, uses, n_uses);
        run_windows(w, n_windows);
    }
    return Max(n_uses, n_windows);
}

// Writes one batch in its own transaction; true if a full batch was taken
// (more may be pending). An error is logged and the batch dropped: these
// counters are best effort by design (credits never pass here).
bool flush_batch(PendingUse* uses, PendingWindow* w, bool* any) {
    MemoryContext cxt = CurrentMemoryContext;
    volatile int taken = 0;
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PG_TRY();
    {
        SPI_connect();
        PushActiveSnapshot(GetTransactionSnapshot());
        pgstat_report_activity(STATE_RUNNING, "pk_keys flush");
        taken = take_and_write(uses, w);
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
    }
    PG_END_TRY();
    pgstat_report_activity(STATE_IDLE, nullptr);
    if (taken > 0) *any = true;
    return taken == kBatch;
}

// Drains everything pending for this database; true if anything was pending.
bool flush_all(PendingUse* uses, PendingWindow* w) {
    bool any = false;
    while (flush_batch(uses, w, &any)) {
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
    while (!got_sigterm) {
        int rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
                           pk::settings::flush_interval_ms, PG_WAIT_EXTENSION);
        if (rc & WL_LATCH_SET) ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        idle_rounds = flush_all(uses, w) ? 0 : idle_rounds + 1;
        if (idle_rounds >= kIdleRoundsBeforeExit && pk::shm::retire_flusher_if_idle(MyDatabaseId)) {
            proc_exit(0);
        }
    }
    // Clean shutdown: write what is left before the server stops.
    flush_all(uses, w);
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
        int taken = take_and_write(uses, w);
        total += taken;
        if (taken < kBatch) break;
    }
    SPI_finish();
    PG_RETURN_INT64(total);
}
