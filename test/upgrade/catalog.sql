-- A deterministic description of every object of the pk_keys extension:
-- functions (arguments, defaults, result, volatility, strictness, security,
-- parallel label, search_path, ACL, body), member relations (kind, options,
-- ACL), their columns, constraints, indexes and triggers, and the initial
-- privileges. run.sh diffs it between an upgraded and a fresh database.
\pset tuples_only on
\pset format unaligned
WITH members AS (
    SELECT d.classid, d.objid
    FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_extension e ON d.refclassid = 'pg_catalog.pg_extension'::regclass
                                  AND d.refobjid = e.oid AND e.extname = 'pk_keys'
    WHERE d.deptype = 'e'
), rels AS (
    SELECT c.oid, c.relname FROM pg_catalog.pg_class c JOIN members m
        ON m.classid = 'pg_catalog.pg_class'::regclass AND m.objid = c.oid
)
SELECT line FROM (
    SELECT 'member ' || pg_catalog.pg_describe_object(m.classid, m.objid, 0) AS line FROM members m
    UNION ALL
    SELECT pg_catalog.format('function %s(%s) returns %s vol=%s strict=%s secdef=%s parallel=%s config=%s acl=%s body=%s bin=%s',
        p.proname, pg_catalog.pg_get_function_arguments(p.oid), pg_catalog.pg_get_function_result(p.oid),
        p.provolatile, p.proisstrict, p.prosecdef, p.proparallel, p.proconfig, p.proacl,
        pg_catalog.md5(p.prosrc), p.probin)
    FROM pg_catalog.pg_proc p JOIN members m
        ON m.classid = 'pg_catalog.pg_proc'::regclass AND m.objid = p.oid
    UNION ALL
    SELECT pg_catalog.format('relation %s kind=%s options=%s acl=%s persistence=%s partkey=%s',
        c.relname, c.relkind, c.reloptions, c.relacl, c.relpersistence, pg_catalog.pg_get_partkeydef(c.oid))
    FROM pg_catalog.pg_class c JOIN rels r USING (oid)
    UNION ALL
    SELECT pg_catalog.format('column %s.%s #%s %s notnull=%s default=%s collation=%s identity=%s generated=%s',
        r.relname, a.attname, a.attnum, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
        pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), a.attcollation::regcollation, a.attidentity, a.attgenerated)
    FROM rels r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    UNION ALL
    SELECT pg_catalog.format('constraint %s.%s %s', r.relname, co.conname, pg_catalog.pg_get_constraintdef(co.oid))
    FROM rels r JOIN pg_catalog.pg_constraint co ON co.conrelid = r.oid
    UNION ALL
    SELECT 'index ' || pg_catalog.pg_get_indexdef(i.indexrelid)
    FROM rels r JOIN pg_catalog.pg_index i ON i.indrelid = r.oid
    UNION ALL
    SELECT 'trigger ' || pg_catalog.pg_get_triggerdef(t.oid)
    FROM rels r JOIN pg_catalog.pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT pg_catalog.format('initpriv %s %s', pg_catalog.pg_describe_object(ip.classoid, ip.objoid, ip.objsubid), ip.initprivs)
    FROM pg_catalog.pg_init_privs ip JOIN members m ON m.classid = ip.classoid AND m.objid = ip.objoid
    UNION ALL
    SELECT pg_catalog.format('extension version=%s schema=%s relocatable=%s config=%s',
        e.extversion, e.extnamespace::regnamespace, e.extrelocatable,
        (SELECT pg_catalog.array_agg(x::regclass::text ORDER BY x::regclass::text) FROM pg_catalog.unnest(e.extconfig) x))
    FROM pg_catalog.pg_extension e WHERE e.extname = 'pk_keys'
) lines
ORDER BY line COLLATE "C";
