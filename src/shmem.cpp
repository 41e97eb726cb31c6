// Shared-memory windows and counters; the locking protocol is in shmem.h.
#include "shmem.h"

#include <cstring>

#include "flusher.h"
#include "rate_limit.h"
#include "settings.h"
#include "stats.h"
#include "usage_analytics.h"
#include "usage_queue.h"

extern "C" {
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/hsearch.h"
}

namespace pk::shm {

namespace {

constexpr int kMaxDatabases = 64;
// Untouched this long (and with nothing pending), a window may be evicted.
constexpr int64 kStaleUs = 10 * 60 * USECS_PER_SEC;
// After a scan of a full table that evicted nothing, how long calls go
// straight to the tables before the next scan.
constexpr int64 kEvictRescanUs = USECS_PER_SEC;

// Padding-free, so HASH_BLOBS hashes only meaningful bytes.
struct EntryKey {
    Oid db;
    Oid generation;  // pk_keys.api_keys's OID when the entry was made
    int32 window_seconds;
    pg_uuid_t key;
};

struct Entry {
    EntryKey key;  // hash key: must be first
    slock_t mutex;
    WindowState window;
    bool window_dirty;        // window changed since the last flush
    int64 pending_requests;   // VALID requests not yet in api_keys.request_count
    TimestampTz last_used;    // newest VALID request not yet flushed
    int64 touched_us;         // last access, for eviction
    int64 refused_index;      // window of the last first refusal (-1: none)
};

struct DbSlot {
    Oid db;
    pg_atomic_uint32 flusher_running;
};

struct State {
    LWLock* lock;
    slock_t db_mutex;
    // A full table is not scanned for stale windows again before this instant
    // (written under the exclusive lock, read under either mode): without it
    // every call for a key that has no window paid a scan of the whole table.
    int64 next_evict_scan_us;
    DbSlot dbs[kMaxDatabases];
};

State* state = nullptr;
HTAB* windows = nullptr;
shmem_request_hook_type prev_request_hook = nullptr;
shmem_startup_hook_type prev_startup_hook = nullptr;

Size shared_size() {
    return add_size(MAXALIGN(sizeof(State)),
                    hash_estimate_size(settings::max_tracked_windows, sizeof(Entry)));
}

void request_shmem() {
    if (prev_request_hook) prev_request_hook();
    RequestAddinShmemSpace(shared_size());
    RequestNamedLWLockTranche("pk_keys", 1);
    RequestAddinShmemSpace(usage_queue::shared_size());
    RequestNamedLWLockTranche("pk_keys usage queue", 1);
    RequestAddinShmemSpace(usage_analytics::shared_size());
    RequestNamedLWLockTranche("pk_keys verification analytics", 1);
}

void startup_shmem() {
    if (prev_startup_hook) prev_startup_hook();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    state = static_cast<State*>(ShmemInitStruct("pk_keys", sizeof(State), &found));
    if (!found) {
        state->lock = &(GetNamedLWLockTranche("pk_keys"))->lock;
        SpinLockInit(&state->db_mutex);
        state->next_evict_scan_us = 0;
        for (DbSlot& slot : state->dbs) {
            slot.db = InvalidOid;
            pg_atomic_init_u32(&slot.flusher_running, 0);
        }
    }
    HASHCTL info;
    std::memset(&info, 0, sizeof info);
    info.keysize = sizeof(EntryKey);
    info.entrysize = sizeof(Entry);
    windows = ShmemInitHash("pk_keys windows", settings::max_tracked_windows,
                            settings::max_tracked_windows, &info, HASH_ELEM | HASH_BLOBS);
    usage_queue::startup();
    usage_analytics::startup();
    LWLockRelease(AddinShmemInitLock);
}

EntryKey make_key(Oid generation, const pg_uuid_t& key, int32 window_seconds) {
    EntryKey k;
    std::memset(&k, 0, sizeof k);
    k.db = MyDatabaseId;
    k.generation = generation;
    k.window_seconds = window_seconds;
    k.key = key;
    return k;
}

// Removes windows untouched for a while with nothing pending; needs the
// exclusive lock. Returns how many were removed. A scan that removes nothing
// defers the next one by kEvictRescanUs.
long evict_stale(int64 now_us) {
    if (now_us < state->next_evict_scan_us) return 0;
    long removed = 0;
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, windows);
    while (Entry* e = static_cast<Entry*>(hash_seq_search(&seq))) {
        if (now_us - e->touched_us > kStaleUs && e->pending_requests == 0 && !e->window_dirty) {
            hash_search(windows, &e->key, HASH_REMOVE, nullptr);
            ++removed;
        }
    }
    stats::note_evictions(removed);
    if (removed == 0) state->next_evict_scan_us = now_us + kEvictRescanUs;
    return removed;
}

// True when the table is full and no eviction scan is due: the caller can
// fall back to the tables without taking the exclusive lock.
bool full_without_scan(int64 now_us) {
    return hash_get_num_entries(windows) >= settings::max_tracked_windows &&
           now_us < state->next_evict_scan_us;
}

// Finds the entry, creating it when absent. Returns with state->lock held in
// the returned mode, or nullptr (lock released) when the table is full.
Entry* find_or_create(const EntryKey& k, int64 now_us) {
    LWLockAcquire(state->lock, LW_SHARED);
    auto* e = static_cast<Entry*>(hash_search(windows, &k, HASH_FIND, nullptr));
    if (e) return e;
    bool skip = full_without_scan(now_us);
    LWLockRelease(state->lock);
    if (skip) return nullptr;

    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    if (hash_get_num_entries(windows) >= settings::max_tracked_windows && evict_stale(now_us) == 0) {
        e = static_cast<Entry*>(hash_search(windows, &k, HASH_FIND, nullptr));
        if (!e) {
            LWLockRelease(state->lock);
            return nullptr;
        }
        return e;
    }
    bool found = false;
    e = static_cast<Entry*>(hash_search(windows, &k, HASH_ENTER_NULL, &found));
    if (!e) {
        LWLockRelease(state->lock);
        return nullptr;
    }
    if (!found) {
        SpinLockInit(&e->mutex);
        e->window = WindowState{};
        e->window_dirty = false;
        e->pending_requests = 0;
        e->last_used = 0;
        e->touched_us = now_us;
        e->refused_index = -1;
        stats::note_window_created();
    }
    return e;
}

// This backend's slot (a backend stays in one database; slots are never freed).
DbSlot* my_db_slot = nullptr;

DbSlot* db_slot(Oid db, bool create) {
    DbSlot* result = nullptr;
    SpinLockAcquire(&state->db_mutex);
    for (DbSlot& slot : state->dbs) {
        if (slot.db == db) {
            result = &slot;
            break;
        }
        if (create && !result && slot.db == InvalidOid) result = &slot;
    }
    if (result && result->db != db) result->db = db;
    SpinLockRelease(&state->db_mutex);
    return result;
}

// Starts this database's flusher unless one is running.
// This database's slot, or nullptr when every slot is taken by others (then
// nothing may be deferred to a flusher: callers write the tables).
DbSlot* my_slot() {
    if (!my_db_slot) my_db_slot = db_slot(MyDatabaseId, true);
    return my_db_slot;
}

void ensure_flusher() {
    DbSlot* slot = my_slot();
    if (!slot || pg_atomic_read_u32(&slot->flusher_running) == 1) return;
    uint32 expected = 0;
    if (!pg_atomic_compare_exchange_u32(&slot->flusher_running, &expected, 1)) return;
    if (!flusher::launch(MyDatabaseId)) pg_atomic_write_u32(&slot->flusher_running, 0);
}

}  // namespace

void install_hooks() {
    prev_request_hook = shmem_request_hook;
    shmem_request_hook = request_shmem;
    prev_startup_hook = shmem_startup_hook;
    shmem_startup_hook = startup_shmem;
}

bool available() { return state != nullptr && windows != nullptr; }

bool window_acquire(Oid generation, const pg_uuid_t& key, int32 window_seconds, int64 now_us,
                    int64 limit, int64 cost, TimestampTz record_at, rl::Mode mode,
                    WindowDecision* out, int64* index_out, bool* recorded_out,
                    bool* first_refusal_out) {
    EntryKey k = make_key(generation, key, window_seconds);
    Entry* e = find_or_create(k, now_us);
    if (!e) {
        stats::note_table_fallback();
        return false;
    }
    int64 window_us = static_cast<int64>(window_seconds) * USECS_PER_SEC;
    SpinLockAcquire(&e->mutex);
    *out = pk::window_acquire_with(e->window, now_us, window_us, limit, cost, mode.algorithm, mode.force);
    *index_out = e->window.cur_index;
    bool record = out->allowed && record_at != 0 && my_slot() != nullptr;
    if ((out->allowed || mode.force) && cost > 0) e->window_dirty = true;
    *first_refusal_out = !out->allowed && e->refused_index != e->window.cur_index;
    if (*first_refusal_out) e->refused_index = e->window.cur_index;
    if (record) {
        e->pending_requests += 1;
        if (record_at > e->last_used) e->last_used = record_at;
    }
    e->touched_us = now_us;
    SpinLockRelease(&e->mutex);
    if (record) ensure_flusher();  // under the lock: see record_use()
    *recorded_out = record;
    LWLockRelease(state->lock);
    return true;
}

void window_release(Oid generation, const pg_uuid_t& key, int32 window_seconds, int64 index, int64 cost) {
    EntryKey k = make_key(generation, key, window_seconds);
    LWLockAcquire(state->lock, LW_SHARED);
    if (auto* e = static_cast<Entry*>(hash_search(windows, &k, HASH_FIND, nullptr))) {
        SpinLockAcquire(&e->mutex);
        pk::window_release(e->window, index, cost);
        SpinLockRelease(&e->mutex);
    }
    LWLockRelease(state->lock);
}

bool record_use(Oid generation, const pg_uuid_t& key, int32 window_seconds, TimestampTz now) {
    if (!my_slot()) return false;
    EntryKey k = make_key(generation, key, window_seconds);
    bool recorded = false;
    LWLockAcquire(state->lock, LW_SHARED);
    if (auto* e = static_cast<Entry*>(hash_search(windows, &k, HASH_FIND, nullptr))) {
        SpinLockAcquire(&e->mutex);
        e->pending_requests += 1;
        if (now > e->last_used) e->last_used = now;
        SpinLockRelease(&e->mutex);
        recorded = true;
    }
    // Checked under the shared lock: a flusher retires only under the
    // exclusive one, after seeing nothing pending, so this use is never orphaned.
    if (recorded) ensure_flusher();
    LWLockRelease(state->lock);
    return recorded;
}

void take_pending(Oid db, Oid generation, PendingUse* uses, int* n_uses, PendingWindow* out_windows,
                  int* n_windows, int max, bool with_windows) {
    *n_uses = 0;
    *n_windows = 0;
    LWLockAcquire(state->lock, LW_SHARED);
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, windows);
    while (Entry* e = static_cast<Entry*>(hash_seq_search(&seq))) {
        if (e->key.db != db) continue;
        if (*n_uses >= max || *n_windows >= max) {
            hash_seq_term(&seq);
            break;
        }
        SpinLockAcquire(&e->mutex);
        if (e->key.generation != generation) {
            e->pending_requests = 0;
            e->window_dirty = false;
        }
        if (e->pending_requests > 0) {
            uses[*n_uses] = PendingUse{e->key.key, e->key.window_seconds, e->pending_requests,
                                       e->last_used};
            ++*n_uses;
            e->pending_requests = 0;
            e->last_used = 0;
        }
        if (with_windows && e->window_dirty) {
            out_windows[*n_windows] = PendingWindow{e->key.key, e->key.window_seconds,
                                                    e->window.cur_index, e->window.cur_count};
            ++*n_windows;
            e->window_dirty = false;
        }
        SpinLockRelease(&e->mutex);
    }
    LWLockRelease(state->lock);
}

void restore_use(Oid generation, const PendingUse& use) {
    EntryKey k = make_key(generation, use.key, use.window_seconds);
    LWLockAcquire(state->lock, LW_SHARED);
    if (auto* e = static_cast<Entry*>(hash_search(windows, &k, HASH_FIND, nullptr))) {
        SpinLockAcquire(&e->mutex);
        e->pending_requests += use.requests;
        if (use.last_used > e->last_used) e->last_used = use.last_used;
        SpinLockRelease(&e->mutex);
    }
    LWLockRelease(state->lock);
}

bool retire_flusher_if_idle(Oid db) {
    bool idle = true;
    LWLockAcquire(state->lock, LW_EXCLUSIVE);
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, windows);
    while (Entry* e = static_cast<Entry*>(hash_seq_search(&seq))) {
        if (e->key.db == db && (e->pending_requests > 0 || e->window_dirty)) {
            idle = false;
            hash_seq_term(&seq);
            break;
        }
    }
    if (idle && (usage_queue::has_rows(db) || usage_analytics::has_pending(db))) idle = false;
    if (idle) flusher_stopped(db);
    LWLockRelease(state->lock);
    return idle;
}

bool queue_usage(Oid generation, const usage_queue::Row& row) {
    if (!my_slot()) return false;
    LWLockAcquire(state->lock, LW_SHARED);
    bool queued = usage_queue::push(MyDatabaseId, generation, row);
    // Under the shared lock, as in record_use().
    if (queued) ensure_flusher();
    LWLockRelease(state->lock);
    return queued;
}

bool count_for_flusher(bool (*add)(void*), void* ctx) {
    if (!my_slot()) return false;
    LWLockAcquire(state->lock, LW_SHARED);
    bool counted = add(ctx);
    if (counted) ensure_flusher();  // under the shared lock, as in record_use()
    LWLockRelease(state->lock);
    return counted;
}

void wake_flusher() {
    if (available()) ensure_flusher();
}

void flusher_stopped(Oid db) {
    if (DbSlot* slot = db_slot(db, false)) pg_atomic_write_u32(&slot->flusher_running, 0);
}

}  // namespace pk::shm
