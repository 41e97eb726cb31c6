// Verification analytics: every pk_authenticate outcome counted per
// (organization, key, code, UTC minute) with the credits it spent.
//
// Preloaded, the counters live in shared memory (a hash table of
// pk_keys.max_verification_counters entries) and the flusher adds them to
// pk_keys.verification_counts with one set-based upsert per batch: no WAL
// per request; a crash loses at most one flush interval of counts, like the
// other counters. Without preload (or with the table full) the call adds to
// its own row of the table (shard = proc number + 1, so concurrent
// transactions never write the same row: no waits, no deadlocks).
//
// Locking protocol: Analytics::lock (a named LWLock) in shared mode to find
// an entry and add to its atomic counters; exclusive to create entries and
// for the flusher to take (remove) them. Counting never raises ERROR in
// shared memory; the table path may (it is an ordinary write).
#pragma once

extern "C" {
#include "postgres.h"

#include "utils/uuid.h"
}

namespace pk::usage {

// Counts one verification outcome. org nullptr (MALFORMED, NOT_FOUND): not
// counted per organization. Nothing is written on a standby or in a
// read-only transaction, nor in a database whose pk_keys is 1.0.
void count_verification(const pg_uuid_t* org, const pg_uuid_t* key, const char* code,
                        int64 credits_spent);

}  // namespace pk::usage

namespace pk::usage_analytics {

// Shared memory (called from shmem.cpp's hooks).
Size shared_size();
void startup();

// True when database `db` has counts waiting for the flusher.
bool has_pending(Oid db);

// Takes up to max_counts pending counts of `db` (and generation) and adds
// them to the table; SPI connected. Returns how many were taken. On ERROR
// the counts are lost unless the caller restores them with restore_taken().
int take_and_write(Oid db, Oid generation, int max_counts);

// Puts back what the last take_and_write took (its write failed).
void restore_taken(Oid generation);

}  // namespace pk::usage_analytics
