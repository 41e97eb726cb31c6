// The pk_usage_record queue (see usage_queue.h for the protocol).
#include "usage_queue.h"

#include "settings.h"
#include "usage_aggregate.h"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

namespace pk::usage_queue {

namespace {

constexpr uint32 kReady = 0, kTaken = 1, kDone = 2;
constexpr Size kAlign = 16;

struct EntryHeader {
    uint32 len;  // whole entry, header included, multiple of kAlign
    uint32 state;
    Oid db;
    Oid generation;  // 0: a skip entry (end of the ring)
};
static_assert(sizeof(EntryHeader) == kAlign);

struct Payload {
    pg_uuid_t key;
    pg_uuid_t org;
    TimestampTz occurred_at;
    int32 status_code;
    int32 response_time_ms;
    uint8 has_response_time;
    uint8 has_ip;
    uint8 has_user_agent;
    uint8 ip_len;
    uint16 endpoint_len;
    uint16 method_len;
    uint16 user_agent_len;
    char ip[sizeof(inet_struct)];
    // followed by endpoint, method, user_agent bytes
};

struct Ring {
    LWLock* lock;
    uint64 head;  // logical offsets; physical = offset % size
    uint64 tail;
    Size size;
    char data[FLEXIBLE_ARRAY_MEMBER];
};

Ring* ring = nullptr;

Size align_up(Size n) { return (n + kAlign - 1) & ~(kAlign - 1); }

Size ring_bytes() { return align_up(static_cast<Size>(settings::usage_queue_kb) * 1024); }

EntryHeader* at(uint64 pos) { return reinterpret_cast<EntryHeader*>(ring->data + pos % ring->size); }

// Moves the tail over done entries; needs the lock exclusively.
void advance_tail() {
    while (ring->tail < ring->head && at(ring->tail)->state == kDone) ring->tail += at(ring->tail)->len;
}

// Entries this backend took in its current transaction (logical offsets).
uint64* taken = nullptr;
int n_taken = 0;
int max_taken = 0;
bool callback_registered = false;

void settle(uint32 state) {
    if (n_taken == 0 || !ring) return;
    LWLockAcquire(ring->lock, LW_EXCLUSIVE);
    for (int i = 0; i < n_taken; ++i) at(taken[i])->state = state;
    advance_tail();
    LWLockRelease(ring->lock);
    n_taken = 0;
}

// Taken rows count as written once their transaction commits.
void on_xact(XactEvent event, void*) {
    switch (event) {
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_PARALLEL_COMMIT:
        case XACT_EVENT_PREPARE:
            settle(kDone);
            break;
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PARALLEL_ABORT:
            settle(kReady);
            break;
        default:
            break;
    }
}

const char* const kInsertSql =
    "INSERT INTO pk_keys.api_key_usage_months"
    "       (api_key_id, organization_id, occurred_at, endpoint, method, status_code,"
    "        response_time_ms, ip_address, user_agent)"
    "SELECT * FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.uuid[]), pg_catalog.unnest($2::pg_catalog.uuid[]),"
    "       pg_catalog.unnest($3::pg_catalog.timestamptz[]), pg_catalog.unnest($4::pg_catalog.text[]),"
    "       pg_catalog.unnest($5::pg_catalog.text[]), pg_catalog.unnest($6::pg_catalog.int4[]),"
    "       pg_catalog.unnest($7::pg_catalog.int4[]), pg_catalog.unnest($8::pg_catalog.inet[]),"
    "       pg_catalog.unnest($9::pg_catalog.text[]))";

SPIPlanPtr insert_plan = nullptr;

SPIPlanPtr get_insert_plan() {
    if (!insert_plan) {
        Oid types[9] = {UUIDARRAYOID, UUIDARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
                        INT4ARRAYOID, INT4ARRAYOID, INETARRAYOID, TEXTARRAYOID};
        SPIPlanPtr p = SPI_prepare(kInsertSql, 9, types);
        if (!p) elog(ERROR, "pk_keys: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        SPI_keepplan(p);
        insert_plan = p;
    }
    return insert_plan;
}

Datum array(Datum* values, bool* nulls, int n, Oid type, int len, bool byval, char align) {
    int dims[1] = {n};
    int lbs[1] = {1};
    return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, type, len, byval, align));
}

// Writes rows (payloads) and their aggregates.
void write_rows(Payload** rows, int n) {
    Datum* v[9];
    bool* nl[9];
    for (int c = 0; c < 9; ++c) {
        v[c] = static_cast<Datum*>(palloc(sizeof(Datum) * n));
        nl[c] = static_cast<bool*>(palloc0(sizeof(bool) * n));
    }
    usage::Batch* b = usage::batch_begin();
    for (int i = 0; i < n; ++i) {
        Payload* p = rows[i];
        const char* bytes = reinterpret_cast<const char*>(p + 1);
        v[0][i] = UUIDPGetDatum(&p->key);
        v[1][i] = UUIDPGetDatum(&p->org);
        v[2][i] = TimestampTzGetDatum(p->occurred_at);
        v[3][i] = PointerGetDatum(cstring_to_text_with_len(bytes, p->endpoint_len));
        v[4][i] = PointerGetDatum(cstring_to_text_with_len(bytes + p->endpoint_len, p->method_len));
        v[5][i] = Int32GetDatum(p->status_code);
        v[6][i] = Int32GetDatum(p->response_time_ms);
        nl[6][i] = !p->has_response_time;
        if (p->has_ip) {
            inet* ip = static_cast<inet*>(palloc0(sizeof(inet)));
            memcpy(VARDATA(ip), p->ip, p->ip_len);
            SET_VARSIZE(ip, VARHDRSZ + p->ip_len);
            v[7][i] = InetPGetDatum(ip);
        } else {
            nl[7][i] = true;
            v[7][i] = 0;
        }
        if (p->has_user_agent) {
            v[8][i] = PointerGetDatum(cstring_to_text_with_len(bytes + p->endpoint_len + p->method_len,
                                                               p->user_agent_len));
        } else {
            nl[8][i] = true;
            v[8][i] = 0;
        }
        usage::batch_add(b, p->org, p->key, p->occurred_at, bytes, p->endpoint_len, p->status_code,
                         p->has_response_time, p->response_time_ms);
    }
    Datum args[9] = {array(v[0], nl[0], n, UUIDOID, 16, false, TYPALIGN_CHAR),
                     array(v[1], nl[1], n, UUIDOID, 16, false, TYPALIGN_CHAR),
                     array(v[2], nl[2], n, TIMESTAMPTZOID, 8, true, TYPALIGN_DOUBLE),
                     array(v[3], nl[3], n, TEXTOID, -1, false, TYPALIGN_INT),
                     array(v[4], nl[4], n, TEXTOID, -1, false, TYPALIGN_INT),
                     array(v[5], nl[5], n, INT4OID, 4, true, TYPALIGN_INT),
                     array(v[6], nl[6], n, INT4OID, 4, true, TYPALIGN_INT),
                     array(v[7], nl[7], n, INETOID, -1, false, TYPALIGN_INT),
                     array(v[8], nl[8], n, TEXTOID, -1, false, TYPALIGN_INT)};
    int rc = SPI_execute_plan(get_insert_plan(), args, nullptr, false, 0);
    if (rc < 0) elog(ERROR, "pk_keys: queued usage insert failed: %s", SPI_result_code_string(rc));
    usage::batch_apply(b);
}

}  // namespace

Size shared_size() { return add_size(offsetof(Ring, data), ring_bytes()); }

void startup() {
    bool found = false;
    ring = static_cast<Ring*>(ShmemInitStruct("pk_keys usage queue", shared_size(), &found));
    if (!found) {
        ring->lock = &(GetNamedLWLockTranche("pk_keys usage queue"))->lock;
        ring->head = ring->tail = 0;
        ring->size = ring_bytes();
    }
}

bool push(Oid db, Oid generation, const Row& row) {
    if (!ring) return false;
    int ua_len = row.user_agent ? row.user_agent_len : 0;
    Size need = align_up(sizeof(EntryHeader) + sizeof(Payload) + row.endpoint_len + row.method_len + ua_len);
    if (need > ring->size / 2) return false;
    Payload p;
    memset(&p, 0, sizeof p);
    p.key = row.key;
    p.org = row.org;
    p.occurred_at = row.occurred_at;
    p.status_code = row.status_code;
    p.has_response_time = row.has_response_time;
    p.response_time_ms = row.response_time_ms;
    if (row.ip_address) {
        p.has_ip = 1;
        p.ip_len = static_cast<uint8>(Min(VARSIZE_ANY_EXHDR(row.ip_address), sizeof p.ip));
        memcpy(p.ip, VARDATA_ANY(row.ip_address), p.ip_len);
    }
    p.has_user_agent = row.user_agent != nullptr;
    p.endpoint_len = static_cast<uint16>(row.endpoint_len);
    p.method_len = static_cast<uint16>(row.method_len);
    p.user_agent_len = static_cast<uint16>(ua_len);

    LWLockAcquire(ring->lock, LW_EXCLUSIVE);
    Size phys = ring->head % ring->size;
    Size to_end = ring->size - phys;
    Size skip = to_end < need ? to_end : 0;
    if (ring->head + skip + need - ring->tail > ring->size) {
        LWLockRelease(ring->lock);
        return false;
    }
    if (skip) {
        *at(ring->head) = EntryHeader{static_cast<uint32>(skip), kDone, InvalidOid, InvalidOid};
        ring->head += skip;
    }
    char* dst = ring->data + ring->head % ring->size;
    EntryHeader h{static_cast<uint32>(need), kReady, db, generation};
    memcpy(dst, &h, sizeof h);
    memcpy(dst + sizeof h, &p, sizeof p);
    char* bytes = dst + sizeof h + sizeof p;
    memcpy(bytes, row.endpoint, row.endpoint_len);
    memcpy(bytes + row.endpoint_len, row.method, row.method_len);
    if (ua_len) memcpy(bytes + row.endpoint_len + row.method_len, row.user_agent, ua_len);
    ring->head += need;
    LWLockRelease(ring->lock);
    return true;
}

bool has_rows(Oid db) {
    if (!ring) return false;
    bool any = false;
    LWLockAcquire(ring->lock, LW_SHARED);
    for (uint64 pos = ring->tail; pos < ring->head && !any; pos += at(pos)->len) {
        any = at(pos)->db == db && at(pos)->state != kDone;
    }
    LWLockRelease(ring->lock);
    return any;
}

int64 queued_rows() {
    if (!ring) return 0;
    int64 n = 0;
    LWLockAcquire(ring->lock, LW_SHARED);
    for (uint64 pos = ring->tail; pos < ring->head; pos += at(pos)->len) {
        if (at(pos)->state != kDone) ++n;
    }
    LWLockRelease(ring->lock);
    return n;
}

int take_and_write(Oid db, Oid generation, int max_rows) {
    if (!ring || max_rows <= 0) return 0;
    if (!callback_registered) {
        RegisterXactCallback(on_xact, nullptr);
        callback_registered = true;
    }
    if (max_taken < max_rows + n_taken) {
        int want = max_rows + n_taken;
        taken = static_cast<uint64*>(taken ? repalloc(taken, sizeof(uint64) * want)
                                           : MemoryContextAlloc(TopMemoryContext, sizeof(uint64) * want));
        max_taken = want;
    }
    // Copy out at most a quarter of the ring per batch (allocated before
    // taking the lock).
    Size budget = ring->size / 4;
    char* copy = static_cast<char*>(palloc(budget));
    Payload** rows = static_cast<Payload**>(palloc(sizeof(Payload*) * max_rows));
    int n = 0;
    Size used = 0;
    LWLockAcquire(ring->lock, LW_EXCLUSIVE);
    for (uint64 pos = ring->tail; pos < ring->head && n < max_rows; pos += at(pos)->len) {
        EntryHeader* h = at(pos);
        if (h->state != kReady || h->db != db) continue;
        if (h->generation != generation) {
            h->state = kDone;  // a dropped pk_keys: discarded
            continue;
        }
        Size body = h->len - sizeof(EntryHeader);
        if (used + body > budget) break;
        memcpy(copy + used, reinterpret_cast<char*>(h) + sizeof(EntryHeader), body);
        rows[n++] = reinterpret_cast<Payload*>(copy + used);
        used += body;
        h->state = kTaken;
        taken[n_taken++] = pos;
    }
    advance_tail();
    LWLockRelease(ring->lock);
    if (n > 0) write_rows(rows, n);
    return n;
}

int taken_mark() { return n_taken; }

void untake(int mark) {
    if (!ring || mark >= n_taken) return;
    LWLockAcquire(ring->lock, LW_EXCLUSIVE);
    for (int i = mark; i < n_taken; ++i) at(taken[i])->state = kReady;
    LWLockRelease(ring->lock);
    n_taken = mark;
}

}  // namespace pk::usage_queue
