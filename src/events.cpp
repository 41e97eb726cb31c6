// Events raised on use; the rules and the queue's locking are in events.h.
#include "events.h"

#include <cstring>

#include "key_lookup.h"
#include "pg_boundary.h"
#include "shmem.h"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/timestamp.h"
}

namespace pk::events {

namespace {

constexpr int kQueueSize = 1024;
constexpr int kPayloadBytes = 480;
constexpr int kKindBytes = 24;
constexpr int kMemoSize = 64;
constexpr int64 kExpiringUs = 7LL * USECS_PER_DAY;

struct Queued {
    bool used;
    Oid db;
    char kind[kKindBytes];
    pg_uuid_t org;
    pg_uuid_t key;
    char payload[kPayloadBytes];
};

struct Queue {
    slock_t mutex;
    pg_atomic_uint64 dropped;
    Queued entries[kQueueSize];
};

Queue* queue = nullptr;
shmem_request_hook_type prev_request_hook = nullptr;
shmem_startup_hook_type prev_startup_hook = nullptr;
uint64 dropped_here = 0;  // without shared memory: this backend's count

void request_shmem() {
    if (prev_request_hook) prev_request_hook();
    RequestAddinShmemSpace(MAXALIGN(sizeof(Queue)));
}

void startup_shmem() {
    if (prev_startup_hook) prev_startup_hook();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    queue = static_cast<Queue*>(ShmemInitStruct("pk_keys events", sizeof(Queue), &found));
    if (!found) {
        SpinLockInit(&queue->mutex);
        pg_atomic_init_u64(&queue->dropped, 0);
        for (Queued& q : queue->entries) q.used = false;
    }
    LWLockRelease(AddinShmemInitLock);
}

void count_drop() {
    if (queue) {
        pg_atomic_fetch_add_u64(&queue->dropped, 1);
    } else {
        ++dropped_here;
    }
}

// Occasions this backend has already raised (or seen raised): a small
// round-robin memo, so repeats cost neither a lookup nor a write.
struct Memo {
    pg_uuid_t id;
    int64 tag;
    bool used;
};
// One memo per kind (a limit id can be a key id: the per-minute limit).
struct MemoSet {
    Memo entries[kMemoSize];
    int next;
};
MemoSet refusals_seen, expiring_seen;

bool memo_seen(const MemoSet& set, const pg_uuid_t& id, int64 tag) {
    for (const Memo& m : set.entries) {
        if (m.used && m.tag == tag && memcmp(&m.id, &id, sizeof id) == 0) return true;
    }
    return false;
}

void memo_add(MemoSet& set, const pg_uuid_t& id, int64 tag) {
    set.entries[set.next] = Memo{id, tag, true};
    set.next = (set.next + 1) % kMemoSize;
}

bool writable() { return !RecoveryInProgress() && !XactReadOnly; }

// Queues one event for the flusher; false when the queue is full.
bool enqueue(const char* kind, const pg_uuid_t& org, const pg_uuid_t& key, const char* payload) {
    if (!queue || strlen(payload) >= kPayloadBytes) return false;
    bool queued = false;
    SpinLockAcquire(&queue->mutex);
    for (Queued& q : queue->entries) {
        if (q.used) continue;
        q.used = true;
        q.db = MyDatabaseId;
        strlcpy(q.kind, kind, kKindBytes);
        q.org = org;
        q.key = key;
        strlcpy(q.payload, payload, kPayloadBytes);
        queued = true;
        break;
    }
    SpinLockRelease(&queue->mutex);
    return queued;
}

// Raises one event: pk_event_emit in this transaction, else the queue.
void emit(spi::Conn& conn, const char* kind, const pg_uuid_t& org, const pg_uuid_t& key,
          const char* payload) {
    if (!lookup::has_events()) return;  // a 1.0 schema has no events table
    if (!writable()) {
        // A standby's flusher cannot write: only a primary queues.
        if (RecoveryInProgress() || !enqueue(kind, org, key, payload)) {
            count_drop();
        } else {
            shm::wake_flusher();
        }
        return;
    }
    pg_uuid_t o = org, k = key;
    Datum args[4] = {CStringGetTextDatum(kind), UUIDPGetDatum(&o), UUIDPGetDatum(&k),
                     CStringGetTextDatum(payload)};
    spi::exec(conn, spi::Stmt::kEventEmit, args, nullptr, 0);
}

// JSON text of a timestamptz (ISO 8601, the session's time zone).
const char* iso(TimestampTz t, char* buf) {
    JsonEncodeDateTime(buf, TimestampTzGetDatum(t), TIMESTAMPTZOID, nullptr);
    return buf;
}

}  // namespace

void install_hooks() {
    prev_request_hook = shmem_request_hook;
    shmem_request_hook = request_shmem;
    prev_startup_hook = shmem_startup_hook;
    shmem_startup_hook = startup_shmem;
}

void after_spend(spi::Conn& conn, const pg_uuid_t& org, const pg_uuid_t& key, int64 before,
                 int64 after, int64 baseline) {
    // Below 10 % of the baseline: after * 10 < baseline <= before * 10.
    if (baseline > 0 && after * 10 < baseline && before * 10 >= baseline) {
        char* payload = psprintf("{\"remaining\": " INT64_FORMAT ", \"baseline\": " INT64_FORMAT "}",
                                 after, baseline);
        emit(conn, "credits.low", org, key, payload);
    }
    if (after == 0 && before > 0) emit(conn, "credits.exhausted", org, key, "{\"remaining\": 0}");
}

void rate_limited(spi::Conn& conn, const pg_uuid_t& org, const pg_uuid_t& key, const char* limit,
                  const pg_uuid_t& limit_id, int32 window_seconds, TimestampTz window_start,
                  bool from_shared_memory) {
    int64 tag = window_start ^ (static_cast<int64>(window_seconds) << 48);
    if (!from_shared_memory && memo_seen(refusals_seen, limit_id, tag)) return;
    memo_add(refusals_seen, limit_id, tag);
    pg_uuid_t id = limit_id;
    char* id_s = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&id)));
    char when[MAXDATELEN + 1];
    StringInfoData buf;
    initStringInfo(&buf);
    appendStringInfoString(&buf, "{\"limit\": ");
    escape_json(&buf, limit);
    appendStringInfo(&buf, ", \"limit_id\": \"%s\", \"window_seconds\": %d, \"window_start\": \"%s\", "
                           "\"occasion\": \"%s:%d:" INT64_FORMAT "\"}",
                     id_s, window_seconds, iso(window_start, when), id_s, window_seconds, window_start);
    emit(conn, "rate_limit.exceeded", org, key, buf.data);
}

void on_valid(spi::Conn& conn, const pg_uuid_t& org, const pg_uuid_t& key, TimestampTz expires_at) {
    if (expires_at == 0 || expires_at - GetCurrentTransactionStartTimestamp() > kExpiringUs) return;
    if (memo_seen(expiring_seen, key, expires_at)) return;
    memo_add(expiring_seen, key, expires_at);
    char when[MAXDATELEN + 1];
    char* payload = psprintf("{\"expires_at\": \"%s\", \"occasion\": \"expires_at:" INT64_FORMAT "\"}",
                             iso(expires_at, when), expires_at);
    emit(conn, "key.expiring", org, key, payload);
}

int write_queued() {
    if (!queue || !lookup::has_events()) return 0;
    int written = 0;
    for (int i = 0; i < kQueueSize; ++i) {
        Queued q;
        bool mine = false;
        SpinLockAcquire(&queue->mutex);
        if (queue->entries[i].used && queue->entries[i].db == MyDatabaseId) {
            q = queue->entries[i];
            queue->entries[i].used = false;
            mine = true;
        }
        SpinLockRelease(&queue->mutex);
        if (!mine) continue;
        Oid types[4] = {TEXTOID, UUIDOID, UUIDOID, TEXTOID};
        Datum args[4] = {CStringGetTextDatum(q.kind), UUIDPGetDatum(&q.org), UUIDPGetDatum(&q.key),
                         CStringGetTextDatum(q.payload)};
        SPI_execute_with_args("SELECT pk_keys.pk_event_emit($1, $2, $3, $4::pg_catalog.jsonb)", 4, types,
                              args, nullptr, false, 0);
        ++written;
    }
    return written;
}

}  // namespace pk::events

// pk_keys.pk_events_dropped(): events that could not be written nor queued
// (shared count when preloaded, else this backend's).
PK_FUNCTION(pk_events_dropped) {
    if (pk::events::queue) PG_RETURN_INT64(static_cast<int64>(pg_atomic_read_u64(&pk::events::queue->dropped)));
    PG_RETURN_INT64(static_cast<int64>(pk::events::dropped_here));
}
