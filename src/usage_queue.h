// The shared-memory queue of pk_usage_record rows (only when preloaded).
//
// A byte ring of pk_keys.usage_queue_size: entries (16-byte aligned) carry a
// header (state, database, generation) and one usage row whose organization
// was looked up at the call. The per-database flusher (or pk_flush) takes
// the ready entries of its database, writes them in its transaction, and
// marks them done at commit (back to ready at abort) from a transaction
// callback; the ring's tail advances over done entries only. The queue does
// not survive a crash or a restart, so a row is written at most once; a
// crash loses at most what was queued since the last flush.
//
// Locking protocol: Ring::mutex (a spinlock) guards head, tail and entry
// states, held only for copying one entry or scanning headers (never across
// a call that can raise ERROR). Producers push while holding the windows'
// LWLock in shared mode and a flusher retires only under it in exclusive
// mode after seeing nothing queued (see shmem.h), so no row is orphaned.
#pragma once

extern "C" {
#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/inet.h"
#include "utils/uuid.h"
}

namespace pk::usage_queue {

// Shared-memory size and initialisation (called from shmem.cpp's hooks).
Size shared_size();
void startup();

// One row, as pk_usage_record received it (pointers into the caller's args).
struct Row {
    pg_uuid_t key;
    pg_uuid_t org;
    TimestampTz occurred_at;
    int32 status_code;
    bool has_response_time;
    int32 response_time_ms;
    const inet* ip_address;  // nullptr: NULL
    const char* endpoint;
    int endpoint_len;
    const char* method;
    int method_len;
    const char* user_agent;  // nullptr: NULL
    int user_agent_len;
};

// Queues the row for database `db` (generation: see shmem.h); false when the
// queue is full (the caller writes the row itself). Never raises ERROR.
bool push(Oid db, Oid generation, const Row& row);

// True when database `db` has queued rows (ready or taken).
bool has_rows(Oid db);

// Rows of every database still in the queue (ready or taken, not yet
// written): pk_keys.pk_stats.queued_usage_rows. 0 without a queue.
int64 queued_rows();

// Takes up to max_rows ready rows of `db` and writes them with their
// aggregates (SPI connected, in a transaction); entries of other
// generations of `db` are discarded. Returns the rows taken. May raise
// ERROR (the rows go back to ready when the transaction aborts).
int take_and_write(Oid db, Oid generation, int max_rows);

// How many rows this backend has taken in its transaction so far, and a way
// to give back the ones taken after such a mark (a failed subtransaction).
int taken_mark();
void untake(int mark);

}  // namespace pk::usage_queue
