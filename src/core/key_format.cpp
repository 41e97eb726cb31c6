#include "key_format.h"

#include <array>
#include <cstdint>
#include <cstring>

#include "base64url.h"
#include "random.h"
#include "sha256.h"

namespace pk {

std::optional<Environment> parse_environment(std::string_view text) {
    if (text == "live") return Environment::Live;
    if (text == "test") return Environment::Test;
    return std::nullopt;
}

const char* environment_name(Environment env) { return env == Environment::Live ? "live" : "test"; }

const char* key_prefix(Environment env) {
    return env == Environment::Live ? "pk_live_" : "pk_test_";
}

std::optional<Environment> key_environment(std::string_view key) {
    if (key.substr(0, kPrefixLength) == "pk_live_") return Environment::Live;
    if (key.substr(0, kPrefixLength) == "pk_test_") return Environment::Test;
    return std::nullopt;
}

namespace {
// The last of 43 characters carries 4 data bits and 2 zero bits.
bool is_canonical_last_char(char c) { return c != '\0' && std::strchr("AEIMQUYcgkosw048", c); }
}  // namespace

bool is_valid_key(std::string_view key) {
    if (key.size() != kKeyLength || !key_environment(key)) return false;
    std::string_view token = key.substr(kPrefixLength);
    for (char c : token) {
        if (!is_base64url_char(c)) return false;
    }
    return is_canonical_last_char(token.back());
}

GeneratedKey generate_key(Environment env) {
    std::array<std::uint8_t, kTokenBytes> bytes{};
    random_bytes_pooled(bytes.data(), bytes.size());
    GeneratedKey k;
    k.key_prefix = key_prefix(env);
    k.full_key = k.key_prefix + base64url_encode(bytes.data(), bytes.size());
    k.key_hash = sha256_hex(k.full_key);
    k.key_hint = k.full_key.substr(k.full_key.size() - kHintLength);
    return k;
}

}  // namespace pk
