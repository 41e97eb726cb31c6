// libFuzzer target: base64url decoding of arbitrary text (canonical,
// unpadded) and the encode/decode round trip of arbitrary bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/base64url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // As text: whatever decodes must re-encode to exactly the same text.
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto decoded = pk::base64url_decode(text);
    if (decoded) {
        if (pk::base64url_length(decoded->size()) != text.size()) std::abort();
        if (pk::base64url_encode(decoded->data(), decoded->size()) != text) std::abort();
    } else {
        // Rejected text is non-canonical, has a bad character or a bad length.
        bool all_chars = true;
        for (char c : text) all_chars = all_chars && pk::is_base64url_char(c);
        if (all_chars && text.size() % 4 != 1) {
            // Only non-zero trailing bits can be wrong then: the last char.
            if (text.empty()) std::abort();
        }
    }
    // As bytes: encode, then decode gives the bytes back.
    std::string enc = pk::base64url_encode(data, size);
    if (enc.size() != pk::base64url_length(size)) std::abort();
    auto back = pk::base64url_decode(enc);
    if (!back || back->size() != size || (size && std::memcmp(back->data(), data, size) != 0)) std::abort();
    return 0;
}
