#!/usr/bin/env bash
# Runs every test: C++ unit tests, then pg_regress and isolation tests against
# a throwaway cluster (first without, then with shared_preload_libraries), then
# the TAP tests. Ends with "N passed, N failed" and exits non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/lib/deps.sh
source scripts/lib/cluster.sh

PASSED=0
FAILED=0
FAILED_STAGES=()
LOGDIR=$(mktemp -d /tmp/pk_keys_test_logs.XXXXXX)

# count_stage NAME PASSED FAILED STATUS
count_stage() {
    PASSED=$((PASSED + $2)); FAILED=$((FAILED + $3))
    if [ "$4" -ne 0 ] || [ "$3" -ne 0 ]; then
        FAILED_STAGES+=("$1")
        [ "$3" -eq 0 ] && FAILED=$((FAILED + 1))
    fi
    echo "== $1: $2 passed, $3 failed"
}

# Runs make installcheck-style pg_regress/isolation; prints diffs on failure.
run_sql_tests() {
    local name=$1; shift
    local log=$LOGDIR/$name.log
    make -s "$@" >"$log" 2>&1
    local status=$?
    cat "$log"
    local ok bad
    ok=$(grep -cE '^(ok|test|     ).*\.\.\. ok|^ok [0-9]+ ' "$log")
    bad=$(grep -cE '\.\.\. FAILED|^not ok ' "$log")
    if [ $status -ne 0 ]; then
        for f in regression.diffs test/isolation/output_iso/regression.diffs output_iso/regression.diffs; do
            [ -f "$f" ] && { echo "---- $f"; head -c 20000 "$f"; }
        done
        echo "---- server log (tail)"; tail -n 50 "$PK_TMP/server.log"
    fi
    count_stage "$name" "$ok" "$bad" "$status"
}

run_unit_tests() {
    local log=$LOGDIR/unit.log
    make -s -C test/unit >"$log" 2>&1 && test/unit/build/pk_core_tests >>"$log" 2>&1
    local status=$?
    tail -n 40 "$log"
    local ok bad
    ok=$(grep -cE '^\[       OK \]' "$log")
    # GoogleTest prints each failing case twice (when it fails and in the
    # summary): count distinct names.
    bad=$(grep -E '^\[  FAILED  \] [A-Za-z]' "$log" | sed 's/ (.*//' | sort -u | wc -l)
    count_stage unit "$ok" "$bad" "$status"
}

# libFuzzer targets of src/core (ASan + UBSan), a few seconds each.
run_fuzz_targets() {
    local log=$LOGDIR/fuzz.log
    nice make -s -C fuzz run SECONDS="${PK_FUZZ_SECONDS:-3}" >"$log" 2>&1
    local status=$?
    cat "$log"
    local ok bad
    ok=$(grep -c '^stat::number_of_executed_units' "$log")
    bad=$(grep -cE ': FAILED$|^SUMMARY: ' "$log")
    count_stage fuzz "$ok" "$bad" "$status"
}

run_tap_tests() {
    local dir=$PK_TMP/tap
    mkdir -p "$dir" && cp -r test/t "$dir/t" && cp -r test/fuzz "$dir/fuzz" && chown -R postgres: "$dir" 2>/dev/null
    local log=$LOGDIR/tap.log
    (cd "$dir" && pk_as_owner env PATH="$PG_BIN:$PATH" \
        PERL5LIB="$(pg_config --pkglibdir)/pgxs/src/test/perl" \
        PG_REGRESS="$(pg_config --pkglibdir)/pgxs/src/test/regress/pg_regress" \
        prove -v t/*.pl) >"$log" 2>&1
    local status=$?
    tail -n 60 "$log"
    local ok bad
    ok=$(grep -cE '^ok [0-9]+' "$log")
    bad=$(grep -cE '^not ok [0-9]+' "$log")
    if [ $status -ne 0 ]; then
        find "$dir" -name '*.log' -path '*tmp_check*' -exec sh -c 'echo "---- $1"; tail -n 40 "$1"' _ {} \;
    fi
    count_stage tap "$ok" "$bad" "$status"
}

# 1.0 with data -> ALTER EXTENSION UPDATE -> rows, GRANTs, catalog, regress.
run_upgrade_test() {
    local log=$LOGDIR/upgrade.log
    PK_UPGRADE_OUT=$LOGDIR/upgrade bash test/upgrade/run.sh >"$log" 2>&1
    local status=$?
    cat "$log"
    count_stage upgrade "$(grep -c '^ok - ' "$log")" "$(grep -c '^not ok - ' "$log")" "$status"
}

# The client examples (node, python, pgbouncer, dashboard in Chromium) on
# their own cluster; the screenshot lands in $LOGDIR/examples/dashboard.png.
run_examples_test() {
    local log=$LOGDIR/examples.log
    PK_EXAMPLES_OUT=$LOGDIR/examples bash test/examples/run.sh >"$log" 2>&1
    local status=$?
    grep -v '^ \|^#\|^ok [0-9]' "$log" | tail -n 40
    [ $status -ne 0 ] && grep -B2 -A20 '^not ok [0-9]' "$log" | head -n 120
    count_stage examples "$(grep -c '^ok - ' "$log")" "$(grep -c '^not ok - ' "$log")" "$status"
}

# LICENSE, META.json (PGXN spec, offline) and make dist.
run_packaging_test() {
    local log=$LOGDIR/packaging.log
    bash test/packaging/run.sh >"$log" 2>&1
    local status=$?
    cat "$log"
    count_stage packaging "$(grep -c '^ok - ' "$log")" "$(grep -c '^not ok - ' "$log")" "$status"
}

pk_install_deps || exit 1
pk_provide_plpgsql_check || exit 1
pk_install_pg_cron || exit 1
START=$(date +%s)
make -s clean >/dev/null 2>&1
if ! make -s EXTRA_CXXFLAGS=-Werror >"$LOGDIR/build.log" 2>&1 || ! make -s install >>"$LOGDIR/build.log" 2>&1 \
    || ! make -s install-test-hooks EXTRA_CXXFLAGS=-Werror >>"$LOGDIR/build.log" 2>&1; then
    cat "$LOGDIR/build.log"; echo "build: 0 passed, 1 failed"; exit 1
fi
# The production library exports no test-only entry point.
if nm -D --defined-only pk_keys.so | grep -q 'pk_test_'; then
    echo "pk_keys.so exports test hooks:"; nm -D --defined-only pk_keys.so | grep 'pk_test_'
    count_stage exports 0 1 1
else
    count_stage exports 1 0 0
fi

run_unit_tests
run_fuzz_targets

pk_cluster_init || exit 1
pk_cluster_start || exit 1
run_sql_tests regress installcheck-regress-only
run_sql_tests isolation installcheck-isolation-only
run_upgrade_test
# With the library preloaded the counters live in shared memory and the
# flusher runs beside the tests (they call pk_flush() where they need it).
pk_cluster_restart_with "shared_preload_libraries = 'pk_keys'
pk_keys.flush_interval = 200" || exit 1
run_sql_tests regress-preloaded installcheck-regress-only
run_sql_tests isolation-preloaded installcheck-isolation-only
pk_cluster_stop

run_tap_tests
run_examples_test
run_packaging_test

echo "test command took $(( $(date +%s) - START )) s; logs in $LOGDIR"
[ ${#FAILED_STAGES[@]} -eq 0 ] || echo "failed stages: ${FAILED_STAGES[*]}"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
