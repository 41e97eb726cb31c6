#include "pg_util.h"

#include <string>

extern "C" {
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
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

void return_one_row(FunctionCallInfo fcinfo, Datum* values, bool* nulls) {
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

}  // namespace pk::pg
