// The per-database background worker that writes shared-memory counters
// (request_count, last_used_at, rate-limit windows) to the tables.
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pk::flusher {

// Registers a dynamic background worker for database `db`; false if none
// could be registered (max_worker_processes reached).
bool launch(Oid db);

}  // namespace pk::flusher

extern "C" {
// Background worker entry point (bgw_function_name).
PGDLLEXPORT void pk_keys_flusher_main(Datum db);
}
