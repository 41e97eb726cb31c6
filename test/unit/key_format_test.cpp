// The pk_<environment>_<token> key format: parsing, validation, generation.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/base64url.h"
#include "core/key_format.h"
#include "core/sha256.h"

namespace {
const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const char kCanonicalLast[] = "AEIMQUYcgkosw048";

// A well-formed key: prefix, 42 free characters, a canonical last one.
std::string good_key(const char* prefix = "pk_live_", char last = 'A') {
    return std::string(prefix) + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_0123" + last;
}
}  // namespace

TEST(ParseEnvironment, ExactNamesOnly) {
    EXPECT_EQ(pk::parse_environment("live"), pk::Environment::Live);
    EXPECT_EQ(pk::parse_environment("test"), pk::Environment::Test);
    for (const char* bad : {"Live", "LIVE", "TEST", "Test", " live", "live ", "live\n", "prod",
                            "", "l", "liv", "lives", "production", "development"}) {
        EXPECT_FALSE(pk::parse_environment(bad).has_value()) << '"' << bad << '"';
    }
    EXPECT_FALSE(pk::parse_environment(std::string_view("live\0", 5)).has_value());
    EXPECT_FALSE(pk::parse_environment(std::string_view("live", 3)).has_value());
}

TEST(ParseEnvironment, NamesAndPrefixes) {
    EXPECT_STREQ(pk::environment_name(pk::Environment::Live), "live");
    EXPECT_STREQ(pk::environment_name(pk::Environment::Test), "test");
    EXPECT_STREQ(pk::key_prefix(pk::Environment::Live), "pk_live_");
    EXPECT_STREQ(pk::key_prefix(pk::Environment::Test), "pk_test_");
    EXPECT_EQ(std::string(pk::key_prefix(pk::Environment::Live)).size(), pk::kPrefixLength);
    EXPECT_EQ(pk::kKeyLength, 51u);
    EXPECT_EQ(pk::kTokenLength, pk::base64url_length(pk::kTokenBytes));
}

TEST(KeyEnvironment, FromPrefix) {
    EXPECT_EQ(pk::key_environment(good_key("pk_live_")), pk::Environment::Live);
    EXPECT_EQ(pk::key_environment(good_key("pk_test_")), pk::Environment::Test);
    EXPECT_FALSE(pk::key_environment(good_key("pk_prod_")).has_value());
    EXPECT_FALSE(pk::key_environment("").has_value());
    EXPECT_FALSE(pk::key_environment("pk_live").has_value());
}

TEST(IsValidKey, GoodKeys) {
    EXPECT_EQ(good_key().size(), 51u);
    EXPECT_TRUE(pk::is_valid_key(good_key("pk_live_")));
    EXPECT_TRUE(pk::is_valid_key(good_key("pk_test_")));
    EXPECT_TRUE(pk::is_valid_key("pk_live_" + std::string(43, 'A')));
    EXPECT_TRUE(pk::is_valid_key("pk_test_" + std::string(42, '_') + "w"));
    EXPECT_TRUE(pk::is_valid_key("pk_live_" + std::string(42, '-') + "8"));
}

TEST(IsValidKey, WrongPrefix) {
    for (const char* prefix : {"pk_prod_", "PK_LIVE_", "pk_LIVE_", "Pk_live_", "pk_Live_",
                               "pk-live_", "pk_live-", "sk_live_", "pk_tst__", "pk__live",
                               "_pk_live", "pk_test-", "pk_liv__", "xx_live_", "pk live_"}) {
        std::string key = good_key(prefix);
        ASSERT_EQ(key.size(), 51u);
        EXPECT_FALSE(pk::is_valid_key(key)) << key;
    }
    // "pk_live" without its underscore, padded to 51 with token characters.
    EXPECT_FALSE(pk::is_valid_key("pk_live" + std::string(44, 'A')));
    EXPECT_FALSE(pk::is_valid_key("pk_test" + std::string(44, 'A')));
}

TEST(IsValidKey, WrongLength) {
    std::string key = good_key();
    for (std::size_t n = 0; n < 120; ++n) {
        if (n == 51) continue;
        // Truncated or extended with a canonical last character.
        std::string k = n < 51 ? key.substr(0, n) : key + std::string(n - 51, 'A');
        if (n > 8) k.back() = 'A';
        EXPECT_FALSE(pk::is_valid_key(k)) << n;
    }
    EXPECT_FALSE(pk::is_valid_key("pk_live_" + std::string(42, 'A')));  // 50
    EXPECT_FALSE(pk::is_valid_key("pk_live_" + std::string(44, 'A')));  // 52
    EXPECT_FALSE(pk::is_valid_key(std::string(1000000, 'A')));
    EXPECT_FALSE(pk::is_valid_key("pk_live_"));
}

// Every character outside A-Z a-z 0-9 - _ at every token position.
TEST(IsValidKey, WrongCharacterSet) {
    std::string key = good_key();
    for (int c = 0; c < 256; ++c) {
        if (pk::is_base64url_char(static_cast<char>(c))) continue;
        for (std::size_t pos = pk::kPrefixLength; pos < pk::kKeyLength; ++pos) {
            std::string k = key;
            k[pos] = static_cast<char>(c);
            ASSERT_FALSE(pk::is_valid_key(k)) << "char " << c << " at " << pos;
        }
    }
    for (const char* bad : {"+", "/", "=", " ", "\t", "\n", "\x7f", "\xff", "."}) {
        std::string k = key;
        k[20] = bad[0];
        EXPECT_FALSE(pk::is_valid_key(k)) << int(static_cast<unsigned char>(bad[0]));
    }
    std::string with_nul = key;
    with_nul[30] = '\0';
    EXPECT_FALSE(pk::is_valid_key(with_nul));
    // A two-byte UTF-8 character in place of two token characters keeps 51 bytes.
    std::string utf8 = key.substr(0, 49) + "\xc3\xa9";
    ASSERT_EQ(utf8.size(), 51u);
    EXPECT_FALSE(pk::is_valid_key(utf8));
}

// The last token character carries 4 data bits and 2 zero bits.
TEST(IsValidKey, LastCharacterMustBeCanonical) {
    int accepted = 0;
    for (int v = 0; v < 64; ++v) {
        char c = kAlphabet[v];
        bool canonical = std::string_view(kCanonicalLast).find(c) != std::string_view::npos;
        EXPECT_EQ(canonical, v % 4 == 0) << c;
        EXPECT_EQ(pk::is_valid_key(good_key("pk_live_", c)), canonical) << c;
        EXPECT_EQ(pk::is_valid_key(good_key("pk_test_", c)), canonical) << c;
        // Agrees with the canonical decoder.
        std::string token = good_key("pk_live_", c).substr(pk::kPrefixLength);
        EXPECT_EQ(pk::base64url_decode(token).has_value(), canonical) << c;
        accepted += canonical;
    }
    EXPECT_EQ(accepted, 16);
}

TEST(GenerateKey, WellFormed) {
    for (pk::Environment env : {pk::Environment::Live, pk::Environment::Test}) {
        for (int i = 0; i < 200; ++i) {
            pk::GeneratedKey k = pk::generate_key(env);
            ASSERT_EQ(k.full_key.size(), 51u);
            EXPECT_TRUE(pk::is_valid_key(k.full_key)) << k.full_key;
            EXPECT_EQ(k.key_prefix, pk::key_prefix(env));
            EXPECT_EQ(k.full_key.substr(0, 8), k.key_prefix);
            EXPECT_EQ(pk::key_environment(k.full_key), env);
            EXPECT_EQ(k.key_hint, k.full_key.substr(47));
            EXPECT_EQ(k.key_hash, pk::sha256_hex(k.full_key));
            auto token = pk::base64url_decode(k.full_key.substr(8));
            ASSERT_TRUE(token.has_value());
            EXPECT_EQ(token->size(), 32u);
        }
    }
}

TEST(GenerateKey, TenThousandUnique) {
    std::set<std::string> keys, hashes;
    std::set<char> last_chars, token_chars;
    for (int i = 0; i < 10000; ++i) {
        pk::GeneratedKey k = pk::generate_key(pk::Environment::Live);
        ASSERT_TRUE(pk::is_valid_key(k.full_key));
        keys.insert(k.full_key);
        hashes.insert(k.key_hash);
        last_chars.insert(k.full_key.back());
        token_chars.insert(k.full_key.begin() + 8, k.full_key.end());
    }
    EXPECT_EQ(keys.size(), 10000u);
    EXPECT_EQ(hashes.size(), 10000u);
    // The whole alphabet is used, and each of the 16 canonical last characters.
    EXPECT_EQ(token_chars.size(), 64u);
    EXPECT_EQ(last_chars, std::set<char>(kCanonicalLast, kCanonicalLast + 16));
}
