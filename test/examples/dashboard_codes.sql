-- How many verification outcome codes pk_verification_stats reports for the
-- organization 'dashboard' over the last 14 UTC days (0 when the function
-- does not exist): the dashboard draws one series per code.
SELECT pg_catalog.to_regprocedure('pk_keys.pk_verification_stats(uuid,timestamptz,timestamptz,text,uuid)') IS NOT NULL AS has \gset
\if :has
SELECT pk_keys.pk_flush() \gset
SELECT count(DISTINCT code)
  FROM pk_keys.pk_verification_stats((SELECT id FROM pk_keys.organizations WHERE slug = 'dashboard'),
       (((now() AT TIME ZONE 'UTC')::date - 13)::timestamp AT TIME ZONE 'UTC'),
       (((now() AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC'), 'day');
\else
SELECT 0;
\endif
