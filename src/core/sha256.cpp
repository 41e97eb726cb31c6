#include "sha256.h"

#include <openssl/evp.h>

#include "error.h"
#include "hex.h"

namespace pk {

namespace {
// Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up by name
// on every digest. The algorithm object is immutable and holds no state.
const EVP_MD* sha256_md() {
    static const EVP_MD* md = [] {
        EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        return fetched ? static_cast<const EVP_MD*>(fetched) : EVP_sha256();
    }();
    return md;
}
}  // namespace

Digest sha256(std::string_view bytes) {
    Digest d{};
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), d.data(), &len, sha256_md(), nullptr) != 1 ||
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
