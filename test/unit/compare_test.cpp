// Functional tests of the constant-time comparisons (timing is in timing_test).
#include <gtest/gtest.h>

#include <cctype>
#include <cstring>
#include <string>

#include "core/compare.h"
#include "core/sha256.h"

namespace {
// ASCII upper case of s.
std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}
}  // namespace

TEST(ConstantTimeEqual, EqualAndDifferentBuffers) {
    const char a[] = "0123456789abcdef";
    char b[sizeof a];
    std::memcpy(b, a, sizeof a);
    EXPECT_TRUE(pk::constant_time_equal(a, b, 16));
    for (std::size_t i = 0; i < 16; ++i) {
        b[i] ^= 1;
        EXPECT_FALSE(pk::constant_time_equal(a, b, 16)) << "byte " << i;
        b[i] ^= 1;
    }
    b[0] ^= 0x80;  // only the high bit differs
    EXPECT_FALSE(pk::constant_time_equal(a, b, 16));
}

TEST(ConstantTimeEqual, ZeroLengthIsEqual) {
    EXPECT_TRUE(pk::constant_time_equal("a", "b", 0));
}

TEST(DigestHexEqual, SameDigestInEitherCase) {
    std::string h = pk::sha256_hex("pk_live_example");
    EXPECT_TRUE(pk::digest_hex_equal(h.c_str(), h));
    EXPECT_TRUE(pk::digest_hex_equal(h.c_str(), upper(h)));
    std::string mixed = h;
    for (std::size_t i = 0; i < mixed.size(); i += 2) {
        mixed[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(mixed[i])));
    }
    EXPECT_TRUE(pk::digest_hex_equal(h.c_str(), mixed));
}

// Every hex digit of a digest compares in either case.
TEST(DigestHexEqual, AllDigits) {
    std::string h = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    EXPECT_TRUE(pk::digest_hex_equal(h.c_str(), h));
    EXPECT_TRUE(pk::digest_hex_equal(h.c_str(), upper(h)));
}

TEST(DigestHexEqual, DifferentDigest) {
    std::string h = pk::sha256_hex("pk_live_example");
    EXPECT_FALSE(pk::digest_hex_equal(h.c_str(), pk::sha256_hex("pk_live_examplf")));
    for (std::size_t i = 0; i < 64; ++i) {
        std::string c = h;
        c[i] = c[i] == '0' ? '1' : '0';
        EXPECT_FALSE(pk::digest_hex_equal(h.c_str(), c)) << "position " << i;
        EXPECT_FALSE(pk::digest_hex_equal(h.c_str(), upper(c))) << "position " << i;
    }
}

TEST(DigestHexEqual, WrongLength) {
    std::string h = pk::sha256_hex("abc");
    EXPECT_FALSE(pk::digest_hex_equal(h.c_str(), ""));
    EXPECT_FALSE(pk::digest_hex_equal(h.c_str(), h.substr(0, 63)));
    EXPECT_FALSE(pk::digest_hex_equal(h.c_str(), h.substr(1)));
    EXPECT_FALSE(pk::digest_hex_equal(h.c_str(), h + "0"));
    EXPECT_FALSE(pk::digest_hex_equal(h.c_str(), h + h));
    EXPECT_FALSE(pk::digest_hex_equal(h.c_str(), std::string_view(h.c_str(), 65)));  // with NUL
}

// A character that is not a hex digit never matches, even where folding its
// case would produce the expected digit.
TEST(DigestHexEqual, NonHexNeverMatches) {
    std::string h = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    for (int c = 0; c < 256; ++c) {
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (hex) continue;
        for (std::size_t i : {0u, 1u, 10u, 15u, 63u}) {
            std::string cand = h;
            cand[i] = static_cast<char>(c);
            EXPECT_FALSE(pk::digest_hex_equal(h.c_str(), cand)) << "char " << c << " at " << i;
        }
    }
    // 0x10 | 0x20 == '0' and 'G' | 0x20 == 'g': case folding alone is not enough.
    std::string cand = h;
    cand[0] = '\x10';
    EXPECT_FALSE(pk::digest_hex_equal(h.c_str(), cand));
    EXPECT_FALSE(pk::digest_hex_equal(h.c_str(), std::string(64, 'g')));
    EXPECT_FALSE(pk::digest_hex_equal(h.c_str(), std::string(64, ' ')));
    EXPECT_FALSE(pk::digest_hex_equal(h.c_str(), std::string(64, '\0')));
}
