-- Seeds 14 UTC days of usage for the organization 'dashboard': day i (0 =
-- 13 days ago) has (i % 5) + 1 requests, one of them failed every third
-- day; a few verifications of each outcome today. Prints the key to use.
CREATE TEMP TABLE seed_key AS
SELECT k.id, k.full_key
  FROM pk_keys.pk_org_create('Dashboard', 'dashboard@example.test', 'pro', 'dashboard') AS o,
       pk_keys.pk_key_create(o.id, 'dashboard', scopes => '{read}') AS k;
DO $$
DECLARE
    k uuid := (SELECT id FROM seed_key);
    day date;
BEGIN
    FOR i IN 0..13 LOOP
        day := (now() AT TIME ZONE 'UTC')::date - (13 - i);
        FOR j IN 1..(i % 5) + 1 LOOP
            PERFORM pk_keys.pk_usage_create(k, '/v1/hello', 'GET',
                CASE WHEN j = 1 AND i % 3 = 0 THEN 500 ELSE 200 END, 10 + j, NULL, NULL,
                (day::timestamp + make_interval(hours => 1, mins => j)) AT TIME ZONE 'UTC');
        END LOOP;
    END LOOP;
END $$;
SELECT count(*) FILTER (WHERE valid) AS valid_calls FROM pk_keys.pk_authenticate((SELECT full_key FROM seed_key), '{read}') \gset
SELECT code FROM pk_keys.pk_authenticate((SELECT full_key FROM seed_key), '{admin}') \gset
SELECT full_key FROM seed_key;
