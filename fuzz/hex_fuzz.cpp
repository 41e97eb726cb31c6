// libFuzzer target: hex decoding of arbitrary text (exact length, either
// case) and the encode/decode round trip.
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/hex.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    // The first byte picks the expected byte count n; the rest is the text.
    std::size_t n = data[0] % 40;
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    std::vector<std::uint8_t> out(n + 1, 0xAB);
    bool ok = pk::hex_decode(text, out.data(), n);
    bool expect = text.size() == 2 * n;
    for (char c : text) expect = expect && std::isxdigit(static_cast<unsigned char>(c));
    if (ok != expect) std::abort();
    if (out[n] != 0xAB) std::abort();  // never writes past n bytes
    if (ok) {
        std::string enc(2 * n, '\0');
        pk::hex_encode(out.data(), n, enc.data());
        std::string lower(text);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (enc != lower) std::abort();
    }
    std::string enc(2 * (size - 1), '\0');
    pk::hex_encode(data + 1, size - 1, enc.data());
    std::vector<std::uint8_t> back(size - 1);
    if (!pk::hex_decode(enc, back.data(), size - 1)) std::abort();
    if (size > 1 && std::memcmp(back.data(), data + 1, size - 1) != 0) std::abort();
    return 0;
}
