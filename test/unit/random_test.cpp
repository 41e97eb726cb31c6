// The CSPRNG wrapper: fills the buffer and never repeats itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <vector>

#include "core/random.h"

TEST(RandomBytes, NotAllZero) {
    std::array<std::uint8_t, 32> buf{};
    pk::random_bytes(buf.data(), buf.size());
    EXPECT_TRUE(std::any_of(buf.begin(), buf.end(), [](std::uint8_t b) { return b != 0; }));
}

TEST(RandomBytes, DistinctAcrossCalls) {
    std::set<std::array<std::uint8_t, 32>> seen;
    for (int i = 0; i < 1000; ++i) {
        std::array<std::uint8_t, 32> buf{};
        pk::random_bytes(buf.data(), buf.size());
        EXPECT_TRUE(seen.insert(buf).second) << "repeated output at call " << i;
    }
}

// Fills exactly n bytes: the guard bytes around the buffer stay untouched.
TEST(RandomBytes, WritesExactlyTheBuffer) {
    std::vector<std::uint8_t> buf(48, 0xcc);
    pk::random_bytes(buf.data() + 8, 32);
    for (int i = 0; i < 8; ++i) {
        EXPECT_EQ(buf[i], 0xcc);
        EXPECT_EQ(buf[40 + i], 0xcc);
    }
}

TEST(RandomBytes, ZeroAndLargeLengths) {
    std::uint8_t untouched = 0x5a;
    EXPECT_NO_THROW(pk::random_bytes(&untouched, 0));
    EXPECT_EQ(untouched, 0x5a);
    std::vector<std::uint8_t> big(1 << 20);
    EXPECT_NO_THROW(pk::random_bytes(big.data(), big.size()));
    // Every byte value shows up in a megabyte of random data.
    std::array<bool, 256> present{};
    for (std::uint8_t b : big) present[b] = true;
    EXPECT_TRUE(std::all_of(present.begin(), present.end(), [](bool p) { return p; }));
}
