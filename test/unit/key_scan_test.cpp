// Finding and redacting full keys inside text (the log hook's core).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/key_scan.h"

namespace {
const std::string kToken = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_0123A";  // 43, canonical last
const std::string kLive = "pk_live_" + kToken;
const std::string kTest = "pk_test_" + kToken;

std::string redacted(std::string s) {
    std::vector<char> buf(s.begin(), s.end());
    buf.push_back('\0');
    std::size_t n = pk::redact_keys(buf.data(), s.size());
    EXPECT_EQ(buf[n], '\0');
    return std::string(buf.data(), n);
}
}  // namespace

TEST(FindKey, FindsKeysAnywhere) {
    EXPECT_EQ(kLive.size(), 51u);
    EXPECT_EQ(pk::find_key(kLive), 0u);
    EXPECT_EQ(pk::find_key("SELECT pk_authenticate('" + kTest + "')"), 24u);
    EXPECT_EQ(pk::find_key("pk_pk_live_" + kToken), 3u);
    EXPECT_EQ(pk::find_key(kLive + "trailing"), 0u);
    EXPECT_EQ(pk::find_key("x" + kLive, 2), pk::kNoKey);
}

TEST(FindKey, IgnoresWhatIsNotAFullKey) {
    EXPECT_EQ(pk::find_key(""), pk::kNoKey);
    EXPECT_EQ(pk::find_key("pk_live_"), pk::kNoKey);
    EXPECT_EQ(pk::find_key(kLive.substr(0, 50)), pk::kNoKey);
    EXPECT_EQ(pk::find_key("pk_prod_" + kToken), pk::kNoKey);
    EXPECT_EQ(pk::find_key("PK_LIVE_" + kToken), pk::kNoKey);
    std::string bad_last = kLive;
    bad_last.back() = 'B';  // not a canonical last character
    EXPECT_EQ(pk::find_key(bad_last), pk::kNoKey);
    std::string bad_char = kLive;
    bad_char[20] = '.';
    EXPECT_EQ(pk::find_key(bad_char), pk::kNoKey);
    std::string nul = kLive;
    nul[30] = '\0';
    EXPECT_EQ(pk::find_key(nul), pk::kNoKey);
}

TEST(RedactKeys, KeepsPrefixDropsToken) {
    EXPECT_EQ(redacted(kLive), "pk_live_[redacted]");
    EXPECT_EQ(redacted("a " + kLive + " b " + kTest + " c"),
              "a pk_live_[redacted] b pk_test_[redacted] c");
    EXPECT_EQ(redacted(kLive + kLive), "pk_live_[redacted]pk_live_[redacted]");
    EXPECT_EQ(redacted("nothing here pk_live_short"), "nothing here pk_live_short");
    EXPECT_EQ(redacted(""), "");
    EXPECT_FALSE(pk::contains_key(redacted("'" + kLive + "'")));
}
