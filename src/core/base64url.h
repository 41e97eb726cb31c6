// RFC 4648 section 5 "base64url" without padding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "no_postgres.h"

namespace pk {

// Encodes without '=' padding.
std::string base64url_encode(const std::uint8_t* data, std::size_t n);

// Length of the unpadded encoding of n bytes.
constexpr std::size_t base64url_length(std::size_t n) { return (n * 8 + 5) / 6; }

// True for A-Z a-z 0-9 - _.
bool is_base64url_char(char c);

// Decodes an unpadded, canonical encoding; nullopt on any bad character,
// impossible length or non-zero trailing bits.
std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view text);

}  // namespace pk
