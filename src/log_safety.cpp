#include "log_safety.h"

#include <cstring>

#include "core/key_scan.h"

extern "C" {
#include "postgres.h"

#include "tcop/tcopprot.h"
#include "utils/elog.h"
}

namespace pk::logsafety {

namespace {

emit_log_hook_type previous_hook = nullptr;
bool installed = false;

// Redacts full keys in one palloc'd message field, in place.
void redact(char* field) noexcept {
    if (field != nullptr) redact_keys(field, std::strlen(field));
}

// The hook: plain C-style code that allocates nothing and cannot raise.
void hide_keys(ErrorData* edata) noexcept {
    if (edata->output_to_server) {
        if (statement_holds_key()) edata->hide_stmt = true;
        redact(edata->message);
        redact(edata->detail);
        redact(edata->detail_log);
        redact(edata->hint);
        redact(edata->context);
        redact(edata->internalquery);
    }
}

extern "C" void pk_emit_log_hook(ErrorData* edata) {
    hide_keys(edata);
    if (previous_hook != nullptr) previous_hook(edata);
}

}  // namespace

bool statement_holds_key() {
    return debug_query_string != nullptr && contains_key(debug_query_string);
}

void install_log_hook() {
    if (installed) return;
    previous_hook = emit_log_hook;
    emit_log_hook = pk_emit_log_hook;
    installed = true;
}

}  // namespace pk::logsafety
