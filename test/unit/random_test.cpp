// The CSPRNG wrapper: fills the buffer and never repeats itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>

#include <sys/wait.h>
#include <unistd.h>
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

// The pooled generator never repeats itself across refills of its buffer.
TEST(RandomBytesPooled, DistinctAcrossManyDraws) {
    std::set<std::array<std::uint8_t, 32>> seen;
    for (int i = 0; i < 5000; ++i) {  // about 156 refills of the 1 KiB buffer
        std::array<std::uint8_t, 32> buf{};
        pk::random_bytes_pooled(buf.data(), buf.size());
        EXPECT_TRUE(seen.insert(buf).second) << "repeated output at draw " << i;
    }
}

// A forked child must not hand out the bytes its parent had buffered: both
// draw right after the fork and must get different tokens.
TEST(RandomBytesPooled, ForkedChildDoesNotReuseTheParentsBuffer) {
    std::array<std::uint8_t, 32> first{};
    pk::random_bytes_pooled(first.data(), first.size());  // the buffer now holds 992 bytes
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        std::array<std::uint8_t, 32> child{};
        pk::random_bytes_pooled(child.data(), child.size());
        ssize_t written = write(fds[1], child.data(), child.size());
        _exit(written == 32 ? 0 : 1);
    }
    std::array<std::uint8_t, 32> parent{};
    pk::random_bytes_pooled(parent.data(), parent.size());
    std::array<std::uint8_t, 32> child{};
    ASSERT_EQ(read(fds[0], child.data(), child.size()), 32);
    int status = 0;
    waitpid(pid, &status, 0);
    close(fds[0]);
    close(fds[1]);
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_NE(parent, child) << "parent and child drew the same bytes after fork";
}
