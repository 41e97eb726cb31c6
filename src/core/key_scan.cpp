#include "key_scan.h"

#include <cstring>

#include "key_format.h"

namespace pk {

namespace {

bool is_token_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

bool is_last_token_char(char c) noexcept {
    return c != '\0' && std::strchr("AEIMQUYcgkosw048", c) != nullptr;
}

// True when a full key starts at text[at].
bool key_at(std::string_view text, std::size_t at) noexcept {
    if (text.size() - at < kKeyLength) return false;
    std::string_view prefix = text.substr(at, kPrefixLength);
    if (prefix != "pk_live_" && prefix != "pk_test_") return false;
    std::size_t token = at + kPrefixLength;
    for (std::size_t i = 0; i + 1 < kTokenLength; ++i) {
        if (!is_token_char(text[token + i])) return false;
    }
    return is_last_token_char(text[token + kTokenLength - 1]);
}

}  // namespace

std::size_t find_key(std::string_view text, std::size_t from) noexcept {
    for (std::size_t at = text.find("pk_", from); at != std::string_view::npos;
         at = text.find("pk_", at + 1)) {
        if (key_at(text, at)) return at;
    }
    return kNoKey;
}

std::size_t redact_keys(char* buf, std::size_t len) noexcept {
    std::size_t at = 0;
    while ((at = find_key(std::string_view(buf, len), at)) != kNoKey) {
        char* token = buf + at + kPrefixLength;
        std::memcpy(token, kRedactedToken.data(), kRedactedToken.size());
        char* rest = token + kTokenLength;
        std::size_t rest_len = len - (rest - buf);
        std::memmove(token + kRedactedToken.size(), rest, rest_len);
        len -= kTokenLength - kRedactedToken.size();
        at += kPrefixLength + kRedactedToken.size();
    }
    buf[len] = '\0';
    return len;
}

}  // namespace pk
