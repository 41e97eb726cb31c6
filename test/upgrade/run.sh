#!/usr/bin/env bash
# The upgrade test, against the running cluster (PGHOST/PGPORT set):
#  1. a database at 1.0 with data (data_1.0.sql), ALTER EXTENSION pk_keys
#     UPDATE, then check_upgraded.sql: rows, keys and GRANTs as before;
#  2. emptied (cleanup.sql), its catalog (catalog.sql) equals a fresh 1.1
#     install's;
#  3. the whole regression suite runs against that upgraded database.
# Prints "upgrade: N passed, N failed" and exits non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${PK_UPGRADE_OUT:-$(mktemp -d /tmp/pk_keys_upgrade.XXXXXX)}
mkdir -p "$OUT"
passed=0; failed=0
step() {  # step NAME COMMAND...: runs it, counts it
    local name=$1; shift
    if "$@" >"$OUT/$name.log" 2>&1; then passed=$((passed + 1)); echo "ok - upgrade $name"
    else failed=$((failed + 1)); echo "not ok - upgrade $name"; tail -n 60 "$OUT/$name.log"; fi
}
psql_q() { psql -X -v ON_ERROR_STOP=1 -q "$@"; }
# Runs a script and compares its output with test/upgrade/expected/NAME.out.
compare() {
    local db=$1 name=$2
    psql -X -a -q -v ON_ERROR_STOP=1 -d "$db" -f "test/upgrade/$name.sql" >"$OUT/$name.out" 2>&1 \
        && diff -u "test/upgrade/expected/$name.out" "$OUT/$name.out"
}
setup() {
    dropdb --if-exists pk_upgrade && dropdb --if-exists pk_fresh &&
    createdb pk_upgrade && createdb pk_fresh &&
    psql_q -d pk_upgrade -c "CREATE EXTENSION pk_keys VERSION '1.0'" &&
    psql_q -d pk_fresh -c "CREATE EXTENSION pk_keys"
}
catalogs_equal() {
    psql_q -d pk_upgrade -f test/upgrade/catalog.sql >"$OUT/catalog_upgraded.txt" &&
    psql_q -d pk_fresh -f test/upgrade/catalog.sql >"$OUT/catalog_fresh.txt" &&
    [ "$(wc -l <"$OUT/catalog_fresh.txt")" -gt 100 ] &&
    diff -u "$OUT/catalog_fresh.txt" "$OUT/catalog_upgraded.txt"
}
regress_on_upgraded() {
    make -s installcheck-regress-only REGRESS_OPTS="--inputdir=. --use-existing --dbname=pk_upgrade"
}
step setup setup
step data_on_1.0 compare pk_upgrade data_1.0
step alter_extension_update psql_q -d pk_upgrade -c "ALTER EXTENSION pk_keys UPDATE"
step rows_keys_grants_kept compare pk_upgrade check_upgraded
step cleanup psql_q -d pk_upgrade -f test/upgrade/cleanup.sql
step catalog_equals_fresh_install catalogs_equal
step regression_suite_on_upgraded regress_on_upgraded
dropdb --if-exists pk_upgrade; dropdb --if-exists pk_fresh
echo "upgrade: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
