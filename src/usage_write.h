// The usage write path: pk_usage_create, pk_usage_record (queued when
// preloaded) and the statement trigger behind INSERT ... SELECT / COPY into
// pk_keys.api_key_usage. All aggregate through pk::usage::Batch.
#pragma once

extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "access/htup.h"
#include "access/tupdesc.h"
#include "datatype/timestamp.h"
#include "utils/inet.h"
#include "utils/uuid.h"
}

namespace pk::usage {

// The arguments of pk_usage_create / pk_usage_record, checked.
struct UsageArgs {
    pg_uuid_t key;
    text* endpoint;    // detoasted
    text* method;      // detoasted
    int32 status_code;
    bool has_response_time;
    int32 response_time_ms;
    inet* ip_address;  // nullptr: NULL
    text* user_agent;  // nullptr: NULL
    TimestampTz occurred_at;
};

// Bytes of a text datum, without detoasting it.
int64 raw_bytes(Datum d);

// Reads and checks the eight arguments (22004 for a NULL required argument,
// 22023 naming the argument otherwise). May raise ERROR.
void read_args(FunctionCallInfo fcinfo, UsageArgs* a);

// Inserts the row (below the root's trigger) and its aggregates; SPI must be
// connected. P0002 for an unknown key. With result_desc, returns the row
// formed in result_cxt (else nullptr).
HeapTuple write_row(const UsageArgs& a, TupleDesc result_desc, MemoryContext result_cxt);

}  // namespace pk::usage
