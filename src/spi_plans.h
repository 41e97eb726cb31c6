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
    kLookupKey,        // (hash text, scopes text[]) -> the key and its organization
    kSpendAndCount,    // (id, cost): credits + request_count + last_used_at
    kSpend,            // (id, cost): credits only (counters live in shared memory)
    kCount,            // (id): request_count + last_used_at only
    kWindowLock,       // (id, window, start): upsert + lock the current window row
    kWindowPrevious,   // (id, window, start): count of the previous window
    kWindowAdd,        // (id, window, start, n): add to the current window
    kWindowCleanup,    // (id, window, start): delete windows before start
    kCount_
};

// Executes a saved statement; needs SPI_connect. May raise ERROR (call it
// from frames without C++ destructors). Returns SPI_execute_plan's code.
int exec(Stmt stmt, Datum* args, const char* nulls, long max_rows);

}  // namespace pk::spi
