// Lazy refills: the balance as if a job had run at every refill instant.
// Known-answer dates (UTC) rather than round trips.
#include <gtest/gtest.h>

#include <limits>

#include "core/refill.h"

namespace {

constexpr std::int64_t kSec = 1000000;

// Microseconds since 1970-01-01 UTC of a UTC date and time.
std::int64_t at(std::int64_t y, int m, int d, int hh = 0, int mm = 0, int ss = 0) {
    return pk::days_from_civil(y, m, d) * pk::kUsPerDay + ((hh * 60 + mm) * 60 + ss) * kSec;
}

pk::RefillPolicy daily(std::int64_t amount, pk::RefillMode mode = pk::RefillMode::kReplace) {
    return pk::RefillPolicy{amount, pk::RefillInterval::kDay, 1, mode};
}

pk::RefillPolicy monthly(std::int64_t amount, int day, pk::RefillMode mode = pk::RefillMode::kReplace) {
    return pk::RefillPolicy{amount, pk::RefillInterval::kMonth, day, mode};
}

}  // namespace

TEST(Refill, CivilDaysKnownAnswers) {
    EXPECT_EQ(pk::days_from_civil(1970, 1, 1), 0);
    EXPECT_EQ(pk::days_from_civil(2000, 1, 1), 10957);  // PostgreSQL's epoch
    EXPECT_EQ(pk::days_from_civil(2024, 2, 29), 19782);
    EXPECT_EQ(pk::days_from_civil(1969, 12, 31), -1);
    EXPECT_EQ(pk::days_in_month(2024, 2), 29);
    EXPECT_EQ(pk::days_in_month(2023, 2), 28);
    EXPECT_EQ(pk::days_in_month(2100, 2), 28);
    EXPECT_EQ(pk::days_in_month(2000, 2), 29);
    EXPECT_EQ(pk::days_in_month(2026, 4), 30);
}

TEST(Refill, DailyInstantItself) {
    auto p = daily(100);
    // One microsecond before midnight: nothing; at midnight exactly: refilled.
    auto before = pk::refill_apply(p, 3, at(2026, 5, 1, 12), at(2026, 5, 1, 23, 59, 59) + 999999);
    EXPECT_EQ(before.instants, 0);
    EXPECT_EQ(before.remaining, 3);
    EXPECT_EQ(before.last_us, at(2026, 5, 1, 12));
    auto on = pk::refill_apply(p, 3, at(2026, 5, 1, 12), at(2026, 5, 2));
    EXPECT_EQ(on.instants, 1);
    EXPECT_EQ(on.remaining, 100);
    EXPECT_EQ(on.last_us, at(2026, 5, 2));
}

TEST(Refill, AnInstantAlreadyAppliedIsNotAppliedAgain) {
    auto p = daily(100, pk::RefillMode::kAdd);
    // after_us is the last refill applied: that midnight does not count again.
    auto r = pk::refill_apply(p, 7, at(2026, 5, 2), at(2026, 5, 2, 18));
    EXPECT_EQ(r.instants, 0);
    EXPECT_EQ(r.remaining, 7);
    auto next = pk::refill_apply(p, 7, at(2026, 5, 2), at(2026, 5, 3));
    EXPECT_EQ(next.instants, 1);
    EXPECT_EQ(next.remaining, 107);
}

TEST(Refill, ReplaceOnceHoweverManyInstantsWereMissed) {
    auto r = pk::refill_apply(daily(50), 0, at(2026, 1, 1, 8), at(2026, 3, 15, 9));
    EXPECT_EQ(r.instants, 31 + 28 + 14);  // Jan 2 .. Mar 15
    EXPECT_EQ(r.remaining, 50);
    EXPECT_EQ(r.last_us, at(2026, 3, 15));
    // Replace also lowers a balance above the amount (credits added meanwhile).
    EXPECT_EQ(pk::refill_apply(daily(50), 500, at(2026, 1, 1), at(2026, 1, 2)).remaining, 50);
}

TEST(Refill, AddOncePerMissedInstant) {
    auto r = pk::refill_apply(daily(10, pk::RefillMode::kAdd), 5, at(2026, 1, 1, 8), at(2026, 1, 11, 0));
    EXPECT_EQ(r.instants, 10);
    EXPECT_EQ(r.remaining, 105);
    auto m = pk::refill_apply(monthly(1000, 1, pk::RefillMode::kAdd), 0, at(2025, 1, 15), at(2026, 1, 15));
    EXPECT_EQ(m.instants, 12);
    EXPECT_EQ(m.remaining, 12000);
    EXPECT_EQ(m.last_us, at(2026, 1, 1));
}

TEST(Refill, AddSaturatesInsteadOfOverflowing) {
    constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
    auto r = pk::refill_apply(daily(kMax / 2, pk::RefillMode::kAdd), kMax / 2, at(2026, 1, 1), at(2026, 1, 5));
    EXPECT_EQ(r.instants, 4);
    EXPECT_EQ(r.remaining, kMax);
}

TEST(Refill, The31stInA30DayMonthIsItsLastDay) {
    auto p = monthly(100, 31);
    EXPECT_EQ(pk::refill_instant_us(p, 2026 * 12 + 3), at(2026, 4, 30));  // April
    EXPECT_EQ(pk::refill_instant_us(p, 2026 * 12 + 4), at(2026, 5, 31));  // May
    // Reached on April 30 at 00:00, not before, and not again on May 1.
    EXPECT_EQ(pk::refill_apply(p, 1, at(2026, 4, 1), at(2026, 4, 29, 23, 59, 59)).instants, 0);
    auto r = pk::refill_apply(p, 1, at(2026, 4, 1), at(2026, 4, 30));
    EXPECT_EQ(r.instants, 1);
    EXPECT_EQ(r.last_us, at(2026, 4, 30));
    EXPECT_EQ(pk::refill_apply(p, 1, r.last_us, at(2026, 5, 30, 23)).instants, 0);
    EXPECT_EQ(pk::refill_apply(p, 1, r.last_us, at(2026, 5, 31)).instants, 1);
}

TEST(Refill, LeapDay) {
    auto p = monthly(100, 29);
    // February of a leap year has its 29th; of a common year, the 28th.
    EXPECT_EQ(pk::refill_instant_us(p, 2024 * 12 + 1), at(2024, 2, 29));
    EXPECT_EQ(pk::refill_instant_us(p, 2025 * 12 + 1), at(2025, 2, 28));
    EXPECT_EQ(pk::refill_instant_us(monthly(1, 31), 2100 * 12 + 1), at(2100, 2, 28));
    EXPECT_EQ(pk::refill_instant_us(monthly(1, 30), 2000 * 12 + 1), at(2000, 2, 29));
    EXPECT_EQ(pk::refill_apply(p, 0, at(2024, 2, 1), at(2024, 2, 28, 23)).instants, 0);
    EXPECT_EQ(pk::refill_apply(p, 0, at(2024, 2, 1), at(2024, 2, 29)).remaining, 100);
    // A daily refill counts Feb 29 as a day of its own.
    EXPECT_EQ(pk::refill_apply(daily(1, pk::RefillMode::kAdd), 0, at(2024, 2, 28), at(2024, 3, 1)).instants, 2);
    EXPECT_EQ(pk::refill_apply(daily(1, pk::RefillMode::kAdd), 0, at(2023, 2, 28), at(2023, 3, 1)).instants, 1);
}

TEST(Refill, MonthlyOnTheFirst) {
    auto p = monthly(5, 1, pk::RefillMode::kAdd);
    auto r = pk::refill_apply(p, 0, at(2025, 12, 31, 23, 59), at(2026, 1, 1));
    EXPECT_EQ(r.instants, 1);
    EXPECT_EQ(r.last_us, at(2026, 1, 1));
    EXPECT_EQ(pk::refill_index_at(p, at(2026, 1, 1)), 2026 * 12);
    EXPECT_EQ(pk::refill_index_at(p, at(2026, 1, 1) - 1), 2025 * 12 + 11);
}

TEST(Refill, DatesBefore1970) {
    auto p = monthly(1, 15, pk::RefillMode::kAdd);
    EXPECT_EQ(pk::refill_apply(p, 0, at(1969, 11, 20), at(1970, 1, 15)).instants, 2);
    EXPECT_EQ(pk::refill_apply(daily(1, pk::RefillMode::kAdd), 0, at(1969, 12, 30, 5), at(1970, 1, 1, 5)).instants, 2);
}

TEST(Refill, TimeGoingBackwardsChangesNothing) {
    auto r = pk::refill_apply(daily(9), 4, at(2026, 5, 3), at(2026, 5, 1));
    EXPECT_EQ(r.instants, 0);
    EXPECT_EQ(r.remaining, 4);
}
