#include "spi_plans.h"

extern "C" {
#include "catalog/pg_type.h"
}

namespace pk::spi {

namespace {

struct Definition {
    const char* sql;
    int nargs;
    Oid types[4];
};

// The balance of row t now, refills due applied, and the refill instant
// last applied (src/core/refill.cpp through pk_refill_remaining/_last).
#define PK_REFILL_ARGS(t)                                                                   \
    "(" t ".remaining, " t ".refill_amount, " t ".refill_interval, " t ".refill_day, " t \
    ".refill_mode, " t ".last_refill_at, " t ".created_at, pg_catalog.now())"
#define PK_REFILLED(t) "pk_keys.pk_refill_remaining" PK_REFILL_ARGS(t)
#define PK_REFILL_LAST(t) "pk_keys.pk_refill_last" PK_REFILL_ARGS(t)
// Key row k may be used: not revoked, active, not expired.
#define PK_USABLE(k)                                                                        \
    " AND " k ".revoked_at IS NULL AND " k ".is_active AND (" k ".expires_at IS NULL OR " k \
    ".expires_at OPERATOR(pg_catalog.>) pg_catalog.now())"
// The shared spend: the balance row b is the UPDATE's target (locked and
// re-checked after a wait), the key row k is read with the statement's
// snapshot.
#define PK_SPEND_SHARED                                                                      \
    "UPDATE pk_keys.api_keys b"                                                              \
    "   SET remaining = " PK_REFILLED("b") " OPERATOR(pg_catalog.-) $2,"                      \
    "       last_refill_at = " PK_REFILL_LAST("b")                                            \
    "  FROM pk_keys.api_keys k"                                                              \
    " WHERE b.id OPERATOR(pg_catalog.=) $3 AND k.id OPERATOR(pg_catalog.=) $1"                \
    "   AND (b.remaining IS NULL OR " PK_REFILLED("b") " OPERATOR(pg_catalog.>=) GREATEST($2, 1))" PK_USABLE("k")

// Every name and operator is qualified: the plans must not depend on the
// caller's search_path.
const Definition kDefinitions[] = {
    // kSpendAndCount. The spends re-check revocation, expiry and is_active:
    // a call that waited for a concurrent change to the key's row sees it.
    {"UPDATE pk_keys.api_keys"
     "   SET remaining = remaining OPERATOR(pg_catalog.-) $2,"
     "       request_count = request_count OPERATOR(pg_catalog.+) 1,"
     "       last_used_at = pg_catalog.now()"
     " WHERE id OPERATOR(pg_catalog.=) $1"
     "   AND (remaining IS NULL OR remaining OPERATOR(pg_catalog.>=) GREATEST($2, 1))"
     "   AND revoked_at IS NULL AND is_active"
     "   AND (expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now())"
     " RETURNING remaining",
     2,
     {UUIDOID, INT8OID}},
    // kSpend
    {"UPDATE pk_keys.api_keys SET remaining = remaining OPERATOR(pg_catalog.-) $2"
     " WHERE id OPERATOR(pg_catalog.=) $1"
     "   AND remaining OPERATOR(pg_catalog.>=) GREATEST($2, 1)"
     "   AND revoked_at IS NULL AND is_active"
     "   AND (expires_at IS NULL OR expires_at OPERATOR(pg_catalog.>) pg_catalog.now())"
     " RETURNING remaining",
     2,
     {UUIDOID, INT8OID}},
    // kCount
    {"UPDATE pk_keys.api_keys"
     "   SET request_count = request_count OPERATOR(pg_catalog.+) 1,"
     "       last_used_at = GREATEST(last_used_at, pg_catalog.now())"
     " WHERE id OPERATOR(pg_catalog.=) $1",
     1,
     {UUIDOID}},
    // kBalance
    {"SELECT remaining, revoked_at IS NOT NULL,"
     "       COALESCE(expires_at OPERATOR(pg_catalog.<=) pg_catalog.now(), false), is_active"
     "  FROM pk_keys.api_keys WHERE id OPERATOR(pg_catalog.=) $1",
     1,
     {UUIDOID}},
    // kWindowLock: ON CONFLICT DO UPDATE takes the row lock that serialises
    // concurrent callers of one key and window until commit.
    {"INSERT INTO pk_keys.rate_limit_tracking AS r"
     "       (api_key_id, window_seconds, window_start, request_count)"
     " VALUES ($1, $2, $3, 0)"
     " ON CONFLICT (api_key_id, window_seconds, window_start)"
     " DO UPDATE SET request_count = r.request_count"
     " RETURNING r.request_count",
     3,
     {UUIDOID, INT4OID, TIMESTAMPTZOID}},
    // kWindowPrevious
    {"SELECT request_count FROM pk_keys.rate_limit_tracking"
     " WHERE api_key_id OPERATOR(pg_catalog.=) $1 AND window_seconds OPERATOR(pg_catalog.=) $2"
     "   AND window_start OPERATOR(pg_catalog.=) $3",
     3,
     {UUIDOID, INT4OID, TIMESTAMPTZOID}},
    // kWindowAdd
    {"UPDATE pk_keys.rate_limit_tracking"
     "   SET request_count = request_count OPERATOR(pg_catalog.+) $4"
     " WHERE api_key_id OPERATOR(pg_catalog.=) $1 AND window_seconds OPERATOR(pg_catalog.=) $2"
     "   AND window_start OPERATOR(pg_catalog.=) $3",
     4,
     {UUIDOID, INT4OID, TIMESTAMPTZOID, INT4OID}},
    // kWindowCleanup
    {"DELETE FROM pk_keys.rate_limit_tracking"
     " WHERE api_key_id OPERATOR(pg_catalog.=) $1 AND window_seconds OPERATOR(pg_catalog.=) $2"
     "   AND window_start OPERATOR(pg_catalog.<) $3",
     3,
     {UUIDOID, INT4OID, TIMESTAMPTZOID}},
    // kSpendRefill
    {"UPDATE pk_keys.api_keys b"
     "   SET remaining = " PK_REFILLED("b") " OPERATOR(pg_catalog.-) $2,"
     "       last_refill_at = " PK_REFILL_LAST("b")
     " WHERE b.id OPERATOR(pg_catalog.=) $1"
     "   AND (b.remaining IS NULL OR " PK_REFILLED("b") " OPERATOR(pg_catalog.>=) GREATEST($2, 1))" PK_USABLE("b")
     " RETURNING b.remaining",
     2,
     {UUIDOID, INT8OID}},
    // kSpendRefillAndCount
    {"UPDATE pk_keys.api_keys b"
     "   SET remaining = " PK_REFILLED("b") " OPERATOR(pg_catalog.-) $2,"
     "       last_refill_at = " PK_REFILL_LAST("b") ","
     "       request_count = b.request_count OPERATOR(pg_catalog.+) 1,"
     "       last_used_at = pg_catalog.now()"
     " WHERE b.id OPERATOR(pg_catalog.=) $1"
     "   AND (b.remaining IS NULL OR " PK_REFILLED("b") " OPERATOR(pg_catalog.>=) GREATEST($2, 1))" PK_USABLE("b")
     " RETURNING b.remaining",
     2,
     {UUIDOID, INT8OID}},
    // kSpendShared
    {PK_SPEND_SHARED " RETURNING b.remaining", 3, {UUIDOID, INT8OID, UUIDOID}},
    // kSpendSharedAndCount: the key's counters move only when the spend paid.
    {"WITH paid AS (" PK_SPEND_SHARED " RETURNING b.remaining),"
     " counted AS (UPDATE pk_keys.api_keys c"
     "   SET request_count = c.request_count OPERATOR(pg_catalog.+) 1,"
     "       last_used_at = GREATEST(c.last_used_at, pg_catalog.now())"
     " WHERE c.id OPERATOR(pg_catalog.=) $1 AND EXISTS (SELECT 1 FROM paid))"
     " SELECT remaining FROM paid",
     3,
     {UUIDOID, INT8OID, UUIDOID}},
    // kBalanceShared: a missing balance row counts as no credits.
    {"SELECT COALESCE(" PK_REFILLED("b") ", 0), k.revoked_at IS NOT NULL,"
     "       COALESCE(k.expires_at OPERATOR(pg_catalog.<=) pg_catalog.now(), false), k.is_active"
     "  FROM pk_keys.api_keys k LEFT JOIN pk_keys.api_keys b ON b.id OPERATOR(pg_catalog.=) $3"
     " WHERE k.id OPERATOR(pg_catalog.=) $1",
     3,
     {UUIDOID, INT8OID, UUIDOID}},
    // kBalanceHolder
    {"SELECT balance_key_id FROM pk_keys.api_keys WHERE id OPERATOR(pg_catalog.=) $1", 1, {UUIDOID}},
    // kEventEmit
    {"SELECT pk_keys.pk_event_emit($1, $2, $3, $4::pg_catalog.jsonb)", 4, {TEXTOID, UUIDOID, UUIDOID, TEXTOID}},
};

static_assert(sizeof(kDefinitions) / sizeof(kDefinitions[0]) == static_cast<int>(Stmt::kCount_));

SPIPlanPtr plans[static_cast<int>(Stmt::kCount_)];

SPIPlanPtr plan(Stmt stmt) {
    int i = static_cast<int>(stmt);
    if (!plans[i]) {
        const Definition& d = kDefinitions[i];
        SPIPlanPtr p = SPI_prepare(d.sql, d.nargs, const_cast<Oid*>(d.types));
        if (!p) elog(ERROR, "pk_keys: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        SPI_keepplan(p);
        plans[i] = p;
    }
    return plans[i];
}

}  // namespace

int exec(Conn& conn, Stmt stmt, Datum* args, const char* nulls, long max_rows) {
    if (!conn.open) {
        SPI_connect();
        conn.open = true;
    }
    int rc = SPI_execute_plan(plan(stmt), args, nulls, false, max_rows);
    if (rc < 0) elog(ERROR, "pk_keys: SPI_execute_plan failed: %s", SPI_result_code_string(rc));
    return rc;
}

Stmt spend_stmt(bool count_in_table, bool refills, bool shared) {
    if (shared) return count_in_table ? Stmt::kSpendSharedAndCount : Stmt::kSpendShared;
    if (refills) return count_in_table ? Stmt::kSpendRefillAndCount : Stmt::kSpendRefill;
    return count_in_table ? Stmt::kSpendAndCount : Stmt::kSpend;
}

Stmt balance_stmt(bool refills, bool shared) {
    return refills || shared ? Stmt::kBalanceShared : Stmt::kBalance;
}

bool rotated_meanwhile(Conn& conn, Datum* args, pg_uuid_t* holder) {
    exec(conn, Stmt::kBalanceHolder, args, nullptr, 1);
    if (SPI_processed == 0) return false;
    bool isnull = false;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    if (isnull) return false;
    memcpy(holder, DatumGetUUIDP(d), sizeof(pg_uuid_t));
    return true;
}

}  // namespace pk::spi

namespace pk::spi {
void close(Conn& conn) {
    if (conn.open) SPI_finish();
    conn.open = false;
}
}  // namespace pk::spi
