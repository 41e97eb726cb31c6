// pk_refill_remaining and pk_refill_last: the lazy refill as SQL functions,
// for the SQL getters and for the spend statements of the per-request path.
#include "refill.h"

#include "pg_util.h"

extern "C" {
#include "utils/timestamp.h"
}

namespace pk::refill {

namespace {

constexpr int64 kUnixOffsetUs = static_cast<int64>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;

int64 to_unix(TimestampTz t) { return t + kUnixOffsetUs; }
TimestampTz from_unix(int64 t) { return t - kUnixOffsetUs; }

}  // namespace

bool parse(std::string_view interval, std::string_view mode, pk::RefillPolicy* p) {
    if (interval == "day") p->interval = pk::RefillInterval::kDay;
    else if (interval == "month") p->interval = pk::RefillInterval::kMonth;
    else return false;
    if (mode == "replace") p->mode = pk::RefillMode::kReplace;
    else if (mode == "add") p->mode = pk::RefillMode::kAdd;
    else return false;
    return true;
}

TimestampTz after_of(bool has_last, TimestampTz last_refill_at, TimestampTz created_at) {
    if (has_last) return last_refill_at;
    return TIMESTAMP_NOT_FINITE(created_at) ? created_at : created_at - 1;
}

int64 balance_at(const Settings& s, int64 remaining, TimestampTz now, TimestampTz* last) {
    *last = s.after;
    // Infinite anchors (set by hand) never refill: nothing is "after" +infinity,
    // and -infinity has no first instant.
    if (!s.set || !s.finite || TIMESTAMP_NOT_FINITE(now)) return remaining;
    pk::RefillOutcome out = pk::refill_apply(s.policy, remaining, to_unix(s.after), to_unix(now));
    if (out.instants > 0) *last = from_unix(out.last_us);
    return out.remaining;
}

}  // namespace pk::refill

namespace {

// Reads the settings from arguments 1..6 of (remaining, refill_amount,
// refill_interval, refill_day, refill_mode, last_refill_at, created_at, at).
// False when the row has no refill (or no balance to refill).
bool settings_args(FunctionCallInfo fcinfo, pk::refill::Settings* s) {
    for (int i : {0, 1, 2, 4, 6, 7}) {
        if (PG_ARGISNULL(i)) return false;
    }
    if (!pk::refill::parse(pk::pg::text_arg(fcinfo, 2), pk::pg::text_arg(fcinfo, 4), &s->policy)) {
        throw pk::Error(pk::sqlstate::kInvalidParameter,
                        "invalid refill_interval or refill_mode: must be 'day' or 'month', 'replace' or 'add'");
    }
    s->policy.amount = PG_GETARG_INT64(1);
    s->policy.day = PG_ARGISNULL(3) ? 1 : PG_GETARG_INT32(3);
    s->after = pk::refill::after_of(!PG_ARGISNULL(5), PG_ARGISNULL(5) ? 0 : PG_GETARG_TIMESTAMPTZ(5),
                                    PG_GETARG_TIMESTAMPTZ(6));
    s->finite = !TIMESTAMP_NOT_FINITE(s->after);
    s->set = true;
    return true;
}

}  // namespace

// pk_refill_remaining(remaining, refill_amount, refill_interval, refill_day,
// refill_mode, last_refill_at, created_at, at): the balance at `at`.
PK_FUNCTION(pk_refill_remaining) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    pk::refill::Settings s;
    if (!settings_args(fcinfo, &s)) PG_RETURN_INT64(PG_GETARG_INT64(0));
    TimestampTz last = 0;
    PG_RETURN_INT64(pk::refill::balance_at(s, PG_GETARG_INT64(0), PG_GETARG_TIMESTAMPTZ(7), &last));
}

// pk_refill_last(same arguments): the value last_refill_at takes at `at`
// (the latest refill instant applied; unchanged when none is due).
PK_FUNCTION(pk_refill_last) {
    pk::refill::Settings s;
    if (PG_ARGISNULL(0) || !settings_args(fcinfo, &s)) {
        if (PG_ARGISNULL(5)) PG_RETURN_NULL();
        PG_RETURN_TIMESTAMPTZ(PG_GETARG_TIMESTAMPTZ(5));
    }
    TimestampTz last = 0;
    pk::refill::balance_at(s, PG_GETARG_INT64(0), PG_GETARG_TIMESTAMPTZ(7), &last);
    if (last == s.after && PG_ARGISNULL(5)) PG_RETURN_NULL();
    PG_RETURN_TIMESTAMPTZ(last);
}
