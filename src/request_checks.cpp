#include "request_checks.h"

#include <string>
#include <string_view>
#include <vector>

#include "core/permission.h"
#include "pg_boundary.h"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inet.h"
}

namespace pk::checks {

namespace {

constexpr int kMaxRequired = 256;
constexpr int kMaxScopeBytes = 128;

std::string_view text_view(Datum d) {
    text* t = reinterpret_cast<text*>(DatumGetPointer(d));
    return std::string_view(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

// Views of the non-NULL elements (NULL elements grant nothing).
std::vector<std::string_view> views(const Datum* elems, const bool* nulls, int n) {
    std::vector<std::string_view> v;
    v.reserve(n);
    for (int i = 0; i < n; ++i) {
        if (!nulls || !nulls[i]) v.push_back(text_view(elems[i]));
    }
    return v;
}

// The C++ half of scopes_ok: calls no PostgreSQL function.
bool evaluate(const Datum* held, const bool* held_nulls, int n_held, const Required& required,
              text* permission) {
    pk::permission::ScopeSet set(views(held, held_nulls, n_held));
    if (required.n > 0 && !set.contains_all(views(required.elems, nullptr, required.n))) return false;
    if (!permission) return true;
    return pk::permission::satisfies(set, std::string_view(VARDATA_ANY(permission),
                                                           VARSIZE_ANY_EXHDR(permission)));
}

void check_required(const Datum* elems, const bool* nulls, int n) {
    if (n > kMaxRequired) {
        throw Error(sqlstate::kInvalidParameter, "required_scopes must have at most 256 elements");
    }
    for (int i = 0; i < n; ++i) {
        if (nulls[i]) throw Error(sqlstate::kInvalidParameter, "required_scopes must not contain NULL");
        std::size_t len = text_view(elems[i]).size();
        if (len < 1 || len > kMaxScopeBytes) {
            throw Error(sqlstate::kInvalidParameter, "required_scopes elements must be 1 to 128 bytes");
        }
    }
}

}  // namespace

Required required_scopes(Datum array, bool isnull) {
    Required r = {0, nullptr};
    if (isnull) return r;
    ArrayType* a = DatumGetArrayTypeP(array);
    if (ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a)) == 0) return r;
    bool* nulls = nullptr;
    deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &r.elems, &nulls, &r.n);
    check_required(r.elems, nulls, r.n);
    return r;
}

void validate_permission(text* permission) {
    pk::permission::validate(std::string_view(VARDATA_ANY(permission), VARSIZE_ANY_EXHDR(permission)));
}

bool scopes_ok(Datum key_scopes, const Required& required, text* permission) {
    if (required.n == 0 && !permission) return true;
    Datum* held = nullptr;
    bool* held_nulls = nullptr;
    int n_held = 0;
    deconstruct_array(DatumGetArrayTypeP(key_scopes), TEXTOID, -1, false, TYPALIGN_INT, &held,
                      &held_nulls, &n_held);
    return evaluate(held, held_nulls, n_held, required, permission);
}

bool ip_allowed(Datum allowed_ips, Datum client_ip, bool client_ip_isnull) {
    if (allowed_ips == (Datum)0) return true;
    if (client_ip_isnull) return false;
    Datum* ranges = nullptr;
    bool* nulls = nullptr;
    int n = 0;
    deconstruct_array(DatumGetArrayTypeP(allowed_ips), CIDROID, -1, false, TYPALIGN_INT, &ranges,
                      &nulls, &n);
    for (int i = 0; i < n; ++i) {
        // inet <<= cidr: false (no error) across address families.
        if (!nulls[i] && DatumGetBool(DirectFunctionCall2(network_subeq, client_ip, ranges[i]))) return true;
    }
    return false;
}

}  // namespace pk::checks

// pk_scopes_satisfy(scopes text[], query text): the permission test alone.
PK_FUNCTION(pk_scopes_satisfy) {
    text* query = PG_GETARG_TEXT_PP(1);
    pk::checks::Required none = {0, nullptr};
    PG_RETURN_BOOL(pk::checks::scopes_ok(PG_GETARG_DATUM(0), none, query));
}
