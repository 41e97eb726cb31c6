-- Every function, table and view of the extension has a description (so
-- \df+, \dt+ and \dv+ explain it), and the descriptions agree with the
-- grants: internal helpers are executable by their owner only, and exactly
-- the functions described as PUBLIC are executable by PUBLIC.
-- A new function or table listed below as missing: add one line for it to
-- sql/install/1.1/90_comments.sql (functions: API (role): … or Internal: …).
CREATE TEMP VIEW members AS
SELECT d.classid, d.objid,
       pg_catalog.pg_describe_object(d.classid, d.objid, 0) AS object,
       pg_catalog.obj_description(d.objid, d.classid::regclass::text) AS description
FROM pg_catalog.pg_depend d
WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
  AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'pk_keys')
  AND d.deptype = 'e'
  AND (d.classid = 'pg_catalog.pg_proc'::regclass
       OR (d.classid = 'pg_catalog.pg_class'::regclass
           AND (SELECT relkind FROM pg_catalog.pg_class WHERE oid = d.objid) IN ('r', 'p', 'v')));
SELECT count(*) > 80 AS many_members FROM members;
-- Missing descriptions (none expected):
SELECT object FROM members WHERE description IS NULL OR description = '' ORDER BY 1;
SELECT obj_description('pk_keys'::regnamespace, 'pg_namespace') IS NOT NULL AS schema_described,
       (SELECT obj_description(oid, 'pg_extension') FROM pg_extension WHERE extname = 'pk_keys') IS NOT NULL
           AS extension_described;
-- Internal helpers with EXECUTE for anyone but their owner (none expected):
SELECT m.object, a.grantee::regrole
FROM members m
JOIN pg_catalog.pg_proc p ON p.oid = m.objid AND m.classid = 'pg_catalog.pg_proc'::regclass
CROSS JOIN LATERAL pg_catalog.aclexplode(COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
WHERE m.description LIKE 'Internal%' AND a.grantee <> p.proowner
ORDER BY 1;
-- Functions PUBLIC may execute, against those described as PUBLIC (no row expected):
SELECT m.object, m.description LIKE 'API (PUBLIC)%' AS described_public,
       EXISTS (SELECT FROM pg_catalog.aclexplode(COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
               WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS public_execute
FROM members m
JOIN pg_catalog.pg_proc p ON p.oid = m.objid AND m.classid = 'pg_catalog.pg_proc'::regclass
WHERE (m.description LIKE 'API (PUBLIC)%')
      <> EXISTS (SELECT FROM pg_catalog.aclexplode(COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                 WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
ORDER BY 1;
