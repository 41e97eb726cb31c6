#include "pg_util.h"

#include <string>

extern "C" {
#include "funcapi.h"
#include "utils/builtins.h"
#include "access/htup_details.h"
#include "executor/executor.h"
#include "utils/memutils.h"
}

namespace pk::pg {

std::string_view text_arg(FunctionCallInfo fcinfo, int n) {
    text* t = guard([&] { return PG_GETARG_TEXT_PP(n); });
    return std::string_view(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

void require_arg(FunctionCallInfo fcinfo, int n, const char* name) {
    if (PG_ARGISNULL(n)) {
        throw Error(sqlstate::kNullValue, std::string(name) + " must not be NULL");
    }
}

Datum text_datum(std::string_view s) {
    return PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size())));
}

namespace {

// Per-call-site state, in the FmgrInfo's memory context.
struct OneRowState {
    TupleDesc desc;  // blessed result descriptor, built once
    bool returned;   // the row of the current set was produced
    ExprContext* econtext;
};

void reset_one_row(Datum arg) {
    reinterpret_cast<OneRowState*>(DatumGetPointer(arg))->returned = false;
}

ReturnSetInfo* value_per_call_rsinfo(FunctionCallInfo fcinfo) {
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    if (!rsinfo || !IsA(rsinfo, ReturnSetInfo) || !(rsinfo->allowedModes & SFRM_ValuePerCall)) {
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("set-valued function called in context that cannot accept a set")));
    }
    return rsinfo;
}

// Result descriptors by function OID, built once per backend: executing a
// prepared statement creates a new FmgrInfo each time, and building the
// descriptor (a pg_proc lookup) then cost more than the function itself.
// A function's OUT columns cannot change without a new OID.
struct CachedDesc {
    Oid fn;
    TupleDesc desc;
};
constexpr int kCachedDescs = 8;
CachedDesc cached_descs[kCachedDescs];

TupleDesc result_desc(FunctionCallInfo fcinfo) {
    Oid fn = fcinfo->flinfo->fn_oid;
    for (const CachedDesc& c : cached_descs) {
        if (c.fn == fn && c.desc) return c.desc;
    }
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE) {
        elog(ERROR, "pk_keys: function must return a composite row");
    }
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    desc = BlessTupleDesc(CreateTupleDescCopy(desc));
    MemoryContextSwitchTo(old);
    // Round robin; a replaced copy can go (the typcache keeps its own).
    static int next = 0;
    CachedDesc& slot = cached_descs[next];
    next = (next + 1) % kCachedDescs;
    if (slot.desc) FreeTupleDesc(slot.desc);
    slot = CachedDesc{fn, desc};
    return desc;
}

OneRowState* one_row_state(FunctionCallInfo fcinfo) {
    auto* st = static_cast<OneRowState*>(fcinfo->flinfo->fn_extra);
    if (!st) {
        TupleDesc desc = result_desc(fcinfo);
        st = static_cast<OneRowState*>(MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(OneRowState)));
        st->desc = desc;
        fcinfo->flinfo->fn_extra = st;
    }
    return st;
}

}  // namespace

bool one_row_pending(FunctionCallInfo fcinfo) {
    ReturnSetInfo* rsinfo = value_per_call_rsinfo(fcinfo);
    OneRowState* st = one_row_state(fcinfo);
    rsinfo->returnMode = SFRM_ValuePerCall;
    if (!st->returned) return true;
    st->returned = false;
    UnregisterExprContextCallback(st->econtext, reset_one_row, PointerGetDatum(st));
    rsinfo->isDone = ExprEndResult;
    fcinfo->isnull = true;
    return false;
}

Datum one_row_result(FunctionCallInfo fcinfo, MemoryContext cxt, Datum* values, bool* nulls) {
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    OneRowState* st = one_row_state(fcinfo);
    MemoryContext old = MemoryContextSwitchTo(cxt);
    HeapTuple tuple = heap_form_tuple(st->desc, values, nulls);
    MemoryContextSwitchTo(old);
    // Marked only once the row exists: an ERROR before this leaves no state.
    st->returned = true;
    st->econtext = rsinfo->econtext;
    RegisterExprContextCallback(st->econtext, reset_one_row, PointerGetDatum(st));
    rsinfo->isDone = ExprMultipleResult;
    return HeapTupleGetDatum(tuple);
}

}  // namespace pk::pg
