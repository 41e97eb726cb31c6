#!/usr/bin/env bash
# The client examples, tested as an application would use them: a throwaway
# cluster (library preloaded), the node (fastify + pg) and python (WSGI +
# psycopg2) examples serving real HTTP on loopback, each run directly and
# through pgbouncer in transaction pooling mode; node-pg's named statements
# shown to fail there; a short bounded load loop with and without usage
# recording; the dashboard loaded in headless Chromium (screenshot kept).
# Needs the extension installed (make install). Prints "examples: N passed,
# N failed"; logs (and the screenshot) go to $PK_EXAMPLES_OUT.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
source scripts/lib/deps.sh
source scripts/lib/cluster.sh
OUT=${PK_EXAMPLES_OUT:-$(mktemp -d /tmp/pk_keys_examples.XXXXXX)}
mkdir -p "$OUT"
PY=/usr/bin/python3          # Debian's python, which python3-psycopg2 serves
passed=0; failed=0
PIDS=()
step() {  # step NAME COMMAND...: runs it, counts it
    local name=$1; shift
    if "$@" >"$OUT/$name.log" 2>&1; then passed=$((passed + 1)); echo "ok - examples $name"
    else failed=$((failed + 1)); echo "not ok - examples $name"; tail -n 80 "$OUT/$name.log"; fi
}
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    pk_cluster_stop
}

pk_install_example_deps || { echo "examples: 0 passed, 1 failed"; exit 1; }
(cd examples/node && npm ci --no-audit --no-fund --loglevel=error) >"$OUT/npm.log" 2>&1 \
    || { cat "$OUT/npm.log"; echo "examples: 0 passed, 1 failed"; exit 1; }

pk_cluster_init "shared_preload_libraries = 'pk_keys'" "pk_keys.flush_interval = 200" "max_connections = 60" || exit 1
trap cleanup EXIT
pk_cluster_start || exit 1
createdb pk_examples && psql -X -q -v ON_ERROR_STOP=1 -d pk_examples -c 'CREATE EXTENSION pk_keys' || exit 1
export PGDATABASE=pk_examples

BASE_PORT=$((PGPORT + 1000))
BOUNCER_PORT=$BASE_PORT
cat >"$PK_TMP/pgbouncer.ini" <<EOF
[databases]
pk_examples = host=$PK_TMP port=$PGPORT dbname=pk_examples user=postgres pool_size=8
pk_one = host=$PK_TMP port=$PGPORT dbname=pk_examples user=postgres pool_size=1
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = any
pool_mode = transaction
max_client_conn = 200
default_pool_size = 8
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = $PK_TMP/pgbouncer.log
pidfile = $PK_TMP/pgbouncer.pid
EOF
chown postgres: "$PK_TMP/pgbouncer.ini"
pk_as_owner pgbouncer -d "$PK_TMP/pgbouncer.ini" || { echo "pgbouncer did not start"; exit 1; }
for i in $(seq 1 50); do [ -s "$PK_TMP/pgbouncer.pid" ] && break; sleep 0.1; done
PIDS+=("$(cat "$PK_TMP/pgbouncer.pid")")
# Really ours (a stale pgbouncer on the port would answer for a dead cluster).
PGCONNECT_TIMEOUT=5 timeout 10 psql -X -Atq -h 127.0.0.1 -p "$BOUNCER_PORT" -d pk_examples -c 'SELECT 1' >/dev/null \
    || { echo "pgbouncer on port $BOUNCER_PORT does not reach this cluster"; cat "$PK_TMP/pgbouncer.log"; exit 1; }

# start_server NAME PORT ENV... -- COMMAND...: starts an example in the
# background and waits for its "listening" line.
start_server() {
    local name=$1 port=$2; shift 2
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
    env "${envs[@]}" PORT="$port" HOST=127.0.0.1 "$@" >"$OUT/server-$name.log" 2>&1 &
    PIDS+=($!)
    SERVER_PID=$!
    local i
    for i in $(seq 1 100); do
        grep -q '^listening on' "$OUT/server-$name.log" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$OUT/server-$name.log"; return 1
}
stop_server() { kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; }
# contract NAME URL: the HTTP contract test against a running example.
contract() {
    TARGET_URL=$2 TARGET_NAME=$1 timeout 120 node --test --test-reporter=tap examples/node/test/http_contract.test.js
}
DIRECT_ENV=(PGHOST="$PK_TMP" PGPORT="$PGPORT" PGDATABASE=pk_examples PGUSER=postgres)
BOUNCER_ENV=(PGHOST=127.0.0.1 PGPORT="$BOUNCER_PORT" PGDATABASE=pk_examples PGUSER=postgres)

run_target() {  # run_target NAME PORT ENV-ARRAY-NAME -- COMMAND...
    local name=$1 port=$2 envname=$3; shift 4
    local -n envs=$envname
    if start_server "$name" "$port" "${envs[@]}" -- "$@"; then
        step "$name" contract "$name" "http://127.0.0.1:$port"
        stop_server
    else
        failed=$((failed + 1)); echo "not ok - examples $name (server did not start)"
    fi
}
run_target node-direct $((BASE_PORT + 1)) DIRECT_ENV -- node examples/node/src/server.js
run_target node-pgbouncer $((BASE_PORT + 2)) BOUNCER_ENV -- node examples/node/src/server.js
run_target python-direct $((BASE_PORT + 3)) DIRECT_ENV -- env PK_DSN="host=$PK_TMP port=$PGPORT dbname=pk_examples user=postgres" "$PY" examples/python/server.py
run_target python-pgbouncer $((BASE_PORT + 4)) BOUNCER_ENV -- env PK_DSN="host=127.0.0.1 port=$BOUNCER_PORT dbname=pk_examples user=postgres" "$PY" examples/python/server.py
step pgbouncer-named-statements env BOUNCER_HOST=127.0.0.1 BOUNCER_PORT="$BOUNCER_PORT" BOUNCER_DB=pk_one \
    timeout 60 node --test --test-reporter=tap examples/node/test/pgbouncer_named.test.js

# Throughput of the node example with and without usage recording (direct,
# preloaded, 10 keep-alive clients, 3 s each): a smoke figure, not a benchmark.
bench_key=$(psql -X -Atq -c "SELECT k.full_key FROM pk_keys.pk_org_create('Bench', 'bench@example.test', 'enterprise') o,
    pk_keys.pk_key_create(o.id, 'bench', rate_limit_per_minute => 100000000) k")
bench() {  # bench RECORD(0|1) [TAG]
    local tag=${2:-record}
    start_server "bench-$tag-$1" $((BASE_PORT + 5)) "${DIRECT_ENV[@]}" PK_RECORD_USAGE="$1" -- node examples/node/src/server.js || return 1
    node examples/node/test/bench.js "http://127.0.0.1:$((BASE_PORT + 5))/v1/hello" "$bench_key" 3000 10 | tee "$OUT/bench-$tag-$1.json"
    stop_server
    grep -q '"errors":0' "$OUT/bench-$tag-$1.json"
}
step bench-without-usage bench 0
step bench-with-usage bench 1
for r in 0 1; do
    [ -f "$OUT/bench-record-$r.json" ] && echo "node example, usage recording $([ $r = 1 ] && echo on || echo off): $(cat "$OUT/bench-record-$r.json")"
done

# The dashboard: 14 days of usage for one organization, drawn in Chromium.
dashboard() {
    local days=14 key port=$((BASE_PORT + 6))
    key=$(psql -X -Atq -v ON_ERROR_STOP=1 -f test/examples/dashboard_seed.sql) || return 1
    start_server dashboard "$port" "${DIRECT_ENV[@]}" -- node examples/node/src/server.js || return 1
    local url="http://127.0.0.1:$port/dashboard#key=$key&days=$days"
    local flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars
                 --virtual-time-budget=10000 --user-data-dir="$PK_TMP/chromium")
    timeout 60 chromium "${flags[@]}" --dump-dom "$url" >"$OUT/dashboard.dom.html" 2>"$OUT/chromium.log"
    timeout 60 chromium "${flags[@]}" --window-size=960,520 --screenshot="$OUT/dashboard.png" "$url" >>"$OUT/chromium.log" 2>&1
    stop_server
    # Series: requests, failures, and one per verification outcome code the
    # database reports for these days (none before pk_verification_stats).
    local codes
    codes=$(psql -X -Atq -f test/examples/dashboard_codes.sql) || return 1
    local series=$((2 + codes)) points
    points=$(grep -o '<circle class="point"' "$OUT/dashboard.dom.html" | wc -l)
    echo "dashboard: $points points drawn, expected $series series x $days days = $((series * days))"
    grep -q 'data-ready="true"' "$OUT/dashboard.dom.html" || { echo "chart not drawn"; return 1; }
    [ "$points" -eq $((series * days)) ] || return 1
    # The seeded days' counts, oldest first, exactly as stored (see dashboard_seed.sql).
    local got
    for s in requests failures; do
        got=$(sed -n "s/.*<g class=\"series\" data-series=\"$s\">\(.*\)/\1/p" "$OUT/dashboard.dom.html" |
              sed 's,</g>.*,,' | grep -o 'data-value="[0-9]*"' | grep -o '[0-9]*' | tr '\n' ' ')
        echo "$s: $got"
        case $s in
            requests) [ "$got" = "1 2 3 4 5 1 2 3 4 5 1 2 3 4 " ] || return 1 ;;
            failures) [ "$got" = "1 0 0 1 0 0 1 0 0 1 0 0 1 0 " ] || return 1 ;;
        esac
    done
    [ -s "$OUT/dashboard.png" ] && echo "screenshot: $OUT/dashboard.png"
}
step dashboard dashboard
grep -h '^dashboard:\|^screenshot:' "$OUT/dashboard.log" 2>/dev/null

# The README's quick start, pasted into psql as a reader would.
quick_start() {
    createdb pk_quick_start || return 1
    sed -n '/<!-- quick-start/,/<!-- \/quick-start/p' README.md | sed '1,2d;$d' | sed '$d' >"$OUT/quick_start.sql"
    [ "$(wc -l <"$OUT/quick_start.sql")" -gt 5 ] || return 1
    psql -X -v ON_ERROR_STOP=1 -d pk_quick_start -f "$OUT/quick_start.sql" >"$OUT/quick_start.out" 2>&1 || { cat "$OUT/quick_start.out"; return 1; }
    cat "$OUT/quick_start.out"
    grep -q ' t     | VALID ' "$OUT/quick_start.out" && grep -q '^ REVOKED$' "$OUT/quick_start.out"
}
step readme-quick-start quick_start

# Without preload (every VALID call writes its key and window rows).
pk_cluster_restart_with "shared_preload_libraries = ''" >/dev/null && step bench-without-preload bench 0 nopreload
[ -f "$OUT/bench-nopreload-0.json" ] && echo "node example, no preload, usage recording off: $(cat "$OUT/bench-nopreload-0.json")"

echo "examples: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
