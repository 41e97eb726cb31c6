// The sliding-window counter: exact per fixed window, weighted across the
// boundary, truthful remaining and reset.
#include <gtest/gtest.h>

#include "core/sliding_window.h"

#include <string>

namespace {

constexpr std::int64_t kSec = 1000000;
constexpr std::int64_t kMinute = 60 * kSec;
// A time well inside some fixed minute: window index 1000, 10 s in.
constexpr std::int64_t kStart = 1000 * kMinute + 10 * kSec;

}  // namespace

TEST(SlidingWindow, AdmitsExactlyTheLimitInOneWindow) {
    pk::WindowState s;
    int admitted = 0;
    for (int i = 0; i < 100; ++i) {
        if (pk::window_acquire(s, kStart + i * 100000, kMinute, 60, 1).allowed) ++admitted;
    }
    EXPECT_EQ(admitted, 60);
    EXPECT_EQ(s.cur_count, 60);
}

TEST(SlidingWindow, RemainingCountsDown) {
    pk::WindowState s;
    EXPECT_EQ(pk::window_acquire(s, kStart, kMinute, 3, 1).remaining, 2);
    EXPECT_EQ(pk::window_acquire(s, kStart, kMinute, 3, 1).remaining, 1);
    pk::WindowDecision last = pk::window_acquire(s, kStart, kMinute, 3, 1);
    EXPECT_TRUE(last.allowed);
    EXPECT_EQ(last.remaining, 0);
    pk::WindowDecision refused = pk::window_acquire(s, kStart, kMinute, 3, 1);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.remaining, 0);
    EXPECT_EQ(s.cur_count, 3);  // a refusal consumes nothing
}

TEST(SlidingWindow, CostTakesSeveralSlotsAndZeroCostOnlyChecks) {
    pk::WindowState s;
    EXPECT_TRUE(pk::window_acquire(s, kStart, kMinute, 5, 4).allowed);
    EXPECT_FALSE(pk::window_acquire(s, kStart, kMinute, 5, 2).allowed);
    pk::WindowDecision check = pk::window_acquire(s, kStart, kMinute, 5, 0);
    EXPECT_TRUE(check.allowed);
    EXPECT_EQ(s.cur_count, 4);
    EXPECT_TRUE(pk::window_acquire(s, kStart, kMinute, 5, 1).allowed);
    EXPECT_FALSE(pk::window_acquire(s, kStart, kMinute, 5, 0).allowed);  // no room for one more
}

TEST(SlidingWindow, ZeroLimitAdmitsNothing) {
    pk::WindowState s;
    EXPECT_FALSE(pk::window_acquire(s, kStart, kMinute, 0, 1).allowed);
    EXPECT_FALSE(pk::window_acquire(s, kStart, kMinute, 0, 0).allowed);
}

// A fixed window would admit the limit again right after the boundary; the
// sliding window weights the previous window by its remaining overlap.
TEST(SlidingWindow, PreviousWindowDecaysAcrossTheBoundary) {
    pk::WindowState s;
    std::int64_t late = 1000 * kMinute + 59 * kSec;
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(pk::window_acquire(s, late, kMinute, 10, 1).allowed);
    std::int64_t next = 1001 * kMinute;  // first instant of the next window
    EXPECT_FALSE(pk::window_acquire(s, next, kMinute, 10, 1).allowed);
    // 30 s into the next window half of the previous 10 still count: 5 more fit.
    int admitted = 0;
    for (int i = 0; i < 10; ++i) {
        if (pk::window_acquire(s, next + 30 * kSec, kMinute, 10, 1).allowed) ++admitted;
    }
    EXPECT_EQ(admitted, 5);
}

TEST(SlidingWindow, AWindowSkippedEntirelyForgetsEverything) {
    pk::WindowState s;
    for (int i = 0; i < 10; ++i) pk::window_acquire(s, kStart, kMinute, 10, 1);
    pk::WindowDecision d = pk::window_acquire(s, kStart + 2 * kMinute, kMinute, 10, 1);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, 9);
    EXPECT_EQ(s.prev_count, 0);
}

TEST(SlidingWindow, ResetIsWhenTheNextSlotFrees) {
    pk::WindowState s;
    std::int64_t window_start = 1000 * kMinute;
    for (int i = 0; i < 3; ++i) pk::window_acquire(s, kStart, kMinute, 3, 1);
    pk::WindowDecision refused = pk::window_acquire(s, kStart, kMinute, 3, 1);
    // Full: 3 in this window. In the next one they count 3 * (1 - f); one
    // slot frees when that drops to 2, a third of the way in: 20 s.
    EXPECT_EQ(refused.reset_us, window_start + kMinute + 20 * kSec);
    // And indeed a request is refused just before and admitted at that instant.
    pk::WindowState probe = s;
    EXPECT_FALSE(pk::window_acquire(probe, refused.reset_us - kSec, kMinute, 3, 1).allowed);
    probe = s;
    EXPECT_TRUE(pk::window_acquire(probe, refused.reset_us, kMinute, 3, 1).allowed);
}

TEST(SlidingWindow, ResetWithRoomLeftIsTheEndOfTheFixedWindow) {
    pk::WindowState s;
    pk::WindowDecision d = pk::window_acquire(s, kStart, kMinute, 3, 1);
    EXPECT_EQ(d.reset_us, 1001 * kMinute);
}

TEST(SlidingWindow, ReleaseGivesSlotsBack) {
    pk::WindowState s;
    pk::window_acquire(s, kStart, kMinute, 2, 1);
    pk::window_acquire(s, kStart, kMinute, 2, 1);
    EXPECT_FALSE(pk::window_acquire(s, kStart, kMinute, 2, 1).allowed);
    pk::window_release(s, s.cur_index, 1);
    EXPECT_TRUE(pk::window_acquire(s, kStart, kMinute, 2, 1).allowed);
    // A release for a window that has rolled into "previous" lands there.
    std::int64_t index = s.cur_index;
    pk::window_acquire(s, kStart + kMinute, kMinute, 2, 0);
    pk::window_release(s, index, 1);
    EXPECT_EQ(s.prev_count, 1);
}

// A client pacing exactly one call per window against a limit of 1: the
// sliding counter still weighs the previous window's call, so every other
// call is refused (the next one is admitted two windows later); a fixed
// window admits every one.
TEST(SlidingWindow, OneCallPerWindowIsRefusedEveryOtherTime) {
    pk::WindowState sliding, fixed;
    std::string pattern_sliding, pattern_fixed;
    for (int w = 0; w < 6; ++w) {
        std::int64_t at = kStart - 10 * kSec + w * kMinute + kSec;  // 1 s into window w
        pattern_sliding += pk::window_acquire_with(sliding, at, kMinute, 1, 1,
                                                   pk::WindowAlgorithm::kSliding, false).allowed ? 'Y' : 'n';
        pattern_fixed += pk::window_acquire_with(fixed, at, kMinute, 1, 1,
                                                 pk::WindowAlgorithm::kFixed, false).allowed ? 'Y' : 'n';
    }
    EXPECT_EQ(pattern_sliding, "YnYnYn");
    EXPECT_EQ(pattern_fixed, "YYYYYY");
}

TEST(SlidingWindow, FixedWindowCountsOnlyTheCurrentWindow) {
    pk::WindowState s;
    auto fixed = pk::WindowAlgorithm::kFixed;
    EXPECT_TRUE(pk::window_acquire_with(s, kStart, kMinute, 3, 2, fixed, false).allowed);
    pk::WindowDecision d = pk::window_acquire_with(s, kStart, kMinute, 3, 2, fixed, false);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.remaining, 1);
    EXPECT_EQ(d.reset_us, 1001 * kMinute);
    EXPECT_TRUE(pk::window_acquire_with(s, kStart, kMinute, 3, 1, fixed, false).allowed);
    // Just after the edge the whole limit is free again (twice the limit
    // across an edge: what the sliding counter avoids).
    EXPECT_TRUE(pk::window_acquire_with(s, 1001 * kMinute, kMinute, 3, 3, fixed, false).allowed);
}

TEST(SlidingWindow, ShadowModeCountsWhatItWouldRefuse) {
    pk::WindowState s;
    for (auto algo : {pk::WindowAlgorithm::kSliding, pk::WindowAlgorithm::kFixed}) {
        s = pk::WindowState{};
        EXPECT_TRUE(pk::window_acquire_with(s, kStart, kMinute, 1, 1, algo, true).allowed);
        EXPECT_FALSE(pk::window_acquire_with(s, kStart, kMinute, 1, 1, algo, true).allowed);
        EXPECT_EQ(s.cur_count, 2);
    }
}
