// Permission queries over a key's scopes: scope names combined with AND, OR
// and parentheses (AND binds tighter than OR; the keywords in any case). A
// scope `x.*` held by the key grants every scope that starts with `x.`.
// Pure C++17; the one entry point a fuzzer needs is satisfies(), which throws
// pk::Error (22023) on a malformed query. Bounded: a query of at most
// kMaxQueryBytes bytes, parentheses nested at most kMaxDepth deep, scope
// names of 1..kMaxScopeBytes bytes; work is linear in the query's length
// (times a logarithmic set lookup), never quadratic.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "no_postgres.h"

namespace pk::permission {

inline constexpr std::size_t kMaxQueryBytes = 4096;
inline constexpr int kMaxDepth = 32;
inline constexpr std::size_t kMaxScopeBytes = 128;

// A key's scopes, sorted for O(log n) lookups. Views must outlive the set.
class ScopeSet {
public:
    explicit ScopeSet(std::vector<std::string_view> scopes);
    // True when the key holds `scope` itself or a wildcard `p.*` with `scope`
    // starting with `p.`.
    bool grants(std::string_view scope) const;
    // True when every element of `required` is held exactly (no wildcards:
    // required_scopes keeps its 1.0 meaning of a subset).
    bool contains_all(const std::vector<std::string_view>& required) const;

private:
    bool has(std::string_view s) const;
    std::vector<std::string_view> sorted_;
    bool any_wildcard_ = false;
};

// Throws pk::Error 22023 when `query` is not a well-formed query.
void validate(std::string_view query);

// Evaluates `query` against `scopes`; throws pk::Error 22023 when malformed.
bool satisfies(const ScopeSet& scopes, std::string_view query);

// Convenience for tests and fuzzers.
bool satisfies(const std::vector<std::string>& scopes, std::string_view query);

}  // namespace pk::permission
