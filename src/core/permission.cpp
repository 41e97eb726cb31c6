#include "permission.h"

#include <algorithm>

#include "error.h"

namespace pk::permission {

namespace {

[[noreturn]] void malformed(const std::string& why) {
    throw Error(sqlstate::kInvalidParameter, "permission is malformed: " + why);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_delimiter(char c) { return is_space(c) || c == '(' || c == ')'; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
        if (x != y) return false;
    }
    return true;
}

enum class Tok { kScope, kAnd, kOr, kOpen, kClose, kEnd };

// Recursive-descent parser that evaluates as it parses; every leaf is looked
// at exactly once, so the cost is linear in the query (no short-circuit:
// a malformed tail is reported even when the head already decides).
class Parser {
public:
    Parser(std::string_view q, const ScopeSet* scopes) : q_(q), scopes_(scopes) { next(); }

    bool parse_all() {
        if (tok_ == Tok::kEnd) malformed("empty query");
        bool v = parse_or(0);
        if (tok_ != Tok::kEnd) malformed(tok_ == Tok::kClose ? "unbalanced ')'" : "expected AND or OR");
        return v;
    }

private:
    void next() {
        while (pos_ < q_.size() && is_space(q_[pos_])) ++pos_;
        if (pos_ >= q_.size()) {
            tok_ = Tok::kEnd;
            return;
        }
        char c = q_[pos_];
        if (c == '(' || c == ')') {
            tok_ = c == '(' ? Tok::kOpen : Tok::kClose;
            ++pos_;
            return;
        }
        std::size_t start = pos_;
        while (pos_ < q_.size() && !is_delimiter(q_[pos_])) ++pos_;
        text_ = q_.substr(start, pos_ - start);
        if (iequals(text_, "AND")) {
            tok_ = Tok::kAnd;
        } else if (iequals(text_, "OR")) {
            tok_ = Tok::kOr;
        } else {
            if (text_.size() > kMaxScopeBytes) malformed("a scope name is longer than 128 bytes");
            tok_ = Tok::kScope;
        }
    }

    bool parse_or(int depth) {
        bool v = parse_and(depth);
        while (tok_ == Tok::kOr) {
            next();
            bool rhs = parse_and(depth);
            v = v || rhs;
        }
        return v;
    }

    bool parse_and(int depth) {
        bool v = parse_primary(depth);
        while (tok_ == Tok::kAnd) {
            next();
            bool rhs = parse_primary(depth);
            v = v && rhs;
        }
        return v;
    }

    bool parse_primary(int depth) {
        switch (tok_) {
            case Tok::kScope: {
                bool v = scopes_ && scopes_->grants(text_);
                next();
                return v;
            }
            case Tok::kOpen: {
                if (depth + 1 > kMaxDepth) malformed("parentheses nested more than 32 deep");
                next();
                bool v = parse_or(depth + 1);
                if (tok_ != Tok::kClose) malformed("missing ')'");
                next();
                return v;
            }
            case Tok::kEnd: malformed("unexpected end of query");
            case Tok::kClose: malformed("unexpected ')'");
            default: malformed("an operator without an operand");
        }
    }

    std::string_view q_;
    const ScopeSet* scopes_;
    std::size_t pos_ = 0;
    Tok tok_ = Tok::kEnd;
    std::string_view text_;
};

bool run(std::string_view query, const ScopeSet* scopes) {
    if (query.size() > kMaxQueryBytes) malformed("longer than 4096 bytes");
    if (query.find('\0') != std::string_view::npos) malformed("contains a NUL byte");
    return Parser(query, scopes).parse_all();
}

}  // namespace

ScopeSet::ScopeSet(std::vector<std::string_view> scopes) : sorted_(std::move(scopes)) {
    std::sort(sorted_.begin(), sorted_.end());
    for (std::string_view s : sorted_) {
        if (s.size() >= 2 && s.substr(s.size() - 2) == ".*") any_wildcard_ = true;
    }
}

bool ScopeSet::has(std::string_view s) const {
    return std::binary_search(sorted_.begin(), sorted_.end(), s);
}

bool ScopeSet::grants(std::string_view scope) const {
    if (has(scope)) return true;
    if (!any_wildcard_) return false;
    // Every prefix of `scope` that ends in '.', as a wildcard "p.*".
    std::string probe;
    for (std::size_t i = 0; i < scope.size(); ++i) {
        if (scope[i] != '.') continue;
        probe.assign(scope.substr(0, i + 1));
        probe.push_back('*');
        if (has(probe)) return true;
    }
    return false;
}

bool ScopeSet::contains_all(const std::vector<std::string_view>& required) const {
    for (std::string_view r : required) {
        if (!has(r)) return false;
    }
    return true;
}

void validate(std::string_view query) { run(query, nullptr); }

bool satisfies(const ScopeSet& scopes, std::string_view query) { return run(query, &scopes); }

bool satisfies(const std::vector<std::string>& scopes, std::string_view query) {
    std::vector<std::string_view> views(scopes.begin(), scopes.end());
    ScopeSet set(std::move(views));
    return satisfies(set, query);
}

}  // namespace pk::permission
