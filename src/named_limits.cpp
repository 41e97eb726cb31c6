#include "named_limits.h"

#include <cstring>

#include "core/error.h"

extern "C" {
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
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

Datum column(int row, int col, bool* isnull) {
    return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
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

Resolved resolve(spi::Conn& conn, const pg_uuid_t& org, const pg_uuid_t& key, const Request& req) {
    Resolved set = {0, nullptr};
    Datum* names = static_cast<Datum*>(palloc(sizeof(Datum) * req.n));
    for (int i = 0; i < req.n; ++i) names[i] = CStringGetTextDatum(req.items[i].name);
    ArrayType* arr = construct_array(names, req.n, TEXTOID, -1, false, TYPALIGN_INT);
    pg_uuid_t org_id = org, key_id = key;
    Datum args[3] = {UUIDPGetDatum(&org_id), UUIDPGetDatum(&key_id), PointerGetDatum(arr)};
    spi::exec(conn, spi::Stmt::kLimitsResolve, args, nullptr, 0);
    // The caller's memory (not SPI's): the set outlives this statement.
    set.items = static_cast<Limit*>(SPI_palloc(sizeof(Limit) * (SPI_processed + 1)));
    for (uint64 r = 0; r < SPI_processed; ++r) {
        Limit& l = set.items[set.n++];
        memset(&l, 0, sizeof l);
        bool isnull = false;
        memcpy(&l.id, DatumGetUUIDP(column(r, 1, &isnull)), sizeof l.id);
        l.name = TextDatumGetCString(column(r, 2, &isnull));
        l.lim = DatumGetInt32(column(r, 3, &isnull));
        l.window_seconds = DatumGetInt32(column(r, 4, &isnull));
        l.fixed = DatumGetBool(column(r, 5, &isnull));
        l.enforce = DatumGetBool(column(r, 6, &isnull));
    }
    for (int i = 0; i < req.n; ++i) {
        Limit* l = const_cast<Limit*>(find(set, req.items[i].name));
        if (!l) {
            // Names are the caller's own labels, never secrets.
            throw Error(sqlstate::kInvalidParameter,
                        std::string("limits: no limit or pool named \"") + req.items[i].name +
                            "\" for this key or its organization");
        }
        l->cost = req.items[i].cost;
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
    StringInfoData buf;
    initStringInfo(&buf);
    appendStringInfoChar(&buf, '[');
    for (int i = 0; i < req.n; ++i) {
        const Limit* l = find(set, req.items[i].name);
        if (!l) continue;
        char reset[MAXDATELEN + 1];
        JsonEncodeDateTime(reset, TimestampTzGetDatum(l->ticket.reset), TIMESTAMPTZOID, nullptr);
        int64 remaining = l->ticket.remaining;
        if (!kept && l->ticket.counted) remaining += l->cost;
        if (buf.len > 1) appendStringInfoString(&buf, ", ");
        appendStringInfoString(&buf, "{\"name\": ");
        escape_json(&buf, l->name);
        appendStringInfo(&buf, ", \"limit\": %d, \"remaining\": " INT64_FORMAT
                               ", \"reset\": \"%s\", \"allowed\": %s, \"enforced\": %s}",
                         l->lim, Min(remaining, (int64)l->lim), reset,
                         l->ticket.allowed ? "true" : "false", l->enforce ? "true" : "false");
    }
    appendStringInfoChar(&buf, ']');
    return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

}  // namespace pk::limits
