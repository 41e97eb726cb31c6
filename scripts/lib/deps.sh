# Installs the Debian packages the build and the tests need, when missing.
# Sourced by scripts/*.sh; safe to run repeatedly.

PK_DEPS=(g++ make postgresql-15 postgresql-client-15 postgresql-contrib postgresql-server-dev-15
         libssl-dev libgtest-dev libipc-run-perl
         clang-14 libclang-rt-14-dev libfuzzer-14-dev postgresql-15-plpgsql-check)

pk_install_deps() {
    local missing=()
    local p
    for p in "${PK_DEPS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing packages: ${missing[*]} (run as root to install them)" >&2
        return 1
    fi
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# What the client examples' test (test/examples/run.sh) needs besides node:
# pgbouncer, psycopg2 for Debian's python, headless Chromium and a font.
PK_EXAMPLE_DEPS=(pgbouncer python3-psycopg2 chromium fonts-dejavu-core nodejs npm)

pk_install_example_deps() {
    local missing=() p
    for p in "${PK_EXAMPLE_DEPS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    # node/npm may come from elsewhere than Debian (e.g. NodeSource): fine.
    if command -v node >/dev/null && command -v npm >/dev/null; then
        local m=(); for p in "${missing[@]}"; do [ "$p" = nodejs ] || [ "$p" = npm ] || m+=("$p"); done
        missing=("${m[@]}")
    fi
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || { echo "missing packages: ${missing[*]} (run as root)" >&2; return 1; }
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# When the tests run against a relocated copy of PostgreSQL (pg_config not the
# system's), copies Debian's plpgsql_check into it so CREATE EXTENSION finds it.
pk_provide_plpgsql_check() {
    local lib share
    lib=$(pg_config --pkglibdir); share=$(pg_config --sharedir)
    [ -f "$lib/plpgsql_check.so" ] && return 0
    [ -f /usr/lib/postgresql/15/lib/plpgsql_check.so ] || { echo "plpgsql_check is not installed" >&2; return 1; }
    cp /usr/lib/postgresql/15/lib/plpgsql_check.so "$lib/" &&
        cp /usr/share/postgresql/15/extension/plpgsql_check* "$share/extension/"
}

# pg_cron for the scheduling TAP test (t/060_pg_cron.pl): Debian's package,
# copied into a relocated PostgreSQL (pg_config elsewhere than /usr/lib).
pk_install_pg_cron() {
    dpkg-query -W -f='${Status}' postgresql-15-cron 2>/dev/null | grep -q "install ok installed" || {
        [ "$(id -u)" -eq 0 ] || { echo "missing package postgresql-15-cron (run as root)" >&2; return 1; }
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-cron >/dev/null
    } || return 1
    local lib share
    lib=$(pg_config --pkglibdir); share=$(pg_config --sharedir)
    if [ ! -f "$lib/pg_cron.so" ]; then
        cp /usr/lib/postgresql/15/lib/pg_cron.so "$lib/" &&
        cp /usr/share/postgresql/15/extension/pg_cron* "$share/extension/"
    fi
}
