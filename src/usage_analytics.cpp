// Verification analytics (see usage_analytics.h for the locking protocol).
#include "usage_analytics.h"

#include "key_lookup.h"
#include "settings.h"
#include "shmem.h"
#include "usage_aggregate.h"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

namespace pk::usage_analytics {

namespace {

constexpr int kCodeLen = 24;

// Padding-free, hashed as bytes.
struct CounterKey {
    Oid db;
    Oid generation;
    pg_uuid_t org;
    pg_uuid_t key;
    int64 minute;  // minutes since 2000-01-01 UTC
    char code[kCodeLen];
};
static_assert(sizeof(CounterKey) == 72);

struct Counter {
    CounterKey key;  // must be first
    pg_atomic_uint64 verifications;
    pg_atomic_uint64 credits;
};

struct Shared {
    LWLock* lock;
};

Shared* shared = nullptr;
HTAB* counters = nullptr;

// What the last take_and_write took, for restore_taken().
struct Taken {
    CounterKey key;
    uint64 verifications;
    uint64 credits;
};
Taken* taken = nullptr;
int n_taken = 0;

void make_key(CounterKey* k, Oid db, Oid generation, const pg_uuid_t& org, const pg_uuid_t& key,
              int64 minute, const char* code) {
    memset(k, 0, sizeof *k);
    k->db = db;
    k->generation = generation;
    k->org = org;
    k->key = key;
    k->minute = minute;
    strlcpy(k->code, code, kCodeLen);
}

// Adds to the shared counter; false when the table is full.
bool add_shared(const CounterKey& k, uint64 verifications, uint64 credits) {
    LWLockAcquire(shared->lock, LW_SHARED);
    auto* c = static_cast<Counter*>(hash_search(counters, &k, HASH_FIND, nullptr));
    if (!c) {
        LWLockRelease(shared->lock);
        LWLockAcquire(shared->lock, LW_EXCLUSIVE);
        bool found = false;
        c = static_cast<Counter*>(hash_search(counters, &k, HASH_ENTER_NULL, &found));
        if (c && !found) {
            pg_atomic_init_u64(&c->verifications, 0);
            pg_atomic_init_u64(&c->credits, 0);
        }
    }
    if (c) {
        pg_atomic_fetch_add_u64(&c->verifications, verifications);
        pg_atomic_fetch_add_u64(&c->credits, credits);
    }
    LWLockRelease(shared->lock);
    return c != nullptr;
}

struct SharedAdd {
    CounterKey key;
    uint64 credits;
};

bool add_shared_cb(void* p) {
    auto* a = static_cast<SharedAdd*>(p);
    return add_shared(a->key, 1, a->credits);
}

// The table (1.1); InvalidOid in a 1.0 database.
Oid table_oid() {
    Oid ns = get_namespace_oid("pk_keys", true);
    return OidIsValid(ns) ? get_relname_relid("verification_counts", ns) : InvalidOid;
}

const char* const kUpsertSql =
    "INSERT INTO pk_keys.verification_counts AS t"
    "       (organization_id, minute, api_key_id, code, shard, verifications, credits_spent)"
    "SELECT c.o, c.m, c.k, c.c, $1, c.v, c.s"
    "  FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.uuid[]), pg_catalog.unnest($3::pg_catalog.timestamptz[]),"
    "                  pg_catalog.unnest($4::pg_catalog.uuid[]), pg_catalog.unnest($5::pg_catalog.text[]),"
    "                  pg_catalog.unnest($6::pg_catalog.int8[]), pg_catalog.unnest($7::pg_catalog.int8[]))"
    "       AS c(o, m, k, c, v, s)"
    "    ON CONFLICT ON CONSTRAINT verification_counts_pkey DO UPDATE"
    "   SET verifications = t.verifications OPERATOR(pg_catalog.+) excluded.verifications,"
    "       credits_spent = t.credits_spent OPERATOR(pg_catalog.+) excluded.credits_spent";

SPIPlanPtr upsert_plan = nullptr;

// Adds n counts to the table under this backend's shard; SPI connected.
void upsert(const Taken* t, int n) {
    if (!upsert_plan) {
        Oid types[7] = {INT2OID, UUIDARRAYOID, TIMESTAMPTZARRAYOID, UUIDARRAYOID, TEXTARRAYOID,
                        INT8ARRAYOID, INT8ARRAYOID};
        SPIPlanPtr p = SPI_prepare(kUpsertSql, 7, types);
        if (!p) elog(ERROR, "pk_keys: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        SPI_keepplan(p);
        upsert_plan = p;
    }
    Datum* d[6];
    for (auto& col : d) col = static_cast<Datum*>(palloc(sizeof(Datum) * Max(n, 1)));
    for (int i = 0; i < n; ++i) {
        d[0][i] = UUIDPGetDatum(const_cast<pg_uuid_t*>(&t[i].key.org));
        d[1][i] = TimestampTzGetDatum(t[i].key.minute * 60 * USECS_PER_SEC);
        d[2][i] = UUIDPGetDatum(const_cast<pg_uuid_t*>(&t[i].key.key));
        d[3][i] = CStringGetTextDatum(t[i].key.code);
        d[4][i] = Int64GetDatum(static_cast<int64>(t[i].verifications));
        d[5][i] = Int64GetDatum(static_cast<int64>(t[i].credits));
    }
    Datum args[7] = {Int16GetDatum(usage::my_shard()),
                     PointerGetDatum(construct_array(d[0], n, UUIDOID, 16, false, TYPALIGN_CHAR)),
                     PointerGetDatum(construct_array(d[1], n, TIMESTAMPTZOID, 8, true, TYPALIGN_DOUBLE)),
                     PointerGetDatum(construct_array(d[2], n, UUIDOID, 16, false, TYPALIGN_CHAR)),
                     PointerGetDatum(construct_array(d[3], n, TEXTOID, -1, false, TYPALIGN_INT)),
                     PointerGetDatum(construct_array(d[4], n, INT8OID, 8, true, TYPALIGN_DOUBLE)),
                     PointerGetDatum(construct_array(d[5], n, INT8OID, 8, true, TYPALIGN_DOUBLE))};
    int rc = SPI_execute_plan(upsert_plan, args, nullptr, false, 0);
    if (rc < 0) elog(ERROR, "pk_keys: verification counts failed: %s", SPI_result_code_string(rc));
}

}  // namespace

Size shared_size() {
    return add_size(MAXALIGN(sizeof(Shared)),
                    hash_estimate_size(settings::max_verification_counters, sizeof(Counter)));
}

void startup() {
    bool found = false;
    shared = static_cast<Shared*>(ShmemInitStruct("pk_keys verification analytics", sizeof(Shared), &found));
    if (!found) shared->lock = &(GetNamedLWLockTranche("pk_keys verification analytics"))->lock;
    HASHCTL info;
    memset(&info, 0, sizeof info);
    info.keysize = sizeof(CounterKey);
    info.entrysize = sizeof(Counter);
    counters = ShmemInitHash("pk_keys verification counters", settings::max_verification_counters,
                             settings::max_verification_counters, &info, HASH_ELEM | HASH_BLOBS);
}

bool has_pending(Oid db) {
    if (!counters) return false;
    bool any = false;
    LWLockAcquire(shared->lock, LW_SHARED);
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, counters);
    while (auto* c = static_cast<Counter*>(hash_seq_search(&seq))) {
        if (c->key.db == db) {
            any = true;
            hash_seq_term(&seq);
            break;
        }
    }
    LWLockRelease(shared->lock);
    return any;
}

int take_and_write(Oid db, Oid generation, int max_counts) {
    n_taken = 0;
    if (!counters || max_counts <= 0) return 0;
    if (!taken) {
        taken = static_cast<Taken*>(MemoryContextAlloc(TopMemoryContext, sizeof(Taken) * max_counts));
    }
    LWLockAcquire(shared->lock, LW_EXCLUSIVE);
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, counters);
    while (auto* c = static_cast<Counter*>(hash_seq_search(&seq))) {
        if (c->key.db != db) continue;
        if (c->key.generation == generation) {
            if (n_taken >= max_counts) {
                hash_seq_term(&seq);
                break;
            }
            taken[n_taken++] = Taken{c->key, pg_atomic_read_u64(&c->verifications), pg_atomic_read_u64(&c->credits)};
        }
        hash_search(counters, &c->key, HASH_REMOVE, nullptr);
    }
    LWLockRelease(shared->lock);
    if (n_taken > 0 && OidIsValid(table_oid())) upsert(taken, n_taken);
    return n_taken;
}

void restore_taken(Oid generation) {
    for (int i = 0; i < n_taken; ++i) {
        if (taken[i].key.generation == generation) add_shared(taken[i].key, taken[i].verifications, taken[i].credits);
    }
    n_taken = 0;
}

}  // namespace pk::usage_analytics

namespace pk::usage {

void count_verification(const pg_uuid_t* org, const pg_uuid_t* key, const char* code,
                        int64 credits_spent) {
    if (!org || !key || RecoveryInProgress() || XactReadOnly) return;
    int64 minute = GetCurrentTransactionStartTimestamp() / (60 * USECS_PER_SEC);
    if (pk::shm::available()) {
        usage_analytics::SharedAdd a;
        make_key(&a.key, MyDatabaseId, pk::lookup::current_generation(), *org, *key, minute, code);
        a.credits = static_cast<uint64>(Max(credits_spent, (int64)0));
        if (pk::shm::count_for_flusher(usage_analytics::add_shared_cb, &a)) return;
    }
    if (!OidIsValid(usage_analytics::table_oid())) return;
    usage_analytics::Taken t;
    make_key(&t.key, MyDatabaseId, InvalidOid, *org, *key, minute, code);
    t.verifications = 1;
    t.credits = static_cast<uint64>(Max(credits_spent, (int64)0));
    SPI_connect();
    usage_analytics::upsert(&t, 1);
    SPI_finish();
}

}  // namespace pk::usage
