// Known-answer tests for SHA-256 (FIPS 180-2, appendix B, and the empty message).
#include <gtest/gtest.h>

#include <string>

#include "core/hex.h"
#include "core/sha256.h"

TEST(Sha256, FipsAbc) {
    EXPECT_EQ(pk::sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, Fips448BitMessage) {
    EXPECT_EQ(pk::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, EmptyMessage) {
    EXPECT_EQ(pk::sha256_hex(""),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(pk::sha256_hex(std::string_view()),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, FipsOneMillionA) {
    EXPECT_EQ(pk::sha256_hex(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Embedded NULs are data, not terminators.
TEST(Sha256, HashesEveryByteIncludingNul) {
    EXPECT_NE(pk::sha256_hex(std::string("a\0b", 3)), pk::sha256_hex("a"));
    EXPECT_NE(pk::sha256_hex(std::string("\0", 1)), pk::sha256_hex(""));
}

// The raw digest, the buffer overload and the string overload agree.
TEST(Sha256, OverloadsAgree) {
    pk::Digest d = pk::sha256("abc");
    char from_raw[64];
    pk::hex_encode(d.data(), d.size(), from_raw);
    char from_buffer[65];
    from_buffer[64] = '#';  // must not be written
    pk::sha256_hex("abc", from_buffer);
    EXPECT_EQ(std::string(from_raw, 64), pk::sha256_hex("abc"));
    EXPECT_EQ(std::string(from_buffer, 64), pk::sha256_hex("abc"));
    EXPECT_EQ(from_buffer[64], '#');
    EXPECT_EQ(d[0], 0xba);
    EXPECT_EQ(d[31], 0xad);
}

// The key hash of the contract: lower-case hex of the key's bytes, 64 digits.
TEST(Sha256, HexIsLowerCase64Digits) {
    std::string h = pk::sha256_hex("pk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    ASSERT_EQ(h.size(), 64u);
    for (char c : h) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << c;
}
