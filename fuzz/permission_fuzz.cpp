// libFuzzer target: the permission-query parser and evaluator. The input is
// "scope\nscope\n...\0query". Checks, besides ASan/UBSan: only pk::Error
// 22023 escapes; validate() and satisfies() agree on what is malformed;
// queries over the size bound are refused; the result is monotonic in the
// scopes (no NOT: more scopes never turn true into false); "(q)", "q OR q"
// and "q AND q" mean what q means.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/permission.h"

namespace {
// 1 true, 0 false, -1 malformed (22023); aborts on any other exception.
int eval(const std::vector<std::string>& scopes, std::string_view query) {
    try {
        return pk::permission::satisfies(scopes, query) ? 1 : 0;
    } catch (const pk::Error& e) {
        if (std::strcmp(e.code(), "22023") != 0) std::abort();
        return -1;
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::size_t nul = in.find('\0');
    std::string_view scope_text = nul == std::string_view::npos ? std::string_view() : in.substr(0, nul);
    std::string_view query = nul == std::string_view::npos ? in : in.substr(nul + 1);
    std::vector<std::string> scopes;
    for (std::size_t at = 0; at < scope_text.size();) {
        std::size_t nl = scope_text.find('\n', at);
        if (nl == std::string_view::npos) nl = scope_text.size();
        if (nl > at) scopes.emplace_back(scope_text.substr(at, nl - at));
        at = nl + 1;
    }
    int r = eval(scopes, query);
    bool valid = true;
    try {
        pk::permission::validate(query);
    } catch (const pk::Error& e) {
        if (std::strcmp(e.code(), "22023") != 0) std::abort();
        valid = false;
    }
    if (valid != (r >= 0)) std::abort();
    if (query.size() > pk::permission::kMaxQueryBytes && r >= 0) std::abort();
    if (r < 0) return 0;
    // Monotonic: with every scope the query names added, still true if it was.
    std::vector<std::string> more = scopes;
    more.emplace_back("extra.scope");
    if (!scopes.empty()) more.push_back(scopes[0] + "x");
    if (r == 1 && eval(more, query) != 1) std::abort();
    std::string q(query);
    if (q.size() * 2 + 8 <= pk::permission::kMaxQueryBytes) {
        int p = eval(scopes, "(" + q + ")");
        if (p >= 0 && p != r) std::abort();
        int o = eval(scopes, "(" + q + ") OR (" + q + ")");
        if (o >= 0 && o != r) std::abort();
        int a = eval(scopes, "(" + q + ") AND (" + q + ")");
        if (a >= 0 && a != r) std::abort();
    }
    return 0;
}
