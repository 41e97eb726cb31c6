# shellcheck shell=bash disable=SC2034  # PRELOADED and others are read by the sourcing script
# Shared helpers for bench/run.sh and bench/check_reference.sh (sourced, not run).
#
# A throwaway PostgreSQL 15 cluster: PostgreSQL refuses to run as root, so the
# server runs as the postgres user in a mktemp directory, listening only on a
# unix socket inside that directory. Clients (psql, pgbench) run as root and
# connect as the postgres role over that socket with trust authentication.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_REGRESS=${PG_REGRESS:-/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress}

BENCH_TMP=""        # the temporary directory (data, socket, logs)
PGDATA_DIR=""       # the cluster's data directory
SERVER_LOG=""       # the server's log file
PRELOADED=no        # yes when the server runs with the library preloaded

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Creates the temporary directory and initializes a cluster in it.
cluster_init() {
    [ "$(id -u)" = 0 ] || die "run as root (the server itself is started as the postgres user)"
    BENCH_TMP=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/pk_bench.XXXXXX")
    chown postgres: "$BENCH_TMP"
    chmod 0700 "$BENCH_TMP"
    PGDATA_DIR="$BENCH_TMP/data"
    SERVER_LOG="$BENCH_TMP/server.log"
    export PGHOST="$BENCH_TMP" PGUSER=postgres
    # The socket lives in a private directory, so any port number is free.
    export PGPORT=$((50000 + $$ % 10000))
    export PGAPPNAME=pk_keys_bench
    runuser -u postgres -- "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres -A trust \
        --encoding=UTF8 --locale=C.UTF-8 -N >"$BENCH_TMP/initdb.log" 2>&1 \
        || { cat "$BENCH_TMP/initdb.log" >&2; die "initdb failed"; }
}

# Appends settings (one "name = value" per argument) to postgresql.conf.
cluster_configure() {
    {
        echo "# added by bench/lib.sh"
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$BENCH_TMP'"
        echo "port = $PGPORT"
        printf '%s\n' "$@"
    } >>"$PGDATA_DIR/postgresql.conf"
}

# Starts the server; returns non-zero (and leaves it stopped) when it fails.
cluster_start() {
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$SERVER_LOG" -w -t 60 start \
        >"$BENCH_TMP/pg_ctl.log" 2>&1
}

# Starts the server with library $1 preloaded, falling back to no preload
# when the library is missing or cannot be preloaded yet.
cluster_start_preloaded() {
    local conf="$PGDATA_DIR/postgresql.conf"
    echo "shared_preload_libraries = '$1'   # bench-preload" >>"$conf"
    if cluster_start; then
        PRELOADED=yes
        return 0
    fi
    log "the server did not start with shared_preload_libraries = '$1'; last log lines:"
    tail -n 5 "$SERVER_LOG" >&2 || true
    sed -i '/# bench-preload$/d' "$conf"
    PRELOADED=no
    cluster_start || { tail -n 20 "$SERVER_LOG" >&2; die "the server did not start"; }
}

# Stops the server (if running) and removes the temporary directory. Used as
# the EXIT trap, so it must never fail.
cluster_cleanup() {
    if [ -n "$PGDATA_DIR" ] && [ -f "$PGDATA_DIR/postmaster.pid" ]; then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop \
            >/dev/null 2>&1 || log "warning: pg_ctl stop failed (data dir $PGDATA_DIR)"
    fi
    if [ -n "$BENCH_TMP" ] && [ -d "$BENCH_TMP" ] && [ -z "${BENCH_KEEP_TMP:-}" ]; then
        rm -rf "$BENCH_TMP"
    fi
}

# psql against a database, quiet, failing on the first error.
# usage: db_psql DB [psql args...]
db_psql() {
    local db=$1
    shift
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# One value from a query (unaligned, tuples only).
# usage: db_value DB SQL
db_value() {
    db_psql "$1" -At -c "$2"
}
