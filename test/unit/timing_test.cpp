// Timing-leak test of the digest comparison, in the spirit of dudect
// (Reparaz, Balasch, Verbauwhede: "Dude, is my code constant time?", 2017).
//
// Two classes of input are timed many times, interleaved, in a random order
// per iteration; samples above a percentile are cropped (preemption,
// interrupts, cache misses) and Welch's t-test compares the class means.
// dudect reads |t| > 10 as a definite leak. The comparison under test must
// stay below that bound for equal hashes against hashes that differ in their
// first or last byte (and for those two against each other); a positive
// control (an early-exit loop over 4 KiB) must exceed it, which shows the
// harness can see a leak on this machine. A second control runs the same
// early-exit loop over the 64 digits themselves: the leak the constant-time
// comparison exists to prevent must be visible too.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "core/compare.h"
#include "core/sha256.h"

namespace {

constexpr double kLeakBound = 10.0;
constexpr std::size_t kIterations = 500000;       // per class, for the 64-digit comparison
constexpr std::size_t kControlIterations = 20000;  // per class, for the controls
constexpr std::size_t kWarmup = 2000;
constexpr double kCrops[] = {0.90, 0.95};  // percentiles; the leak statistic is the max |t|

// A cycle counter fenced against reordering (x86 TSC), else steady_clock.
inline std::uint64_t ticks() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_lfence();
    std::uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
#else
    return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

// Running mean and variance (Welford).
struct Moments {
    double n = 0, mean = 0, m2 = 0;
    void add(double x) {
        n += 1;
        double d = x - mean;
        mean += d / n;
        m2 += d * (x - mean);
    }
    double variance() const { return n > 1 ? m2 / (n - 1) : 0; }
};

// Welch's t statistic; identical constant samples give 0, separated ones inf.
double welch_t(const Moments& a, const Moments& b) {
    double diff = a.mean - b.mean;
    double se = std::sqrt(a.variance() / a.n + b.variance() / b.n);
    if (se == 0) return diff == 0 ? 0 : std::copysign(std::numeric_limits<double>::infinity(), diff);
    return diff / se;
}

struct TimingResult {
    double max_abs_t = 0;  // over the crops
    std::string summary;
};

// Samples per class, then |t| for each crop of the pooled distribution.
TimingResult analyse(const std::vector<std::uint64_t> (&samples)[2]) {
    std::vector<std::uint64_t> pooled(samples[0]);
    pooled.insert(pooled.end(), samples[1].begin(), samples[1].end());
    TimingResult r;
    char line[200];
    for (double crop : kCrops) {
        std::size_t idx = std::min(pooled.size() - 1, static_cast<std::size_t>(crop * pooled.size()));
        std::nth_element(pooled.begin(), pooled.begin() + idx, pooled.end());
        std::uint64_t threshold = pooled[idx];
        Moments m[2];
        for (int c = 0; c < 2; ++c) {
            for (std::uint64_t x : samples[c]) {
                if (x <= threshold) m[c].add(static_cast<double>(x));
            }
        }
        double t = welch_t(m[0], m[1]);
        r.max_abs_t = std::max(r.max_abs_t, std::fabs(t));
        std::snprintf(line, sizeof line, " [crop p%.0f: mean %.1f vs %.1f ticks, n %.0f/%.0f, t=%.2f]",
                      crop * 100, m[0].mean, m[1].mean, m[0].n, m[1].n, t);
        r.summary += line;
    }
    return r;
}

// Times op(0) and op(1) once per iteration each, in a random order.
template <typename Op>
TimingResult measure(Op&& op, std::size_t iterations) {
    std::mt19937_64 rng(0x706b5f6b657973);
    std::vector<std::uint64_t> samples[2];
    samples[0].reserve(iterations);
    samples[1].reserve(iterations);
    for (std::size_t i = 0; i < iterations + kWarmup; ++i) {
        int first = static_cast<int>(rng() & 1);
        for (int k = 0; k < 2; ++k) {
            int cls = k == 0 ? first : 1 - first;
            std::uint64_t t0 = ticks();
            op(cls);
            std::uint64_t t1 = ticks();
            if (i >= kWarmup) samples[cls].push_back(t1 - t0);
        }
    }
    return analyse(samples);
}

volatile unsigned g_sink;

// The positive control: a plain comparison that returns at the first difference.
__attribute__((noinline)) bool early_exit_equal(const unsigned char* a, const unsigned char* b,
                                                std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i] != b[i]) return false;
    }
    return true;
}

// Candidate digests, each on its own cache line so that layout cannot tell
// the classes apart.
struct alignas(64) Hex64 {
    char c[64];
};

struct Digests {
    Hex64 expected, equal, first, last;
};

// The expected digest and three candidates: equal, first digit changed, last
// digit changed (each to another digit of the same kind).
Digests make_digests() {
    std::string h = pk::sha256_hex("pk_live_timing_test_key");
    Digests d{};
    std::memcpy(d.expected.c, h.data(), 64);
    d.equal = d.first = d.last = d.expected;
    auto change = [](char c) { return c == '0' ? '1' : c == 'a' ? 'b' : c >= 'a' ? 'a' : '0'; };
    d.first.c[0] = change(d.first.c[0]);
    d.last.c[63] = change(d.last.c[63]);
    return d;
}

// Times digest_hex_equal(expected, a) against digest_hex_equal(expected, b).
TimingResult time_digest_compare(const Digests& d, const Hex64& a, const Hex64& b) {
    const Hex64* classes[2] = {&a, &b};
    return measure(
        [&](int cls) {
            g_sink = pk::digest_hex_equal(d.expected.c, std::string_view(classes[cls]->c, 64));
        },
        kIterations);
}

}  // namespace

TEST(TimingLeak, CandidatesAreWhatTheyClaim) {
    Digests d = make_digests();
    EXPECT_TRUE(pk::digest_hex_equal(d.expected.c, std::string_view(d.equal.c, 64)));
    EXPECT_FALSE(pk::digest_hex_equal(d.expected.c, std::string_view(d.first.c, 64)));
    EXPECT_FALSE(pk::digest_hex_equal(d.expected.c, std::string_view(d.last.c, 64)));
    EXPECT_NE(d.first.c[0], d.expected.c[0]);
    EXPECT_EQ(std::memcmp(d.first.c + 1, d.expected.c + 1, 63), 0);
    EXPECT_NE(d.last.c[63], d.expected.c[63]);
    EXPECT_EQ(std::memcmp(d.last.c, d.expected.c, 63), 0);
}

TEST(TimingLeak, DigestHexEqualEqualVsFirstByte) {
    Digests d = make_digests();
    TimingResult r = time_digest_compare(d, d.equal, d.first);
    std::printf("digest_hex_equal equal vs first-byte: max |t| = %.2f%s\n", r.max_abs_t, r.summary.c_str());
    EXPECT_LT(r.max_abs_t, kLeakBound)
        << "digest_hex_equal takes measurably different time for equal digests and digests "
           "differing in their first byte:" << r.summary;
}

TEST(TimingLeak, DigestHexEqualEqualVsLastByte) {
    Digests d = make_digests();
    TimingResult r = time_digest_compare(d, d.equal, d.last);
    std::printf("digest_hex_equal equal vs last-byte: max |t| = %.2f%s\n", r.max_abs_t, r.summary.c_str());
    EXPECT_LT(r.max_abs_t, kLeakBound)
        << "digest_hex_equal takes measurably different time for equal digests and digests "
           "differing in their last byte:" << r.summary;
}

// Where the candidates differ must not matter either.
TEST(TimingLeak, DigestHexEqualFirstVsLastByte) {
    Digests d = make_digests();
    TimingResult r = time_digest_compare(d, d.first, d.last);
    std::printf("digest_hex_equal first-byte vs last-byte: max |t| = %.2f%s\n", r.max_abs_t,
                r.summary.c_str());
    EXPECT_LT(r.max_abs_t, kLeakBound)
        << "digest_hex_equal takes measurably different time for digests differing in their "
           "first and in their last byte:" << r.summary;
}

// The harness must see the leak of an early-exit comparison; if it does not,
// the timer or the statistics are broken and the two tests above prove nothing.
TEST(TimingLeak, PositiveControlEarlyExitLeaks) {
    std::vector<unsigned char> a(4096), equal, differ;
    std::mt19937 rng(7);
    for (auto& b : a) b = static_cast<unsigned char>(rng());
    equal = differ = a;
    differ[0] ^= 0x01;
    const std::vector<unsigned char>* classes[2] = {&equal, &differ};
    TimingResult r = measure(
        [&](int cls) { g_sink = early_exit_equal(a.data(), classes[cls]->data(), a.size()); },
        kControlIterations);
    std::printf("control early-exit 4 KiB equal vs first-byte: max |t| = %.2f%s\n", r.max_abs_t,
                r.summary.c_str());
    EXPECT_GT(r.max_abs_t, kLeakBound)
        << "POSITIVE CONTROL FAILED: the timing harness could not detect the leak of an "
           "early-exit comparison over 4 KiB, so it cannot vouch for digest_hex_equal either "
           "(timer resolution, compiler optimisation or a broken t-test?)" << r.summary;
}

// The same early-exit loop over the 64 hex digits of a digest: the naive
// comparison a constant-time one replaces must show up as a leak as well.
TEST(TimingLeak, PositiveControlEarlyExitOnDigestLeaks) {
    Digests d = make_digests();
    const Hex64* classes[2] = {&d.equal, &d.first};
    auto bytes = [](const Hex64& h) { return reinterpret_cast<const unsigned char*>(h.c); };
    TimingResult r = measure(
        [&](int cls) { g_sink = early_exit_equal(bytes(d.expected), bytes(*classes[cls]), 64); },
        kControlIterations);
    std::printf("control early-exit 64 digits equal vs first-byte: max |t| = %.2f%s\n",
                r.max_abs_t, r.summary.c_str());
    EXPECT_GT(r.max_abs_t, kLeakBound)
        << "POSITIVE CONTROL FAILED: the timing harness could not detect the leak of an "
           "early-exit comparison of two 64-digit digests" << r.summary;
}
