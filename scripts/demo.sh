#!/usr/bin/env bash
# The main job: build and install pk_keys, start a throwaway PostgreSQL with
# the library preloaded, walk through organizations -> keys -> authenticate
# -> usage summary in psql, and stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
source scripts/lib/cluster.sh

pk_install_deps
make -s >/dev/null
make -s install >/dev/null
pk_cluster_init "shared_preload_libraries = 'pk_keys'"
pk_cluster_start
echo "PostgreSQL $(psql -XAtc 'SHOW server_version') on $PGHOST, pk_keys installed"
psql -X -v ON_ERROR_STOP=1 -f scripts/demo.sql
