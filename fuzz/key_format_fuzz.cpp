// libFuzzer target: the key format parser (is_valid_key, key_environment,
// parse_environment) against an independent reading of the contract.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/base64url.h"
#include "core/key_format.h"

namespace {
// The contract's format, written out again without the core's helpers.
bool reference_valid(std::string_view k) {
    if (k.size() != 51) return false;
    if (k.substr(0, 8) != "pk_live_" && k.substr(0, 8) != "pk_test_") return false;
    for (std::size_t i = 8; i < 51; ++i) {
        char c = k[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok) return false;
    }
    return std::memchr("AEIMQUYcgkosw048", k[50], 16) != nullptr;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    bool valid = pk::is_valid_key(text);
    if (valid != reference_valid(text)) std::abort();
    auto env = pk::key_environment(text);
    if (valid) {
        if (!env) std::abort();
        if ((*env == pk::Environment::Live) != (text.substr(0, 8) == "pk_live_")) std::abort();
        // The token of a valid key is a canonical encoding of 32 bytes.
        auto bytes = pk::base64url_decode(text.substr(8));
        if (!bytes || bytes->size() != 32) std::abort();
        if (pk::base64url_encode(bytes->data(), bytes->size()) != text.substr(8)) std::abort();
    }
    auto parsed = pk::parse_environment(text);
    if (parsed.has_value() != (text == "live" || text == "test")) std::abort();
    if (parsed) {
        if (std::string(pk::environment_name(*parsed)) != text) std::abort();
        if (std::string(pk::key_prefix(*parsed)) != "pk_" + std::string(text) + "_") std::abort();
    }
    return 0;
}
