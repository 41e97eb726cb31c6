// libFuzzer target: finding and redacting full keys in arbitrary text (the
// log hook's core) against a naive reference scan.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/key_format.h"
#include "core/key_scan.h"

namespace {
bool token_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}
// pk_(live|test)_[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048] starting at i.
bool reference_key_at(std::string_view t, std::size_t i) {
    if (t.size() - i < 51) return false;
    if (t.substr(i, 8) != "pk_live_" && t.substr(i, 8) != "pk_test_") return false;
    for (std::size_t j = 0; j < 42; ++j) {
        if (!token_char(t[i + 8 + j])) return false;
    }
    char last = t[i + 50];
    return last != '\0' && std::memchr("AEIMQUYcgkosw048", last, 16) != nullptr;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::size_t expect = pk::kNoKey;
    for (std::size_t i = 0; i < size; ++i) {
        if (reference_key_at(text, i)) {
            expect = i;
            break;
        }
    }
    if (pk::find_key(text) != expect) std::abort();
    std::vector<char> buf(text.begin(), text.end());
    buf.push_back('\0');
    std::size_t n = pk::redact_keys(buf.data(), size);
    if (n > size || buf[n] != '\0') std::abort();
    if (pk::contains_key(std::string_view(buf.data(), n))) std::abort();
    if (expect == pk::kNoKey && (n != size || std::memcmp(buf.data(), data, size) != 0)) std::abort();
    if (expect != pk::kNoKey && std::memcmp(buf.data(), data, expect + 8) != 0) std::abort();
    return 0;
}
