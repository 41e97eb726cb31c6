#include "sliding_window.h"

#include <algorithm>

namespace pk {

namespace {

// Exact arithmetic: counts are scaled by the window length in microseconds,
// so "prev * (1 - elapsed / W) + cur" becomes prev * (W - elapsed) + cur * W,
// an integer (128 bits: W can be years of microseconds, counts billions).
using Wide = __int128;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

Wide ceil_div(Wide a, Wide b) { return a <= 0 ? 0 : (a + b - 1) / b; }

std::int64_t elapsed_in_window(const WindowState& s, std::int64_t now_us, std::int64_t window_us) {
    return std::clamp<std::int64_t>(now_us - s.cur_index * window_us, 0, window_us);
}

// The weighted count of the sliding window ending at now_us, times window_us.
Wide scaled_estimate(const WindowState& s, std::int64_t now_us, std::int64_t window_us) {
    std::int64_t elapsed = elapsed_in_window(s, now_us, window_us);
    return Wide(s.prev_count) * (window_us - elapsed) + Wide(s.cur_count) * window_us;
}

}  // namespace

void window_advance(WindowState& s, std::int64_t now_us, std::int64_t window_us) {
    std::int64_t index = floor_div(now_us, window_us);
    if (index <= s.cur_index) return;  // same window (or a clock step back)
    s.prev_count = (index == s.cur_index + 1) ? s.cur_count : 0;
    s.cur_count = 0;
    s.cur_index = index;
}

WindowDecision window_acquire(WindowState& s, std::int64_t now_us, std::int64_t window_us,
                              std::int64_t limit, std::int64_t cost) {
    window_advance(s, now_us, window_us);
    Wide used = scaled_estimate(s, now_us, window_us);
    Wide capacity = Wide(limit) * window_us;
    Wide needed = Wide(cost > 0 ? cost : 1) * window_us;
    WindowDecision d;
    d.allowed = used + needed <= capacity;
    if (d.allowed && cost > 0) {
        s.cur_count += cost;
        used += Wide(cost) * window_us;
    }
    d.remaining = used >= capacity ? 0 : static_cast<std::int64_t>((capacity - used) / window_us);
    d.reset_us = window_next_slot_us(s, now_us, window_us, limit);
    return d;
}

WindowDecision window_acquire_with(WindowState& s, std::int64_t now_us, std::int64_t window_us,
                                   std::int64_t limit, std::int64_t cost, WindowAlgorithm algorithm,
                                   bool force) {
    if (algorithm == WindowAlgorithm::kSliding) {
        WindowDecision d = window_acquire(s, now_us, window_us, limit, cost);
        if (!d.allowed && force && cost > 0) s.cur_count += cost;
        return d;
    }
    window_advance(s, now_us, window_us);
    WindowDecision d;
    d.allowed = Wide(s.cur_count) + (cost > 0 ? cost : 1) <= limit;
    if ((d.allowed || force) && cost > 0) s.cur_count += cost;
    d.remaining = std::max<std::int64_t>(0, limit - s.cur_count);
    d.reset_us = (s.cur_index + 1) * window_us;  // the whole count goes at the window's end
    return d;
}

void window_release(WindowState& s, std::int64_t index, std::int64_t cost) {
    if (index == s.cur_index) {
        s.cur_count = std::max<std::int64_t>(0, s.cur_count - cost);
    } else if (index == s.cur_index - 1) {
        s.prev_count = std::max<std::int64_t>(0, s.prev_count - cost);
    }
}

std::int64_t window_next_slot_us(const WindowState& s, std::int64_t now_us,
                                 std::int64_t window_us, std::int64_t limit) {
    std::int64_t start = s.cur_index * window_us;
    std::int64_t end = start + window_us;
    if (limit <= 0) return end;
    // A request of cost 1 fits when the estimate is at most room = limit - 1.
    Wide room = Wide(limit - 1) * window_us;
    if (scaled_estimate(s, now_us, window_us) <= room) return end;
    if (s.cur_count <= limit - 1 && s.prev_count > 0) {
        // Within this window: prev * (W - x) + cur * W <= room * W.
        Wide excess = Wide(s.prev_count) * window_us - (room - Wide(s.cur_count) * window_us);
        return start + static_cast<std::int64_t>(ceil_div(excess, s.prev_count));
    }
    // In the next window this window's count decays: cur * (W - x) <= room * W.
    Wide excess = Wide(s.cur_count) * window_us - room;
    return end + static_cast<std::int64_t>(ceil_div(excess, s.cur_count));
}

}  // namespace pk
