// Cryptographically secure random bytes (OpenSSL RAND_bytes).
#pragma once

#include <cstddef>
#include <cstdint>

#include "no_postgres.h"

namespace pk {

// Fills out[0..n) or throws pk::Error (SQLSTATE 58000) if the generator fails.
void random_bytes(std::uint8_t* out, std::size_t n);

// The same, drawn from a per-thread buffer that RAND_bytes refills 1 KiB at a
// time: one DRBG call (with its fork check and parameter lookups) per 32
// tokens instead of one per token. Bytes are wiped from the buffer as they
// are handed out, and a forked child starts with an empty buffer, so no two
// processes ever hand out the same bytes. For n <= 256.
void random_bytes_pooled(std::uint8_t* out, std::size_t n);

}  // namespace pk
