#include "named_limits.h"

#include <cstring>

#include "core/error.h"

extern "C" {
#include "access/genam.h"
#include "access/relation.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/numeric.h"
}

namespace pk::limits {

namespace {

constexpr int kMaxNames = 64;
constexpr int kMaxNameChars = 200;

[[noreturn]] void bad(const char* why) { throw Error(sqlstate::kInvalidParameter, why); }

// A JSON number that is a whole number 0..2^31-1, else pk::Error 22023.
int64 cost_of(const JsonbValue& v) {
    if (v.type != jbvNumeric) bad("limits: every cost must be an integer >= 0");
    char* s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
    size_t len = strlen(s);
    if (len == 0 || len > 10) bad("limits: every cost must be an integer from 0 to 2147483647");
    int64 cost = 0;
    for (size_t i = 0; i < len; ++i) {
        if (s[i] < '0' || s[i] > '9') bad("limits: every cost must be an integer >= 0");
        cost = cost * 10 + (s[i] - '0');
    }
    if (cost > PG_INT32_MAX) bad("limits: every cost must be an integer from 0 to 2147483647");
    return cost;
}

// Orders limits by id (the lock order).
int by_id(const void* a, const void* b) {
    return memcmp(&static_cast<const Limit*>(a)->id, &static_cast<const Limit*>(b)->id, UUID_LEN);
}

// Cached OIDs and column numbers of pk_keys.limits and its unique index on
// (organization_id, api_key_id, name); dropped by a relcache callback (DROP +
// CREATE EXTENSION in one session keeps working).
enum LimitCol { kLId, kLName, kLLim, kLWindow, kLAlgorithm, kLEnforce, kLCols };
const char* const kLimitColNames[kLCols] = {"id", "name", "lim", "window_seconds", "algorithm", "enforce"};

struct LimitsCatalog {
    bool valid;
    Oid rel, index;
    AttrNumber cols[kLCols];
};
LimitsCatalog lcat;
bool lcat_callback = false;

void limits_invalidate(Datum, Oid relid) {
    if (relid == InvalidOid || relid == lcat.rel || relid == lcat.index) lcat.valid = false;
}

void load_limits_catalog() {
    if (!lcat_callback) {
        CacheRegisterRelcacheCallback(limits_invalidate, (Datum)0);
        lcat_callback = true;
    }
    Oid ns = get_namespace_oid("pk_keys", false);
    lcat.rel = get_relname_relid("limits", ns);
    lcat.index = get_relname_relid("limits_name_key", ns);
    if (!OidIsValid(lcat.rel) || !OidIsValid(lcat.index)) {
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("named limits need pk_keys 1.1"),
                        errhint("Run ALTER EXTENSION pk_keys UPDATE.")));
    }
    for (int i = 0; i < kLCols; ++i) {
        lcat.cols[i] = get_attnum(lcat.rel, kLimitColNames[i]);
        if (lcat.cols[i] == InvalidAttrNumber) elog(ERROR, "pk_keys.limits.%s is missing", kLimitColNames[i]);
    }
    lcat.valid = true;
}

// Reads the limit of (org, key, name), key == nullptr for the pool, into *l.
bool probe_limit(Relation rel, Relation index, TupleTableSlot* slot, const pg_uuid_t& org,
                 const pg_uuid_t* key, Datum name, Limit* l) {
    ScanKeyData keys[3];
    pg_uuid_t o = org, k = key ? *key : org;
    ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid, InvalidOid, F_UUID_EQ,
                           UUIDPGetDatum(&o));
    if (key) {
        ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid, InvalidOid, F_UUID_EQ,
                               UUIDPGetDatum(&k));
    } else {
        ScanKeyEntryInitialize(&keys[1], SK_ISNULL | SK_SEARCHNULL, 2, InvalidStrategy, InvalidOid,
                               InvalidOid, InvalidOid, (Datum)0);
    }
    ScanKeyEntryInitialize(&keys[2], 0, 3, BTEqualStrategyNumber, InvalidOid, index->rd_indcollation[2],
                           F_TEXTEQ, name);
    IndexScanDesc scan = index_beginscan(rel, index, GetActiveSnapshot(), 3, 0);
    index_rescan(scan, keys, 3, nullptr, 0);
    bool found = index_getnext_slot(scan, ForwardScanDirection, slot);
    if (found) {
        bool isnull = false;
        memcpy(&l->id, DatumGetUUIDP(slot_getattr(slot, lcat.cols[kLId], &isnull)), sizeof l->id);
        l->lim = DatumGetInt32(slot_getattr(slot, lcat.cols[kLLim], &isnull));
        l->window_seconds = DatumGetInt32(slot_getattr(slot, lcat.cols[kLWindow], &isnull));
        text* algorithm = DatumGetTextPP(slot_getattr(slot, lcat.cols[kLAlgorithm], &isnull));
        l->fixed = VARSIZE_ANY_EXHDR(algorithm) == 5 && memcmp(VARDATA_ANY(algorithm), "fixed", 5) == 0;
        l->enforce = DatumGetBool(slot_getattr(slot, lcat.cols[kLEnforce], &isnull));
    }
    index_endscan(scan);
    return found;
}

// Appends "key": value pairs to the object being built.
void push_key(JsonbParseState** st, const char* key) {
    JsonbValue k;
    k.type = jbvString;
    k.val.string.val = const_cast<char*>(key);
    k.val.string.len = static_cast<int>(strlen(key));
    pushJsonbValue(st, WJB_KEY, &k);
}

void push_string(JsonbParseState** st, const char* key, const char* value) {
    push_key(st, key);
    JsonbValue v;
    v.type = jbvString;
    v.val.string.val = const_cast<char*>(value);
    v.val.string.len = static_cast<int>(strlen(value));
    pushJsonbValue(st, WJB_VALUE, &v);
}

void push_number(JsonbParseState** st, const char* key, int64 value) {
    push_key(st, key);
    JsonbValue v;
    v.type = jbvNumeric;
    v.val.numeric = int64_to_numeric(value);
    pushJsonbValue(st, WJB_VALUE, &v);
}

void push_bool(JsonbParseState** st, const char* key, bool value) {
    push_key(st, key);
    JsonbValue v;
    v.type = jbvBool;
    v.val.boolean = value;
    pushJsonbValue(st, WJB_VALUE, &v);
}

const Limit* find(const Resolved& set, const char* name) {
    for (int i = 0; i < set.n; ++i) {
        if (strcmp(set.items[i].name, name) == 0) return &set.items[i];
    }
    return nullptr;
}

}  // namespace

Request parse(Jsonb* limits) {
    Request req = {0, nullptr};
    if (!limits || JB_ROOT_COUNT(limits) == 0) {
        if (limits && !JB_ROOT_IS_OBJECT(limits)) bad("limits must be a JSON object of name: cost");
        return req;
    }
    if (!JB_ROOT_IS_OBJECT(limits) || JB_ROOT_IS_SCALAR(limits)) bad("limits must be a JSON object of name: cost");
    int count = JB_ROOT_COUNT(limits);
    if (count > kMaxNames) bad("limits must name at most 64 limits");
    req.items = static_cast<Wanted*>(palloc(sizeof(Wanted) * count));
    JsonbIterator* it = JsonbIteratorInit(&limits->root);
    JsonbValue v;
    JsonbIteratorToken tok;
    while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
        if (tok != WJB_KEY) continue;
        int chars = pg_mbstrlen_with_len(v.val.string.val, v.val.string.len);
        if (chars < 1 || chars > kMaxNameChars) bad("limits: every name must be 1 to 200 characters");
        char* name = pnstrdup(v.val.string.val, v.val.string.len);
        tok = JsonbIteratorNext(&it, &v, true);
        req.items[req.n++] = Wanted{name, cost_of(v)};
    }
    return req;
}

Resolved resolve(spi::Conn&, const pg_uuid_t& org, const pg_uuid_t& key, const Request& req) {
    if (!lcat.valid) load_limits_catalog();
    Resolved set = {0, static_cast<Limit*>(palloc0(sizeof(Limit) * req.n))};
    // Direct index probes (no SPI, no planner): the key's own limit of each
    // name, else the organization's pool; read with the statement's snapshot.
    bool pushed = !ActiveSnapshotSet();
    if (pushed) PushActiveSnapshot(GetTransactionSnapshot());
    Relation rel = table_open(lcat.rel, AccessShareLock);
    Relation index = index_open(lcat.index, AccessShareLock);
    TupleTableSlot* slot = table_slot_create(rel, nullptr);
    const char* missing = nullptr;
    for (int i = 0; i < req.n && !missing; ++i) {
        Limit& l = set.items[set.n];
        Datum name = CStringGetTextDatum(req.items[i].name);
        if (probe_limit(rel, index, slot, org, &key, name, &l) ||
            probe_limit(rel, index, slot, org, nullptr, name, &l)) {
            l.name = req.items[i].name;
            l.cost = req.items[i].cost;
            ++set.n;
        } else {
            missing = req.items[i].name;
        }
    }
    ExecDropSingleTupleTableSlot(slot);
    index_close(index, AccessShareLock);
    table_close(rel, AccessShareLock);
    if (pushed) PopActiveSnapshot();
    if (missing) {
        // Names are the caller's own labels, never secrets.
        throw Error(sqlstate::kInvalidParameter, std::string("limits: no limit or pool named \"") + missing +
                                                     "\" for this key or its organization");
    }
    qsort(set.items, set.n, sizeof(Limit), by_id);
    return set;
}

bool acquire(spi::Conn& conn, Resolved& set, bool can_write) {
    bool ok = true;
    for (int i = 0; i < set.n; ++i) {
        Limit& l = set.items[i];
        rl::Mode mode;
        mode.algorithm = l.fixed ? WindowAlgorithm::kFixed : WindowAlgorithm::kSliding;
        mode.force = !l.enforce;
        // Once a limit has refused, the others are only asked (cost 0): they
        // take no slot that would be given back, so no concurrent call is
        // refused for a slot held only for a moment.
        int64 cost = ok ? l.cost : 0;
        l.ticket = rl::begin(conn, l.id, l.window_seconds, l.lim, cost, can_write, 0, mode);
        if (l.enforce && !l.ticket.allowed) ok = false;
    }
    return ok;
}

void finish(spi::Conn& conn, const Resolved& set, bool consume) {
    for (int i = 0; i < set.n; ++i) rl::finish(conn, set.items[i].ticket, consume);
}

Datum report(const Resolved& set, const Request& req, bool kept) {
    // Built as a JsonbValue tree (no JSON text to parse back).
    JsonbParseState* st = nullptr;
    pushJsonbValue(&st, WJB_BEGIN_ARRAY, nullptr);
    for (int i = 0; i < req.n; ++i) {
        const Limit* l = find(set, req.items[i].name);
        if (!l) continue;
        int64 remaining = l->ticket.remaining;
        if (!kept && l->ticket.counted) remaining += l->cost;
        char reset[MAXDATELEN + 1];
        JsonEncodeDateTime(reset, TimestampTzGetDatum(l->ticket.reset), TIMESTAMPTZOID, nullptr);
        pushJsonbValue(&st, WJB_BEGIN_OBJECT, nullptr);
        push_string(&st, "name", l->name);
        push_number(&st, "limit", l->lim);
        push_number(&st, "remaining", Min(remaining, (int64)l->lim));
        push_string(&st, "reset", reset);
        push_bool(&st, "allowed", l->ticket.allowed);
        push_bool(&st, "enforced", l->enforce);
        pushJsonbValue(&st, WJB_END_OBJECT, nullptr);
    }
    JsonbValue* root = pushJsonbValue(&st, WJB_END_ARRAY, nullptr);
    return JsonbPGetDatum(JsonbValueToJsonb(root));
}

}  // namespace pk::limits
