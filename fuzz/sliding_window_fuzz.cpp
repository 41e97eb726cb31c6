// libFuzzer target: the sliding-window arithmetic over a sequence of
// requests drawn from the input, in the domain the SQL layer passes (times
// in microseconds of PostgreSQL timestamps, windows 1 s .. 366 days, limits
// and costs 0 .. 2^31-1). Checks, besides UBSan: no fixed window admits more
// than the limit; remaining is within [0, limit]; a refused request's
// reset_us is not in the past, and a cost-1 request at reset_us is admitted.
#include <cstdint>
#include <cstdlib>
#include <map>

#include "core/sliding_window.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzInput in(data, size);
    const std::int64_t kMaxWindow = 366LL * 86400 * 1000000;
    const std::int64_t kMaxInt32 = 2147483647;
    std::int64_t window = in.range(1000000, kMaxWindow);
    if (in.bits(1) & 1) window = (in.bits(1) % 2) ? 1000000 : kMaxWindow;
    std::int64_t limit = in.range(0, (in.bits(1) & 1) ? 20 : kMaxInt32);
    // PostgreSQL timestamps: 4713 BC .. 294276 AD, in microseconds from 2000.
    const std::int64_t kMinTime = -211813488000000000LL, kMaxTime = 9223371331200000000LL;
    std::int64_t now = in.range(kMinTime / 4, kMaxTime / 4);
    if (in.bits(1) & 1) now = in.range(0, 2000000000000000LL);  // 2000 .. 2063
    pk::WindowState s;
    pk::window_advance(s, now, window);
    std::map<std::int64_t, std::int64_t> admitted;  // fixed window index -> slots
    while (!in.empty()) {
        std::uint64_t op = in.bits(1);
        std::int64_t step = (op & 3) == 0 ? in.range(0, window * 3) : in.range(0, 1000000);
        if (now <= kMaxTime - step) now += step;
        std::int64_t cost = (op & 4) ? in.range(0, kMaxInt32) : in.range(0, 3);
        pk::WindowState before = s;
        pk::WindowDecision d = pk::window_acquire(s, now, window, limit, cost);
        if (d.remaining < 0 || d.remaining > limit) std::abort();
        if (d.allowed && cost > 0) {
            std::int64_t index = s.cur_index;
            admitted[index] += cost;
            if (admitted[index] > limit) std::abort();
            if ((op & 8) && in.bits(1) % 4 == 0) {  // the caller gives the slots back
                pk::window_release(s, index, cost);
                admitted[index] -= cost;
            }
        }
        if (!d.allowed && cost <= 1 && limit > 0) {
            if (d.reset_us < now) std::abort();
            pk::WindowState probe = before;
            if (!pk::window_acquire(probe, d.reset_us, window, limit, 1).allowed) std::abort();
        }
    }
    return 0;
}
