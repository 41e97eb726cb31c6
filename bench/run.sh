#!/usr/bin/env bash
# pk_keys benchmark: the extension against a PL/pgSQL reference of the same
# contract and against a SELECT 1 floor, in one run on one machine.
#
# Usage (as root, from anywhere):
#   bash bench/run.sh [--quick|--full] [--no-build]
#     --quick     (default) smaller data, short runs: under 2 minutes
#     --full      100k keys, 1M -> 4M usage rows, longer runs: under 10 minutes
#     --no-build  do not run make / make install (bench what is installed)
#
# Steps: build and install the extension (PGXS); start a throwaway cluster as
# the postgres user with shared_preload_libraries = 'pk_keys' (falls back to no
# preload, and says so, if the server cannot start with it); create bench_ext
# (CREATE EXTENSION pk_keys), bench_ref (bench/reference/install.sql) and
# bench_floor; load identical data into ext and ref; measure with pgbench
# (prepared protocol, 2 clients, rounds interleaved ext/ref/ext/ref, median
# tps) and time the bulk and aggregate statements with psql (median of
# repetitions); print one table with ratios and targets.
#
# Numbers never fail the run: the exit status is non-zero only when the
# harness itself breaks (build failure, server failure, reference failure).
# A metric the extension cannot run yet (missing function, error) shows n/a.
#
# BENCH_EXT_SQL=file (harness self-test): load that SQL file into bench_ext
# instead of CREATE EXTENSION, e.g. the reference itself (ratios ~1).
# BENCH_TMPDIR=dir: where the throwaway cluster lives (default /tmp).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
# shellcheck source=lib.sh
source "$BENCH_DIR/lib.sh"

MODE=quick
BUILD=yes
EXT_STATE=ok          # ok | a reason why the extension side is not measured
declare -A SAMPLES=() # "metric:target" -> space-separated samples (tps or ms)
declare -A RESULT=()  # "metric:target" -> median, or absent
declare -A NOTE=()    # "metric:target" -> why a figure is n/a or suspect
NOTES=()              # free-form lines printed under the table

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

parse_args() {
    while [ $# -gt 0 ]; do
        case $1 in
            --quick) MODE=quick ;;
            --full) MODE=full ;;
            --no-build) BUILD=no ;;
            -h | --help) usage; exit 0 ;;
            *) usage >&2; exit 2 ;;
        esac
        shift
    done
}

# Sizes and durations of each mode (budget: quick < 2 min, full < 10 min).
configure_mode() {
    NORGS=1000
    GEN_N=200000            # pk_generate_key calls per timed statement
    USAGE_DAYS=90
    if [ "$MODE" = full ]; then
        NKEYS=100000
        USAGE_BASE=1000000 USAGE_GROWN=4000000
        ROUNDS=3 SECS=7     # pgbench: 3 interleaved rounds of 7 s per metric and target
        GEN_REPS=3          # pk_generate_key x 200k repetitions per target
        AGG_ROUNDS=3        # summary / daily stats: rounds of (1 warm-up + AGG_REPS_EXT) for ext
        AGG_REPS_EXT=30     #   (just 1 when it is slow), 1 for ref, interleaved
    else
        NKEYS=20000
        USAGE_BASE=150000 USAGE_GROWN=600000
        ROUNDS=2 SECS=2
        GEN_REPS=1
        AGG_ROUNDS=2
        AGG_REPS_EXT=20
    fi
    HOT=$((NKEYS + 1))      # key numbers, see sql/prepare_keys.sql
    CREDITS=$((NKEYS + 2))
    REQ=$((NKEYS + 3))      # the request-check key, see sql/prepare_request.sql
    REFILL=$((NKEYS + 4))   # a copy of the credits key with a refill setting (1.1, ext only)
}

# "1000000" -> "1M", "250000" -> "250k"
human() {
    local n=$1
    if [ $((n % 1000000)) -eq 0 ]; then echo "$((n / 1000000))M"
    elif [ $((n % 1000)) -eq 0 ]; then echo "$((n / 1000))k"
    else echo "$n"; fi
}

build_extension() {
    if [ "$BUILD" = no ]; then
        log "build skipped (--no-build): benchmarking the installed pk_keys"
        return 0
    fi
    log "building and installing the extension (make && make install in $REPO_DIR)"
    local out="$BENCH_TMP/build.log"
    if ! { make -C "$REPO_DIR" -j"$(nproc)" && make -C "$REPO_DIR" install; } >"$out" 2>&1; then
        tail -n 40 "$out" >&2
        die "the extension did not build or install (log above); fix it, or use --no-build"
    fi
}

start_server() {
    cluster_configure \
        "max_connections = 20" \
        "shared_buffers = 512MB" \
        "work_mem = 16MB" \
        "maintenance_work_mem = 256MB" \
        "synchronous_commit = on" \
        "max_wal_size = 8GB" \
        "checkpoint_timeout = 30min" \
        "jit = off"
    cluster_start_preloaded pk_keys
    if [ "$PRELOADED" = yes ]; then
        log "server up with shared_preload_libraries = 'pk_keys'"
    else
        log "server up WITHOUT shared_preload_libraries (pk_keys could not be preloaded)"
        NOTES+=("The server could not start with shared_preload_libraries = 'pk_keys' (library missing or no shared-memory support); ran without preload.")
    fi
}

create_databases() {
    local db
    for db in bench_ext bench_ref bench_floor; do
        "$PG_BIN/createdb" "$db"
    done
    db_psql bench_ref -f "$BENCH_DIR/reference/install.sql" >"$BENCH_TMP/ref_install.log" 2>&1 \
        || { cat "$BENCH_TMP/ref_install.log" >&2; die "the reference did not install"; }
    local install=(-c "CREATE EXTENSION pk_keys")
    if [ -n "${BENCH_EXT_SQL:-}" ]; then
        # harness self-test: any SQL file stands in for the extension
        install=(-f "$BENCH_EXT_SQL")
        NOTES+=("Harness self-test: the 'ext' column is $BENCH_EXT_SQL, not the extension.")
    fi
    if ! db_psql bench_ext "${install[@]}" >"$BENCH_TMP/ext_install.log" 2>&1; then
        EXT_STATE="CREATE EXTENSION pk_keys failed: $(grep -m1 ERROR "$BENCH_TMP/ext_install.log" || true)"
        log "$EXT_STATE"
        NOTES+=("Extension side not measured: $EXT_STATE")
    fi
}

# Runs the same command (db_psql or a function taking the database first) on
# bench_ext and bench_ref at once (2 cores, one each). A failure on the
# reference side is fatal; on the extension side it marks the extension as
# unmeasurable. usage: run_on_both LABEL COMMAND ARGS...  (runs COMMAND DB ARGS...)
run_on_both() {
    local label=$1 cmd=$2
    shift 2
    local ext_pid="" ref_pid
    if [ "$EXT_STATE" = ok ]; then
        "$cmd" bench_ext "$@" >"$BENCH_TMP/$label.ext.log" 2>&1 &
        ext_pid=$!
    fi
    "$cmd" bench_ref "$@" >"$BENCH_TMP/$label.ref.log" 2>&1 &
    ref_pid=$!
    if ! wait "$ref_pid"; then
        cat "$BENCH_TMP/$label.ref.log" >&2
        die "reference: $label failed"
    fi
    if [ -n "$ext_pid" ] && ! wait "$ext_pid"; then
        EXT_STATE="$label failed on the extension: $(grep -m1 ERROR "$BENCH_TMP/$label.ext.log" || true)"
        log "$EXT_STATE"
        NOTES+=("Extension side not measured from here on: $EXT_STATE")
    fi
}

prepare_data() {
    # The usage history covers the USAGE_DAYS whole UTC days before today.
    T0=$(db_value bench_ref "SELECT (date_trunc('day', now() AT TIME ZONE 'UTC') - interval '$USAGE_DAYS days') AT TIME ZONE 'UTC'")
    DAY_FIRST=$(db_value bench_ref "SELECT (timestamptz '$T0' AT TIME ZONE 'UTC')::date")
    DAY_LAST=$(db_value bench_ref "SELECT date '$DAY_FIRST' + $USAGE_DAYS - 1")
    # the summary month: the month of the middle day, inside the history
    SUMMARY_MONTH=$(db_value bench_ref "SELECT date_trunc('month', date '$DAY_FIRST' + $USAGE_DAYS / 2)::date")
    ORG1=$(db_value bench_ref "SELECT md5('org1')::uuid")

    log "loading $(human "$NKEYS") keys + hot key + credits key in $NORGS organizations (ext and ref in parallel)"
    run_on_both keys db_psql -v nkeys="$NKEYS" -v norgs="$NORGS" -f "$BENCH_DIR/sql/prepare_keys.sql"
    add_refill_key
    create_usage_partitions
    load_usage 1 "$USAGE_BASE"
}

# The refill key (1.1, extension only): the credits key's twin with a monthly
# refill whose next instant is weeks away, so the runs measure the cost of
# the refill check in the spend, not a refill.
add_refill_key() {
    [ "$EXT_STATE" = ok ] || return 0
    has_function bench_ext "${NEEDS[auth_refill]}" || return 0
    db_psql bench_ext -v ON_ERROR_STOP=1 -q -c "INSERT INTO pk_keys.api_keys (id, organization_id, name, key_prefix,
            key_hash, key_hint, environment, scopes, rate_limit_per_minute, remaining, refill_amount, refill_interval,
            refill_day, refill_mode, last_refill_at)
        SELECT md5('key$REFILL')::uuid, organization_id, 'bench refill key', key_prefix,
               encode(sha256(convert_to($(key_sql "$REFILL"), 'UTF8')), 'hex'), right($(key_sql "$REFILL"), 4),
               environment, scopes, rate_limit_per_minute, remaining, 1000000000000000, 'month',
               1, 'replace', now()
        FROM pk_keys.api_keys WHERE id = md5('key$CREDITS')::uuid" >/dev/null
}

# When the extension partitions usage by month and offers
# pk_usage_create_partition(date), create the partitions of the history's
# months first, as its routine maintenance would have by then (otherwise the
# history would sit in a DEFAULT partition no deployment would have).
create_usage_partitions() {
    [ "$EXT_STATE" = ok ] && has_function bench_ext "pk_keys.pk_usage_create_partition(date)" || return 0
    log "extension: creating the usage partitions of the history's months"
    if db_psql bench_ext -c "SELECT pk_keys.pk_usage_create_partition(m::date)
            FROM generate_series(date_trunc('month', date '$DAY_FIRST'), date_trunc('month', now() AT TIME ZONE 'UTC'),
                                 interval '1 month') AS m" >"$BENCH_TMP/partitions.log" 2>&1; then
        NOTES+=("Extension: usage partitions for the history's months created with pk_usage_create_partition() before loading.")
    else
        NOTES+=("Extension: pk_usage_create_partition() failed ($(grep -m1 ERROR "$BENCH_TMP/partitions.log" | cut -c1-80)); history loaded as is.")
    fi
}

# Adds usage rows first..last to both databases, then vacuums and checkpoints
# so the measurements that follow do not pay for the load.
load_usage() {
    local first=$1 last=$2
    log "loading usage rows $(human "$first")..$(human "$last") for organization 1 over $USAGE_DAYS days"
    run_on_both "usage_$last" load_usage_slices "$first" "$last"
    run_ext_maintenance
    log "vacuum analyze + checkpoint"
    run_on_both "vacuum_$last" db_psql -c "VACUUM ANALYZE"
    db_psql postgres -c "CHECKPOINT"
}

# When the extension has a usage maintenance routine callable with its
# defaults (pk_usage_maintain), run it after a load, as its daily schedule
# would have run it over the history.
run_ext_maintenance() {
    [ "$EXT_STATE" = ok ] || return 0
    [ "$(db_value bench_ext "SELECT count(*) FROM pg_catalog.pg_proc
            WHERE proname = 'pk_usage_maintain' AND pronamespace = 'pk_keys'::regnamespace
              AND pronargs = pronargdefaults")" = 1 ] || return 0
    log "extension: running pk_usage_maintain()"
    if ! db_psql bench_ext -c "SELECT pk_keys.pk_usage_maintain()" >"$BENCH_TMP/maintain.log" 2>&1; then
        NOTES+=("Extension: pk_usage_maintain() failed ($(grep -m1 ERROR "$BENCH_TMP/maintain.log" | cut -c1-80)).")
        return 0
    fi
    MAINTAINED=yes
}
MAINTAINED=no

# Inserts usage rows first..last into one database in USAGE_SLICES slices,
# each from its own session: usage arrives from many connections, and the
# extension spreads its per-day counters over shards chosen by backend, so a
# history written by one session would be unrealistically compact (and the
# grown history, written by more sessions, unrealistically less so).
USAGE_SLICES=16
load_usage_slices() {
    local db=$1 first=$2 last=$3 i from to
    for ((i = 0; i < USAGE_SLICES; i++)); do
        from=$((first + (last - first + 1) * i / USAGE_SLICES))
        to=$((first + (last - first + 1) * (i + 1) / USAGE_SLICES - 1))
        db_psql "$db" -v first="$from" -v last="$to" -v days="$USAGE_DAYS" -v t0="$T0" \
            -f "$BENCH_DIR/sql/load_usage.sql" || return 1
    done
}

# Whether a database has a function, by regprocedure signature.
has_function() {
    [ "$(db_value "$1" "SELECT to_regprocedure('$2') IS NOT NULL")" = t ]
}

# The function each metric needs, and a one-shot statement checked before
# measuring (its single value must equal the expected one).
declare -A NEEDS=(
    [auth_random]="pk_keys.pk_authenticate(text,text[],integer)"
    [auth_hot]="pk_keys.pk_authenticate(text,text[],integer)"
    [auth_credits]="pk_keys.pk_authenticate(text,text[],integer)"
    [auth_refill]="pk_keys.pk_refill_remaining(bigint,bigint,text,integer,text,timestamp with time zone,timestamp with time zone,timestamp with time zone)"
    [hash_verify]="pk_keys.pk_verify_key(text,text)"
    [usage_create]="pk_keys.pk_usage_create(uuid,text,text,integer,integer,inet,text,timestamp with time zone)"
    [rate_limit]="pk_keys.pk_rate_limit_check(uuid,integer,interval,integer)"
    [gen]="pk_keys.pk_generate_key(text)"
    [summary]="pk_keys.pk_usage_get_summary(uuid,date)"
    [daily]="pk_keys.pk_usage_get_daily_stats(uuid,date,date)"
)

key_sql() { echo "'pk_live_' || lpad('$1', 42, '0') || 'A'"; }

preflight_sql() {
    case $1 in
        auth_random) echo "SELECT code FROM pk_keys.pk_authenticate($(key_sql 1))" ;;
        auth_hot) echo "SELECT code FROM pk_keys.pk_authenticate($(key_sql "$HOT"))" ;;
        auth_credits) echo "SELECT code FROM pk_keys.pk_authenticate($(key_sql "$CREDITS"), '{}', 1)" ;;
        auth_refill) echo "SELECT code FROM pk_keys.pk_authenticate($(key_sql "$REFILL"), '{}', 1)" ;;
        hash_verify) echo "SELECT pk_keys.pk_verify_key(k, pk_keys.pk_hash_key(k)) FROM (SELECT $(key_sql 2) AS k) s" ;;
        usage_create) echo "SELECT count(*) FROM pk_keys.pk_usage_create(md5('key3')::uuid, '/v1/orders', 'POST', 201, 9)" ;;
        rate_limit) echo "SELECT allowed FROM pk_keys.pk_rate_limit_check(md5('key4')::uuid, 1000000000)" ;;
    esac
}

preflight_expect() {
    case $1 in
        auth_*) echo VALID ;;
        usage_create) echo 1 ;;
        *) echo t ;;
    esac
}

# Whether metric can run on target; records a note when it cannot.
usable() {
    local metric=$1 target=$2
    [ -z "${NOTE[$metric:$target]:-}" ] || return 1
    if [ "$target" = ext ] && [ "$EXT_STATE" != ok ]; then
        NOTE[$metric:$target]="no extension"
        return 1
    fi
    if ! has_function "bench_$target" "${NEEDS[$metric]}"; then
        NOTE[$metric:$target]="no ${NEEDS[$metric]%%(*}"
        return 1
    fi
    return 0
}

# Runs the metric's one-shot check; a wrong answer is noted (the figure would
# measure an error path), an error makes the metric n/a.
preflight() {
    local metric=$1 target=$2 got want
    want=$(preflight_expect "$metric")
    if ! got=$(db_value "bench_$target" "$(preflight_sql "$metric")" 2>"$BENCH_TMP/preflight.err"); then
        NOTE[$metric:$target]="error: $(grep -m1 ERROR "$BENCH_TMP/preflight.err" | sed 's/.*ERROR: *//' | cut -c1-60)"
        return 1
    fi
    if [ "$got" != "$want" ]; then
        NOTE[$metric:$target]="answered '${got:0:20}', not '$want'"
        return 1
    fi
}

# One pgbench run; prints the tps (excluding connection time).
pgbench_tps() {
    local db=$1 script=$2 out="$BENCH_TMP/pgbench.out"
    if ! "$PG_BIN/pgbench" -n -M prepared -c 2 -j 2 -T "$SECS" -f "$BENCH_DIR/pgbench/$script.sql" \
        -D nkeys="$NKEYS" -D hot="$HOT" -D credits="$CREDITS" -D req="$REQ" -D refill="$REFILL" "$db" >"$out" 2>&1; then
        grep -m3 -E 'error|ERROR' "$out" >&2 || true
        return 1
    fi
    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$out"
}

# Median of the numbers on stdin (mean of the two middle ones for an even count).
median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) exit 1
        if (NR % 2) printf "%.6f\n", v[(NR + 1) / 2]
        else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

add_sample() { SAMPLES[$1]="${SAMPLES[$1]:-} $2"; }

finish_medians() {
    local k
    for k in "${!SAMPLES[@]}"; do
        RESULT[$k]=$(tr ' ' '\n' <<<"${SAMPLES[$k]}" | grep . | median)
    done
}

PGB_METRICS=(auth_random auth_hot auth_credits auth_refill hash_verify usage_create rate_limit)

measure_pgbench() {
    local metric target round tps
    for metric in "${PGB_METRICS[@]}"; do
        for target in ext ref; do
            if usable "$metric" "$target"; then
                preflight "$metric" "$target" || true
            fi
        done
    done
    for ((round = 1; round <= ROUNDS; round++)); do
        log "pgbench round $round/$ROUNDS (${SECS}s per run, ext/ref interleaved, then the floor)"
        for metric in "${PGB_METRICS[@]}"; do
            for target in ext ref; do
                [ -z "${NOTE[$metric:$target]:-}" ] || continue
                if tps=$(pgbench_tps "bench_$target" "$metric"); then
                    add_sample "$metric:$target" "$tps"
                    log "  $metric $target: $tps tps"
                else
                    [ "$target" = ext ] || die "pgbench failed on the reference ($metric)"
                    NOTE[$metric:$target]="pgbench run failed"
                fi
            done
        done
        tps=$(pgbench_tps bench_floor floor) || die "pgbench failed on the floor"
        add_sample "floor:floor" "$tps"
        log "  floor: $tps tps"
    done
    # Every key must still answer VALID after the runs; otherwise the figure
    # may have measured a refusal (a rate limit, exhausted credits).
    for metric in auth_random auth_hot auth_credits auth_refill; do
        for target in ext ref; do
            [ -z "${NOTE[$metric:$target]:-}" ] || continue
            if ! preflight "$metric" "$target"; then
                NOTES+=("$metric on $target: after the runs the key $(tr -d '\n' <<<"${NOTE[$metric:$target]}"); the figure may measure a refusal")
                unset "NOTE[$metric:$target]"
            fi
        done
    done
}

# pk_authenticate_request (client IP, two-range allowlist, two named limits)
# against plain pk_authenticate on the extension alone (the reference has no
# 1.1 surface), interleaved in the same rounds.
measure_request_check() {
    local round tps target
    [ "$EXT_STATE" = ok ] || { NOTE[auth_request:ext]="no extension"; return 0; }
    if ! has_function bench_ext "pk_keys.pk_authenticate_request(text,text[],integer,inet,jsonb,text)"; then
        NOTE[auth_request:ext]="no pk_authenticate_request"
        return 0
    fi
    if ! db_psql bench_ext -v req="$REQ" -f "$BENCH_DIR/sql/prepare_request.sql" >"$BENCH_TMP/request.log" 2>&1; then
        NOTE[auth_request:ext]="setup failed: $(grep -m1 ERROR "$BENCH_TMP/request.log" | cut -c1-60)"
        return 0
    fi
    local check="SELECT code FROM pk_keys.pk_authenticate_request('pk_live_' || lpad('$REQ', 42, '0') || 'A', '{}', 1, '10.1.2.3', '{\"tokens\": 1, \"pool\": 1}')"
    if [ "$(db_value bench_ext "$check" 2>/dev/null)" != VALID ]; then
        NOTE[auth_request:ext]="preflight did not answer VALID"
        return 0
    fi
    for ((round = 1; round <= ROUNDS; round++)); do
        log "request check round $round/$ROUNDS (plain pk_authenticate, then pk_authenticate_request)"
        for target in auth_plain auth_request; do
            local script=$target
            [ "$target" = auth_plain ] && script=auth_hot
            if tps=$(pgbench_tps bench_ext "$script"); then
                add_sample "$target:ext" "$tps"
                log "  $target ext: $tps tps"
            else
                NOTE[$target:ext]="pgbench run failed"
            fi
        done
    done
}

# Median wall time (ms, as psql's \timing sees it) of sql over reps runs in
# one session, after warm runs that are not timed.
time_statement() {
    local db=$1 warm=$2 reps=$3 sql=$4 i out
    out=$({
        echo '\o /dev/null'
        for ((i = 0; i < warm; i++)); do echo "$sql;"; done
        printf '%s\n' '\timing on'
        for ((i = 0; i < reps; i++)); do echo "$sql;"; done
    } | db_psql "$db" 2>"$BENCH_TMP/time.err") || {
        grep -m1 ERROR "$BENCH_TMP/time.err" >&2 || true
        return 1
    }
    sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | median
}

measure_generate_key() {
    local target round ms sql="SELECT count(*) FROM (SELECT pk_keys.pk_generate_key() AS k FROM generate_series(1, $GEN_N)) s"
    log "pk_generate_key x $(human "$GEN_N"): $GEN_REPS interleaved repetition(s)"
    for ((round = 1; round <= GEN_REPS; round++)); do
        for target in ext ref; do
            [ "$round" -gt 1 ] || usable gen "$target" || continue
            [ -z "${NOTE[gen:$target]:-}" ] || continue
            if ms=$(time_statement "bench_$target" 0 1 "$sql"); then
                add_sample "gen:$target" "$ms"
                log "  gen $target: $ms ms"
            else
                [ "$target" = ext ] || die "pk_generate_key failed on the reference"
                NOTE[gen:$target]="statement failed"
            fi
        done
    done
}

# Freezes the base-size history: a file copy of bench_ext and bench_ref as
# bench_ext_small and bench_ref_small, taken just before the history grows, so
# the aggregates at both sizes can be timed side by side, interleaved, instead
# of minutes apart (drift would otherwise land in the growth ratio).
snapshot_base_size() {
    local target
    log "copying the $(human "$USAGE_BASE")-row databases (bench_ext_small, bench_ref_small)"
    for target in ref ext; do
        [ "$target" = ref ] || [ "$EXT_STATE" = ok ] || continue
        copy_database "bench_$target" "bench_${target}_small" && continue
        cat "$BENCH_TMP/copy.log" >&2
        [ "$target" = ext ] || die "could not copy bench_ref"
        EXT_STATE="could not copy bench_ext"
        NOTES+=("Extension side not measured from here on: $EXT_STATE")
    done
}

# CREATE DATABASE new TEMPLATE src. A template must have no other session:
# PostgreSQL waits 5 s per attempt for autovacuum to leave; an extension's
# background worker (pk_keys runs a flusher per database that retires when
# idle) gets a few more attempts, then a SIGTERM, which it handles by
# flushing and exiting (the next request relaunches it).
copy_database() {
    local src=$1 dst=$2 attempt
    for attempt in 1 2 3 4; do
        [ "$attempt" -lt 4 ] || db_psql postgres -At -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = '$src' AND pid <> pg_backend_pid()" >/dev/null
        if db_psql postgres -c "CREATE DATABASE $dst TEMPLATE $src STRATEGY FILE_COPY" >"$BENCH_TMP/copy.log" 2>&1; then
            return 0
        fi
        grep -q 'is being accessed by other users' "$BENCH_TMP/copy.log" || return 1
        sleep 2
    done
    return 1
}

# The database holding the history of a size: bench_<target>_small for the base size.
size_db() {
    if [ "$2" = "$USAGE_BASE" ]; then echo "bench_$1_small"; else echo "bench_$1"; fi
}

# Summary and daily statistics of organization 1 at both sizes, interleaved:
# each round times ext at both sizes, then ref at both sizes.
measure_aggregates() {
    local metric target round size db key ms sql
    log "usage summary / daily stats at $(human "$USAGE_BASE") and $(human "$USAGE_GROWN") rows: $AGG_ROUNDS interleaved round(s)"
    for metric in summary daily; do
        if [ "$metric" = summary ]; then
            sql="SELECT pk_keys.pk_usage_get_summary('$ORG1', '$SUMMARY_MONTH')"
        else
            sql="SELECT * FROM pk_keys.pk_usage_get_daily_stats('$ORG1', '$DAY_FIRST', '$DAY_LAST')"
        fi
        for target in ext ref; do
            usable "$metric" "$target" && continue
            NOTE[${metric}_$USAGE_BASE:$target]=${NOTE[$metric:$target]}
            NOTE[${metric}_$USAGE_GROWN:$target]=${NOTE[$metric:$target]}
        done
        for ((round = 1; round <= AGG_ROUNDS; round++)); do
            for target in ext ref; do
                for size in "$USAGE_BASE" "$USAGE_GROWN"; do
                    key="${metric}_$size:$target"
                    [ -z "${NOTE[$key]:-}" ] || continue
                    db=$(size_db "$target" "$size")
                    if ! ms=$(time_aggregate "$target" "$db" "$sql"); then
                        [ "$target" = ext ] || die "$metric failed on the reference"
                        NOTE[$key]="statement failed"
                        continue
                    fi
                    add_sample "$key" "$ms"
                    log "  $metric $target @ $(human "$size"): $ms ms"
                done
            done
        done
    done
}

# One timing sample (ms) of an aggregate statement.
time_aggregate() {
    local target=$1 db=$2 sql=$3 ms
    if [ "$target" = ref ]; then
        # no warm-up: one-time session costs are noise next to a scan of the history
        time_statement "$db" 0 1 "$sql"
        return
    fi
    # one probe; many repetitions only when they are cheap
    ms=$(time_statement "$db" 1 1 "$sql") || return 1
    if awk -v v="$ms" 'BEGIN { exit !(v < 50) }'; then
        ms=$(time_statement "$db" 1 "$AGG_REPS_EXT" "$sql") || return 1
    fi
    echo "$ms"
}

# The extension and the reference must agree on the numbers (the contract's
# fields only; averages compared to 3 decimals).
compare_aggregates() {
    local size q a b
    [ "$EXT_STATE" = ok ] || return 0
    for size in "$USAGE_BASE" "$USAGE_GROWN"; do
        log "checking that ext and ref agree on the summary and daily stats at $(human "$size") rows"
        if has_function bench_ext "${NEEDS[summary]}"; then
            # OFFSET 0 keeps the summary from being computed once per field
            q="SELECT jsonb_build_object('t', s->'total_requests', 's', s->'successful_requests',
                   'f', s->'failed_requests', 'u', s->'unique_keys', 'top', s->'top_endpoints',
                   'avg', round((s->>'avg_response_time_ms')::numeric, 3))
                 FROM (SELECT pk_keys.pk_usage_get_summary('$ORG1', '$SUMMARY_MONTH') AS s OFFSET 0) x"
            a=$(db_value "$(size_db ext "$size")" "$q" 2>/dev/null || echo "error")
            b=$(db_value "$(size_db ref "$size")" "$q")
            [ "$a" = "$b" ] || NOTES+=("pk_usage_get_summary at $(human "$size") rows: extension and reference DISAGREE (ext: ${a:0:200} ref: ${b:0:200})")
        fi
        if has_function bench_ext "${NEEDS[daily]}"; then
            q="SELECT md5(string_agg(concat_ws(' ', day, total_requests, successful_requests, failed_requests,
                   round(avg_response_time_ms::numeric, 3), unique_keys), ',' ORDER BY day))
                 FROM pk_keys.pk_usage_get_daily_stats('$ORG1', '$DAY_FIRST', '$DAY_LAST')"
            a=$(db_value "$(size_db ext "$size")" "$q" 2>/dev/null || echo "error")
            b=$(db_value "$(size_db ref "$size")" "$q")
            [ "$a" = "$b" ] || NOTES+=("pk_usage_get_daily_stats at $(human "$size") rows: extension and reference DISAGREE")
        fi
    done
}

# ---------------------------------------------------------------- report ---

# Formats a figure: tps as integers, times with 3 significant-ish digits.
fmt() {
    local v=$1 unit=$2
    [ -n "$v" ] || { echo "n/a"; return; }
    case $unit in
        tps) printf '%.0f' "$v" ;;
        x) printf '%.2f' "$v" ;;
        *) awk -v v="$v" 'BEGIN { if (v >= 100) printf "%.0f", v; else if (v >= 10) printf "%.1f", v;
                                  else if (v >= 1) printf "%.2f", v; else printf "%.3f", v }' ;;
    esac
}

# a / b with 2 decimals, empty when either is missing.
ratio() {
    [ -n "${1:-}" ] && [ -n "${2:-}" ] || return 0
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }'
}

# Whether "$1 op $2" holds: prints yes / NO / n/a.
judge() {
    [ -n "${1:-}" ] || { echo "n/a"; return; }
    if awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN { exit !((op == ">=") ? a >= b : a <= b) }'; then
        echo yes
    else
        echo NO
    fi
}

both_yes() {
    if [ "$1" = yes ] && [ "$2" = yes ]; then echo yes
    elif [ "$1" = n/a ] || [ "$2" = n/a ]; then echo n/a
    else echo NO; fi
}

TABLE=""
row() { TABLE+="| $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 | $9 |"$'\n'; }

# Value of a metric for a target, with the note when it is n/a.
val() {
    local v=${RESULT[$1:$2]:-}
    if [ -n "$v" ]; then fmt "$v" "$3"
    elif [ -n "${NOTE[$1:$2]:-}" ]; then echo "n/a (${NOTE[$1:$2]})"
    else echo "n/a"; fi
}

build_table() {
    local floor=${RESULT[floor:floor]:-} m e r er ef met label
    local small big
    small=$(human "$USAGE_BASE")
    big=$(human "$USAGE_GROWN")
    TABLE="| metric | unit | ext | ref | floor | ext/ref | ext/floor | target | met |"$'\n'
    TABLE+="|---|---|---:|---:|---:|---:|---:|---|---|"$'\n'
    row "SELECT 1 (floor)" tps - - "$(fmt "$floor" tps)" - - - -

    declare -A labels=(
        [auth_random]="pk_authenticate, random key of $(human "$NKEYS")"
        [auth_hot]="pk_authenticate, one hot key"
        [auth_credits]="pk_authenticate, key with credits"
        [auth_refill]="pk_authenticate, key with credits and a refill"
        [hash_verify]="pk_hash_key + pk_verify_key"
        [usage_create]="pk_usage_create"
        [rate_limit]="pk_rate_limit_check"
    )
    for m in "${PGB_METRICS[@]}"; do
        e=${RESULT[$m:ext]:-} r=${RESULT[$m:ref]:-}
        er=$(ratio "$e" "$r") ef=$(ratio "$e" "$floor")
        case $m in
            auth_random)
                met=$(both_yes "$(judge "$er" '>=' 10)" "$(judge "$ef" '>=' 0.4)")
                row "${labels[$m]}" tps "$(val "$m" ext tps)" "$(val "$m" ref tps)" - "${er:-n/a}" "${ef:-n/a}" "ext/ref ≥ 10, ext/floor ≥ 0.4" "$met" ;;
            auth_hot)
                local hr
                hr=$(ratio "$e" "${RESULT[auth_random:ext]:-}")
                row "${labels[$m]}" tps "$(val "$m" ext tps)" "$(val "$m" ref tps)" - "${er:-n/a}" "${ef:-n/a}" "ext ≥ 0.9 × random-key ext (${hr:-n/a})" "$(judge "$hr" '>=' 0.9)" ;;
            auth_credits | usage_create)
                row "${labels[$m]}" tps "$(val "$m" ext tps)" "$(val "$m" ref tps)" - "${er:-n/a}" "${ef:-n/a}" "ext/ref ≥ 1.0" "$(judge "$er" '>=' 1.0)" ;;
            auth_refill)
                # Same key shape as auth_credits plus a refill setting: the
                # refill must not cost the hot path (issue #9: within noise).
                local cr
                cr=$(ratio "$e" "${RESULT[auth_credits:ext]:-}")
                row "${labels[$m]}" tps "$(val "$m" ext tps)" "$(val "$m" ref tps)" - "${er:-n/a}" "${ef:-n/a}" "ext ≥ 0.9 × credits-key ext (${cr:-n/a})" "$(judge "$cr" '>=' 0.9)" ;;
            hash_verify)
                row "${labels[$m]}" tps "$(val "$m" ext tps)" "$(val "$m" ref tps)" - "${er:-n/a}" "${ef:-n/a}" "ext/floor ≥ 0.8" "$(judge "$ef" '>=' 0.8)" ;;
            rate_limit)
                row "${labels[$m]}" tps "$(val "$m" ext tps)" "$(val "$m" ref tps)" - "${er:-n/a}" "${ef:-n/a}" "ext/ref ≥ 10" "$(judge "$er" '>=' 10)" ;;
        esac
    done

    # the full request check against plain pk_authenticate, both on ext
    e=${RESULT[auth_request:ext]:-} r=${RESULT[auth_plain:ext]:-}
    er=$(ratio "$e" "$r")
    row "pk_authenticate_request (client IP, 2-range allowlist, 2 named limits) vs plain pk_authenticate" tps \
        "$(val auth_request ext tps)" "$(val auth_plain ext tps) (plain)" - "${er:-n/a} (vs plain)" - "≥ 0.8 × plain" "$(judge "$er" '>=' 0.8)"

    # timed statements: the speed ratio is ref time / ext time
    e=${RESULT[gen:ext]:-} r=${RESULT[gen:ref]:-}
    er=$(ratio "$r" "$e")
    row "pk_generate_key × $(human "$GEN_N") (one statement)" ms "$(val gen ext ms)" "$(val gen ref ms)" - "${er:-n/a}" - "ext/ref ≥ 4" "$(judge "$er" '>=' 4)"

    for m in summary daily; do
        if [ "$m" = summary ]; then label="pk_usage_get_summary (1 month)"; else label="pk_usage_get_daily_stats ($USAGE_DAYS days)"; fi
        for size in "$USAGE_BASE" "$USAGE_GROWN"; do
            e=${RESULT[${m}_$size:ext]:-} r=${RESULT[${m}_$size:ref]:-}
            er=$(ratio "$r" "$e")
            row "$label @ $(human "$size") rows" ms "$(val "${m}_$size" ext ms)" "$(val "${m}_$size" ref ms)" - "${er:-n/a}" - "ext/ref ≥ 20" "$(judge "$er" '>=' 20)"
        done
        e=$(ratio "${RESULT[${m}_$USAGE_GROWN:ext]:-}" "${RESULT[${m}_$USAGE_BASE:ext]:-}")
        r=$(ratio "${RESULT[${m}_$USAGE_GROWN:ref]:-}" "${RESULT[${m}_$USAGE_BASE:ref]:-}")
        row "$label growth, time $big / time $small" × "${e:-n/a}" "${r:-n/a}" - - - "ext ≤ 1.2" "$(judge "$e" '<=' 1.2)"
    done
}

print_report() {
    local cpu mem pgver preload report
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
    mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
    pgver=$(db_value postgres "SHOW server_version")
    if [ "$PRELOADED" = yes ]; then preload="shared_preload_libraries = 'pk_keys' (preloaded)"
    else preload="pk_keys NOT preloaded (server could not start with it)"; fi
    [ "$MAINTAINED" = no ] || NOTES+=("Extension: pk_usage_maintain() run after each history load.")
    if [ "$EXT_STATE" = ok ] && has_function bench_ext "pk_keys.pk_shared_memory_enabled()"; then
        preload+=", pk_shared_memory_enabled() = $(db_value bench_ext "SELECT pk_keys.pk_shared_memory_enabled()" 2>/dev/null || echo error)"
    fi
    build_table
    report=$(
        echo "## pk_keys benchmark — $MODE mode"
        echo
        echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo "- machine: $(nproc) × $cpu, $mem, $(. /etc/os-release && echo "$PRETTY_NAME")"
        echo "- command: bash bench/run.sh --$MODE"
        echo "- PostgreSQL $pgver; $preload; synchronous_commit = on; shared_buffers = 512MB"
        echo "- data: $(human "$NKEYS") random-pool keys + 1 hot key + 1 key with credits in $NORGS organizations;" \
             "usage of one organization: $(human "$USAGE_BASE") then $(human "$USAGE_GROWN") rows over $USAGE_DAYS days," \
             "20 endpoints, 1000 keys"
        echo "- pgbench -n -M prepared -c 2 -j 2 -T $SECS, $ROUNDS interleaved rounds (ext, ref per metric; floor once per round); median tps"
        echo "- timed statements: median psql \\timing; ext/ref is a speed ratio (tps ext / tps ref, or time ref / time ext): > 1 means the extension is faster"
        [ "$MODE" = full ] || echo "- quick mode: smaller data and short runs; use --full for the figures of record"
        echo
        printf '%s' "$TABLE"
        if [ ${#NOTES[@]} -gt 0 ]; then
            echo
            printf -- '- %s\n' "${NOTES[@]}"
        fi
        echo
        echo "Targets are informational: this run exits 0 whatever the numbers."
    )
    echo
    echo "$report"
    mkdir -p "$BENCH_DIR/results"
    echo "$report" >"$BENCH_DIR/results/latest-$MODE.md"
    log "report saved to bench/results/latest-$MODE.md"
}

main() {
    parse_args "$@"
    configure_mode
    trap cluster_cleanup EXIT
    trap 'exit 130' INT TERM
    local started=$SECONDS
    cluster_init
    build_extension
    start_server
    create_databases
    prepare_data
    measure_pgbench
    measure_request_check
    measure_generate_key
    snapshot_base_size
    load_usage $((USAGE_BASE + 1)) "$USAGE_GROWN"
    measure_aggregates
    compare_aggregates
    finish_medians
    print_report
    log "done in $((SECONDS - started)) s"
}

main "$@"
