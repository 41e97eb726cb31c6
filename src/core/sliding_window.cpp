#include "sliding_window.h"

#include <algorithm>
#include <cmath>

namespace pk {

namespace {
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
}  // namespace

void window_advance(WindowState& s, std::int64_t now_us, std::int64_t window_us) {
    std::int64_t index = floor_div(now_us, window_us);
    if (index <= s.cur_index) return;  // same window (or a clock step back)
    s.prev_count = (index == s.cur_index + 1) ? s.cur_count : 0;
    s.cur_count = 0;
    s.cur_index = index;
}

double window_estimate(const WindowState& s, std::int64_t now_us, std::int64_t window_us) {
    double elapsed = static_cast<double>(now_us - s.cur_index * window_us) / window_us;
    elapsed = std::clamp(elapsed, 0.0, 1.0);
    return static_cast<double>(s.prev_count) * (1.0 - elapsed) + static_cast<double>(s.cur_count);
}

WindowDecision window_acquire(WindowState& s, std::int64_t now_us, std::int64_t window_us,
                              std::int64_t limit, std::int64_t cost) {
    window_advance(s, now_us, window_us);
    double used = window_estimate(s, now_us, window_us);
    WindowDecision d;
    double needed = static_cast<double>(cost > 0 ? cost : 1);
    d.allowed = used + needed <= static_cast<double>(limit);
    if (d.allowed && cost > 0) {
        s.cur_count += cost;
        used += static_cast<double>(cost);
    }
    double left = std::floor(static_cast<double>(limit) - used + 1e-9);
    d.remaining = left > 0 ? static_cast<std::int64_t>(left) : 0;
    d.reset_us = window_next_slot_us(s, now_us, window_us, limit);
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
    double room = static_cast<double>(limit) - 1.0;  // estimate must fall to this
    if (limit <= 0) return end;
    if (window_estimate(s, now_us, window_us) <= room) return end;
    double w = static_cast<double>(window_us);
    if (static_cast<double>(s.cur_count) <= room && s.prev_count > 0) {
        // Within this window: prev * (1 - f) + cur <= room.
        double f = 1.0 - (room - static_cast<double>(s.cur_count)) / static_cast<double>(s.prev_count);
        return start + static_cast<std::int64_t>(std::ceil(f * w));
    }
    // In the next window this window's count decays: cur * (1 - f) <= room.
    double f = 1.0 - room / static_cast<double>(s.cur_count);
    return end + static_cast<std::int64_t>(std::ceil(f * w));
}

}  // namespace pk
