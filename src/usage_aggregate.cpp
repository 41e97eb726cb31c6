// Usage aggregation (see usage_aggregate.h for the locking protocol).
#include "usage_aggregate.h"

#include "core/usage_rules.h"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
}

namespace pk::usage {

namespace {

struct RollupKey {
    pg_uuid_t org;
    int32 day;
    int32 endpoint_len;
    const char* endpoint;  // palloc'd copy once in the table
};

struct Rollup {
    RollupKey key;  // hash key: must be first
    int64 requests;
    int64 successful;
    int64 failed;
    int64 response_time_sum;
    int64 response_time_count;
};

// (org, day or month, key): padding-free, hashed as bytes.
struct KeySetEntry {
    pg_uuid_t org;
    pg_uuid_t key;
    int32 day;
};

}  // namespace

// One row's contribution, kept inline until a second row arrives (the
// per-request path never builds hash tables).
struct One {
    pg_uuid_t org;
    pg_uuid_t key;
    int32 day;
    const char* endpoint;
    int endpoint_len;
    int32 status_code;
    bool has_response_time;
    int32 response_time_ms;
};

struct Batch {
    MemoryContext cxt;
    int64 rows;
    One first;      // the row, while rows == 1
    HTAB* rollups;  // from the second row on
    HTAB* day_keys;
    HTAB* month_keys;
};

namespace {

uint32 rollup_hash(const void* key, Size) {
    const auto* k = static_cast<const RollupKey*>(key);
    uint32 h = hash_bytes(reinterpret_cast<const unsigned char*>(&k->org), sizeof k->org);
    h = hash_combine(h, hash_uint32(static_cast<uint32>(k->day)));
    return hash_combine(h, hash_bytes(reinterpret_cast<const unsigned char*>(k->endpoint), k->endpoint_len));
}

int rollup_match(const void* a, const void* b, Size) {
    const auto* x = static_cast<const RollupKey*>(a);
    const auto* y = static_cast<const RollupKey*>(b);
    if (x->day != y->day || x->endpoint_len != y->endpoint_len) return 1;
    if (memcmp(&x->org, &y->org, sizeof x->org) != 0) return 1;
    return memcmp(x->endpoint, y->endpoint, x->endpoint_len);
}

HTAB* key_set(MemoryContext cxt, const char* name) {
    HASHCTL info;
    memset(&info, 0, sizeof info);
    info.keysize = sizeof(KeySetEntry);
    info.entrysize = sizeof(KeySetEntry);
    info.hcxt = cxt;
    return hash_create(name, 16, &info, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

void note_key(HTAB* set, const pg_uuid_t& org, const pg_uuid_t& key, int32 day) {
    KeySetEntry e;
    memset(&e, 0, sizeof e);
    e.org = org;
    e.key = key;
    e.day = day;
    hash_search(set, &e, HASH_ENTER, nullptr);
}

// The aggregates of a batch, applied under the writer's shard ($1). The
// batch is already grouped, so no statement sees one target row twice.
const char* const kApplySql =
    "WITH rollups AS ("
    "  INSERT INTO pk_keys.usage_rollup AS t"
    "         (organization_id, day, endpoint, shard, requests, successful, failed,"
    "          response_time_sum, response_time_count)"
    "  SELECT r.o, r.d, r.e, $1, r.n, r.s, r.f, r.ts, r.tc"
    "    FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.uuid[]), pg_catalog.unnest($3::pg_catalog.date[]),"
    "                    pg_catalog.unnest($4::pg_catalog.text[]), pg_catalog.unnest($5::pg_catalog.int8[]),"
    "                    pg_catalog.unnest($6::pg_catalog.int8[]), pg_catalog.unnest($7::pg_catalog.int8[]),"
    "                    pg_catalog.unnest($8::pg_catalog.int8[]), pg_catalog.unnest($9::pg_catalog.int8[]))"
    "         AS r(o, d, e, n, s, f, ts, tc)"
    "  ON CONFLICT ON CONSTRAINT usage_rollup_pkey DO UPDATE"
    "  SET requests = t.requests OPERATOR(pg_catalog.+) excluded.requests,"
    "      successful = t.successful OPERATOR(pg_catalog.+) excluded.successful,"
    "      failed = t.failed OPERATOR(pg_catalog.+) excluded.failed,"
    "      response_time_sum = t.response_time_sum OPERATOR(pg_catalog.+) excluded.response_time_sum,"
    "      response_time_count = t.response_time_count OPERATOR(pg_catalog.+) excluded.response_time_count"
    "), day_keys AS ("
    "  INSERT INTO pk_keys.usage_day_keys (organization_id, day, api_key_id, shard)"
    "  SELECT k.o, k.d, k.k, $1"
    "    FROM ROWS FROM (pg_catalog.unnest($10::pg_catalog.uuid[]), pg_catalog.unnest($11::pg_catalog.date[]),"
    "                    pg_catalog.unnest($12::pg_catalog.uuid[])) AS k(o, d, k)"
    "  ON CONFLICT DO NOTHING"
    ")"
    "INSERT INTO pk_keys.usage_month_keys (organization_id, month, api_key_id, shard)"
    "SELECT k.o, k.m, k.k, $1"
    "  FROM ROWS FROM (pg_catalog.unnest($13::pg_catalog.uuid[]), pg_catalog.unnest($14::pg_catalog.date[]),"
    "                  pg_catalog.unnest($15::pg_catalog.uuid[])) AS k(o, m, k)"
    "ON CONFLICT DO NOTHING";

SPIPlanPtr apply_plan = nullptr;

SPIPlanPtr get_apply_plan() {
    if (!apply_plan) {
        Oid types[15] = {INT2OID,      UUIDARRAYOID, DATEARRAYOID, TEXTARRAYOID, INT8ARRAYOID,
                         INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, UUIDARRAYOID,
                         DATEARRAYOID, UUIDARRAYOID, UUIDARRAYOID, DATEARRAYOID, UUIDARRAYOID};
        SPIPlanPtr p = SPI_prepare(kApplySql, 15, types);
        if (!p) elog(ERROR, "pk_keys: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        SPI_keepplan(p);
        apply_plan = p;
    }
    return apply_plan;
}

Datum uuid_array(Datum* d, int n) { return PointerGetDatum(construct_array(d, n, UUIDOID, 16, false, TYPALIGN_CHAR)); }
Datum date_array(Datum* d, int n) { return PointerGetDatum(construct_array(d, n, DATEOID, 4, true, TYPALIGN_INT)); }
Datum int8_array(Datum* d, int n) { return PointerGetDatum(construct_array(d, n, INT8OID, 8, true, TYPALIGN_DOUBLE)); }
Datum text_array(Datum* d, int n) { return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT)); }

Datum* datums(int n) { return static_cast<Datum*>(palloc(sizeof(Datum) * Max(n, 1))); }

// Fills args[first..first+2] with a key set's (org, day, key) arrays.
void key_set_arrays(HTAB* set, Datum* args, int first) {
    int n = static_cast<int>(hash_get_num_entries(set));
    Datum *orgs = datums(n), *days = datums(n), *keys = datums(n);
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, set);
    int i = 0;
    while (auto* e = static_cast<KeySetEntry*>(hash_seq_search(&seq))) {
        orgs[i] = UUIDPGetDatum(&e->org);
        days[i] = DateADTGetDatum(e->day);
        keys[i] = UUIDPGetDatum(&e->key);
        ++i;
    }
    args[first] = uuid_array(orgs, n);
    args[first + 1] = date_array(days, n);
    args[first + 2] = uuid_array(keys, n);
}

}  // namespace

namespace {

void make_tables(Batch* b) {
    MemoryContext cxt = b->cxt;
    HASHCTL info;
    memset(&info, 0, sizeof info);
    info.keysize = sizeof(RollupKey);
    info.entrysize = sizeof(Rollup);
    info.hash = rollup_hash;
    info.match = rollup_match;
    info.hcxt = cxt;
    b->rollups = hash_create("pk_keys usage rollups", 16, &info,
                             HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
    b->day_keys = key_set(cxt, "pk_keys usage day keys");
    b->month_keys = key_set(cxt, "pk_keys usage month keys");
}

// Adds a row to the hash tables.
void add_grouped(Batch* b, const pg_uuid_t& org, const pg_uuid_t& key, int32 day, const char* endpoint,
                 int endpoint_len, int32 status_code, bool has_response_time, int32 response_time_ms) {
    RollupKey k;
    memset(&k, 0, sizeof k);
    k.org = org;
    k.day = day;
    k.endpoint_len = endpoint_len;
    k.endpoint = endpoint;
    bool found = false;
    auto* r = static_cast<Rollup*>(hash_search(b->rollups, &k, HASH_ENTER, &found));
    if (!found) {
        char* copy = static_cast<char*>(MemoryContextAlloc(b->cxt, Max(endpoint_len, 1)));
        memcpy(copy, endpoint, endpoint_len);
        r->key.endpoint = copy;
        r->requests = r->successful = r->failed = r->response_time_sum = r->response_time_count = 0;
    }
    r->requests += 1;
    (is_successful(status_code) ? r->successful : r->failed) += 1;
    if (has_response_time) {
        r->response_time_sum += response_time_ms;
        r->response_time_count += 1;
    }
    note_key(b->day_keys, org, key, day);
    note_key(b->month_keys, org, key, month_start(day));
}

// One row (the per-request path), usually in one statement: add to this
// shard's rollup row and, in the same statement, probe whether the key is
// already in this shard's day set (a day key row always comes with its
// month key row, in this shard or folded into shard 0 together). Only the
// first row of an endpoint, a key or a day of a shard runs the full apply.
const char* const kAddOneSql =
    "UPDATE pk_keys.usage_rollup AS t"
    "   SET requests = t.requests OPERATOR(pg_catalog.+) 1,"
    "       successful = t.successful OPERATOR(pg_catalog.+) $5,"
    "       failed = t.failed OPERATOR(pg_catalog.+) $6,"
    "       response_time_sum = t.response_time_sum OPERATOR(pg_catalog.+) $7,"
    "       response_time_count = t.response_time_count OPERATOR(pg_catalog.+) $8"
    " WHERE t.organization_id OPERATOR(pg_catalog.=) $2 AND t.day OPERATOR(pg_catalog.=) $3"
    "   AND t.endpoint OPERATOR(pg_catalog.=) ($4 COLLATE \"C\") AND t.shard OPERATOR(pg_catalog.=) $1"
    " RETURNING EXISTS (SELECT 1 FROM pk_keys.usage_day_keys k"
    "                   WHERE k.organization_id OPERATOR(pg_catalog.=) $2 AND k.day OPERATOR(pg_catalog.=) $3"
    "                     AND k.api_key_id OPERATOR(pg_catalog.=) $9 AND k.shard OPERATOR(pg_catalog.=) $1)";

SPIPlanPtr add_one_plan = nullptr;

void apply_one(const One& r) {
    if (!add_one_plan) {
        Oid types[9] = {INT2OID, UUIDOID, DATEOID, TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID, UUIDOID};
        SPIPlanPtr p = SPI_prepare(kAddOneSql, 9, types);
        if (!p) elog(ERROR, "pk_keys: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        SPI_keepplan(p);
        add_one_plan = p;
    }
    pg_uuid_t org = r.org, key = r.key;
    bool ok = is_successful(r.status_code);
    Datum args[9] = {Int16GetDatum(my_shard()),
                     UUIDPGetDatum(&org),
                     DateADTGetDatum(r.day),
                     PointerGetDatum(cstring_to_text_with_len(r.endpoint, r.endpoint_len)),
                     Int64GetDatum(ok ? 1 : 0),
                     Int64GetDatum(ok ? 0 : 1),
                     Int64GetDatum(r.has_response_time ? r.response_time_ms : 0),
                     Int64GetDatum(r.has_response_time ? 1 : 0),
                     UUIDPGetDatum(&key)};
    int rc = SPI_execute_plan(add_one_plan, args, nullptr, false, 0);
    if (rc < 0) elog(ERROR, "pk_keys: usage aggregation failed: %s", SPI_result_code_string(rc));
    bool isnull = true;
    bool key_seen = SPI_processed == 1 &&
                    DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    if (SPI_processed == 1 && key_seen) return;
    // First of its kind: the batch path, for this one row.
    Batch* b = batch_begin();
    make_tables(b);
    if (SPI_processed == 1) {
        // The rollup row is counted: only the key sets remain.
        hash_destroy(b->rollups);
        b->rollups = nullptr;
    } else {
        add_grouped(b, r.org, r.key, r.day, r.endpoint, r.endpoint_len, r.status_code,
                    r.has_response_time, r.response_time_ms);
    }
    note_key(b->day_keys, r.org, r.key, r.day);
    note_key(b->month_keys, r.org, r.key, month_start(r.day));
    b->rows = 2;  // grouped
    batch_apply(b);
}

}  // namespace

Batch* batch_begin() {
    MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "pk_keys usage batch",
                                              ALLOCSET_SMALL_SIZES);
    auto* b = static_cast<Batch*>(MemoryContextAllocZero(cxt, sizeof(Batch)));
    b->cxt = cxt;
    return b;
}

void batch_add(Batch* b, const pg_uuid_t& org, const pg_uuid_t& key, TimestampTz at,
               const char* endpoint, int endpoint_len, int32 status_code, bool has_response_time,
               int32 response_time_ms) {
    int32 day = utc_day(at);
    if (b->rows == 0) {
        char* copy = static_cast<char*>(MemoryContextAlloc(b->cxt, Max(endpoint_len, 1)));
        memcpy(copy, endpoint, endpoint_len);
        b->first = One{org, key, day, copy, endpoint_len, status_code, has_response_time, response_time_ms};
    } else {
        if (b->rows == 1) {
            make_tables(b);
            const One& f = b->first;
            add_grouped(b, f.org, f.key, f.day, f.endpoint, f.endpoint_len, f.status_code,
                        f.has_response_time, f.response_time_ms);
        }
        add_grouped(b, org, key, day, endpoint, endpoint_len, status_code, has_response_time,
                    response_time_ms);
    }
    b->rows += 1;
}

int64 batch_rows(const Batch* b) { return b->rows; }

void batch_apply(Batch* b) {
    if (b->rows == 0) return;
    if (b->rows == 1) {
        apply_one(b->first);
        MemoryContextDelete(b->cxt);
        return;
    }
    MemoryContext old = MemoryContextSwitchTo(b->cxt);
    int n = b->rollups ? static_cast<int>(hash_get_num_entries(b->rollups)) : 0;
    Datum *orgs = datums(n), *days = datums(n), *endpoints = datums(n), *req = datums(n),
          *ok = datums(n), *bad = datums(n), *rts = datums(n), *rtc = datums(n);
    HASH_SEQ_STATUS seq;
    int i = 0;
    if (b->rollups) hash_seq_init(&seq, b->rollups);
    while (auto* r = b->rollups ? static_cast<Rollup*>(hash_seq_search(&seq)) : nullptr) {
        orgs[i] = UUIDPGetDatum(&r->key.org);
        days[i] = DateADTGetDatum(r->key.day);
        endpoints[i] = PointerGetDatum(cstring_to_text_with_len(r->key.endpoint, r->key.endpoint_len));
        req[i] = Int64GetDatum(r->requests);
        ok[i] = Int64GetDatum(r->successful);
        bad[i] = Int64GetDatum(r->failed);
        rts[i] = Int64GetDatum(r->response_time_sum);
        rtc[i] = Int64GetDatum(r->response_time_count);
        ++i;
    }
    Datum args[15];
    args[0] = Int16GetDatum(my_shard());
    args[1] = uuid_array(orgs, n);
    args[2] = date_array(days, n);
    args[3] = text_array(endpoints, n);
    args[4] = int8_array(req, n);
    args[5] = int8_array(ok, n);
    args[6] = int8_array(bad, n);
    args[7] = int8_array(rts, n);
    args[8] = int8_array(rtc, n);
    key_set_arrays(b->day_keys, args, 9);
    key_set_arrays(b->month_keys, args, 12);
    MemoryContextSwitchTo(old);
    int rc = SPI_execute_plan(get_apply_plan(), args, nullptr, false, 0);
    if (rc < 0) elog(ERROR, "pk_keys: usage aggregation failed: %s", SPI_result_code_string(rc));
    MemoryContextDelete(b->cxt);
}

int16 my_shard() { return static_cast<int16>(MyProc->pgprocno % 32767 + 1); }

void check_bounds(int64 endpoint_bytes, int64 method_bytes, int64 user_agent_bytes,
                  TimestampTz occurred_at) {
    bool finite = !TIMESTAMP_NOT_FINITE(occurred_at);
    const char* msg = pk::usage::check_bounds(endpoint_bytes, method_bytes, user_agent_bytes, finite,
                                              occurred_at, GetCurrentTransactionStartTimestamp());
    if (msg) ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", msg)));
}

}  // namespace pk::usage
