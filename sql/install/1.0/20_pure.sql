-- The pure key functions (C++): executable by PUBLIC, no table access.

CREATE FUNCTION pk_keys.pk_generate_key(environment text DEFAULT 'live')
RETURNS TABLE (full_key text, key_hash text, key_hint text, key_prefix text)
AS 'MODULE_PATHNAME', 'pk_generate_key'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1;

CREATE FUNCTION pk_keys.pk_validate_key_format(key text) RETURNS boolean
AS 'MODULE_PATHNAME', 'pk_validate_key_format'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION pk_keys.pk_hash_key(key text) RETURNS text
AS 'MODULE_PATHNAME', 'pk_hash_key'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION pk_keys.pk_verify_key(key text, key_hash text) RETURNS boolean
AS 'MODULE_PATHNAME', 'pk_verify_key'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

GRANT USAGE ON SCHEMA pk_keys TO PUBLIC;
GRANT EXECUTE ON FUNCTION pk_keys.pk_generate_key(text), pk_keys.pk_validate_key_format(text),
    pk_keys.pk_hash_key(text), pk_keys.pk_verify_key(text, text) TO PUBLIC;
