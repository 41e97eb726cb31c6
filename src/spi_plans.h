// Statements of the per-request path, prepared once per backend with
// SPI_prepare + SPI_keepplan and executed by id. A saved plan re-plans itself
// after DDL (including DROP + CREATE EXTENSION), so nothing here is stale.
#pragma once

extern "C" {
#include "postgres.h"

#include "executor/spi.h"
#include "utils/uuid.h"
}

namespace pk::spi {

enum class Stmt {
    kSpendAndCount,    // (id, cost): credits + request_count + last_used_at
    kSpend,            // (id, cost): credits only (counters live in shared memory)
    kCount,            // (id): request_count + last_used_at only
    kBalance,          // (id): remaining, revoked, expired, active (new snapshot)
    kWindowLock,       // (id, window, start): upsert + lock the current window row
    kWindowPrevious,   // (id, window, start): count of the previous window
    kWindowAdd,        // (id, window, start, n): add to the current window
    kWindowCleanup,    // (id, window, start): delete windows before start
    // 1.1, for a balance that refills or is shared with a rotation successor
    // (args (id, cost, balance_id)); refills due are applied in the same
    // conditional UPDATE, so concurrent callers apply each refill once.
    kSpendRefill,            // credits only, balance in the key's own row
    kSpendRefillAndCount,    // + request_count + last_used_at
    kSpendShared,            // credits in balance_id's row, checks on id's
    kSpendSharedAndCount,    // + request_count + last_used_at of id
    kBalanceShared,          // like kBalance, remaining from balance_id, refilled
    kBalanceHolder,          // (id): balance_key_id, set once the key is rotated
    kEventEmit,        // (kind, org, key, payload text): pk_event_emit (1.1)
    kCount_
};

// The spend and balance statements for a key: the 1.0 ones unless its
// balance refills or is shared.
Stmt spend_stmt(bool count_in_table, bool refills, bool shared);
Stmt balance_stmt(bool refills, bool shared);

// One call's SPI connection, opened on first use: read-only calls never
// connect. Plain data, so an ERROR may unwind past it (SPI is cleaned up at
// transaction abort).
struct Conn {
    bool open;
};

// Executes a saved statement, connecting first if needed. May raise ERROR
// (call it from frames without C++ destructors). Returns the SPI code.
int exec(Conn& conn, Stmt stmt, Datum* args, const char* nulls, long max_rows);

// Disconnects if connected; results of exec() are gone afterwards.
void close(Conn& conn);

// True when key args[0] now shares the balance of a rotation successor
// (a rotation committed while a spend waited for the key's row); stores the
// successor's id in *holder. 1.1 schemas only.
bool rotated_meanwhile(Conn& conn, Datum* args, pg_uuid_t* holder);

}  // namespace pk::spi
