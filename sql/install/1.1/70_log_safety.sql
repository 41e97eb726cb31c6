-- Keeping full keys out of the server log (h4; README "Keys and the server
-- log"). pk_keys.so installs an emit_log_hook when it is loaded that hides
-- the statement of any message whose statement holds a full key and redacts
-- keys inside messages. A PL/pgSQL function that raises on an argument which
-- may be a full key first calls a pk_keys C function, so the library (and
-- its hook) is loaded in the session before the error is written, even
-- without session_preload_libraries.
--
-- NOTE for the owner of pk_key_get_by_hash (h2): this is the 1.0 body plus
-- the PERFORM line; a later CREATE OR REPLACE must keep that line.

-- pk_key_get_by_hash(key_hash): the key with this SHA-256 (64 hex digits,
-- either case), or no row; anything else is 22023 (a full key passed by
-- mistake is never logged with the statement).
CREATE OR REPLACE FUNCTION pk_keys.pk_key_get_by_hash(key_hash text)
RETURNS SETOF pk_keys.api_keys
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER SET search_path = pg_catalog, pk_keys
ROWS 1 AS $$
BEGIN
    IF key_hash IS NULL THEN
        RAISE EXCEPTION 'key_hash must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF key_hash OPERATOR(pg_catalog.!~) '^[0-9a-fA-F]{64}$' THEN
        -- Loads pk_keys.so (and its log hook) before the error is written.
        PERFORM pk_keys.pk_validate_key_format(key_hash);
        RAISE EXCEPTION 'invalid key_hash: must be 64 hexadecimal digits'
            USING ERRCODE = '22023';
    END IF;
    RETURN QUERY SELECT k.* FROM pk_keys.api_keys k
                 WHERE k.key_hash OPERATOR(pg_catalog.=)
                       (pg_catalog.lower(pk_key_get_by_hash.key_hash) COLLATE "C");
END $$;
