// SHA-256 in one shot through OpenSSL's EVP interface: no digest state lives
// past the call, so nothing can leak if the caller later raises an ERROR.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "no_postgres.h"

namespace pk {

using Digest = std::array<std::uint8_t, 32>;

// Raw digest of the bytes.
Digest sha256(std::string_view bytes);

// Lower-case hex of the digest into out[0..63]; out needs 64 bytes (no NUL).
void sha256_hex(std::string_view bytes, char* out);

// Lower-case hex of the digest as a string.
std::string sha256_hex(std::string_view bytes);

}  // namespace pk
