// Statements of the per-request path, prepared once per backend with
// SPI_prepare + SPI_keepplan and executed by id. A saved plan re-plans itself
// after DDL (including DROP + CREATE EXTENSION), so nothing here is stale.
#pragma once

extern "C" {
#include "postgres.h"

#include "executor/spi.h"
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
    kLimitsResolve,    // (org, key, names): the named limits a request spends (1.1)
    kEventEmit,        // (kind, org, key, payload text): pk_event_emit (1.1)
    kCount_
};

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

}  // namespace pk::spi
