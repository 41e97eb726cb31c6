// Keeping full keys out of the server log.
//
// install_log_hook() (from _PG_init) chains an emit_log_hook that, for every
// message about to be written (any level: errors, log_statement lines,
// log_min_duration_statement lines, auto_explain plans):
//   * hides the STATEMENT line (hide_stmt) when the statement holds a full key;
//   * redacts full keys inside the message, detail, hint, context and
//     internal query, in place (pk_live_[redacted]).
// It covers only backends that have loaded pk_keys.so: with
// shared_preload_libraries or session_preload_libraries that is every
// backend from its first statement; otherwise a session is covered from its
// first call of a pk_keys C function on (README, "Keys and the server log").
#pragma once

namespace pk::logsafety {

// Installs the hook once per process.
void install_log_hook();

// True when the statement now running holds a full key (pk_keys' own ERRORs
// then add errhidestmt).
bool statement_holds_key();

}  // namespace pk::logsafety
