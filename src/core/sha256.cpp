#include "sha256.h"

#include <openssl/evp.h>

#include "error.h"
#include "hex.h"

namespace pk {

Digest sha256(std::string_view bytes) {
    Digest d{};
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), d.data(), &len, EVP_sha256(), nullptr) != 1 ||
        len != d.size()) {
        throw Error(sqlstate::kSystemError, "OpenSSL SHA-256 failed");
    }
    return d;
}

void sha256_hex(std::string_view bytes, char* out) {
    Digest d = sha256(bytes);
    hex_encode(d.data(), d.size(), out);
}

std::string sha256_hex(std::string_view bytes) {
    std::string s(64, '\0');
    sha256_hex(bytes, s.data());
    return s;
}

}  // namespace pk
