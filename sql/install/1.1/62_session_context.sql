-- The session context for row-level security (src/session_context.cpp):
-- the key, organization and scopes of the last VALID pk_authenticate /
-- pk_authenticate_request of this transaction, else NULL. Cannot be set any
-- other way. Executable by PUBLIC so application policies can use them:
--   USING (org_id = pk_keys.current_organization_id())

CREATE FUNCTION pk_keys.current_key_id() RETURNS uuid
AS 'MODULE_PATHNAME', 'pk_current_key_id'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION pk_keys.current_organization_id() RETURNS uuid
AS 'MODULE_PATHNAME', 'pk_current_organization_id'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION pk_keys.current_scopes() RETURNS text[]
AS 'MODULE_PATHNAME', 'pk_current_scopes'
LANGUAGE C STABLE PARALLEL SAFE;

-- Explicit, so a fresh install and an upgrade hold the same ACL.
GRANT EXECUTE ON FUNCTION pk_keys.current_key_id(), pk_keys.current_organization_id(),
    pk_keys.current_scopes() TO PUBLIC;
