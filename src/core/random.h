// Cryptographically secure random bytes (OpenSSL RAND_bytes).
#pragma once

#include <cstddef>
#include <cstdint>

#include "no_postgres.h"

namespace pk {

// Fills out[0..n) or throws pk::Error (SQLSTATE 58000) if the generator fails.
void random_bytes(std::uint8_t* out, std::size_t n);

}  // namespace pk
