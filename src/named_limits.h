// Named limits and organization pools for pk_authenticate_request's
// `limits` argument ({"name": cost, ...}). Each name resolves to the key's
// own limit of that name, else the organization's pool (a limits row with
// api_key_id NULL). Every limit is counted by the rate-limit machinery of
// rate_limit.h under the limit row's own id, so a pool is one counter for
// every key of the organization (one shared-memory entry, or one
// rate_limit_tracking row locked until commit).
//
// Locking: windows are acquired in ascending limit id, after the key's own
// per-minute window, so two requests never wait on each other in opposite
// orders. All or nothing: on any enforced refusal every slot taken is given
// back (finish with consume = false).
//
// C-style (no destructors): PostgreSQL errors may unwind through here.
#pragma once

extern "C" {
#include "postgres.h"

#include "utils/jsonb.h"
#include "utils/uuid.h"
}

#include "rate_limit.h"
#include "spi_plans.h"

namespace pk::limits {

struct Wanted {
    char* name;  // NUL-terminated (JSON strings hold no NUL)
    int64 cost;
};

// The parsed `limits` argument, in the argument's key order.
struct Request {
    int n;
    Wanted* items;
};

// Parses and bounds `limits` (NULL or {}: none): a JSON object of at most
// 64 names (1..200 characters) with integer costs >= 0; else pk::Error 22023.
Request parse(Jsonb* limits);

struct Limit {
    pg_uuid_t id;
    char* name;
    int32 lim;
    int32 window_seconds;
    bool fixed;
    bool enforce;
    int64 cost;
    rl::Ticket ticket;
};

// The limits a request spends, sorted by id.
struct Resolved {
    int n;
    Limit* items;
};

// Resolves every name for this key and organization (direct index probes
// of pk_keys.limits, no SPI); a name matching
// neither a limit of the key nor a pool of the organization → pk::Error 22023.
Resolved resolve(spi::Conn& conn, const pg_uuid_t& org, const pg_uuid_t& key, const Request& req);

// Takes the slots of every limit in id order; true when no enforced limit
// refused. finish() must follow with the same set.
bool acquire(spi::Conn& conn, Resolved& set, bool can_write);

// Keeps (consume) or gives back every slot taken by acquire().
void finish(spi::Conn& conn, const Resolved& set, bool consume);

// The `limits` column: a jsonb array with one object per limit
// {name, limit, remaining, reset, allowed, enforced}, in the request's order.
// `kept`: whether the call kept its slots (else remaining counts them back).
Datum report(const Resolved& set, const Request& req, bool kept);

}  // namespace pk::limits
