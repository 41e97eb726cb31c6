// The session context; the rules it keeps are in session_context.h.
// Value format: "<key uuid>,<organization uuid>,<scopes as text[] literal>",
// or "" for none.
#include "session_context.h"

#include <cstring>

#include "pg_boundary.h"

extern "C" {
#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/memutils.h"
}

namespace pk::session {

namespace {

constexpr const char* kSetting = "pk_keys.session_context";
constexpr int kUuidChars = 36;

char* value = nullptr;         // the setting's current value (owned by guc.c)
bool setting_internally = false;  // true only inside assign_internal()
bool callback_registered = false;

// Accepts only values this module sets, the boot value, and the copy a
// parallel worker receives from its leader.
bool check_value(char** newval, void**, GucSource source) {
    if (source == PGC_S_DEFAULT || setting_internally || InitializingParallelWorker) return true;
    if (*newval && (*newval)[0] == '\0') return true;  // clearing forges nothing
    GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
    GUC_check_errmsg("pk_keys.session_context is set only by pk_authenticate");
    return false;
}

// Sets the value with SET semantics (transactional, subtransaction-aware).
// C-style: the flag is reset even when set_config_option raises ERROR.
void assign_internal(const char* v) {
    setting_internally = true;
    PG_TRY();
    {
        (void)set_config_option(kSetting, v, PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SET, true, 0, false);
    }
    PG_FINALLY();
    {
        setting_internally = false;
    }
    PG_END_TRY();
}

bool has_value() { return value != nullptr && value[0] != '\0'; }

// Clears the context when a transaction commits or is prepared. Not in a
// parallel worker: it restores the leader's settings in a transaction of
// its own, and that commit must not drop the copy.
void on_xact(XactEvent event, void*) {
    if (IsParallelWorker()) return;
    if ((event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PRE_PREPARE) && has_value()) {
        assign_internal("");
    }
}

FmgrInfo* cached_fn(FmgrInfo* fn, bool* ready, Oid oid) {
    if (!*ready) {
        fmgr_info_cxt(oid, fn, TopMemoryContext);
        *ready = true;
    }
    return fn;
}

FmgrInfo* array_out_fn() {
    static FmgrInfo fn;
    static bool ready = false;
    return cached_fn(&fn, &ready, F_ARRAY_OUT);
}

FmgrInfo* array_in_fn() {
    static FmgrInfo fn;
    static bool ready = false;
    return cached_fn(&fn, &ready, F_ARRAY_IN);
}

// The uuid at character offset `at` of the value.
Datum uuid_at(int at) {
    char buf[kUuidChars + 1];
    memcpy(buf, value + at, kUuidChars);
    buf[kUuidChars] = '\0';
    return DirectFunctionCall1(uuid_in, CStringGetDatum(buf));
}

}  // namespace

void define_setting() {
    DefineCustomStringVariable(kSetting, "The key authenticated in this transaction (internal).",
                               "Set only by pk_authenticate; read it with pk_keys.current_key_id().",
                               &value, "", PGC_SUSET,
                               GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
                               check_value, nullptr, nullptr);
    if (!callback_registered) {
        RegisterXactCallback(on_xact, nullptr);
        callback_registered = true;
    }
}

void set(const pg_uuid_t& key, const pg_uuid_t& org, Datum scopes) {
    pg_uuid_t k = key, o = org;
    char* key_s = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&k)));
    char* org_s = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&o)));
    char* scopes_s = OutputFunctionCall(array_out_fn(), scopes);
    assign_internal(psprintf("%s,%s,%s", key_s, org_s, scopes_s));
}

void clear() {
    if (has_value()) assign_internal("");
}

}  // namespace pk::session

// pk_keys.current_key_id(): the key of the last VALID call of this transaction, or NULL.
PK_FUNCTION(pk_current_key_id) {
    if (!pk::session::has_value()) PG_RETURN_NULL();
    return pk::session::uuid_at(0);
}

// pk_keys.current_organization_id(): that key's organization, or NULL.
PK_FUNCTION(pk_current_organization_id) {
    if (!pk::session::has_value()) PG_RETURN_NULL();
    return pk::session::uuid_at(pk::session::kUuidChars + 1);
}

// pk_keys.current_scopes(): that key's scopes, or NULL.
PK_FUNCTION(pk_current_scopes) {
    if (!pk::session::has_value()) PG_RETURN_NULL();
    const char* scopes = pk::session::value + 2 * (pk::session::kUuidChars + 1);
    return InputFunctionCall(pk::session::array_in_fn(), const_cast<char*>(scopes), TEXTOID, -1);
}
