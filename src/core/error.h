// pk::Error: the one exception type the core throws. It carries the SQLSTATE
// the SQL layer must report, so no known failure ever surfaces as XX000.
#pragma once

#include <stdexcept>
#include <string>

#include "no_postgres.h"

namespace pk {

// SQLSTATEs of the contract, as their five-character codes.
namespace sqlstate {
inline constexpr const char* kInvalidParameter = "22023";
inline constexpr const char* kNullValue = "22004";
inline constexpr const char* kUniqueViolation = "23505";
inline constexpr const char* kNoDataFound = "P0002";
inline constexpr const char* kSystemError = "58000";
inline constexpr const char* kInternal = "XX000";
}  // namespace sqlstate

class Error : public std::runtime_error {
public:
    Error(const char* code, const std::string& message)
        : std::runtime_error(message), code_(code) {}
    // Five-character SQLSTATE, e.g. "22023".
    const char* code() const noexcept { return code_; }

private:
    const char* code_;
};

}  // namespace pk
