// Events raised by the request path (credits.low, credits.exhausted,
// rate_limit.exceeded, key.expiring), each once per occasion:
//  * credits.low / credits.exhausted are decided from the spend itself (the
//    balance before and after one conditional UPDATE, serialised by the key's
//    row lock): a crossing happens in exactly one call, so no lookup or
//    write is needed to know it is the first;
//  * rate_limit.exceeded: shared memory marks the first refusal of each
//    window (one spinlocked compare); in table mode a per-backend memo
//    skips repeats and a unique index on (kind, key, payload->>'occasion')
//    makes pk_event_emit's INSERT ... ON CONFLICT DO NOTHING keep one row;
//  * key.expiring (on a VALID call within 7 days of expires_at): the same
//    per-backend memo and unique occasion.
// Writable transactions call pk_keys.pk_event_emit in the caller's
// transaction (a rollback takes the event with it). On a read-only
// transaction of a primary, with the library preloaded, events are queued
// in shared memory and written by the flusher; otherwise (no preload, a
// full queue, or a standby, whose flusher cannot write) they are dropped
// and counted (pk_keys.pk_events_dropped()).
//
// Queue locking: one spinlock guards the ring (head, count, entries); it is
// held only to copy one entry in or out.
// C-style: PostgreSQL errors may unwind through these frames.
#pragma once

extern "C" {
#include "postgres.h"

#include "utils/uuid.h"
}

#include "spi_plans.h"

namespace pk::events {

// Registers the queue's shared memory; call from _PG_init while preloading.
void install_hooks();

// After a paid spend: credits.low / credits.exhausted when the balance
// crossed the line. `baseline` is the last refill or creation balance.
void after_spend(spi::Conn& conn, const pg_uuid_t& org, const pg_uuid_t& key, int64 before,
                 int64 after, int64 baseline);

// A refusal that was the first of its window: rate_limit.exceeded.
// `limit_id` names the counter (the key's id for the per-minute limit).
void rate_limited(spi::Conn& conn, const pg_uuid_t& org, const pg_uuid_t& key, const char* limit,
                  const pg_uuid_t& limit_id, int32 window_seconds, TimestampTz window_start,
                  bool from_shared_memory);

// A VALID call of a key that expires within 7 days: key.expiring, once.
void on_valid(spi::Conn& conn, const pg_uuid_t& org, const pg_uuid_t& key, TimestampTz expires_at);

// The flusher (and pk_flush): writes queued events of this database through
// pk_event_emit, inside the caller's transaction and SPI connection.
int write_queued();

}  // namespace pk::events
