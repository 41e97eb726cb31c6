// The usage rules: UTC days and months as PostgreSQL numbers them, success,
// and the 1.1 bounds of a usage row.
#include <gtest/gtest.h>

#include "core/usage_rules.h"

namespace {

constexpr std::int64_t kDay = pk::usage::kUsecsPerDay;
constexpr std::int64_t kHour = 3600LL * 1000000LL;

}  // namespace

TEST(UsageRules, UtcDayCountsFrom2000) {
    EXPECT_EQ(pk::usage::utc_day(0), 0);                    // 2000-01-01 00:00
    EXPECT_EQ(pk::usage::utc_day(kDay - 1), 0);             // 2000-01-01 23:59:59.999999
    EXPECT_EQ(pk::usage::utc_day(kDay), 1);                 // 2000-01-02
    EXPECT_EQ(pk::usage::utc_day(-1), -1);                  // 1999-12-31 23:59:59.999999
    EXPECT_EQ(pk::usage::utc_day(-kDay), -1);               // 1999-12-31 00:00
    EXPECT_EQ(pk::usage::utc_day(-kDay - 1), -2);
    // 2024-03-01 is date '2024-03-01' - date '2000-01-01' = 8826 days.
    EXPECT_EQ(pk::usage::utc_day(8826 * kDay + 23 * kHour), 8826);
}

TEST(UsageRules, MonthStartKnownAnswers) {
    EXPECT_EQ(pk::usage::month_start(0), 0);       // 2000-01-01
    EXPECT_EQ(pk::usage::month_start(30), 0);      // 2000-01-31
    EXPECT_EQ(pk::usage::month_start(31), 31);     // 2000-02-01
    EXPECT_EQ(pk::usage::month_start(59), 31);     // 2000-02-29 (leap year)
    EXPECT_EQ(pk::usage::month_start(60), 60);     // 2000-03-01
    EXPECT_EQ(pk::usage::month_start(8826), 8826); // 2024-03-01
    EXPECT_EQ(pk::usage::month_start(8825), 8797); // 2024-02-29 -> 2024-02-01
    EXPECT_EQ(pk::usage::month_start(-1), -31);    // 1999-12-31 -> 1999-12-01
    // 2100-03-01 = 36584; 2100 is not a leap year: 2100-02-28 = 36583 -> 2100-02-01 = 36556.
    EXPECT_EQ(pk::usage::month_start(36583), 36556);
}

TEST(UsageRules, SuccessIsBelow400) {
    EXPECT_TRUE(pk::usage::is_successful(200));
    EXPECT_TRUE(pk::usage::is_successful(399));
    EXPECT_FALSE(pk::usage::is_successful(400));
    EXPECT_FALSE(pk::usage::is_successful(503));
}

TEST(UsageRules, BoundsNameTheArgument) {
    const std::int64_t now = 9000 * kDay;
    EXPECT_EQ(pk::usage::check_bounds(2048, 16, 1024, true, 0, now), nullptr);
    EXPECT_EQ(pk::usage::check_bounds(1, 3, -1, true, now + kDay, now), nullptr);
    EXPECT_STREQ(pk::usage::check_bounds(2049, 3, -1, true, now, now), "endpoint must be at most 2048 bytes");
    EXPECT_STREQ(pk::usage::check_bounds(1, 17, -1, true, now, now), "method must be at most 16 bytes");
    EXPECT_STREQ(pk::usage::check_bounds(1, 3, 1025, true, now, now), "user_agent must be at most 1024 bytes");
    EXPECT_STREQ(pk::usage::check_bounds(1, 3, -1, false, now, now), "occurred_at must be finite");
    EXPECT_STREQ(pk::usage::check_bounds(1, 3, -1, true, -1, now),
                 "occurred_at must be between 2000-01-01 and now() + 1 day");
    EXPECT_STREQ(pk::usage::check_bounds(1, 3, -1, true, now + kDay + 1, now),
                 "occurred_at must be between 2000-01-01 and now() + 1 day");
}
