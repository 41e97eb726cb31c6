// pk_authenticate and pk_rate_limit_check: the per-request path.
//
// Order of checks (the contract's): MALFORMED, NOT_FOUND, REVOKED, EXPIRED,
// DISABLED, INSUFFICIENT_SCOPE, RATE_LIMITED, USAGE_EXCEEDED, VALID. The key
// is hashed before the lookup, so the time taken reveals nothing about how
// close a wrong key was. Only VALID consumes.
//
// C-style on purpose: after argument checks, these frames hold no C++ object
// with a destructor, so a PostgreSQL ERROR raised by SPI may unwind through
// them (the PK_FUNCTION boundary still turns core exceptions into ERRORs).
#include "core/key_format.h"
#include "core/sha256.h"
#include "pg_util.h"
#include "rate_limit.h"
#include "shmem.h"
#include "spi_plans.h"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

namespace {

constexpr int32 kAuthWindowSeconds = 60;

enum Column {
    kValid, kCode, kKeyId, kOrgId, kEnvironment, kScopes, kRemaining, kRateLimit,
    kRateLimitRemaining, kRateLimitReset, kRecorded, kColumns
};

struct Row {
    Datum values[kColumns];
    bool nulls[kColumns];
};

// The key row as the lookup returns it (datums live until SPI_finish).
struct KeyRow {
    pg_uuid_t id;
    Datum organization_id, environment, scopes;
    bool revoked, expired, active, has_scopes;
    int32 rate_limit;
    bool has_remaining;
    int64 remaining;
};

void init_row(Row& r, const char* code) {
    for (int i = 0; i < kColumns; ++i) r.nulls[i] = true;
    r.values[kValid] = BoolGetDatum(strcmp(code, "VALID") == 0);
    r.nulls[kValid] = false;
    r.values[kCode] = CStringGetTextDatum(code);
    r.nulls[kCode] = false;
}

void set(Row& r, Column c, Datum v) {
    r.values[c] = v;
    r.nulls[c] = false;
}

// True when this server may write: not a standby, not a read-only transaction.
bool can_write() { return !RecoveryInProgress() && !XactReadOnly; }

// Looks the hash up; false when no key has it.
bool lookup(const char* hash_hex, Datum required_scopes, KeyRow* k) {
    Datum args[2] = {PointerGetDatum(cstring_to_text_with_len(hash_hex, 64)), required_scopes};
    pk::spi::exec(pk::spi::Stmt::kLookupKey, args, nullptr, 1);
    if (SPI_processed == 0) return false;
    HeapTuple tup = SPI_tuptable->vals[0];
    TupleDesc desc = SPI_tuptable->tupdesc;
    bool isnull = false;
    memcpy(&k->id, DatumGetUUIDP(SPI_getbinval(tup, desc, 1, &isnull)), sizeof(pg_uuid_t));
    k->organization_id = SPI_getbinval(tup, desc, 2, &isnull);
    k->environment = SPI_getbinval(tup, desc, 3, &isnull);
    k->scopes = SPI_getbinval(tup, desc, 4, &isnull);
    k->revoked = DatumGetBool(SPI_getbinval(tup, desc, 5, &isnull));
    k->expired = DatumGetBool(SPI_getbinval(tup, desc, 6, &isnull));
    k->active = DatumGetBool(SPI_getbinval(tup, desc, 7, &isnull));
    Datum has = SPI_getbinval(tup, desc, 8, &isnull);
    k->has_scopes = !isnull && DatumGetBool(has);
    k->rate_limit = DatumGetInt32(SPI_getbinval(tup, desc, 9, &isnull));
    Datum remaining = SPI_getbinval(tup, desc, 10, &isnull);
    k->has_remaining = !isnull;
    k->remaining = isnull ? 0 : DatumGetInt64(remaining);
    return true;
}

// Spends credits (and, without shared memory, counts the request) in the
// table; false when the key has too few credits left. *remaining gets the
// balance after the spend.
bool spend(const KeyRow& k, int64 cost, bool counters_in_table, int64* remaining) {
    pg_uuid_t id = k.id;
    Datum args[2] = {UUIDPGetDatum(&id), Int64GetDatum(cost)};
    if (counters_in_table) {
        pk::spi::exec(pk::spi::Stmt::kSpendAndCount, args, nullptr, 1);
    } else if (k.has_remaining && cost > 0) {
        pk::spi::exec(pk::spi::Stmt::kSpend, args, nullptr, 1);
    } else {
        *remaining = k.remaining;
        return !k.has_remaining || k.remaining >= 1;
    }
    if (SPI_processed == 0) return false;
    bool isnull = false;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    *remaining = isnull ? 0 : DatumGetInt64(d);
    return true;
}

// The code for a found key before rate limits and credits, or nullptr.
const char* refusal(const KeyRow& k) {
    if (k.revoked) return "REVOKED";
    if (k.expired) return "EXPIRED";
    if (!k.active) return "DISABLED";
    if (!k.has_scopes) return "INSUFFICIENT_SCOPE";
    return nullptr;
}

// Fills the key columns shared by every code after NOT_FOUND.
void describe_key(Row& r, KeyRow& k) {
    set(r, kKeyId, UUIDPGetDatum(&k.id));
    set(r, kOrgId, k.organization_id);
    set(r, kEnvironment, k.environment);
    set(r, kScopes, k.scopes);
    set(r, kRateLimit, Int32GetDatum(k.rate_limit));
    if (k.has_remaining) set(r, kRemaining, Int64GetDatum(k.remaining));
}

void describe_limit(Row& r, const pk::rl::Ticket& t) {
    set(r, kRateLimitRemaining, Int32GetDatum(static_cast<int32>(Min(t.remaining, (int64)PG_INT32_MAX))));
    set(r, kRateLimitReset, TimestampTzGetDatum(t.reset));
}

// Everything after the key is well formed and hashed; connected to SPI.
void authenticate_hashed(FunctionCallInfo fcinfo, const char* hash_hex, Datum scopes, int64 cost) {
    Row r;
    KeyRow k;
    if (!lookup(hash_hex, scopes, &k)) {
        init_row(r, "NOT_FOUND");
        set(r, kRecorded, BoolGetDatum(can_write()));
        pk::pg::return_one_row(fcinfo, r.values, r.nulls);
        return;
    }
    bool writable = can_write();
    const char* code = refusal(k);
    if (code) {
        init_row(r, code);
        describe_key(r, k);
        set(r, kRecorded, BoolGetDatum(writable));
        pk::pg::return_one_row(fcinfo, r.values, r.nulls);
        return;
    }
    // One slot per call, whatever the cost.
    pk::rl::Ticket t = pk::rl::begin(k.id, kAuthWindowSeconds, k.rate_limit, 1, writable);
    if (!t.allowed) {
        init_row(r, "RATE_LIMITED");
        describe_key(r, k);
        describe_limit(r, t);
        set(r, kRecorded, BoolGetDatum(writable));
        pk::pg::return_one_row(fcinfo, r.values, r.nulls);
        return;
    }
    bool counters_in_table = writable && t.where != pk::rl::Where::kSharedMemory;
    int64 remaining = k.remaining;
    bool paid = writable ? spend(k, cost, counters_in_table, &remaining)
                         : (!k.has_remaining || k.remaining >= Max(cost, (int64)1));
    pk::rl::finish(t, paid);
    init_row(r, paid ? "VALID" : "USAGE_EXCEEDED");
    describe_key(r, k);
    if (k.has_remaining) set(r, kRemaining, Int64GetDatum(remaining));
    describe_limit(r, t);
    bool recorded = writable;
    if (paid && writable && !counters_in_table &&
        !pk::shm::record_use(k.id, kAuthWindowSeconds, GetCurrentTransactionStartTimestamp())) {
        pg_uuid_t id = k.id;
        Datum args[1] = {UUIDPGetDatum(&id)};
        pk::spi::exec(pk::spi::Stmt::kCount, args, nullptr, 0);
    }
    set(r, kRecorded, BoolGetDatum(recorded));
    pk::pg::return_one_row(fcinfo, r.values, r.nulls);
}

int64 cost_arg(FunctionCallInfo fcinfo, int n) {
    pk::pg::require_arg(fcinfo, n, "cost");
    int64 cost = PG_GETARG_INT32(n);
    if (cost < 0) throw pk::Error(pk::sqlstate::kInvalidParameter, "cost must not be negative");
    return cost;
}

}  // namespace

// pk_authenticate(key text, required_scopes text[] DEFAULT '{}', cost integer DEFAULT 1)
PK_FUNCTION(pk_authenticate) {
    int64 cost = cost_arg(fcinfo, 2);
    char hash_hex[65];
    bool well_formed = false;
    if (!PG_ARGISNULL(0)) {
        std::string_view key = pk::pg::text_arg(fcinfo, 0);
        well_formed = pk::is_valid_key(key);
        // Keys are ASCII, so their bytes are their UTF-8 bytes.
        if (well_formed) pk::sha256_hex(key, hash_hex);
    }
    if (!well_formed) {
        Row r;
        init_row(r, "MALFORMED");
        set(r, kRecorded, BoolGetDatum(can_write()));
        pk::pg::return_one_row(fcinfo, r.values, r.nulls);
        return (Datum)0;
    }
    hash_hex[64] = '\0';
    Datum scopes = PG_ARGISNULL(1) ? PointerGetDatum(construct_empty_array(TEXTOID)) : PG_GETARG_DATUM(1);
    SPI_connect();
    authenticate_hashed(fcinfo, hash_hex, scopes, cost);
    SPI_finish();
    return (Datum)0;
}

// pk_rate_limit_check(key_id uuid, lim integer, window_size interval DEFAULT '1 minute', cost integer DEFAULT 1)
PK_FUNCTION(pk_rate_limit_check) {
    pk::pg::require_arg(fcinfo, 0, "key_id");
    pk::pg::require_arg(fcinfo, 1, "lim");
    pk::pg::require_arg(fcinfo, 2, "window_size");
    int64 cost = cost_arg(fcinfo, 3);
    int32 lim = PG_GETARG_INT32(1);
    if (lim < 0) throw pk::Error(pk::sqlstate::kInvalidParameter, "lim must not be negative");
    Interval* w = PG_GETARG_INTERVAL_P(2);
    int64 window_us = w->time + (static_cast<int64>(w->day) + static_cast<int64>(w->month) * DAYS_PER_MONTH) * USECS_PER_DAY;
    if (window_us < USECS_PER_SEC || window_us % USECS_PER_SEC != 0 || window_us / USECS_PER_SEC > PG_INT32_MAX) {
        throw pk::Error(pk::sqlstate::kInvalidParameter,
                        "window_size must be a whole number of seconds, at least 1 second");
    }
    pg_uuid_t key;
    memcpy(&key, PG_GETARG_UUID_P(0), sizeof key);
    bool writable = can_write();
    SPI_connect();
    pk::rl::Ticket t = pk::rl::begin(key, static_cast<int32>(window_us / USECS_PER_SEC), lim, cost, writable);
    pk::rl::finish(t, t.allowed);
    Datum values[3] = {BoolGetDatum(t.allowed),
                       Int32GetDatum(static_cast<int32>(Min(t.remaining, (int64)PG_INT32_MAX))),
                       TimestampTzGetDatum(t.reset)};
    bool nulls[3] = {false, false, false};
    pk::pg::return_one_row(fcinfo, values, nulls);
    SPI_finish();
    return (Datum)0;
}

// pk_shared_memory_enabled(): true when the shared-memory paths are in use.
PK_FUNCTION(pk_shared_memory_enabled) { PG_RETURN_BOOL(pk::shm::available()); }
