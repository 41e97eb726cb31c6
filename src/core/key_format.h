// The pk_<environment>_<token> key format of the contract.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "no_postgres.h"

namespace pk {

enum class Environment { Live, Test };

inline constexpr std::size_t kTokenBytes = 32;
inline constexpr std::size_t kTokenLength = 43;  // unpadded base64url of 32 bytes
inline constexpr std::size_t kPrefixLength = 8;  // "pk_live_" / "pk_test_"
inline constexpr std::size_t kKeyLength = kPrefixLength + kTokenLength;
inline constexpr std::size_t kHintLength = 4;

// "live" or "test", exactly; nullopt for anything else.
std::optional<Environment> parse_environment(std::string_view text);
const char* environment_name(Environment env);
const char* key_prefix(Environment env);

// True when key is pk_live_/pk_test_ + 43 base64url characters whose last one
// is a canonical encoding of 32 bytes (one of AEIMQUYcgkosw048).
bool is_valid_key(std::string_view key);

// Environment named by a well-formed key's prefix.
std::optional<Environment> key_environment(std::string_view key);

struct GeneratedKey {
    std::string full_key;
    std::string key_hash;  // lower-case hex SHA-256 of full_key
    std::string key_hint;  // last four characters of full_key
    std::string key_prefix;
};

// A new key from 32 CSPRNG bytes.
GeneratedKey generate_key(Environment env);

}  // namespace pk
