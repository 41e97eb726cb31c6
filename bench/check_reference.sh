#!/usr/bin/env bash
# Checks the benchmark's reference implementation (bench/reference/install.sql)
# against the SQL contract, on a throwaway cluster it starts and stops itself:
#
#   1. bench/reference/sanity.sql: the reference's own self-checks;
#   2. a concurrency check: credits and rate limits stay exact under pgbench;
#   3. the project's contract regression tests, sql/contract_*.sql with answers
#      in expected/contract_*.out at the repository root, run by pg_regress
#      in one database where the reference is installed (they assume pk_keys
#      is already there and use only the contract surface).
#
# Usage (as root):  bash bench/check_reference.sh
# Exit status: 0 when everything that exists passed, 1 otherwise.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
# Where sql/contract_*.sql and expected/ live (the repository root by default).
CONTRACT_DIR=${CONTRACT_DIR:-$REPO_DIR}
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

failures=0

# Loads the reference into a new database.
make_ref_db() {
    "$PG_BIN/createdb" "$1"
    db_psql "$1" -f "$BENCH_DIR/reference/install.sql" >/dev/null
}

run_sanity() {
    log "reference self-checks (bench/reference/sanity.sql)"
    make_ref_db ref_sanity
    if ! db_psql ref_sanity -f "$BENCH_DIR/reference/sanity.sql"; then
        log "FAILED: reference self-checks"
        failures=$((failures + 1))
    fi
}

# N credits admit exactly N VALID calls, a limit of L admits exactly L, with
# 4 sessions racing (run inside one minute: a window turn could admit a few
# more through the sliding window, so it starts right after a turn if close).
run_concurrency() {
    log "concurrency: credits and rate limit under 4 racing sessions"
    make_ref_db ref_conc
    db_psql ref_conc -At >/dev/null <<'SQL'
CREATE TABLE bench_log (code text);
SELECT o.id AS org FROM pk_keys.pk_org_create('Race', 'race@example.com', 'enterprise') o \gset
CREATE TABLE bench_keys AS
SELECT 'credits' AS kind, k.full_key FROM pk_keys.pk_key_create(:'org', remaining => 500, rate_limit_per_minute => 100000) k
UNION ALL
SELECT 'limited', k.full_key FROM pk_keys.pk_key_create(:'org', rate_limit_per_minute => 300) k;
SQL
    local script="$BENCH_TMP/race.sql" kind want key got sec
    echo "INSERT INTO bench_log SELECT code FROM pk_keys.pk_authenticate(:k);" >"$script"
    for kind in credits:500 limited:300; do
        want=${kind#*:}
        kind=${kind%:*}
        sec=$(date +%-S)
        [ "$sec" -lt 50 ] || sleep $((61 - sec))
        key=$(db_value ref_conc "SELECT full_key FROM bench_keys WHERE kind = '$kind'")
        db_psql ref_conc -c "TRUNCATE bench_log"
        "$PG_BIN/pgbench" -n -M prepared -c 4 -j 2 -t 200 -f "$script" -D "k=$key" ref_conc \
            >"$BENCH_TMP/race.out" 2>&1 || { cat "$BENCH_TMP/race.out" >&2; failures=$((failures + 1)); continue; }
        got=$(db_value ref_conc "SELECT count(*) FROM bench_log WHERE code = 'VALID'")
        if [ "$got" = "$want" ]; then
            log "  $kind: $got VALID of 800 calls, as expected"
        else
            log "FAILED: $kind: $got VALID of 800 calls, expected $want"
            failures=$((failures + 1))
        fi
    done
}

run_contract_tests() {
    local tests=() f name
    for f in "$CONTRACT_DIR"/sql/contract_*.sql; do
        [ -e "$f" ] || continue
        name=$(basename "$f" .sql)
        if [ -f "$CONTRACT_DIR/expected/$name.out" ]; then
            tests+=("$name")
        else
            log "note: $name has no expected/$name.out, skipped"
        fi
    done
    if [ ${#tests[@]} -eq 0 ]; then
        log "no contract tests yet (sql/contract_*.sql with expected/*.out): nothing more to run"
        return 0
    fi
    log "contract tests against the reference: ${tests[*]}"
    make_ref_db ref_contract
    mkdir -p "$BENCH_TMP/regress"
    chown postgres: "$BENCH_TMP/regress"
    if "$PG_REGRESS" --use-existing --inputdir="$CONTRACT_DIR" --outputdir="$BENCH_TMP/regress" \
        --bindir="$PG_BIN" --dbname=ref_contract --host="$PGHOST" --port="$PGPORT" --user=postgres \
        "${tests[@]}"; then
        return 0
    fi
    failures=$((failures + 1))
    if [ -f "$BENCH_TMP/regress/regression.diffs" ]; then
        log "regression.diffs:"
        cat "$BENCH_TMP/regress/regression.diffs"
    fi
}

main() {
    trap cluster_cleanup EXIT
    cluster_init
    cluster_configure "shared_buffers = 128MB" "fsync = off" "synchronous_commit = off"
    cluster_start || { tail -n 20 "$SERVER_LOG" >&2; die "the server did not start"; }
    run_sanity
    run_concurrency
    run_contract_tests
    if [ "$failures" -eq 0 ]; then
        log "reference check passed"
    else
        log "reference check: $failures failure(s)"
        exit 1
    fi
}

main "$@"
