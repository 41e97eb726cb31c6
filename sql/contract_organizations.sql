-- The organization repository through the contract surface only (also run
-- against the plain PL/pgSQL reference in bench/): every function, its
-- errors, slugs, emails, plans and the jsonb patch of pk_org_update.
-- Names, emails and slugs are unique to this file (the tests share a database).
\set VERBOSITY sqlstate

--
-- pk_org_create: defaults, the plan's rate limit, the email normalised.
--
SELECT name, slug, email, plan, is_active, rate_limit_per_minute, metadata,
       created_at IS NOT NULL AS has_created_at, updated_at >= created_at AS updated_at_set
FROM pk_keys.pk_org_create('Org Contract Alpha', '  Org.Alpha@Example.COM ');
SELECT slug, plan, rate_limit_per_minute
FROM pk_keys.pk_org_create('Org Contract Starter', 'org-starter@example.com', 'starter');
SELECT slug, plan, rate_limit_per_minute
FROM pk_keys.pk_org_create('Org Contract Pro', 'org-pro@example.com', 'pro');
SELECT slug, plan, rate_limit_per_minute
FROM pk_keys.pk_org_create('Org Contract Enterprise', 'org-enterprise@example.com', 'enterprise');
-- Named arguments; an explicit slug is kept as given.
SELECT slug, plan FROM pk_keys.pk_org_create(name => 'Anything', email => 'org-named@example.com',
                                             slug => 'org-contract-explicit', plan => 'pro');

--
-- Derived slugs: lower case, runs of other characters become one '-',
-- trimmed, at most 63 characters, 'org' when nothing is left.
--
SELECT slug FROM pk_keys.pk_org_create('  Org   Contract -- Derived!! ', 'org-d1@example.com');
SELECT slug FROM pk_keys.pk_org_create('ORG_contract.Dots&Amps', 'org-d2@example.com');
SELECT slug FROM pk_keys.pk_org_create('Org Contract Ünïcödé 2024', 'org-d3@example.com');
SELECT slug ~ '^org(-[0-9]+)?$' AS is_org FROM pk_keys.pk_org_create('!!! ???', 'org-d4@example.com');
SELECT slug ~ '^org(-[0-9]+)?$' AS is_org FROM pk_keys.pk_org_create('', 'org-d5@example.com');
SELECT slug, length(slug) AS len
FROM pk_keys.pk_org_create(repeat('Org Contract Long ', 6), 'org-long1@example.com');
-- The cut never leaves a trailing '-' (character 63 falls on a separator).
SELECT slug, length(slug) AS len
FROM pk_keys.pk_org_create(repeat('a', 62) || ' bcd', 'org-long2@example.com');

--
-- Clashes get -2, -3, ... (also against explicit slugs and cut names).
--
SELECT slug FROM pk_keys.pk_org_create('Org Contract Clash', 'org-c1@example.com');
SELECT slug FROM pk_keys.pk_org_create('org contract clash', 'org-c2@example.com');
SELECT slug FROM pk_keys.pk_org_create('ORG CONTRACT CLASH!', 'org-c3@example.com');
SELECT slug FROM pk_keys.pk_org_create('Org Contract Explicit', 'org-c4@example.com');
SELECT slug, length(slug) AS len
FROM pk_keys.pk_org_create(repeat('Org Contract Long ', 6), 'org-long3@example.com');
SELECT slug, length(slug) AS len
FROM pk_keys.pk_org_create(repeat('Org Contract Long ', 6), 'org-long4@example.com');

--
-- pk_org_create errors.
--
-- Missing required arguments: 22004.
SELECT * FROM pk_keys.pk_org_create(NULL, 'org-e1@example.com');
SELECT * FROM pk_keys.pk_org_create('Org Contract E', NULL);
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org-e1@example.com', NULL);
-- Plans are exactly the four, lower case, untrimmed: 22023.
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org-e1@example.com', 'gold');
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org-e1@example.com', 'Free');
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org-e1@example.com', ' free');
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org-e1@example.com', '');
-- Emails: local@domain without white space: 22023.
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org-e1.example.com');
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org e1@example.com');
SELECT * FROM pk_keys.pk_org_create('Org Contract E', '@example.com');
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org-e1@');
SELECT * FROM pk_keys.pk_org_create('Org Contract E', '   ');
SELECT * FROM pk_keys.pk_org_create('Org Contract E', '');
-- Duplicate email, whatever its case and white space: 23505.
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org.alpha@example.com');
SELECT * FROM pk_keys.pk_org_create('Org Contract E', ' ORG.ALPHA@EXAMPLE.COM');
-- Explicit slugs must match the pattern (22023) and be free (23505).
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org-e1@example.com', 'free', 'Org-Upper');
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org-e1@example.com', 'free', 'org_underscore');
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org-e1@example.com', 'free', '-org-lead');
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org-e1@example.com', 'free', 'org-trail-');
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org-e1@example.com', 'free', 'org--double');
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org-e1@example.com', 'free', '');
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org-e1@example.com', 'free', repeat('a', 64));
SELECT * FROM pk_keys.pk_org_create('Org Contract E', 'org-e1@example.com', 'free', 'org-contract-explicit');
-- Nothing of the failed calls was written.
SELECT count(*) AS failed_creates_written FROM pk_keys.organizations
WHERE email = 'org-e1@example.com' OR name = 'Org Contract E';
-- 63 characters is the longest explicit slug.
SELECT length(slug) AS len
FROM pk_keys.pk_org_create('Org Contract 63', 'org-63@example.com', 'free', repeat('b', 63));

--
-- Lookups: a row, or no row (never a row of NULLs).
--
CREATE TEMP TABLE alpha AS SELECT * FROM pk_keys.pk_org_get_by_slug('org-contract-alpha');
SELECT count(*) AS found FROM alpha;
SELECT slug FROM pk_keys.pk_org_get_by_id((SELECT id FROM alpha));
SELECT slug FROM pk_keys.pk_org_get_by_email('org.alpha@example.com');
SELECT slug FROM pk_keys.pk_org_get_by_email('ORG.Alpha@EXAMPLE.com');
SELECT count(*) AS rows FROM pk_keys.pk_org_get_by_id('00000000-0000-0000-0000-000000000000');
SELECT count(*) AS rows FROM pk_keys.pk_org_get_by_slug('org-contract-nowhere');
SELECT count(*) AS rows FROM pk_keys.pk_org_get_by_slug('ORG-CONTRACT-ALPHA');
SELECT count(*) AS rows FROM pk_keys.pk_org_get_by_email('nobody-org@example.com');
SELECT * FROM pk_keys.pk_org_get_by_id(NULL);
SELECT * FROM pk_keys.pk_org_get_by_slug(NULL);
SELECT * FROM pk_keys.pk_org_get_by_email(NULL);

--
-- pk_org_update.
--
-- {} changes nothing, updated_at included, and returns the row.
SELECT o.slug, o.updated_at = a.updated_at AS updated_at_kept, o.name = a.name AS same_name
FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{}') o, alpha a;
-- A real change moves updated_at (this statement runs after the create's).
SELECT name, updated_at > (SELECT updated_at FROM alpha) AS updated_at_moved,
       created_at = (SELECT created_at FROM alpha) AS created_at_kept
FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"name": "Org Contract Alpha Renamed"}');
-- A plan change resets the rate limit to the new plan's default...
SELECT plan, rate_limit_per_minute FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"plan": "pro"}');
SELECT plan, rate_limit_per_minute FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"plan": "enterprise"}');
-- ... unless the same patch sets it.
SELECT plan, rate_limit_per_minute
FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"plan": "starter", "rate_limit_per_minute": 42}');
SELECT plan, rate_limit_per_minute
FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"rate_limit_per_minute": 0}');
-- Every field at once; metadata is replaced, not merged; email normalised.
SELECT (pk_keys.pk_org_update((SELECT id FROM alpha), '{"metadata": {"a": 1, "b": 2}}')).id IS NOT NULL AS updated;
SELECT name, slug, email, plan, is_active, rate_limit_per_minute, metadata
FROM pk_keys.pk_org_update((SELECT id FROM alpha),
    '{"name": "Org Contract Omega", "email": " Org.Omega@Example.com ", "plan": "free",
      "slug": "org-contract-omega", "is_active": false, "rate_limit_per_minute": 7,
      "metadata": {"c": [1, 2]}}');
-- Its own email and slug are not a clash.
SELECT slug, email FROM pk_keys.pk_org_update((SELECT id FROM alpha),
    '{"email": "org.omega@example.com", "slug": "org-contract-omega"}');
-- The old slug and email are free again.
SELECT count(*) AS old_slug_rows FROM pk_keys.pk_org_get_by_slug('org-contract-alpha');
SELECT slug FROM pk_keys.pk_org_get_by_email('ORG.OMEGA@example.com');
-- The table holds what the last call returned.
SELECT name, slug, email, plan, is_active, rate_limit_per_minute, metadata
FROM pk_keys.organizations WHERE id = (SELECT id FROM alpha);

--
-- pk_org_update errors; none of them writes anything.
--
CREATE TEMP TABLE before_errors AS SELECT * FROM pk_keys.organizations WHERE id = (SELECT id FROM alpha);
-- NULL arguments: 22004.
SELECT * FROM pk_keys.pk_org_update(NULL, '{}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), NULL);
-- Unknown id: P0002 (also with an empty patch).
SELECT * FROM pk_keys.pk_org_update('00000000-0000-0000-0000-000000000000', '{"name": "x"}');
SELECT * FROM pk_keys.pk_org_update('00000000-0000-0000-0000-000000000000', '{}');
-- Unknown fields (including real columns that are not patchable): 22023.
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"colour": "red"}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"id": "00000000-0000-0000-0000-000000000000"}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"created_at": "2020-01-01"}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"updated_at": "2020-01-01"}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"Name": "x"}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"name": "ok", "bogus": 1}');
-- JSON null for a NOT NULL field: 22004.
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"name": null}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"email": null}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"plan": null}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"slug": null}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"is_active": null}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"rate_limit_per_minute": null}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"metadata": null}');
-- Wrong JSON types: 22023.
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"name": 5}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"email": ["a@b"]}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"plan": true}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"is_active": "true"}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"is_active": 1}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"rate_limit_per_minute": "60"}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"rate_limit_per_minute": 1.5}');
-- A patch must be a JSON object: 22023.
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '[]');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '"name"');
-- Bad values: 22023; taken email or slug: 23505.
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"rate_limit_per_minute": -1}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"plan": "platinum"}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"plan": "PRO"}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"email": "not an email"}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"slug": "Not_A_Slug"}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"email": "ORG-PRO@example.com"}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"slug": "org-contract-pro"}');
-- An error anywhere in the patch leaves every field as it was.
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"name": "half", "plan": "gold"}');
SELECT * FROM pk_keys.pk_org_update((SELECT id FROM alpha), '{"name": "half", "slug": "org-contract-pro"}');
SELECT (SELECT o FROM pk_keys.organizations o WHERE o.id = (SELECT id FROM alpha))
       = (SELECT b FROM before_errors b) AS unchanged;

--
-- pk_org_get_all: stable order (created_at, then id), paging.
--
SELECT count(*) >= 19 AS has_rows FROM pk_keys.pk_org_get_all(1000);
-- The default limit is 100: with more than 100 organizations it returns 100.
SELECT count(*) AS created FROM generate_series(1, 101) i,
    LATERAL pk_keys.pk_org_create('Many ' || i, 'many' || i || '@example.com') o;
SELECT count(*) AS default_limit_100 FROM pk_keys.pk_org_get_all();
SELECT count(*) AS page_of_3 FROM pk_keys.pk_org_get_all(3, 2);
SELECT count(*) AS zero_limit FROM pk_keys.pk_org_get_all(0);
SELECT count(*) AS past_the_end FROM pk_keys.pk_org_get_all(10, 1000000);
-- Pages are consecutive slices of one ordered list, and the order is
-- (created_at, id).
WITH allrows AS (SELECT row_number() OVER () AS n, id, created_at FROM pk_keys.pk_org_get_all(1000)),
     page AS (SELECT row_number() OVER () AS n, id FROM pk_keys.pk_org_get_all(5, 3))
SELECT bool_and(a.id = p.id) AS page_matches, count(*) AS compared
FROM page p JOIN allrows a ON a.n = p.n + 3;
WITH allrows AS (SELECT row_number() OVER () AS n, id, created_at FROM pk_keys.pk_org_get_all(1000))
SELECT bool_and((a.created_at, a.id) < (b.created_at, b.id)) AS ordered
FROM allrows a JOIN allrows b ON b.n = a.n + 1;
-- Every organization of this file is listed once.
SELECT count(*) AS contract_orgs_listed
FROM pk_keys.pk_org_get_all(100000) o WHERE o.email LIKE 'org-%@example.com' OR o.email = 'org.omega@example.com';
SELECT count(*) AS contract_orgs_in_table
FROM pk_keys.organizations o WHERE o.email LIKE 'org-%@example.com' OR o.email = 'org.omega@example.com';
SELECT * FROM pk_keys.pk_org_get_all(NULL);
SELECT * FROM pk_keys.pk_org_get_all(10, NULL);
SELECT * FROM pk_keys.pk_org_get_all(-1);
SELECT * FROM pk_keys.pk_org_get_all(10, -1);
