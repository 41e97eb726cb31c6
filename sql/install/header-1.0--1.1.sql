-- pk_keys 1.0 -> 1.1 upgrade, assembled by make from sql/install/1.1/*.sql.
-- Keeps every row and every GRANT made on 1.0 objects.
\echo Use "ALTER EXTENSION pk_keys UPDATE TO '1.1'" to load this file. \quit
