// base64url without padding: RFC 4648 section 10 vectors adapted to the URL
// alphabet, and a decoder that accepts only canonical input.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/base64url.h"

namespace {
// Encodes the bytes of a string.
std::string encode(std::string_view bytes) {
    return pk::base64url_encode(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

// Encodes a byte vector.
std::string encode(const std::vector<std::uint8_t>& bytes) {
    return pk::base64url_encode(bytes.data(), bytes.size());
}

// The bytes of a string.
std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}  // namespace

TEST(Base64url, Rfc4648Vectors) {
    EXPECT_EQ(encode(""), "");
    EXPECT_EQ(encode("f"), "Zg");
    EXPECT_EQ(encode("fo"), "Zm8");
    EXPECT_EQ(encode("foo"), "Zm9v");
    EXPECT_EQ(encode("foob"), "Zm9vYg");
    EXPECT_EQ(encode("fooba"), "Zm9vYmE");
    EXPECT_EQ(encode("foobar"), "Zm9vYmFy");
}

TEST(Base64url, Rfc4648VectorsDecode) {
    for (const char* s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        auto decoded = pk::base64url_decode(encode(s));
        ASSERT_TRUE(decoded.has_value()) << s;
        EXPECT_EQ(*decoded, bytes_of(s));
    }
}

// 62 and 63 are '-' and '_' (not '+' and '/').
TEST(Base64url, UrlSafeCharacters) {
    EXPECT_EQ(encode({0xfb, 0xff}), "-_8");
    EXPECT_EQ(encode({0xfb, 0xff, 0xbf}), "-_-_");
    EXPECT_EQ(encode({0xff, 0xff, 0xff}), "____");
    EXPECT_EQ(encode({0xf8}), "-A");
    EXPECT_EQ(encode({0x00, 0x00, 0x00}), "AAAA");
    auto decoded = pk::base64url_decode("-_8");
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, (std::vector<std::uint8_t>{0xfb, 0xff}));
}

TEST(Base64url, EncodedLength) {
    EXPECT_EQ(pk::base64url_length(0), 0u);
    EXPECT_EQ(pk::base64url_length(1), 2u);
    EXPECT_EQ(pk::base64url_length(2), 3u);
    EXPECT_EQ(pk::base64url_length(3), 4u);
    EXPECT_EQ(pk::base64url_length(32), 43u);
    for (std::size_t n = 0; n < 100; ++n) {
        EXPECT_EQ(encode(std::vector<std::uint8_t>(n, 0xa5)).size(), pk::base64url_length(n));
    }
}

TEST(Base64url, CharacterClass) {
    int count = 0;
    for (int c = 0; c < 256; ++c) {
        bool in_alphabet = c != 0 && std::string_view(kAlphabet).find(static_cast<char>(c)) !=
                                         std::string_view::npos;
        EXPECT_EQ(pk::is_base64url_char(static_cast<char>(c)), in_alphabet) << "char " << c;
        count += in_alphabet;
    }
    EXPECT_EQ(count, 64);
}

TEST(Base64url, RoundTripsRandomBytesOfEveryLength) {
    std::mt19937 rng(42);
    for (std::size_t n = 0; n <= 96; ++n) {
        for (int rep = 0; rep < 20; ++rep) {
            std::vector<std::uint8_t> in(n);
            for (auto& b : in) b = static_cast<std::uint8_t>(rng());
            std::string text = encode(in);
            for (char c : text) ASSERT_TRUE(pk::is_base64url_char(c)) << text;
            auto out = pk::base64url_decode(text);
            ASSERT_TRUE(out.has_value()) << text;
            EXPECT_EQ(*out, in);
        }
    }
}

TEST(Base64url, DecodeRejectsBadCharacters) {
    for (const char* bad : {"Zm9v+g", "Zm9v/g", "Zm8=", "Zg==", "Zm 9", " Zm9", "Zm9\n",
                            "Zm9.", "Zm9v*A", "Z\xc3\xa9v", "Zm9v\x7f" "A", "Zm9v\xff" "A"}) {
        EXPECT_FALSE(pk::base64url_decode(bad).has_value()) << bad;
    }
    EXPECT_FALSE(pk::base64url_decode(std::string_view("Zm\0v", 4)).has_value());
    for (int c = 0; c < 256; ++c) {
        std::string text = "Zm9v";
        text[1] = static_cast<char>(c);
        bool ok = pk::is_base64url_char(static_cast<char>(c));
        EXPECT_EQ(pk::base64url_decode(text).has_value(), ok) << "char " << c;
    }
}

// A length of 4k+1 characters cannot be produced by any byte string.
TEST(Base64url, DecodeRejectsImpossibleLengths) {
    EXPECT_FALSE(pk::base64url_decode("A").has_value());
    EXPECT_FALSE(pk::base64url_decode("AAAAA").has_value());
    EXPECT_FALSE(pk::base64url_decode("Zm9vY").has_value());
    EXPECT_FALSE(pk::base64url_decode(std::string(41, 'A')).has_value());
    EXPECT_FALSE(pk::base64url_decode(std::string(45, 'A')).has_value());
    EXPECT_TRUE(pk::base64url_decode(std::string(43, 'A')).has_value());
}

// The unused low bits of the last character must be zero.
TEST(Base64url, DecodeRejectsNonCanonicalTrailingBits) {
    EXPECT_FALSE(pk::base64url_decode("Zh").has_value());    // "f" is "Zg"
    EXPECT_FALSE(pk::base64url_decode("Zm9").has_value());   // "fo" is "Zm8"
    EXPECT_FALSE(pk::base64url_decode("Zm9vYh").has_value());
    EXPECT_FALSE(pk::base64url_decode("Zm9vYmF").has_value());
    EXPECT_FALSE(pk::base64url_decode("-_9").has_value());
    EXPECT_FALSE(pk::base64url_decode("__").has_value());
    // Two leftover characters keep 4 zero bits, three keep 2.
    for (int v = 0; v < 64; ++v) {
        std::string two = std::string("A") + kAlphabet[v];
        std::string three = std::string("AA") + kAlphabet[v];
        EXPECT_EQ(pk::base64url_decode(two).has_value(), v % 16 == 0) << two;
        EXPECT_EQ(pk::base64url_decode(three).has_value(), v % 4 == 0) << three;
    }
}

// A 32-byte token is 43 characters whose last one is one of 16 canonical ones.
TEST(Base64url, ThirtyTwoByteTokenLastCharacter) {
    std::string canonical;
    for (int v = 0; v < 64; ++v) {
        std::string token = std::string(42, 'A') + kAlphabet[v];
        auto out = pk::base64url_decode(token);
        if (out) {
            EXPECT_EQ(out->size(), 32u);
            canonical += kAlphabet[v];
        }
    }
    EXPECT_EQ(canonical, "AEIMQUYcgkosw048");
}
