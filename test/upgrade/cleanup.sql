-- Empties the upgraded database so the regression suite can run against it.
DROP TABLE public.upgrade_keys;
DELETE FROM pk_keys.organizations;
TRUNCATE pk_keys.api_key_usage, pk_keys.usage_rollup, pk_keys.usage_day_keys, pk_keys.usage_month_keys,
    pk_keys.usage_day_unique, pk_keys.usage_month_unique, pk_keys.rate_limit_tracking;
REVOKE ALL ON SCHEMA pk_keys FROM pk_upgrade_gateway;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pk_keys FROM pk_upgrade_gateway;
REVOKE ALL ON ALL TABLES IN SCHEMA pk_keys FROM pk_upgrade_gateway;
DROP ROLE pk_upgrade_gateway;
REVOKE ALL ON FUNCTION pk_keys.pk_key_create FROM pk_upgrade_admin CASCADE;
REVOKE ALL ON FUNCTION pk_keys.pk_key_create FROM PUBLIC;
DROP ROLE pk_upgrade_admin;
