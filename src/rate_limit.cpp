#include "rate_limit.h"

#include "core/sliding_window.h"
#include "key_lookup.h"
#include "shmem.h"
#include "spi_plans.h"

extern "C" {
#include "utils/timestamp.h"
}

namespace pk::rl {

namespace {

Ticket make_ticket(const pg_uuid_t& key, int32 window_seconds, int64 cost) {
    Ticket t;
    memset(&t, 0, sizeof t);
    t.key = key;
    t.window_seconds = window_seconds;
    t.cost = cost;
    t.where = Where::kNone;
    return t;
}

// Reads column 1 of the first SPI row as int64 (0 when absent or NULL).
int64 first_count() {
    if (SPI_processed == 0) return 0;
    bool isnull = false;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    return isnull ? 0 : DatumGetInt32(d);
}

void table_begin(spi::Conn& conn, Ticket& t, int64 now_us, int64 limit, Mode mode) {
    int64 window_us = static_cast<int64>(t.window_seconds) * USECS_PER_SEC;
    WindowState s;
    window_advance(s, now_us, window_us);
    t.index = s.cur_index;
    t.window_start = s.cur_index * window_us;
    TimestampTz prev_start = t.window_start - window_us;

    Datum args[3] = {UUIDPGetDatum(&t.key), Int32GetDatum(t.window_seconds),
                     TimestampTzGetDatum(t.window_start)};
    spi::exec(conn, spi::Stmt::kWindowLock, args, nullptr, 1);
    s.cur_count = first_count();
    if (s.cur_count == 0) {
        // First use of this window (or nothing admitted yet): drop older rows.
        args[2] = TimestampTzGetDatum(prev_start);
        spi::exec(conn, spi::Stmt::kWindowCleanup, args, nullptr, 0);
    }
    args[2] = TimestampTzGetDatum(prev_start);
    spi::exec(conn, spi::Stmt::kWindowPrevious, args, nullptr, 1);
    s.prev_count = first_count();

    // Decided on a local copy of the counts; finish() writes the slots.
    WindowDecision d = window_acquire_with(s, now_us, window_us, limit, t.cost, mode.algorithm, mode.force);
    t.allowed = d.allowed;
    t.counted = (d.allowed || mode.force) && t.cost > 0;
    t.remaining = d.remaining;
    t.reset = d.reset_us;
    t.where = Where::kTable;
}

}  // namespace

Ticket begin(spi::Conn& conn, const pg_uuid_t& key, int32 window_seconds, int64 limit, int64 cost,
             bool can_write, TimestampTz record_at, Mode mode) {
    Ticket t = make_ticket(key, window_seconds, cost);
    int64 now_us = GetCurrentTimestamp();
    if (shm::available()) {
        WindowDecision d;
        t.generation = lookup::current_generation();
        if (shm::window_acquire(t.generation, key, window_seconds, now_us, limit, cost, record_at, mode, &d,
                                &t.index, &t.recorded, &t.first_refusal)) {
            t.allowed = d.allowed;
            t.counted = (d.allowed || mode.force) && cost > 0;
            t.remaining = d.remaining;
            t.reset = d.reset_us;
            t.where = Where::kSharedMemory;
            return t;
        }
    }
    if (can_write) {
        table_begin(conn, t, now_us, limit, mode);
        return t;
    }
    // Nowhere to count: admit, and say it was not enforced (where = kNone).
    t.allowed = true;
    t.remaining = limit;
    t.reset = now_us + static_cast<int64>(window_seconds) * USECS_PER_SEC;
    return t;
}

void finish(spi::Conn& conn, const Ticket& t, bool consume) {
    if (t.where == Where::kSharedMemory) {
        if (!consume && t.counted) {
            shm::window_release(t.generation, t.key, t.window_seconds, t.index, t.cost);
        }
        return;
    }
    if (t.where == Where::kTable && consume && t.counted) {
        pg_uuid_t key = t.key;
        Datum args[4] = {UUIDPGetDatum(&key), Int32GetDatum(t.window_seconds),
                         TimestampTzGetDatum(t.window_start),
                         Int32GetDatum(static_cast<int32>(Min(t.cost, (int64)PG_INT32_MAX)))};
        spi::exec(conn, spi::Stmt::kWindowAdd, args, nullptr, 0);
    }
}

}  // namespace pk::rl
