#include "random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <climits>
#include <cstring>
#include <mutex>

#include "error.h"

namespace pk {

void random_bytes(std::uint8_t* out, std::size_t n) {
    if (n > static_cast<std::size_t>(INT_MAX) || RAND_bytes(out, static_cast<int>(n)) != 1) {
        throw Error(sqlstate::kSystemError, "could not generate random bytes (OpenSSL RAND_bytes failed)");
    }
}

namespace {

constexpr std::size_t kPoolSize = 1024;
constexpr std::size_t kMaxDraw = 256;

struct Pool {
    std::uint8_t bytes[kPoolSize];
    std::size_t used = kPoolSize;  // empty
};

thread_local Pool pool;

// In a forked child the (only) thread drops what its parent had buffered.
void forget_pool_in_child() {
    OPENSSL_cleanse(pool.bytes, sizeof pool.bytes);
    pool.used = kPoolSize;
}

}  // namespace

void random_bytes_pooled(std::uint8_t* out, std::size_t n) {
    static std::once_flag registered;
    std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, forget_pool_in_child); });
    if (n > kMaxDraw) {
        random_bytes(out, n);
        return;
    }
    if (kPoolSize - pool.used < n) {
        random_bytes(pool.bytes, kPoolSize);
        pool.used = 0;
    }
    std::memcpy(out, pool.bytes + pool.used, n);
    OPENSSL_cleanse(pool.bytes + pool.used, n);
    pool.used += n;
}

}  // namespace pk
