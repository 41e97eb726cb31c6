#include "key_lookup.h"

#include <initializer_list>

#include "refill.h"

extern "C" {
#include "access/genam.h"
#include "access/relation.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation_d.h"
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "fmgr.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "storage/lmgr.h"
}

namespace pk::lookup {

namespace {

// Column numbers of api_keys and organizations used here.
enum KeyCol { kId, kOrgId, kEnv, kScopes, kActive, kExpires, kRevoked, kLimit, kRemaining, kKeyCols };
const char* const kKeyColNames[kKeyCols] = {"id", "organization_id", "environment", "scopes",
                                            "is_active", "expires_at", "revoked_at",
                                            "rate_limit_per_minute", "remaining"};
// 1.1 columns: absent (InvalidAttrNumber) on a database still at 1.0.
enum OptCol { kRefillAmount, kRefillInterval, kRefillDay, kRefillMode, kLastRefill, kCreated, kBalanceKey, kOptCols };
const char* const kOptColNames[kOptCols] = {"refill_amount", "refill_interval", "refill_day", "refill_mode",
                                            "last_refill_at", "created_at", "balance_key_id"};
enum OrgCol { kOrgActive, kOrgLimit, kOrgCols };
const char* const kOrgColNames[kOrgCols] = {"is_active", "rate_limit_per_minute"};
// allowed_ips (1.1) of api_keys and organizations: InvalidAttrNumber on a
// 1.0 schema, where no allowlist applies.
constexpr const char* kAllowedIps = "allowed_ips";

struct Catalog {
    bool valid;
    Oid keys, keys_by_hash, keys_by_id, orgs, orgs_by_id;
    AttrNumber key_cols[kKeyCols];
    AttrNumber opt_cols[kOptCols];
    AttrNumber org_cols[kOrgCols];
    AttrNumber key_allowed_ips, org_allowed_ips, key_credits_baseline;
    bool has_events;
};

Catalog cat;
bool callback_registered = false;

void invalidate(Datum, Oid relid) {
    if (!cat.valid) return;
    if (relid == InvalidOid || relid == cat.keys || relid == cat.keys_by_hash || relid == cat.keys_by_id ||
        relid == cat.orgs || relid == cat.orgs_by_id) {
        cat.valid = false;
    }
}

bool lock_existing(Oid oid);

// The relation's OID, locked (AccessShareLock, released by load_catalog) so
// that its columns are read consistently; 42P01 when it is missing.
Oid required_relation(const char* name, Oid ns) {
    Oid oid = get_relname_relid(name, ns);
    if (!OidIsValid(oid) || !lock_existing(oid)) {
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("pk_keys.%s does not exist", name),
                        errhint("Run CREATE EXTENSION pk_keys in this database.")));
    }
    return oid;
}

AttrNumber required_column(Oid rel, const char* name) {
    AttrNumber n = get_attnum(rel, name);
    if (n == InvalidAttrNumber) {
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN), errmsg("pk_keys column %s is missing", name)));
    }
    return n;
}

void load_catalog() {
    if (!callback_registered) {
        CacheRegisterRelcacheCallback(invalidate, (Datum)0);
        callback_registered = true;
    }
    Oid ns = get_namespace_oid("pk_keys", true);
    if (!OidIsValid(ns)) {
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_SCHEMA), errmsg("schema pk_keys does not exist"),
                        errhint("Run CREATE EXTENSION pk_keys in this database.")));
    }
    cat.keys = required_relation("api_keys", ns);
    cat.keys_by_hash = required_relation("api_keys_key_hash_key", ns);
    cat.keys_by_id = required_relation("api_keys_pkey", ns);
    cat.orgs = required_relation("organizations", ns);
    cat.orgs_by_id = required_relation("organizations_pkey", ns);
    for (int i = 0; i < kKeyCols; ++i) cat.key_cols[i] = required_column(cat.keys, kKeyColNames[i]);
    for (int i = 0; i < kOrgCols; ++i) cat.org_cols[i] = required_column(cat.orgs, kOrgColNames[i]);
    for (int i = 0; i < kOptCols; ++i) cat.opt_cols[i] = get_attnum(cat.keys, kOptColNames[i]);
    cat.key_allowed_ips = get_attnum(cat.keys, kAllowedIps);
    cat.org_allowed_ips = get_attnum(cat.orgs, kAllowedIps);
    cat.key_credits_baseline = get_attnum(cat.keys, "credits_baseline");
    cat.has_events = OidIsValid(get_relname_relid("events", ns));
    // Columns read; open_pair locks each relation again when it is used.
    for (Oid oid : {cat.keys, cat.keys_by_hash, cat.keys_by_id, cat.orgs, cat.orgs_by_id}) {
        UnlockRelationOid(oid, AccessShareLock);
    }
    cat.valid = true;
}

// Takes AccessShareLock on relation oid and checks it still exists; a
// concurrent DROP is waited for, so false means it is gone for good (the
// lock is then released again).
bool lock_existing(Oid oid) {
    LockRelationOid(oid, AccessShareLock);  // also processes invalidations
    if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(oid))) return true;
    UnlockRelationOid(oid, AccessShareLock);
    return false;
}

// Opens a cached table and one of its indexes by OID, each with
// AccessShareLock, after checking that a DROP EXTENSION (or DROP + CREATE,
// or REINDEX CONCURRENTLY) committed since the OIDs were cached has not
// removed them: false (nothing held, cat.valid cleared) when one is gone or
// the catalog was invalidated meanwhile, so the caller looks the catalog up
// again — a clean 3F000/42P01 when the extension is gone, never the XX000
// "could not open relation with OID" of opening a stale OID. Locks are taken
// one relation at a time and released by close_pair, as before, so a DROP
// EXTENSION is not made to deadlock with lookups. (With the table locked,
// its other indexes cannot be dropped either.)
bool open_pair(Oid table, Oid index, Relation* rel, Relation* idx) {
    if (!lock_existing(table)) {
        cat.valid = false;
        return false;
    }
    if (!lock_existing(index)) {
        UnlockRelationOid(table, AccessShareLock);
        cat.valid = false;
        return false;
    }
    if (!cat.valid) {  // an invalidation processed by the locks touched them
        UnlockRelationOid(index, AccessShareLock);
        UnlockRelationOid(table, AccessShareLock);
        return false;
    }
    *rel = table_open(table, NoLock);  // locked and known to exist
    *idx = index_open(index, NoLock);
    return true;
}

void close_pair(Relation rel, Relation idx) {
    index_close(idx, AccessShareLock);
    table_close(rel, AccessShareLock);
}

enum class Probe { kFound, kAbsent, kStale };

// Runs a one-key equality index scan and returns the first visible tuple in
// *slot (false when none). The caller ends the scan.
bool probe(Relation rel, Relation index, RegProcedure eq, Oid collation, Datum value,
           TupleTableSlot* slot, IndexScanDesc* scan_out) {
    ScanKeyData key;
    ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid, collation, eq, value);
    IndexScanDesc scan = index_beginscan(rel, index, GetActiveSnapshot(), 1, 0);
    index_rescan(scan, &key, 1, nullptr, 0);
    *scan_out = scan;
    return index_getnext_slot(scan, ForwardScanDirection, slot);
}

Datum column(TupleTableSlot* slot, AttrNumber n, bool* isnull) { return slot_getattr(slot, n, isnull); }

// A flat, uncompressed copy of a varlena Datum in the current memory context.
Datum detoasted_copy(Datum d) {
    return PointerGetDatum(PG_DETOAST_DATUM_COPY(d));
}

// The optional varlena column n (0 when absent from the schema or NULL).
Datum optional_varlena(TupleTableSlot* slot, AttrNumber n) {
    if (n == InvalidAttrNumber) return (Datum)0;
    bool isnull = false;
    Datum d = slot_getattr(slot, n, &isnull);
    return isnull ? (Datum)0 : detoasted_copy(d);
}

// Reads the organization's flags (and its allowlist unless *allowed_ips is
// already set); kAbsent when it is gone (concurrent delete), kStale when the
// cached catalog is (see open_pair).
Probe read_organization(const pg_uuid_t& org_id, bool* active, int32* limit, Datum* allowed_ips) {
    Relation rel, index;
    if (!open_pair(cat.orgs, cat.orgs_by_id, &rel, &index)) return Probe::kStale;
    TupleTableSlot* slot = table_slot_create(rel, nullptr);
    IndexScanDesc scan;
    pg_uuid_t id = org_id;
    bool found = probe(rel, index, F_UUID_EQ, InvalidOid, UUIDPGetDatum(&id), slot, &scan);
    if (found) {
        bool isnull = false;
        *active = DatumGetBool(column(slot, cat.org_cols[kOrgActive], &isnull));
        *limit = DatumGetInt32(column(slot, cat.org_cols[kOrgLimit], &isnull));
        if (*allowed_ips == (Datum)0) *allowed_ips = optional_varlena(slot, cat.org_allowed_ips);
    }
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(slot);
    close_pair(rel, index);
    return found ? Probe::kFound : Probe::kAbsent;
}

// A 1.1 column of the slot; NULL when the column does not exist (1.0).
Datum optional(TupleTableSlot* slot, OptCol c, bool* isnull) {
    if (cat.opt_cols[c] == InvalidAttrNumber) {
        *isnull = true;
        return (Datum)0;
    }
    return column(slot, cat.opt_cols[c], isnull);
}

// The text of a short text Datum (refill_interval, refill_mode).
std::string_view short_text(Datum d) {
    text* t = DatumGetTextPP(d);  // short inline values: no detoasting allocation fails
    return std::string_view(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

// Reads remaining and the refill settings of the row holding the balance,
// and applies the refills due now (the same arithmetic as the spend
// statement's pk_refill_remaining).
void read_balance(TupleTableSlot* slot, KeyRow* k) {
    bool isnull = false;
    Datum remaining = column(slot, cat.key_cols[kRemaining], &isnull);
    k->has_remaining = !isnull;
    k->remaining = isnull ? 0 : DatumGetInt64(remaining);
    k->refills = false;
    bool amount_null = false, interval_null = false, mode_null = false, day_null = false;
    bool last_null = false, created_null = false;
    Datum amount = optional(slot, kRefillAmount, &amount_null);
    Datum interval = optional(slot, kRefillInterval, &interval_null);
    Datum mode = optional(slot, kRefillMode, &mode_null);
    if (!k->has_remaining || amount_null || interval_null || mode_null) return;
    pk::refill::Settings s;
    if (!pk::refill::parse(short_text(interval), short_text(mode), &s.policy)) return;
    Datum day = optional(slot, kRefillDay, &day_null);
    Datum last = optional(slot, kLastRefill, &last_null);
    Datum created = optional(slot, kCreated, &created_null);
    if (created_null) return;
    s.policy.amount = DatumGetInt64(amount);
    s.policy.day = day_null ? 1 : DatumGetInt32(day);
    s.after = pk::refill::after_of(!last_null, last_null ? 0 : DatumGetTimestampTz(last),
                                   DatumGetTimestampTz(created));
    s.finite = !TIMESTAMP_NOT_FINITE(s.after);
    s.set = true;
    TimestampTz applied = 0;
    k->refills = true;
    k->remaining = pk::refill::balance_at(s, k->remaining, GetCurrentTransactionStartTimestamp(), &applied);
}

// Reads the balance from the rotation successor that holds it; a missing
// holder leaves the key with no credits (it fails closed).
void read_shared_balance(Relation rel, TupleTableSlot* slot, KeyRow* k) {
    Relation index = index_open(cat.keys_by_id, AccessShareLock);
    IndexScanDesc scan;
    pg_uuid_t id = k->balance_id;
    bool found = probe(rel, index, F_UUID_EQ, InvalidOid, UUIDPGetDatum(&id), slot, &scan);
    if (found) {
        read_balance(slot, k);
    } else {
        k->has_remaining = true;
        k->remaining = 0;
        k->refills = false;
    }
    index_endscan(scan);
    index_close(index, AccessShareLock);
}

void read_key(TupleTableSlot* slot, KeyRow* k) {
    bool isnull = false;
    memcpy(&k->id, DatumGetUUIDP(column(slot, cat.key_cols[kId], &isnull)), sizeof(pg_uuid_t));
    memcpy(&k->organization_id, DatumGetUUIDP(column(slot, cat.key_cols[kOrgId], &isnull)),
           sizeof(pg_uuid_t));
    // Varlena columns may be compressed or stored out of line (a large scopes
    // array is TOASTed): copy them detoasted, so the row never points into
    // the buffer or the TOAST table once the scan has ended.
    k->environment = detoasted_copy(column(slot, cat.key_cols[kEnv], &isnull));
    k->scopes = detoasted_copy(column(slot, cat.key_cols[kScopes], &isnull));
    k->active = DatumGetBool(column(slot, cat.key_cols[kActive], &isnull));
    Datum expires = column(slot, cat.key_cols[kExpires], &isnull);
    k->expired = !isnull && DatumGetTimestampTz(expires) <= GetCurrentTransactionStartTimestamp();
    k->expires_at = isnull ? 0 : DatumGetTimestampTz(expires);
    column(slot, cat.key_cols[kRevoked], &isnull);
    k->revoked = !isnull;
    Datum limit = column(slot, cat.key_cols[kLimit], &isnull);
    k->rate_limit = isnull ? -1 : DatumGetInt32(limit);
    Datum balance_key = optional(slot, kBalanceKey, &isnull);
    k->rotatable = cat.opt_cols[kBalanceKey] != InvalidAttrNumber;
    k->shared = !isnull;
    memcpy(&k->balance_id, k->shared ? DatumGetUUIDP(balance_key) : &k->id, sizeof(pg_uuid_t));
    read_balance(slot, k);
    k->allowed_ips = optional_varlena(slot, cat.key_allowed_ips);
    k->credits_baseline = 0;
    if (cat.key_credits_baseline != InvalidAttrNumber) {
        Datum b = column(slot, cat.key_credits_baseline, &isnull);
        if (!isnull) k->credits_baseline = DatumGetInt64(b);
    }
}

// The key with this hash from the key's index (kStale: see open_pair).
Probe read_key_by_hash(const char* hash_hex, KeyRow* k) {
    Relation rel, index;
    if (!open_pair(cat.keys, cat.keys_by_hash, &rel, &index)) return Probe::kStale;
    TupleTableSlot* slot = table_slot_create(rel, nullptr);
    IndexScanDesc scan;
    Datum hash = PointerGetDatum(cstring_to_text_with_len(hash_hex, 64));
    bool found = probe(rel, index, F_TEXTEQ, C_COLLATION_OID, hash, slot, &scan);
    if (found) read_key(slot, k);
    index_endscan(scan);
    if (found && k->shared) read_shared_balance(rel, slot, k);
    ExecDropSingleTupleTableSlot(slot);
    close_pair(rel, index);
    return found ? Probe::kFound : Probe::kAbsent;
}

// The key and its organization's flags; the catalog is looked up again when
// a concurrent DDL made it stale (a few times at most).
Probe read_key_and_org(const char* hash_hex, KeyRow* k, bool* org_active, int32* org_limit) {
    for (int attempt = 0; attempt < 4; ++attempt) {
        if (!cat.valid) load_catalog();
        Probe p = read_key_by_hash(hash_hex, k);
        if (p == Probe::kFound) p = read_organization(k->organization_id, org_active, org_limit, &k->allowed_ips);
        if (p != Probe::kStale) return p;
    }
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("pk_keys tables keep changing under this call"),
                    errhint("The extension is being dropped or re-created; retry.")));
    pg_unreachable();
}

}  // namespace

bool has_events() {
    if (!cat.valid) load_catalog();
    return cat.has_events;
}

Oid current_generation() {
    if (!cat.valid) load_catalog();
    return cat.keys;
}

Oid lookup_generation() {
    Oid ns = get_namespace_oid("pk_keys", true);
    return OidIsValid(ns) ? get_relname_relid("api_keys", ns) : InvalidOid;
}

bool find_by_hash(const char* hash_hex, KeyRow* k) {
    // Called from SQL there is always an active snapshot; be safe elsewhere.
    bool pushed = !ActiveSnapshotSet();
    if (pushed) PushActiveSnapshot(GetTransactionSnapshot());
    bool org_active = false;
    int32 org_limit = 0;
    bool found = read_key_and_org(hash_hex, k, &org_active, &org_limit) == Probe::kFound;
    if (pushed) PopActiveSnapshot();
    if (!found) return false;
    k->active = k->active && org_active;
    if (k->rate_limit < 0) k->rate_limit = org_limit;
    return true;
}

}  // namespace pk::lookup
