#include "random.h"

#include <openssl/rand.h>

#include <climits>

#include "error.h"

namespace pk {

void random_bytes(std::uint8_t* out, std::size_t n) {
    if (n > static_cast<std::size_t>(INT_MAX) || RAND_bytes(out, static_cast<int>(n)) != 1) {
        throw Error(sqlstate::kSystemError, "could not generate random bytes (OpenSSL RAND_bytes failed)");
    }
}

}  // namespace pk
