// The session context for row-level security: current_key_id(),
// current_organization_id(), current_scopes().
//
// Kept in an internal setting (pk_keys.session_context) so that it follows
// PostgreSQL's own transactional rules and reaches parallel workers:
//  * set by a VALID pk_authenticate / pk_authenticate_request with plain SET
//    semantics (it survives the function's own SET search_path level),
//    cleared by any other outcome of the next call;
//  * a subtransaction abort (ROLLBACK TO SAVEPOINT, an exception block)
//    restores the value from before the subtransaction, a transaction abort
//    the value from before the transaction (always empty, see next point);
//  * cleared at every top-level commit and PREPARE (a pre-commit callback);
//  * parallel workers receive it with the leader's other settings, so the
//    PARALLEL SAFE readers return the leader's value there;
//  * it cannot be forged: its check hook refuses every value that does not
//    come from this module (or from the parallel-worker start-up copying
//    the leader's settings), so SET, SET LOCAL, set_config(), a function's
//    SET clause, ALTER ROLE ... SET or a startup option all fail.
#pragma once

extern "C" {
#include "postgres.h"

#include "utils/uuid.h"
}

namespace pk::session {

// Defines the internal setting; call from _PG_init before the pk_keys
// prefix is reserved.
void define_setting();

// After a VALID call: the key, its organization and its scopes (text[]).
void set(const pg_uuid_t& key, const pg_uuid_t& org, Datum scopes);

// After any other outcome: no context (cheap when there is none).
void clear();

}  // namespace pk::session
