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
    // kLimitsResolve: per name the key's own limit, else the organization's
    // pool (api_key_id NULL sorts after the key's row).
    {"SELECT DISTINCT ON (name) id, name, lim, window_seconds,"
     "       algorithm OPERATOR(pg_catalog.=) 'fixed', enforce"
     "  FROM pk_keys.limits"
     " WHERE organization_id OPERATOR(pg_catalog.=) $1"
     "   AND (api_key_id OPERATOR(pg_catalog.=) $2 OR api_key_id IS NULL)"
     "   AND name OPERATOR(pg_catalog.=) ANY ($3)"
     " ORDER BY name, api_key_id NULLS LAST",
     3,
     {UUIDOID, UUIDOID, TEXTARRAYOID}},
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

}  // namespace pk::spi

namespace pk::spi {
void close(Conn& conn) {
    if (conn.open) SPI_finish();
    conn.open = false;
}
}  // namespace pk::spi
