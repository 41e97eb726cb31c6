// The usage rules (see usage_rules.h).
#include "core/usage_rules.h"

namespace pk::usage {

namespace {

// Floor division for negative timestamps (before 2000).
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Days since 1970-01-01 <-> civil date (Howard Hinnant's algorithms).
constexpr std::int32_t kDays1970To2000 = 10957;

void civil_from_days(std::int64_t z, std::int64_t* y, unsigned* m, unsigned* d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = static_cast<std::int64_t>(yoe) + era * 400 + (*m <= 2);
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

std::int32_t utc_day(std::int64_t timestamp_us) {
    return static_cast<std::int32_t>(floor_div(timestamp_us, kUsecsPerDay));
}

std::int32_t month_start(std::int32_t day) {
    std::int64_t y;
    unsigned m, d;
    civil_from_days(static_cast<std::int64_t>(day) + kDays1970To2000, &y, &m, &d);
    return static_cast<std::int32_t>(days_from_civil(y, m, 1) - kDays1970To2000);
}

const char* check_bounds(std::int64_t endpoint_bytes, std::int64_t method_bytes,
                         std::int64_t user_agent_bytes, bool finite, std::int64_t occurred_at_us,
                         std::int64_t now_us) {
    if (endpoint_bytes > kMaxEndpointBytes) return "endpoint must be at most 2048 bytes";
    if (method_bytes > kMaxMethodBytes) return "method must be at most 16 bytes";
    if (user_agent_bytes > kMaxUserAgentBytes) return "user_agent must be at most 1024 bytes";
    if (!finite) return "occurred_at must be finite";
    if (occurred_at_us < kMinOccurredAt || occurred_at_us > now_us + kMaxSkewUs) {
        return "occurred_at must be between 2000-01-01 and now() + 1 day";
    }
    return nullptr;
}

}  // namespace pk::usage
