// The pure key functions: generate, validate, hash, verify. No table access.
#include <openssl/crypto.h>

#include <cstring>
#include <string>

#include "core/compare.h"
#include "core/key_format.h"
#include "core/sha256.h"
#include "pg_util.h"

extern "C" {
#include "mb/pg_wchar.h"
}

namespace {

// Hashes the key's UTF-8 bytes into out[0..63], converting from the database
// encoding first when it is not UTF-8 (the contract hashes convert_to(k,'UTF8')).
void hash_key_utf8(std::string_view key, char* out) {
    if (GetDatabaseEncoding() == PG_UTF8) {
        pk::sha256_hex(key, out);
        return;
    }
    const char* utf8 = pk::pg::guard([&] {
        return pg_server_to_any(key.data(), static_cast<int>(key.size()), PG_UTF8);
    });
    // Without a conversion (an SQL_ASCII database, an empty string) the input
    // comes back unchanged and is not NUL-terminated: keep its own length.
    std::size_t len = utf8 == key.data() ? key.size() : std::strlen(utf8);
    pk::sha256_hex(std::string_view(utf8, len), out);
}

}  // namespace

// pk_generate_key(environment text DEFAULT 'live'): one new key row.
PK_FUNCTION(pk_generate_key) {
    if (!pk::pg::one_row_pending(fcinfo)) return (Datum)0;
    pk::pg::require_arg(fcinfo, 0, "environment");
    auto env = pk::parse_environment(pk::pg::text_arg(fcinfo, 0));
    if (!env) {
        throw pk::Error(pk::sqlstate::kInvalidParameter,
                        "invalid environment: must be 'live' or 'test'");
    }
    pk::GeneratedKey k = pk::generate_key(*env);
    Datum row = pk::pg::guard([&] {
        Datum values[4] = {pk::pg::text_datum(k.full_key), pk::pg::text_datum(k.key_hash),
                           pk::pg::text_datum(k.key_hint), pk::pg::text_datum(k.key_prefix)};
        bool nulls[4] = {false, false, false, false};
        return pk::pg::one_row_result(fcinfo, CurrentMemoryContext, values, nulls);
    });
    OPENSSL_cleanse(k.full_key.data(), k.full_key.size());
    return row;
}

// pk_validate_key_format(key text): prefix, length and character set.
PK_FUNCTION(pk_validate_key_format) {
    PG_RETURN_BOOL(pk::is_valid_key(pk::pg::text_arg(fcinfo, 0)));
}

// pk_hash_key(key text): lower-case hex SHA-256 of the key's UTF-8 bytes.
PK_FUNCTION(pk_hash_key) {
    std::string_view key = pk::pg::text_arg(fcinfo, 0);
    char hex[64];
    hash_key_utf8(key, hex);
    return pk::pg::guard([&] { return pk::pg::text_datum(std::string_view(hex, 64)); });
}

// pk_verify_key(key text, key_hash text): constant-time check; false for any
// malformed key or hash.
PK_FUNCTION(pk_verify_key) {
    std::string_view key = pk::pg::text_arg(fcinfo, 0);
    std::string_view hash = pk::pg::text_arg(fcinfo, 1);
    if (!pk::is_valid_key(key)) PG_RETURN_BOOL(false);
    char hex[64];
    hash_key_utf8(key, hex);
    PG_RETURN_BOOL(pk::digest_hex_equal(hex, hash));
}
