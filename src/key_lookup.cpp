#include "key_lookup.h"

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
enum OrgCol { kOrgActive, kOrgLimit, kOrgCols };
const char* const kOrgColNames[kOrgCols] = {"is_active", "rate_limit_per_minute"};

struct Catalog {
    bool valid;
    Oid keys, keys_by_hash, orgs, orgs_by_id;
    AttrNumber key_cols[kKeyCols];
    AttrNumber org_cols[kOrgCols];
};

Catalog cat;
bool callback_registered = false;

void invalidate(Datum, Oid relid) {
    if (!cat.valid) return;
    if (relid == InvalidOid || relid == cat.keys || relid == cat.keys_by_hash ||
        relid == cat.orgs || relid == cat.orgs_by_id) {
        cat.valid = false;
    }
}

bool lock_existing(Oid oid);

// The relation's OID, locked (AccessShareLock to the end of the transaction)
// so that its columns can be read consistently; 42P01 when it is missing.
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
    cat.orgs = required_relation("organizations", ns);
    cat.orgs_by_id = required_relation("organizations_pkey", ns);
    for (int i = 0; i < kKeyCols; ++i) cat.key_cols[i] = required_column(cat.keys, kKeyColNames[i]);
    for (int i = 0; i < kOrgCols; ++i) cat.org_cols[i] = required_column(cat.orgs, kOrgColNames[i]);
    cat.valid = true;
}

// Takes AccessShareLock on relation oid (held to the end of the transaction)
// and checks it still exists; a concurrent DROP is waited for, so false
// means it is gone for good (the lock is then released again).
bool lock_existing(Oid oid) {
    LockRelationOid(oid, AccessShareLock);  // also processes invalidations
    if (SearchSysCacheExists1(RELOID, ObjectIdGetDatum(oid))) return true;
    UnlockRelationOid(oid, AccessShareLock);
    return false;
}

// Makes the cached catalog valid and locks api_keys, organizations and the
// two indexes used here by OID. A DROP EXTENSION (or DROP + CREATE, or a
// REINDEX CONCURRENTLY) that committed after the OIDs were cached is noticed
// here: the catalog is looked up again, which raises a clean 3F000/42P01
// when the extension is gone, instead of the XX000 "could not open relation
// with OID" of opening a stale OID. The locks are held to the end of the
// transaction, so nothing locked here can be dropped before then.
void lock_catalog() {
    for (int attempt = 0;; ++attempt) {
        if (!cat.valid) load_catalog();
        const Oid oids[] = {cat.keys, cat.orgs, cat.keys_by_hash, cat.orgs_by_id};
        int locked = 0;
        while (locked < 4 && lock_existing(oids[locked])) ++locked;
        // Locking processed invalidations: cat.valid is false if they
        // touched these relations.
        if (locked == 4 && cat.valid && cat.keys == oids[0] && cat.orgs == oids[1] &&
            cat.keys_by_hash == oids[2] && cat.orgs_by_id == oids[3]) {
            return;
        }
        while (locked > 0) UnlockRelationOid(oids[--locked], AccessShareLock);
        cat.valid = false;
        if (attempt >= 3) {
            ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                            errmsg("pk_keys tables keep changing under this call"),
                            errhint("The extension is being dropped or re-created; retry.")));
        }
    }
}

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

// Reads the organization's flags; false when it is gone (concurrent delete).
bool read_organization(const pg_uuid_t& org_id, bool* active, int32* limit) {
    Relation rel = table_open(cat.orgs, NoLock);  // locked by lock_catalog()
    Relation index = index_open(cat.orgs_by_id, AccessShareLock);
    TupleTableSlot* slot = table_slot_create(rel, nullptr);
    IndexScanDesc scan;
    pg_uuid_t id = org_id;
    bool found = probe(rel, index, F_UUID_EQ, InvalidOid, UUIDPGetDatum(&id), slot, &scan);
    if (found) {
        bool isnull = false;
        *active = DatumGetBool(column(slot, cat.org_cols[kOrgActive], &isnull));
        *limit = DatumGetInt32(column(slot, cat.org_cols[kOrgLimit], &isnull));
    }
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(slot);
    index_close(index, AccessShareLock);
    table_close(rel, NoLock);
    return found;
}

// A flat, uncompressed copy of a varlena Datum in the current memory context.
Datum detoasted_copy(Datum d) {
    return PointerGetDatum(PG_DETOAST_DATUM_COPY(d));
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
    column(slot, cat.key_cols[kRevoked], &isnull);
    k->revoked = !isnull;
    Datum limit = column(slot, cat.key_cols[kLimit], &isnull);
    k->rate_limit = isnull ? -1 : DatumGetInt32(limit);
    Datum remaining = column(slot, cat.key_cols[kRemaining], &isnull);
    k->has_remaining = !isnull;
    k->remaining = isnull ? 0 : DatumGetInt64(remaining);
}

}  // namespace

Oid current_generation() {
    if (!cat.valid) load_catalog();
    return cat.keys;
}

Oid lookup_generation() {
    Oid ns = get_namespace_oid("pk_keys", true);
    return OidIsValid(ns) ? get_relname_relid("api_keys", ns) : InvalidOid;
}

bool find_by_hash(const char* hash_hex, KeyRow* k) {
    lock_catalog();
    // Called from SQL there is always an active snapshot; be safe elsewhere.
    bool pushed = !ActiveSnapshotSet();
    if (pushed) PushActiveSnapshot(GetTransactionSnapshot());
    Relation rel = table_open(cat.keys, NoLock);  // locked by lock_catalog()
    Relation index = index_open(cat.keys_by_hash, AccessShareLock);
    TupleTableSlot* slot = table_slot_create(rel, nullptr);
    IndexScanDesc scan;
    Datum hash = PointerGetDatum(cstring_to_text_with_len(hash_hex, 64));
    bool found = probe(rel, index, F_TEXTEQ, C_COLLATION_OID, hash, slot, &scan);
    if (found) read_key(slot, k);
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(slot);
    index_close(index, AccessShareLock);
    table_close(rel, NoLock);
    bool org_active = false;
    int32 org_limit = 0;
    found = found && read_organization(k->organization_id, &org_active, &org_limit);
    if (pushed) PopActiveSnapshot();
    if (!found) return false;
    k->active = k->active && org_active;
    if (k->rate_limit < 0) k->rate_limit = org_limit;
    return true;
}

}  // namespace pk::lookup
