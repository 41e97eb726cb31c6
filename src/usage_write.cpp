// The usage write path (see usage_write.h). C-style frames after argument
// checks: no C++ object with a destructor lives across PostgreSQL calls.
#include "usage_write.h"

#include "key_lookup.h"
#include "pg_boundary.h"
#include "shmem.h"
#include "usage_aggregate.h"
#include "usage_queue.h"

extern "C" {
#include "access/detoast.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace pk::usage {

namespace {

// The row goes straight into api_key_usage_months, below the root's
// trigger: its aggregates are applied by the caller, once.
const char* const kInsertSql =
    "INSERT INTO pk_keys.api_key_usage_months AS u"
    "       (api_key_id, organization_id, occurred_at, endpoint, method, status_code,"
    "        response_time_ms, ip_address, user_agent)"
    "SELECT k.id, k.organization_id, $2, $3, $4, $5, $6, $7, $8"
    "  FROM pk_keys.api_keys k WHERE k.id OPERATOR(pg_catalog.=) $1"
    " RETURNING u.id, u.api_key_id, u.organization_id, u.occurred_at, u.endpoint, u.method,"
    "           u.status_code, u.response_time_ms, u.ip_address, u.user_agent";

SPIPlanPtr insert_plan = nullptr;

SPIPlanPtr get_insert_plan() {
    if (!insert_plan) {
        Oid types[8] = {UUIDOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, INT4OID, INT4OID, INETOID, TEXTOID};
        SPIPlanPtr p = SPI_prepare(kInsertSql, 8, types);
        if (!p) elog(ERROR, "pk_keys: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        SPI_keepplan(p);
        insert_plan = p;
    }
    return insert_plan;
}

// The key's organization (pk_usage_record checks the key at the call).
const char* const kOrgSql = "SELECT organization_id FROM pk_keys.api_keys WHERE id OPERATOR(pg_catalog.=) $1";

SPIPlanPtr org_plan = nullptr;

SPIPlanPtr get_org_plan() {
    if (!org_plan) {
        Oid types[1] = {UUIDOID};
        SPIPlanPtr p = SPI_prepare(kOrgSql, 1, types);
        if (!p) elog(ERROR, "pk_keys: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        SPI_keepplan(p);
        org_plan = p;
    }
    return org_plan;
}

[[noreturn]] void fail(int code, const char* msg) {
    ereport(ERROR, (errcode(code), errmsg("%s", msg)));
    pg_unreachable();
}

void require(FunctionCallInfo fcinfo, int n, const char* msg) {
    if (PG_ARGISNULL(n)) fail(ERRCODE_NULL_VALUE_NOT_ALLOWED, msg);
}

}  // namespace

// Bytes of a text datum without detoasting it (so a 100 MB value is never
// copied just to be refused).
int64 raw_bytes(Datum d) { return static_cast<int64>(toast_raw_datum_size(d)) - VARHDRSZ; }

void read_args(FunctionCallInfo fcinfo, UsageArgs* a) {
    require(fcinfo, 0, "key_id must not be NULL");
    require(fcinfo, 1, "endpoint must not be NULL");
    require(fcinfo, 2, "method must not be NULL");
    require(fcinfo, 3, "status_code must not be NULL");
    require(fcinfo, 7, "occurred_at must not be NULL");
    a->status_code = PG_GETARG_INT32(3);
    if (a->status_code < 100 || a->status_code > 599) {
        fail(ERRCODE_INVALID_PARAMETER_VALUE, "status_code must be between 100 and 599");
    }
    a->has_response_time = !PG_ARGISNULL(4);
    a->response_time_ms = a->has_response_time ? PG_GETARG_INT32(4) : 0;
    if (a->response_time_ms < 0) fail(ERRCODE_INVALID_PARAMETER_VALUE, "response_time_ms must not be negative");
    a->occurred_at = PG_GETARG_TIMESTAMPTZ(7);
    int64 ua_bytes = PG_ARGISNULL(6) ? -1 : raw_bytes(PG_GETARG_DATUM(6));
    check_bounds(raw_bytes(PG_GETARG_DATUM(1)), raw_bytes(PG_GETARG_DATUM(2)), ua_bytes, a->occurred_at);
    memcpy(&a->key, PG_GETARG_UUID_P(0), sizeof a->key);
    a->endpoint = PG_GETARG_TEXT_PP(1);
    a->method = PG_GETARG_TEXT_PP(2);
    a->ip_address = PG_ARGISNULL(5) ? nullptr : PG_GETARG_INET_PP(5);
    a->user_agent = PG_ARGISNULL(6) ? nullptr : PG_GETARG_TEXT_PP(6);
}

HeapTuple write_row(const UsageArgs& a, TupleDesc result_desc, MemoryContext result_cxt) {
    pg_uuid_t key = a.key;
    Datum args[8] = {UUIDPGetDatum(&key),
                     TimestampTzGetDatum(a.occurred_at),
                     PointerGetDatum(a.endpoint),
                     PointerGetDatum(a.method),
                     Int32GetDatum(a.status_code),
                     Int32GetDatum(a.response_time_ms),
                     PointerGetDatum(a.ip_address),
                     PointerGetDatum(a.user_agent)};
    char nulls[9] = "        ";
    if (!a.has_response_time) nulls[5] = 'n';
    if (!a.ip_address) nulls[6] = 'n';
    if (!a.user_agent) nulls[7] = 'n';
    int rc = SPI_execute_plan(get_insert_plan(), args, nulls, false, 0);
    if (rc < 0) elog(ERROR, "pk_keys: usage insert failed: %s", SPI_result_code_string(rc));
    if (SPI_processed == 0) {
        char* id = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&key)));
        ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND), errmsg("api key %s does not exist", id)));
    }
    HeapTuple row = SPI_tuptable->vals[0];
    TupleDesc desc = SPI_tuptable->tupdesc;
    bool isnull = false;
    pg_uuid_t org = *DatumGetUUIDP(SPI_getbinval(row, desc, 3, &isnull));
    HeapTuple result = nullptr;
    if (result_desc) {
        Datum values[10];
        bool nulls[10];
        for (int i = 0; i < 10; ++i) values[i] = SPI_getbinval(row, desc, i + 1, &nulls[i]);
        MemoryContext old = MemoryContextSwitchTo(result_cxt);
        result = heap_form_tuple(result_desc, values, nulls);
        MemoryContextSwitchTo(old);
    }
    Batch* b = batch_begin();
    batch_add(b, org, key, a.occurred_at, VARDATA_ANY(a.endpoint), VARSIZE_ANY_EXHDR(a.endpoint),
              a.status_code, a.has_response_time, a.response_time_ms);
    batch_apply(b);
    return result;
}

}  // namespace pk::usage

// pk_usage_create(key_id, endpoint, method, status_code, response_time_ms,
// ip_address, user_agent, occurred_at) → api_key_usage: one row and its
// aggregates, in the caller's transaction.
PK_FUNCTION(pk_usage_create) {
    pk::usage::UsageArgs a;
    pk::usage::read_args(fcinfo, &a);
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE || desc->natts != 10) {
        elog(ERROR, "pk_keys: pk_usage_create must return pk_keys.api_key_usage");
    }
    desc = BlessTupleDesc(desc);
    MemoryContext cxt = CurrentMemoryContext;
    SPI_connect();
    HeapTuple row = pk::usage::write_row(a, desc, cxt);
    SPI_finish();
    return HeapTupleGetDatum(row);
}

// pk_usage_record(...same arguments...) → void: the per-request path. When
// preloaded the row is queued in shared memory and the flusher writes it
// (with its aggregates) within pk_keys.flush_interval; a full queue makes
// the caller write it itself. Argument errors and P0002 come at the call.
// Not undone by a rollback of the calling transaction once queued.
PK_FUNCTION(pk_usage_record) {
    pk::usage::UsageArgs a;
    pk::usage::read_args(fcinfo, &a);
    SPI_connect();
    bool queued = false;
    if (pk::shm::available() && !RecoveryInProgress() && !XactReadOnly) {
        Oid generation = pk::lookup::current_generation();
        pg_uuid_t key = a.key;
        Datum args[1] = {UUIDPGetDatum(&key)};
        int rc = SPI_execute_plan(pk::usage::get_org_plan(), args, nullptr, true, 1);
        if (rc < 0) elog(ERROR, "pk_keys: key lookup failed: %s", SPI_result_code_string(rc));
        if (SPI_processed == 0) {
            char* id = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&key)));
            ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND), errmsg("api key %s does not exist", id)));
        }
        bool isnull = false;
        Datum org = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        pk::usage_queue::Row row;
        row.key = a.key;
        row.org = *DatumGetUUIDP(org);
        row.occurred_at = a.occurred_at;
        row.status_code = a.status_code;
        row.has_response_time = a.has_response_time;
        row.response_time_ms = a.response_time_ms;
        row.ip_address = a.ip_address;
        row.endpoint = VARDATA_ANY(a.endpoint);
        row.endpoint_len = VARSIZE_ANY_EXHDR(a.endpoint);
        row.method = VARDATA_ANY(a.method);
        row.method_len = VARSIZE_ANY_EXHDR(a.method);
        row.user_agent = a.user_agent ? VARDATA_ANY(a.user_agent) : nullptr;
        row.user_agent_len = a.user_agent ? VARSIZE_ANY_EXHDR(a.user_agent) : 0;
        queued = pk::shm::queue_usage(generation, row);
    }
    if (!queued) pk::usage::write_row(a, nullptr, nullptr);
    SPI_finish();
    PG_RETURN_VOID();
}

// The statement-level AFTER INSERT trigger of pk_keys.api_key_usage
// (REFERENCING NEW TABLE): checks every row against the 1.1 bounds (one bad
// row fails the whole statement with 22023) and aggregates them as one batch.
PK_FUNCTION(pk_usage_aggregate_rows) {
    if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "pk_keys: not called as a trigger");
    auto* td = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (!TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) || !td->tg_newtable) {
        elog(ERROR, "pk_keys: must be a statement trigger with a NEW TABLE");
    }
    TupleDesc desc = RelationGetDescr(td->tg_relation);
    const char* names[8] = {"api_key_id",  "organization_id",  "occurred_at", "endpoint",
                            "method",      "status_code",      "response_time_ms", "user_agent"};
    int att[8];
    for (int i = 0; i < 8; ++i) {
        att[i] = SPI_fnumber(desc, names[i]);
        if (att[i] <= 0) elog(ERROR, "pk_keys: api_key_usage has no column %s", names[i]);
    }
    TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
    MemoryContext row_cxt = AllocSetContextCreate(CurrentMemoryContext, "pk_keys usage row",
                                                  ALLOCSET_DEFAULT_SIZES);
    pk::usage::Batch* b = pk::usage::batch_begin();
    Tuplestorestate* rows = td->tg_newtable;
    tuplestore_rescan(rows);
    while (tuplestore_gettupleslot(rows, true, false, slot)) {
        MemoryContext old = MemoryContextSwitchTo(row_cxt);
        bool n[8];
        Datum v[8];
        for (int i = 0; i < 8; ++i) v[i] = slot_getattr(slot, att[i], &n[i]);
        // NOT NULL columns: key, organization, time, endpoint, method, status.
        pk::usage::check_bounds(pk::usage::raw_bytes(v[3]), pk::usage::raw_bytes(v[4]), n[7] ? -1 : pk::usage::raw_bytes(v[7]),
                                DatumGetTimestampTz(v[2]));
        text* endpoint = DatumGetTextPP(v[3]);
        pk::usage::batch_add(b, *DatumGetUUIDP(v[1]), *DatumGetUUIDP(v[0]), DatumGetTimestampTz(v[2]),
                             VARDATA_ANY(endpoint), VARSIZE_ANY_EXHDR(endpoint), DatumGetInt32(v[5]),
                             !n[6], n[6] ? 0 : DatumGetInt32(v[6]));
        MemoryContextSwitchTo(old);
        MemoryContextReset(row_cxt);
    }
    ExecDropSingleTupleTableSlot(slot);
    SPI_connect();
    pk::usage::batch_apply(b);
    SPI_finish();
    MemoryContextDelete(row_cxt);
    return PointerGetDatum(nullptr);
}
