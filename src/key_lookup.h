// Finds a key by its hash with a direct index scan (no SQL, no planner, no
// executor): the read-only half of pk_authenticate. Relation OIDs and column
// numbers are cached per backend and dropped by a relcache callback, so DROP
// + CREATE EXTENSION in one session keeps working. Reads with the active
// snapshot, so a change committed by any session is seen by the next call.
#pragma once

extern "C" {
#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/uuid.h"
}

namespace pk::lookup {

// The key and its organization, as pk_authenticate needs them. Datums are
// copies in the caller's memory context.
struct KeyRow {
    pg_uuid_t id;
    pg_uuid_t organization_id;
    Datum environment;  // text
    Datum scopes;       // text[]
    bool revoked;
    bool expired;       // expires_at <= now()
    bool active;        // key and organization
    int32 rate_limit;   // the key's, else the organization's
    bool has_remaining;
    int64 remaining;    // the balance now, refills due applied (1.1)
    // 1.1: where the balance lives and whether it refills. balance_id is id,
    // or, during a rotation's grace period, the successor holding the one
    // balance both keys spend. On a 1.0 schema shared and refills are false.
    pg_uuid_t balance_id;
    bool shared;
    bool refills;
    bool rotatable;  // the schema has balance_key_id: a rotation may move the balance
    TimestampTz expires_at;  // 0 when the key never expires
    // The client IP allowlist that applies (cidr[]): the key's own when set,
    // else its organization's; 0 when none applies (or on a 1.0 schema).
    Datum allowed_ips;
    // Balance after the last refill or at creation (credits.low's 10 %);
    // 0 when unknown (NULL, or a 1.0 schema).
    int64 credits_baseline;
};

// Fills *k for the key whose lower-case hex hash is hash_hex (64 chars);
// false when there is none. Raises ERROR if pk_keys is not installed here.
bool find_by_hash(const char* hash_hex, KeyRow* k);

// True when this database's pk_keys has the events table (1.1 or later).
bool has_events();

// The OID of pk_keys.api_keys here (cached): the generation of the
// shared-memory entries. Raises ERROR if pk_keys is not installed here.
Oid current_generation();

// The same, looked up afresh; InvalidOid when pk_keys is not installed.
Oid lookup_generation();

}  // namespace pk::lookup
