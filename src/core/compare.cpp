#include "compare.h"

#include <openssl/crypto.h>

namespace pk {

bool constant_time_equal(const void* a, const void* b, std::size_t n) {
    return CRYPTO_memcmp(a, b, n) == 0;
}

bool digest_hex_equal(const char* expected_lower_hex64, std::string_view candidate) {
    if (candidate.size() != 64) return false;
    // Fold the candidate to lower case without branching on its content, and
    // record any non-hex digit, so the comparison below does not exit early.
    char folded[64];
    unsigned bad = 0;
    for (int i = 0; i < 64; ++i) {
        unsigned char c = static_cast<unsigned char>(candidate[i]);
        unsigned char lower = c | 0x20;
        unsigned is_digit = static_cast<unsigned>(static_cast<unsigned>(c - '0') <= 9u);
        unsigned is_af = static_cast<unsigned>(static_cast<unsigned>(lower - 'a') <= 5u);
        bad |= (is_digit | is_af) ^ 1u;
        folded[i] = static_cast<char>(is_digit ? c : lower);
    }
    bool equal = CRYPTO_memcmp(folded, expected_lower_hex64, 64) == 0;
    return equal && bad == 0;
}

}  // namespace pk
