-- The full request check (C++, src/authenticate.cpp): pk_authenticate_request
-- and its permission test pk_scopes_satisfy. pk_authenticate keeps its 1.0
-- signature and is the same code path with three arguments.

CREATE FUNCTION pk_keys.pk_authenticate_request(
    key text,
    required_scopes text[] DEFAULT '{}',
    cost integer DEFAULT 1,
    client_ip inet DEFAULT NULL,
    limits jsonb DEFAULT '{}',
    permission text DEFAULT NULL)
RETURNS TABLE (valid boolean, code text, key_id uuid, organization_id uuid, environment text,
               scopes text[], remaining bigint, rate_limit integer,
               rate_limit_remaining integer, rate_limit_reset timestamptz,
               recorded boolean, limits jsonb)
AS 'MODULE_PATHNAME', 'pk_authenticate_request'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE ROWS 1
SECURITY DEFINER SET search_path = pg_catalog, pk_keys;

REVOKE EXECUTE ON FUNCTION pk_keys.pk_authenticate_request(text, text[], integer, inet, jsonb, text)
    FROM PUBLIC;

-- Whether `scopes` satisfy the permission query (AND, OR, parentheses; a
-- scope `x.*` grants every scope starting with `x.`); malformed → 22023.
-- Pure: executable by PUBLIC.
CREATE FUNCTION pk_keys.pk_scopes_satisfy(scopes text[], query text) RETURNS boolean
AS 'MODULE_PATHNAME', 'pk_scopes_satisfy'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- Explicit, so a fresh install and an upgrade hold the same ACL.
GRANT EXECUTE ON FUNCTION pk_keys.pk_scopes_satisfy(text[], text) TO PUBLIC;
