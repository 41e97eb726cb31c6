// Lower-case hexadecimal encoding and decoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "no_postgres.h"

namespace pk {

// Writes 2*n lower-case hex digits to out (no NUL).
void hex_encode(const std::uint8_t* in, std::size_t n, char* out);

// Decodes exactly 2*n hex digits (either case) into out; false on any bad digit
// or wrong length.
bool hex_decode(std::string_view hex, std::uint8_t* out, std::size_t n);

}  // namespace pk
