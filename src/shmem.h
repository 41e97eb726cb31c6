// Shared-memory rate-limit windows and usage counters (only when the library
// is in shared_preload_libraries).
//
// Locking protocol (after pg_stat_statements):
//  * State::lock (a named LWLock) guards the hash table's structure: take it
//    shared to find an entry, exclusive to add or evict entries and when a
//    flusher decides to exit.
//  * Entry::mutex (a spinlock) guards one entry's counters; hold it only for
//    a few instructions, never across a call that can raise ERROR.
//  * State::db_mutex guards the per-database flusher slots.
// None of the functions below raise ERROR in practice: LWLock, spinlock and
// hash_search(HASH_ENTER_NULL) calls only PANIC on corrupted state.
#pragma once

extern "C" {
#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/uuid.h"
}

#include "core/sliding_window.h"

namespace pk::rl {
struct Mode;
}

namespace pk::shm {

// Registers the shared-memory hooks; call from _PG_init while preloading.
void install_hooks();

// True when this backend can use the shared-memory paths.
bool available();

// Takes `cost` slots (0 = check only) of the (database, key, window) counter.
// Returns false when no entry could be had (table full): the caller falls
// back to the tables. *index_out receives the fixed-window index used.
// `generation` is the OID of pk_keys.api_keys in this database: entries made
// before a DROP + CREATE EXTENSION belong to an older generation and are
// discarded instead of being written into the new tables.
// When record_at is not 0 and the slots are taken, the request is also
// counted for the flusher as record_use() would (one lock round trip less);
// *recorded_out says whether it was.
// `mode` chooses the algorithm and shadow counting (rate_limit.h);
// *first_refusal_out is true for the first refused request of the entry's
// current window (so rate_limit.exceeded is raised once per window).
bool window_acquire(Oid generation, const pg_uuid_t& key, int32 window_seconds, int64 now_us,
                    int64 limit, int64 cost, TimestampTz record_at, rl::Mode mode,
                    WindowDecision* out, int64* index_out, bool* recorded_out,
                    bool* first_refusal_out);

// Gives back slots taken by window_acquire.
void window_release(Oid generation, const pg_uuid_t& key, int32 window_seconds, int64 index, int64 cost);

// Counts one VALID request of `key` for the flusher (request_count and
// last_used_at); returns false when the key has no entry or no flusher can
// serve this database (the caller writes the table itself).
bool record_use(Oid generation, const pg_uuid_t& key, int32 window_seconds, TimestampTz now);

// One pending change for the tables, collected by the flusher.
struct PendingUse {
    pg_uuid_t key;
    int32 window_seconds;  // of the entry that counted them
    int64 requests;
    TimestampTz last_used;
};

// Puts counters taken by take_pending() back (the flusher could not write
// them without waiting for a row lock).
void restore_use(Oid generation, const PendingUse& use);
struct PendingWindow {
    pg_uuid_t key;
    int32 window_seconds;
    int64 index;
    int64 count;
};

// Moves the pending counters of database `db` and `generation` into the
// arrays (at most `max` of each; windows only when with_windows); pending
// counters of other generations of `db` are discarded.
void take_pending(Oid db, Oid generation, PendingUse* uses, int* n_uses, PendingWindow* windows,
                  int* n_windows, int max, bool with_windows);

// True when database `db` has nothing left to flush; if so (and only then)
// marks its flusher as stopped, atomically with the check.
bool retire_flusher_if_idle(Oid db);

// Starts this database's flusher unless one is running (queued events).
void wake_flusher();

// Marks the flusher of `db` as stopped (on worker exit).
void flusher_stopped(Oid db);

}  // namespace pk::shm
