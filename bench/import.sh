#!/usr/bin/env bash
# Times pk_key_import_table: N rows (default 1 M) from a staging table into
# an empty pk_keys database, on a throwaway cluster (bench/lib.sh). Prints
# the wall time of the import statement (validation pass + one INSERT …
# SELECT + audit entry), and of the staging table's creation for scale.
#
# Usage: bash bench/import.sh [rows]     (PG_BIN selects the server binaries)
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"
ROWS=${1:-1000000}
trap cluster_cleanup EXIT
cluster_init
cluster_configure "shared_buffers = 512MB" "max_wal_size = 8GB" "checkpoint_timeout = 30min" \
    "synchronous_commit = on" "maintenance_work_mem = 256MB"
cluster_start
db_psql postgres -c "CREATE EXTENSION pk_keys" >/dev/null
log "staging $ROWS rows, then pk_key_import_table"
db_psql postgres <<SQL
CREATE TEMP TABLE o AS SELECT id FROM pk_keys.pk_org_create('Import Org', 'import@bench.example');
\timing on
CREATE UNLOGGED TABLE staging AS
    SELECT (SELECT id FROM o) AS organization_id, encode(sha256(('k' || g)::bytea), 'hex') AS key_hash,
           'pk_live_'::text AS key_prefix, right(md5(g::text), 4) AS key_hint, 'imported ' || g AS name,
           ARRAY['read'] AS scopes, 1000::bigint AS remaining
    FROM generate_series(1, $ROWS) g;
SELECT pk_keys.pk_key_import_table('staging') AS imported;
\timing off
SELECT count(*) AS keys FROM pk_keys.api_keys;
SQL
