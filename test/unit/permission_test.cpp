// Permission queries: AND/OR/parentheses, precedence, `x.*` wildcards,
// malformed queries (22023) and the length/depth bounds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/permission.h"

namespace {

using pk::permission::satisfies;
const std::vector<std::string> kScopes = {"read", "write", "billing.*", "admin.users.read"};

// The SQLSTATE thrown for `query`, or "" when none.
std::string error_of(const std::string& query) {
    try {
        satisfies(kScopes, query);
    } catch (const pk::Error& e) {
        return e.code();
    }
    return "";
}

}  // namespace

TEST(Permission, SingleScope) {
    EXPECT_TRUE(satisfies(kScopes, "read"));
    EXPECT_FALSE(satisfies(kScopes, "delete"));
    EXPECT_FALSE(satisfies(kScopes, "READ"));  // scope names are case-sensitive
}

TEST(Permission, AndOr) {
    EXPECT_TRUE(satisfies(kScopes, "read AND write"));
    EXPECT_FALSE(satisfies(kScopes, "read AND delete"));
    EXPECT_TRUE(satisfies(kScopes, "delete OR write"));
    EXPECT_FALSE(satisfies(kScopes, "delete OR drop"));
    EXPECT_TRUE(satisfies(kScopes, "read and write"));  // keywords in any case
    EXPECT_TRUE(satisfies(kScopes, "delete or read"));
}

TEST(Permission, AndBindsTighterThanOr) {
    // read OR (delete AND drop) is true; (read OR delete) AND drop is false.
    EXPECT_TRUE(satisfies(kScopes, "read OR delete AND drop"));
    EXPECT_FALSE(satisfies(kScopes, "(read OR delete) AND drop"));
    EXPECT_TRUE(satisfies(kScopes, "delete AND drop OR write"));
}

TEST(Permission, Parentheses) {
    EXPECT_TRUE(satisfies(kScopes, "(read)"));
    EXPECT_TRUE(satisfies(kScopes, "((read AND write) OR delete) AND (write)"));
    EXPECT_FALSE(satisfies(kScopes, "read AND (delete OR drop)"));
    EXPECT_TRUE(satisfies(kScopes, "read AND(delete OR write)"));  // no space needed
}

TEST(Permission, Wildcard) {
    EXPECT_TRUE(satisfies(kScopes, "billing.invoices"));
    EXPECT_TRUE(satisfies(kScopes, "billing.invoices.read"));
    EXPECT_TRUE(satisfies(kScopes, "billing.*"));
    EXPECT_FALSE(satisfies(kScopes, "billing"));       // not "starts with billing."
    EXPECT_FALSE(satisfies(kScopes, "billingx.read"));
    EXPECT_FALSE(satisfies(kScopes, "admin.users.write"));  // no wildcard held there
    EXPECT_TRUE(satisfies(kScopes, "admin.users.read"));
    EXPECT_FALSE(satisfies(std::vector<std::string>{"read"}, "read.*"));
    // A wildcard in the query is only a name: it is not expanded.
    EXPECT_FALSE(satisfies(std::vector<std::string>{"a.b"}, "a.*"));
    EXPECT_TRUE(satisfies(std::vector<std::string>{"a.*"}, "a.b.c"));
}

TEST(Permission, Malformed) {
    for (const char* q : {"", "   ", "AND", "read AND", "OR read", "read write", "(read",
                          "read)", "()", "read AND OR write", "(read) (write)", "read ( write )"}) {
        EXPECT_EQ(error_of(q), "22023") << q;
    }
    EXPECT_EQ(error_of(std::string("read\0x", 6)), "22023");
}

TEST(Permission, Bounds) {
    std::string deep;
    for (int i = 0; i < 32; ++i) deep += "(";
    deep += "read";
    for (int i = 0; i < 32; ++i) deep += ")";
    EXPECT_TRUE(satisfies(kScopes, deep));
    EXPECT_EQ(error_of("(" + deep + ")"), "22023");
    EXPECT_EQ(error_of(std::string(129, 'a')), "22023");
    EXPECT_EQ(error_of(std::string(128, 'a')), "");
    std::string lng = "read";
    while (lng.size() < 4096 - 8) lng += " OR read";
    EXPECT_EQ(error_of(lng), "");
    EXPECT_EQ(error_of(lng + " OR read"), "22023");
}

TEST(Permission, ValidateWithoutScopes) {
    EXPECT_NO_THROW(pk::permission::validate("a AND (b OR c)"));
    EXPECT_THROW(pk::permission::validate("a AND"), pk::Error);
}

TEST(Permission, ScopeSetContainsAll) {
    std::vector<std::string_view> held = {"b", "a", "c.*"};
    pk::permission::ScopeSet set(held);
    EXPECT_TRUE(set.contains_all({"a", "b"}));
    EXPECT_TRUE(set.contains_all({}));
    EXPECT_FALSE(set.contains_all({"a", "c.x"}));  // required scopes are exact
    EXPECT_TRUE(set.grants("c.x"));
}
