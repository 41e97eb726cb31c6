// Sliding-window rate limiting (the "sliding window counter" of Unkey, Kong's
// rate-limiting-advanced and Cloudflare): the current fixed window's count
// plus the previous window's count weighted by how much of it still overlaps
// the sliding window ending now. A fixed window would let a client send twice
// the limit across a window edge; this does not, with two integers of state.
#pragma once

#include <cstdint>

#include "no_postgres.h"

namespace pk {

struct WindowState {
    std::int64_t cur_index = 0;  // now_us / window_us of the current fixed window
    std::int64_t cur_count = 0;
    std::int64_t prev_count = 0;
};

struct WindowDecision {
    bool allowed = false;
    std::int64_t remaining = 0;  // whole requests still admitted after this one
    std::int64_t reset_us = 0;   // see next_slot_us()
};

// Moves the state to the fixed window containing now_us (times in
// microseconds, window_us > 0).
void window_advance(WindowState& s, std::int64_t now_us, std::int64_t window_us);

// Decides one request of `cost` slots against `limit` (both >= 0); consumes
// the slots only when allowed. cost 0 asks whether one more request would fit
// and consumes nothing.
WindowDecision window_acquire(WindowState& s, std::int64_t now_us, std::int64_t window_us,
                              std::int64_t limit, std::int64_t cost);

// How a named limit counts: the sliding-window counter above, or a plain
// fixed window (the count of the current window only; resets at its end).
enum class WindowAlgorithm { kSliding, kFixed };

// window_acquire with a choice of algorithm. With `force` (shadow mode) the
// slots are counted even when the decision is "refused", so the counter
// reports what enforcement would have seen.
WindowDecision window_acquire_with(WindowState& s, std::int64_t now_us, std::int64_t window_us,
                                   std::int64_t limit, std::int64_t cost, WindowAlgorithm algorithm,
                                   bool force);

// Gives back `cost` slots taken at window index `index` (when the caller could
// not complete the request after all).
void window_release(WindowState& s, std::int64_t index, std::int64_t cost);

// When the window next frees a slot for a request of cost 1: the earliest
// instant at which one would be admitted when none is now; otherwise the end
// of the current fixed window (when its count starts to decay).
std::int64_t window_next_slot_us(const WindowState& s, std::int64_t now_us,
                                 std::int64_t window_us, std::int64_t limit);

}  // namespace pk
