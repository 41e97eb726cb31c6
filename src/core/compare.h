// Comparisons whose running time does not depend on where inputs differ.
#pragma once

#include <cstddef>
#include <string_view>

#include "no_postgres.h"

namespace pk {

// Constant-time equality of two n-byte buffers (OpenSSL CRYPTO_memcmp).
bool constant_time_equal(const void* a, const void* b, std::size_t n);

// Constant-time equality of a lower-case hex digest with a hex string of
// either case. Returns false (in time independent of content) when the
// candidate is not exactly 64 hex digits.
bool digest_hex_equal(const char* expected_lower_hex64, std::string_view candidate);

}  // namespace pk
