// A tiny reader of fuzzer input bytes into bounded integers (shared by the
// targets of this folder).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

class FuzzInput {
public:
    FuzzInput(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    bool empty() const { return size_ == 0; }
    // The next n bytes as an unsigned integer (zeros once the input is used up).
    std::uint64_t bits(std::size_t n) {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n && size_ > 0; ++i, ++data_, --size_) v = (v << 8) | *data_;
        return v;
    }
    // An integer in [lo, hi].
    std::int64_t range(std::int64_t lo, std::int64_t hi) {
        std::uint64_t span = static_cast<std::uint64_t>(hi - lo);
        std::uint64_t v = bits(8);
        return span == UINT64_MAX ? static_cast<std::int64_t>(v) : lo + static_cast<std::int64_t>(v % (span + 1));
    }

private:
    const std::uint8_t* data_;
    std::size_t size_;
};
