// The usage rules, written once: what a usage row's aggregates are made of
// (its UTC day and month, success), and the 1.1 bounds a usage row must
// satisfy. Times are PostgreSQL timestamps (microseconds since
// 2000-01-01 00:00:00 UTC) and days are PostgreSQL dates (days since
// 2000-01-01), so the SQL layer passes its values through unchanged.
#pragma once

#include <cstdint>

#include "no_postgres.h"

namespace pk::usage {

inline constexpr std::int64_t kUsecsPerDay = 86400LL * 1000000LL;

// A request counts as successful when its status is below 400.
inline constexpr bool is_successful(std::int32_t status_code) { return status_code < 400; }

// The UTC day (days since 2000-01-01) of a timestamp.
std::int32_t utc_day(std::int64_t timestamp_us);

// The first day of the UTC month containing `day`.
std::int32_t month_start(std::int32_t day);

// Bounds of a usage row (contract 1.1, "Bounds on input").
inline constexpr std::int64_t kMaxEndpointBytes = 2048;
inline constexpr std::int64_t kMaxMethodBytes = 16;
inline constexpr std::int64_t kMaxUserAgentBytes = 1024;
// occurred_at from 2000-01-01 00:00 UTC to now() + 1 day (clock skew).
inline constexpr std::int64_t kMinOccurredAt = 0;
inline constexpr std::int64_t kMaxSkewUs = kUsecsPerDay;

// Nullptr when the row is within bounds, else the message naming the
// argument (SQLSTATE 22023). Lengths in bytes; user_agent_bytes < 0 means NULL.
// `finite` is false for ±infinity; now_us is the transaction's now().
const char* check_bounds(std::int64_t endpoint_bytes, std::int64_t method_bytes,
                         std::int64_t user_agent_bytes, bool finite, std::int64_t occurred_at_us,
                         std::int64_t now_us);

}  // namespace pk::usage
