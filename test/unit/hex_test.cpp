// Lower-case hex encoding and either-case decoding.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/hex.h"

namespace {
// Hex of a byte vector.
std::string encode(const std::vector<std::uint8_t>& bytes) {
    std::string out(2 * bytes.size(), '\0');
    pk::hex_encode(bytes.data(), bytes.size(), out.data());
    return out;
}
}  // namespace

TEST(Hex, EncodesLowerCase) {
    EXPECT_EQ(encode({}), "");
    EXPECT_EQ(encode({0x00}), "00");
    EXPECT_EQ(encode({0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}), "0123456789abcdef");
    EXPECT_EQ(encode({0xff, 0x10, 0x0f}), "ff100f");
}

TEST(Hex, EncodesEveryByte) {
    static const char digits[] = "0123456789abcdef";
    for (int b = 0; b < 256; ++b) {
        std::string s = encode({static_cast<std::uint8_t>(b)});
        EXPECT_EQ(s[0], digits[b >> 4]);
        EXPECT_EQ(s[1], digits[b & 15]);
    }
}

TEST(Hex, DecodesEitherCase) {
    std::array<std::uint8_t, 8> out{};
    ASSERT_TRUE(pk::hex_decode("0123456789abcdef", out.data(), 8));
    EXPECT_EQ(out, (std::array<std::uint8_t, 8>{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}));
    ASSERT_TRUE(pk::hex_decode("0123456789ABCDEF", out.data(), 8));
    EXPECT_EQ(out, (std::array<std::uint8_t, 8>{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}));
    ASSERT_TRUE(pk::hex_decode("FfFfaAbB00112233", out.data(), 8));
    EXPECT_EQ(out, (std::array<std::uint8_t, 8>{0xff, 0xff, 0xaa, 0xbb, 0x00, 0x11, 0x22, 0x33}));
}

TEST(Hex, DecodesEmpty) {
    std::uint8_t unused = 0;
    EXPECT_TRUE(pk::hex_decode("", &unused, 0));
    EXPECT_FALSE(pk::hex_decode("00", &unused, 0));
}

TEST(Hex, RoundTripsEveryByte) {
    for (int b = 0; b < 256; ++b) {
        std::uint8_t in = static_cast<std::uint8_t>(b), out = 0;
        std::string s = encode({in});
        ASSERT_TRUE(pk::hex_decode(s, &out, 1));
        EXPECT_EQ(out, in);
    }
}

TEST(Hex, RejectsWrongLength) {
    std::array<std::uint8_t, 4> out{};
    EXPECT_FALSE(pk::hex_decode("0011223", out.data(), 4));
    EXPECT_FALSE(pk::hex_decode("001122334", out.data(), 4));
    EXPECT_FALSE(pk::hex_decode("", out.data(), 4));
    EXPECT_FALSE(pk::hex_decode("00112233", out.data(), 3));
}

TEST(Hex, RejectsNonHexDigits) {
    std::array<std::uint8_t, 1> out{};
    for (int c = 0; c < 256; ++c) {
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        std::string hi = {static_cast<char>(c), '0'};
        std::string lo = {'0', static_cast<char>(c)};
        EXPECT_EQ(pk::hex_decode(hi, out.data(), 1), hex) << "char " << c;
        EXPECT_EQ(pk::hex_decode(lo, out.data(), 1), hex) << "char " << c;
    }
    EXPECT_FALSE(pk::hex_decode("0g", out.data(), 1));
    EXPECT_FALSE(pk::hex_decode(" 0", out.data(), 1));
    EXPECT_FALSE(pk::hex_decode("0x", out.data(), 1));
}
