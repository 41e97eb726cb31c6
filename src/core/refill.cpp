#include "refill.h"

#include <algorithm>
#include <limits>

namespace pk {

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// The civil date of a day number (Howard Hinnant's algorithm).
void civil_from_days(std::int64_t z, std::int64_t* year, int* month) {
    z += 719468;
    const std::int64_t era = floor_div(z, 146097);
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (m <= 2 ? 1 : 0);
    *month = m;
}

}  // namespace

std::int64_t days_from_civil(std::int64_t year, int month, int day) {
    year -= month <= 2 ? 1 : 0;
    const std::int64_t era = floor_div(year, 400);
    const std::int64_t yoe = year - era * 400;
    const std::int64_t mp = month > 2 ? month - 3 : month + 9;
    const std::int64_t doy = (153 * mp + 2) / 5 + day - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int days_in_month(std::int64_t year, int month) {
    static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

std::int64_t refill_instant_us(const RefillPolicy& p, std::int64_t index) {
    if (p.interval == RefillInterval::kDay) return index * kUsPerDay;
    const std::int64_t year = floor_div(index, 12);
    const int month = static_cast<int>(index - year * 12) + 1;
    const int day = std::min(std::clamp(p.day, 1, 31), days_in_month(year, month));
    return days_from_civil(year, month, day) * kUsPerDay;
}

std::int64_t refill_index_at(const RefillPolicy& p, std::int64_t t_us) {
    const std::int64_t days = floor_div(t_us, kUsPerDay);
    if (p.interval == RefillInterval::kDay) return days;
    std::int64_t year = 0;
    int month = 1;
    civil_from_days(days, &year, &month);
    const std::int64_t index = year * 12 + (month - 1);
    return refill_instant_us(p, index) <= t_us ? index : index - 1;
}

RefillOutcome refill_apply(const RefillPolicy& p, std::int64_t remaining, std::int64_t after_us,
                           std::int64_t now_us) {
    RefillOutcome out{0, remaining, after_us};
    if (now_us <= after_us) return out;
    const std::int64_t last = refill_index_at(p, now_us);
    out.instants = last - refill_index_at(p, after_us);
    if (out.instants <= 0) {
        out.instants = 0;
        return out;
    }
    out.last_us = refill_instant_us(p, last);
    if (p.mode == RefillMode::kReplace) {
        out.remaining = p.amount;
        return out;
    }
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    const __int128 sum = static_cast<__int128>(std::max<std::int64_t>(remaining, 0)) +
                         static_cast<__int128>(p.amount) * out.instants;
    out.remaining = sum > kMax ? kMax : static_cast<std::int64_t>(sum);
    return out;
}

}  // namespace pk
