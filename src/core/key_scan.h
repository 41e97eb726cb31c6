// Finding and redacting full keys inside arbitrary text (log lines, error
// messages, statements). A full key is what the contract's format admits:
// pk_(live|test)_ + 42 base64url characters + one of AEIMQUYcgkosw048.
#pragma once

#include <cstddef>
#include <string_view>

#include "no_postgres.h"

namespace pk {

inline constexpr std::size_t kNoKey = static_cast<std::size_t>(-1);
inline constexpr std::string_view kRedactedToken = "[redacted]";

// Offset of the first full key in text at or after from, or kNoKey.
std::size_t find_key(std::string_view text, std::size_t from = 0) noexcept;

// True when text holds a full key anywhere.
inline bool contains_key(std::string_view text) noexcept { return find_key(text) != kNoKey; }

// Replaces the token of every full key in buf[0, len) by kRedactedToken, in
// place (the result is shorter: 43 characters become 10), keeps the
// pk_live_/pk_test_ prefix, writes a terminating NUL and returns the new
// length. Allocates nothing and cannot fail (for use inside emit_log_hook).
std::size_t redact_keys(char* buf, std::size_t len) noexcept;

}  // namespace pk
