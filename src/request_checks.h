// The argument bounds and the per-key checks of the full request check:
// required_scopes (bounded, compared without quadratic work), the
// permission query (core/permission.h) and the client IP allowlist.
// C-style entry points: PostgreSQL calls (which may raise ERROR) happen in
// frames without C++ destructors; the C++ work (sorting, parsing) runs in
// helpers that call no PostgreSQL function and throw only pk::Error.
#pragma once

extern "C" {
#include "postgres.h"

#include "fmgr.h"
}

namespace pk::checks {

// required_scopes deconstructed once at entry (n == 0: nothing required).
struct Required {
    int n;
    Datum* elems;  // text, not NULL, 1..128 bytes each
};

// Deconstructs and bounds required_scopes (NULL or '{}': none): at most 256
// elements, each 1..128 bytes, no NULL element; else pk::Error 22023.
Required required_scopes(Datum array, bool isnull);

// Throws pk::Error 22023 naming `permission` when the query is malformed.
void validate_permission(text* permission);

// True when the key's scopes hold every required scope and, if permission
// is not NULL, satisfy the query.
bool scopes_ok(Datum key_scopes, const Required& required, text* permission);

// True when no allowlist applies (allowed_ips == 0) or client_ip is in one
// of its ranges (cidr, IPv4 or IPv6; a NULL client_ip matches none).
bool ip_allowed(Datum allowed_ips, Datum client_ip, bool client_ip_isnull);

}  // namespace pk::checks
