// Known-answer tests for SHA-256 (FIPS 180-2, appendix B).
#include <gtest/gtest.h>

#include "core/sha256.h"

TEST(Sha256, FipsAbc) {
    EXPECT_EQ(pk::sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, Fips448BitMessage) {
    EXPECT_EQ(pk::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
