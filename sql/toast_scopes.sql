-- Keys whose scopes are large enough to be compressed or TOASTed out of line
-- (issue: pk_authenticate crashed the backend on them). Scopes are written
-- straight into the table, as any writer could; pk_authenticate must return
-- them exactly, with and without credits to spend.
\set VERBOSITY sqlstate
CREATE TEMP TABLE t_org AS
    SELECT id FROM pk_keys.pk_org_create('Toast Scopes Org', 'toast-scopes@example.com', 'enterprise');
CREATE TEMP TABLE t_keys (label text PRIMARY KEY, id uuid, full_key text, scopes text[]);
INSERT INTO t_keys
SELECT s.label || c.suffix, k.id, k.full_key, s.scopes
FROM (VALUES
        ('1k', (SELECT array_agg('s' || i) FROM generate_series(1, 1000) i)),
        ('5k', (SELECT array_agg('s' || i) FROM generate_series(1, 5000) i)),
        ('10k', (SELECT array_agg('s' || i) FROM generate_series(1, 10000) i)),
        ('400kB', ARRAY[repeat('x', 400000), 'read']),
        ('random', (SELECT array_agg(md5(i::text || 'salt')) FROM generate_series(1, 3000) i))
     ) AS s(label, scopes)
CROSS JOIN (VALUES ('', NULL::bigint), ('+credits', 1000::bigint)) AS c(suffix, remaining)
CROSS JOIN LATERAL pk_keys.pk_key_create((SELECT id FROM t_org), name => s.label || c.suffix,
                                          remaining => c.remaining) AS k;
UPDATE pk_keys.api_keys a SET scopes = t.scopes FROM t_keys t WHERE a.id = t.id;
-- The stored values really are compressed or out of line.
SELECT t.label, pg_column_size(a.scopes) < octet_length(array_to_string(a.scopes, ',')) AS compressed
FROM t_keys t JOIN pk_keys.api_keys a USING (id) ORDER BY t.label;

-- Exactly the stored scopes, VALID, three times each (the second and third
-- calls find the key's counters already in place).
SELECT t.label, r.code, r.scopes = t.scopes AS exact_scopes,
       cardinality(r.scopes) AS n, r.remaining
FROM t_keys t, generate_series(1, 3) g, LATERAL pk_keys.pk_authenticate(t.full_key, '{}', g - g + 1) r
ORDER BY t.label, g;

-- Required scopes checked against the large arrays.
SELECT t.label, r.code
FROM t_keys t, LATERAL pk_keys.pk_authenticate(t.full_key, ARRAY['s999', 'read'], 0) r
ORDER BY t.label;
SELECT t.label, r.code
FROM t_keys t, LATERAL pk_keys.pk_authenticate(t.full_key, ARRAY['s999'], 0) r
ORDER BY t.label;

-- The same through a prepared statement and in one transaction that also
-- writes (the SPI write path with credits).
PREPARE auth(text, text[]) AS
    SELECT code, cardinality(scopes) AS n, scopes = $2 AS exact FROM pk_keys.pk_authenticate($1);
BEGIN;
SELECT t.label, (SELECT a.scopes = t.scopes FROM pk_keys.pk_authenticate(t.full_key) a) AS exact
FROM t_keys t ORDER BY t.label;
COMMIT;
SELECT full_key AS k10, scopes AS s10 FROM t_keys WHERE label = '10k+credits' \gset
EXECUTE auth(:'k10', :'s10');
DEALLOCATE auth;

-- The credits were spent exactly (3 + 1 + 1 VALID calls of cost 1 per key).
SELECT t.label, a.remaining FROM t_keys t JOIN pk_keys.api_keys a USING (id)
WHERE t.label LIKE '%+credits' ORDER BY t.label;
DELETE FROM pk_keys.api_keys WHERE organization_id = (SELECT id FROM t_org);
DELETE FROM pk_keys.organizations WHERE id = (SELECT id FROM t_org);
