// Usage aggregation: the one code path that turns usage rows into their
// aggregates (usage_rollup counters, the day and month key sets), for one
// row (pk_usage_create, pk_usage_record) and for a batch (the statement
// trigger behind INSERT ... SELECT / COPY, the flusher's queued rows). The
// rules themselves (UTC day and month, success, bounds) are in
// core/usage_rules.h.
//
// Locking protocol: every aggregate row a backend writes carries its shard,
// MyProc->pgprocno + 1, unique among live backends. So no two concurrently
// running transactions ever write the same aggregate row: writers never wait
// for one another and cannot deadlock, whatever their order, size or number
// of statements. Shard 0 belongs to maintenance (pk_usage_compact_rollups
// folds past days into it with SKIP LOCKED; pk_usage_rebuild_rollups writes
// it under a SHARE lock), which never waits for a writer.
//
// C-style: batches live in palloc'd memory (dynahash tables), so an ERROR may
// unwind through these frames; no C++ object with a destructor is involved.
#pragma once

extern "C" {
#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/uuid.h"
}

namespace pk::usage {

struct Batch;

// A new empty batch in CurrentMemoryContext.
Batch* batch_begin();

// Adds one row's contribution (endpoint: endpoint_len bytes, not
// NUL-terminated; copied when it starts a new group).
void batch_add(Batch* b, const pg_uuid_t& org, const pg_uuid_t& key, TimestampTz at,
               const char* endpoint, int endpoint_len, int32 status_code, bool has_response_time,
               int32 response_time_ms);

// Rows added so far.
int64 batch_rows(const Batch* b);

// Writes the batch's aggregates under this backend's shard with one saved
// statement; SPI must be connected. May raise ERROR.
void batch_apply(Batch* b);

// This backend's shard (1 .. 32767).
int16 my_shard();

// Raises 22023 naming the argument unless the row is within the 1.1 bounds
// (user_agent_bytes < 0: NULL). now() is the transaction's start.
void check_bounds(int64 endpoint_bytes, int64 method_bytes, int64 user_agent_bytes,
                  TimestampTz occurred_at);

}  // namespace pk::usage
