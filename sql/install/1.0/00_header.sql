-- pk_keys 1.0 install script (assembled from sql/install/*.sql by make).
\echo Use "CREATE EXTENSION pk_keys" to load this file. \quit
