// pk_authenticate_request, pk_authenticate (its three-argument form: the same
// code path) and pk_rate_limit_check: the per-request path.
//
// Order of checks (the contract's): MALFORMED, NOT_FOUND, REVOKED, EXPIRED,
// DISABLED, FORBIDDEN (client IP allowlist), INSUFFICIENT_SCOPE (required
// scopes, then the permission query), RATE_LIMITED (the per-minute limit and
// every named limit, all or nothing), USAGE_EXCEEDED, VALID. Argument errors
// (22023/22004) come first, before the key is looked at. The key is hashed
// before the lookup, so the time taken reveals nothing about how close a
// wrong key was. Only VALID consumes; only VALID sets the session context.
//
// C-style on purpose: after argument checks, these frames hold no C++ object
// with a destructor, so a PostgreSQL ERROR raised below may unwind through
// them (the PK_FUNCTION boundary still turns core exceptions into ERRORs).
#include "core/key_format.h"
#include "core/sha256.h"
#include "events.h"
#include "key_lookup.h"
#include "named_limits.h"
#include "pg_util.h"
#include "rate_limit.h"
#include "request_checks.h"
#include "session_context.h"
#include "shmem.h"
#include "spi_plans.h"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_collation_d.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
}

namespace {

using pk::lookup::KeyRow;

constexpr int32 kAuthWindowSeconds = 60;
// window_size / window_seconds: 1 second to 366 days.
constexpr int64 kMaxWindowSeconds = 366LL * 24 * 60 * 60;

// pk_authenticate's columns, then pk_authenticate_request's extra one
// (pk_authenticate's result descriptor simply has no room for it).
enum Column {
    kValid, kCode, kKeyId, kOrgId, kEnvironment, kScopes, kRemaining, kRateLimit,
    kRateLimitRemaining, kRateLimitReset, kRecorded, kLimits, kColumns
};

// The arguments of one call, checked and bounded at entry.
struct Request {
    int64 cost;
    pk::checks::Required required;
    text* permission;  // nullptr: no permission query
    Datum client_ip;
    bool client_ip_isnull;
    pk::limits::Request limits;
};

struct Row {
    Datum values[kColumns];
    bool nulls[kColumns];
};

void set(Row& r, Column c, Datum v) {
    r.values[c] = v;
    r.nulls[c] = false;
}

// A row with only valid, code and recorded set.
void init_row(Row& r, const char* code, bool recorded) {
    for (int i = 0; i < kColumns; ++i) r.nulls[i] = true;
    set(r, kValid, BoolGetDatum(strcmp(code, "VALID") == 0));
    set(r, kCode, CStringGetTextDatum(code));
    set(r, kRecorded, BoolGetDatum(recorded));
}

// True when this server may write: not a standby, not a read-only transaction.
bool can_write() { return !RecoveryInProgress() && !XactReadOnly; }

// The code for a found key before rate limits and credits, or nullptr.
const char* refusal(const KeyRow& k, const Request& req) {
    if (k.revoked) return "REVOKED";
    if (k.expired) return "EXPIRED";
    if (!k.active) return "DISABLED";
    if (!pk::checks::ip_allowed(k.allowed_ips, req.client_ip, req.client_ip_isnull)) return "FORBIDDEN";
    if (!pk::checks::scopes_ok(k.scopes, req.required, req.permission)) return "INSUFFICIENT_SCOPE";
    return nullptr;
}

// Fills the key columns shared by every code after NOT_FOUND.
void describe_key(Row& r, KeyRow& k) {
    set(r, kKeyId, UUIDPGetDatum(&k.id));
    set(r, kOrgId, UUIDPGetDatum(&k.organization_id));
    set(r, kEnvironment, k.environment);
    set(r, kScopes, k.scopes);
    set(r, kRateLimit, Int32GetDatum(k.rate_limit));
    if (k.has_remaining) set(r, kRemaining, Int64GetDatum(k.remaining));
}

// `kept`: the call kept its slot (else remaining counts it back).
void describe_limit(Row& r, const pk::rl::Ticket& t, bool kept = true) {
    int64 remaining = t.remaining + (!kept && t.counted ? t.cost : 0);
    set(r, kRateLimitRemaining, Int32GetDatum(static_cast<int32>(Min(remaining, (int64)PG_INT32_MAX))));
    set(r, kRateLimitReset, TimestampTzGetDatum(t.reset));
}

// Column c of the first SPI row as bool.
bool spi_bool(int c) {
    bool isnull = false;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, c, &isnull);
    return !isnull && DatumGetBool(d);
}

// Why a spend matched no row, read with a new snapshot (the key may have been
// changed by the transaction the UPDATE waited for). *remaining gets the
// balance as it is now.
const char* spend_refusal(pk::spi::Conn& conn, const KeyRow& k, Datum* args, int64* remaining) {
    pk::spi::exec(conn, pk::spi::balance_stmt(k.refills, k.shared), args, nullptr, 1);
    if (SPI_processed == 0) return "NOT_FOUND";  // deleted meanwhile
    bool isnull = false;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    *remaining = isnull ? 0 : DatumGetInt64(d);
    if (spi_bool(2)) return "REVOKED";
    if (spi_bool(3)) return "EXPIRED";
    if (!spi_bool(4)) return "DISABLED";
    return "USAGE_EXCEEDED";
}

// Spends credits (and, when counting in the table, request_count and
// last_used_at) with one conditional UPDATE. Returns nullptr when paid, else
// the refusal code. *remaining gets the balance after the spend.
const char* spend(pk::spi::Conn& conn, const KeyRow& k, int64 cost, bool count_in_table,
                  int64* remaining) {
    *remaining = k.remaining;
    if (!count_in_table && (!k.has_remaining || cost == 0)) {
        // Nothing to write.
        return (!k.has_remaining || k.remaining >= 1) ? nullptr : "USAGE_EXCEEDED";
    }
    pg_uuid_t id = k.id;
    pg_uuid_t balance_id = k.balance_id;
    Datum args[3] = {UUIDPGetDatum(&id), Int64GetDatum(cost), UUIDPGetDatum(&balance_id)};
    auto stmt = pk::spi::spend_stmt(count_in_table, k.refills, k.shared);
    pk::spi::exec(conn, stmt, args, nullptr, 1);
    if (SPI_processed == 0) {
        const char* refused = spend_refusal(conn, k, args, remaining);
        KeyRow moved = k;
        if (strcmp(refused, "USAGE_EXCEEDED") == 0 && k.rotatable && !k.shared &&
            pk::spi::rotated_meanwhile(conn, args, &moved.balance_id)) {
            // Rotated while this call waited for the key's row: the balance
            // moved to the successor; spend it there (once: moved is shared).
            moved.shared = true;
            return spend(conn, moved, cost, count_in_table, remaining);
        }
        return refused;
    }
    bool isnull = false;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    *remaining = isnull ? 0 : DatumGetInt64(d);
    return nullptr;
}

// The named limits of a request that reached the rate limits: resolved and
// acquired after the per-minute window (see named_limits.h for the order).
// Returns true when none refuses.
bool acquire_named(pk::spi::Conn& conn, const KeyRow& k, const Request& req, bool writable,
                   pk::limits::Resolved* set) {
    set->n = 0;
    set->items = nullptr;
    if (req.limits.n == 0) return true;
    *set = pk::limits::resolve(conn, k.organization_id, k.id, req.limits);
    return pk::limits::acquire(conn, *set, writable);
}

// rate_limit.exceeded for every enforced limit that refused this call, once
// per window: shared memory says which refusal was the first; in the tables
// events.cpp keeps it to one.
void raise_refusals(pk::spi::Conn& conn, const KeyRow& k, const pk::rl::Ticket& t,
                    const pk::limits::Resolved& named) {
    auto raise = [&](const pk::rl::Ticket& x, const char* name) {
        if (x.allowed || x.where == pk::rl::Where::kNone) return;
        bool shared = x.where == pk::rl::Where::kSharedMemory;
        if (shared && !x.first_refusal) return;
        TimestampTz start = x.index * static_cast<int64>(x.window_seconds) * USECS_PER_SEC;
        pk::events::rate_limited(conn, k.organization_id, k.id, name, x.key, x.window_seconds, start, shared);
    };
    raise(t, "rate_limit_per_minute");
    for (int i = 0; i < named.n; ++i) {
        if (named.items[i].enforce) raise(named.items[i].ticket, named.items[i].name);
    }
}

// Rate limits, credits and counters for a key that passed every other check.
void admit(pk::spi::Conn& conn, KeyRow& k, const Request& req, Row& r) {
    bool writable = can_write();
    int64 cost = req.cost;
    // When nothing can refuse the call after the per-minute limit (no credits
    // to spend, no named limit), shared memory counts it in the same step as
    // the slot.
    bool nothing_to_spend = !k.has_remaining || (cost == 0 && k.remaining >= 1);
    bool single_step = writable && nothing_to_spend && req.limits.n == 0;
    TimestampTz record_at = single_step ? GetCurrentTransactionStartTimestamp() : 0;
    // One slot per call, whatever the cost.
    pk::rl::Ticket t = pk::rl::begin(conn, k.id, kAuthWindowSeconds, k.rate_limit, 1, writable, record_at);
    pk::limits::Resolved named;
    bool named_ok = acquire_named(conn, k, req, writable, &named);
    if (!t.allowed || !named_ok) {
        // All or nothing: give back every slot taken.
        pk::rl::finish(conn, t, false);
        pk::limits::finish(conn, named, false);
        init_row(r, "RATE_LIMITED", writable);
        describe_key(r, k);
        describe_limit(r, t, false);
        set(r, kLimits, pk::limits::report(named, req.limits, false));
        raise_refusals(conn, k, t, named);
        return;
    }
    bool in_shared = t.where == pk::rl::Where::kSharedMemory;
    bool count_in_table = writable && !in_shared;
    int64 remaining = k.remaining;
    const char* refused = writable ? spend(conn, k, cost, count_in_table, &remaining)
                          : (!k.has_remaining || k.remaining >= Max(cost, (int64)1)) ? nullptr
                                                                                     : "USAGE_EXCEEDED";
    bool paid = refused == nullptr;
    if (paid && writable && k.has_remaining && cost > 0) {
        pk::events::after_spend(conn, k.organization_id, k.id, remaining + cost, remaining, k.credits_baseline);
    }
    if (paid) pk::events::on_valid(conn, k.organization_id, k.id, k.expires_at);
    pk::rl::finish(conn, t, paid);
    pk::limits::finish(conn, named, paid);
    init_row(r, paid ? "VALID" : refused, writable);
    describe_key(r, k);
    if (k.has_remaining) set(r, kRemaining, Int64GetDatum(remaining));
    describe_limit(r, t);
    set(r, kLimits, pk::limits::report(named, req.limits, paid));
    if (paid && writable && in_shared && !t.recorded &&
        !pk::shm::record_use(t.generation, k.id, kAuthWindowSeconds, GetCurrentTransactionStartTimestamp())) {
        pg_uuid_t id = k.id;
        Datum args[1] = {UUIDPGetDatum(&id)};
        pk::spi::exec(conn, pk::spi::Stmt::kCount, args, nullptr, 0);
    }
}

// Everything after the key is well formed and hashed; returns the row.
Datum authenticate_hashed(FunctionCallInfo fcinfo, const char* hash_hex, const Request& req) {
    MemoryContext entry_cxt = CurrentMemoryContext;
    Row r;
    KeyRow k;
    pk::spi::Conn conn = {false};
    if (!pk::lookup::find_by_hash(hash_hex, &k)) {
        init_row(r, "NOT_FOUND", can_write());
    } else if (const char* code = refusal(k, req)) {
        init_row(r, code, can_write());
        describe_key(r, k);
    } else {
        admit(conn, k, req, r);
    }
    if (DatumGetBool(r.values[kValid])) {
        pk::session::set(k.id, k.organization_id, k.scopes);
    } else {
        pk::session::clear();
    }
    // Formed in the entry context: SPI's memory goes away at close.
    Datum row = pk::pg::one_row_result(fcinfo, entry_cxt, r.values, r.nulls);
    pk::spi::close(conn);
    return row;
}

int64 cost_arg(FunctionCallInfo fcinfo, int n) {
    pk::pg::require_arg(fcinfo, n, "cost");
    int64 cost = PG_GETARG_INT32(n);
    if (cost < 0) throw pk::Error(pk::sqlstate::kInvalidParameter, "cost must not be negative");
    return cost;
}

// The full request check; `nargs` is 3 for pk_authenticate, 6 for
// pk_authenticate_request.
Datum authenticate(FunctionCallInfo fcinfo, int nargs) {
    Request req;
    req.cost = cost_arg(fcinfo, 2);
    req.required = pk::checks::required_scopes(PG_ARGISNULL(1) ? (Datum)0 : PG_GETARG_DATUM(1), PG_ARGISNULL(1));
    req.client_ip_isnull = nargs < 6 || PG_ARGISNULL(3);
    req.client_ip = req.client_ip_isnull ? (Datum)0 : PG_GETARG_DATUM(3);
    req.limits = pk::limits::parse(nargs < 6 || PG_ARGISNULL(4) ? nullptr : PG_GETARG_JSONB_P(4));
    req.permission = nargs < 6 || PG_ARGISNULL(5) ? nullptr : PG_GETARG_TEXT_PP(5);
    if (req.permission) pk::checks::validate_permission(req.permission);
    char hash_hex[65];
    bool well_formed = false;
    if (!PG_ARGISNULL(0)) {
        std::string_view key = pk::pg::text_arg(fcinfo, 0);
        well_formed = pk::is_valid_key(key);
        // Keys are ASCII, so their bytes are their UTF-8 bytes.
        if (well_formed) pk::sha256_hex(key, hash_hex);
    }
    if (!well_formed) {
        pk::session::clear();
        Row r;
        init_row(r, "MALFORMED", can_write());
        return pk::pg::one_row_result(fcinfo, CurrentMemoryContext, r.values, r.nulls);
    }
    hash_hex[64] = '\0';
    return authenticate_hashed(fcinfo, hash_hex, req);
}

}  // namespace

// pk_authenticate(key text, required_scopes text[] DEFAULT '{}', cost integer DEFAULT 1)
PK_FUNCTION(pk_authenticate) {
    if (!pk::pg::one_row_pending(fcinfo)) return (Datum)0;
    return authenticate(fcinfo, 3);
}

// pk_authenticate_request(key text, required_scopes text[] DEFAULT '{}', cost integer DEFAULT 1,
//     client_ip inet DEFAULT NULL, limits jsonb DEFAULT '{}', permission text DEFAULT NULL)
PK_FUNCTION(pk_authenticate_request) {
    if (!pk::pg::one_row_pending(fcinfo)) return (Datum)0;
    return authenticate(fcinfo, 6);
}

// pk_rate_limit_check(key_id uuid, lim integer, window_size interval DEFAULT '1 minute', cost integer DEFAULT 1)
PK_FUNCTION(pk_rate_limit_check) {
    if (!pk::pg::one_row_pending(fcinfo)) return (Datum)0;
    pk::pg::require_arg(fcinfo, 0, "key_id");
    pk::pg::require_arg(fcinfo, 1, "lim");
    pk::pg::require_arg(fcinfo, 2, "window_size");
    int64 cost = cost_arg(fcinfo, 3);
    int32 lim = PG_GETARG_INT32(1);
    if (lim < 0) throw pk::Error(pk::sqlstate::kInvalidParameter, "lim must not be negative");
    Interval* w = PG_GETARG_INTERVAL_P(2);
    int64 window_us = w->time + (static_cast<int64>(w->day) + static_cast<int64>(w->month) * DAYS_PER_MONTH) * USECS_PER_DAY;
    if (window_us < USECS_PER_SEC || window_us % USECS_PER_SEC != 0 ||
        window_us / USECS_PER_SEC > kMaxWindowSeconds) {
        throw pk::Error(pk::sqlstate::kInvalidParameter,
                        "window_size must be a whole number of seconds from 1 second to 366 days");
    }
    pg_uuid_t key;
    memcpy(&key, PG_GETARG_UUID_P(0), sizeof key);
    MemoryContext entry_cxt = CurrentMemoryContext;
    pk::spi::Conn conn = {false};
    pk::rl::Ticket t = pk::rl::begin(conn, key, static_cast<int32>(window_us / USECS_PER_SEC), lim, cost, can_write());
    pk::rl::finish(conn, t, t.allowed);
    Datum values[3] = {BoolGetDatum(t.allowed),
                       Int32GetDatum(static_cast<int32>(Min(t.remaining, (int64)PG_INT32_MAX))),
                       TimestampTzGetDatum(t.reset)};
    bool nulls[3] = {false, false, false};
    Datum row = pk::pg::one_row_result(fcinfo, entry_cxt, values, nulls);
    pk::spi::close(conn);
    return row;
}

// pk_shared_memory_enabled(): true when the shared-memory paths are in use.
PK_FUNCTION(pk_shared_memory_enabled) { PG_RETURN_BOOL(pk::shm::available()); }
