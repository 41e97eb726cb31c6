# A throwaway PostgreSQL cluster in a temporary folder, on a unix socket in
# that folder. Sourced by scripts/*.sh. Runs the server as `postgres` when
# invoked as root. pk_cluster_stop is registered on EXIT by pk_cluster_init.

PG_BIN=${PG_BIN:-$(pg_config --bindir)}

# Runs a command as the cluster's owner.
pk_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pk_cluster_init [postgresql.conf lines...]: initdb in a new temp folder.
pk_cluster_init() {
    PK_TMP=$(mktemp -d /tmp/pk_keys.XXXXXX)
    chmod 755 "$PK_TMP"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$PK_TMP"
    PGDATA_DIR=$PK_TMP/data
    export PGHOST=$PK_TMP PGPORT=${PK_PORT:-54329} PGUSER=postgres PGDATABASE=postgres
    trap pk_cluster_stop EXIT
    pk_as_owner "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres -A trust --no-sync >"$PK_TMP/initdb.log" 2>&1 \
        || { cat "$PK_TMP/initdb.log"; return 1; }
    {
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$PK_TMP'"
        echo "port = $PGPORT"
        echo "fsync = off"
        echo "max_prepared_transactions = 10"
        local line
        for line in "$@"; do echo "$line"; done
    } | pk_as_owner tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
}

# Starts (or restarts) the server; prints the log on failure.
pk_cluster_start() {
    pk_as_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PK_TMP/server.log" -w -t 60 start >/dev/null \
        || { cat "$PK_TMP/server.log"; return 1; }
}

# Sets one postgresql.conf line (later lines win) and restarts.
pk_cluster_restart_with() {
    echo "$1" | pk_as_owner tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
    pk_as_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null
    pk_cluster_start
}

# Stops the server and removes the folder; idempotent.
pk_cluster_stop() {
    if [ -n "${PGDATA_DIR:-}" ] && [ -f "$PGDATA_DIR/postmaster.pid" ]; then
        pk_as_owner "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    [ -n "${PK_TMP:-}" ] && [ -z "${PK_KEEP_TMP:-}" ] && rm -rf "$PK_TMP"
    PGDATA_DIR=
}
