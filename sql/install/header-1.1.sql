-- pk_keys 1.1 install script, assembled by make from sql/install/1.0/*.sql
-- (the released 1.0 parts, frozen) followed by sql/install/1.1/*.sql (the
-- very statements that sql/pk_keys--1.0--1.1.sql runs). A fresh 1.1 install
-- and an upgraded 1.0 database therefore run the same 1.1 statements.
\echo Use "CREATE EXTENSION pk_keys" to load this file. \quit
