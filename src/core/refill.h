// Credit refills, computed lazily: the balance a key would have if a job had
// run at every refill instant. Refill instants are 00:00 UTC of every day, or
// 00:00 UTC of `day` (1..31, clamped to the month's last day) of every month.
// "replace" sets the balance to the amount once however many instants passed;
// "add" adds the amount once per instant passed (saturating at INT64_MAX).
// This is the one place the arithmetic lives: the SQL functions
// pk_refill_remaining/pk_refill_last and the per-request lookup both call it.
#pragma once

#include <cstdint>

#include "no_postgres.h"

namespace pk {

enum class RefillInterval { kDay, kMonth };
enum class RefillMode { kReplace, kAdd };

struct RefillPolicy {
    std::int64_t amount = 0;  // >= 0
    RefillInterval interval = RefillInterval::kDay;
    int day = 1;  // 1..31, months only
    RefillMode mode = RefillMode::kReplace;
};

struct RefillOutcome {
    std::int64_t instants = 0;   // refill instants in (after_us, now_us]
    std::int64_t remaining = 0;  // the balance after them
    std::int64_t last_us = 0;    // the latest of them (after_us when none)
};

inline constexpr std::int64_t kUsPerDay = 86400LL * 1000000LL;

// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12).
std::int64_t days_from_civil(std::int64_t year, int month, int day);

// Number of days of a month (1..12) of a year.
int days_in_month(std::int64_t year, int month);

// The refill instant with index `index` (microseconds since 1970-01-01 UTC):
// day `index` for daily refills, month `index` (year * 12 + month - 1) for
// monthly ones.
std::int64_t refill_instant_us(const RefillPolicy& p, std::int64_t index);

// The index of the latest refill instant at or before t_us.
std::int64_t refill_index_at(const RefillPolicy& p, std::int64_t t_us);

// Applies every refill instant strictly after after_us and at or before
// now_us to `remaining` (times in microseconds since 1970-01-01 UTC).
RefillOutcome refill_apply(const RefillPolicy& p, std::int64_t remaining, std::int64_t after_us,
                           std::int64_t now_us);

}  // namespace pk
