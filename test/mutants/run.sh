#!/usr/bin/env bash
# Mutation check (not part of scripts/test.sh): applies each one-line mutant
# of mutants.txt to a scratch copy of the committed tree, builds and installs
# it (into the PostgreSQL that pg_config names), runs the tests that must
# catch it and reports caught/survived; the unmutated tree is installed again
# at the end. Usage: bash test/mutants/run.sh [mutant-id...]
# Takes about a minute per mutant.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/scripts/lib/cluster.sh"
WORK=$(mktemp -d /tmp/pk_mutants.XXXXXX)
git -C "$ROOT" archive HEAD | tar -x -C "$WORK"
chmod -R a+rX "$WORK"
cd "$WORK"
LOG=$WORK/mutant_logs   # not log/: PGXS "make clean" removes that
mkdir -p "$LOG"

build() { make -s clean >/dev/null 2>&1; make -s -j2 >"$LOG/build.$1" 2>&1 && make -s install >>"$LOG/build.$1" 2>&1 \
    && make -s install-test-hooks >>"$LOG/build.$1" 2>&1; }

# run_tests ID TESTS...: 0 when every named test passes.
run_tests() {
    local id=$1; shift
    local ok=0 t kind names
    for t in "$@"; do
        kind=${t%%:*}; names=${t#*:}; names=${names//,/ }
        case $kind in
        regress|isolation|regress-preloaded|isolation-preloaded)
            pk_cluster_init >/dev/null && pk_cluster_start || return 2
            if [[ $kind == *-preloaded ]]; then
                pk_cluster_restart_with "shared_preload_libraries = 'pk_keys'
pk_keys.flush_interval = 200" || return 2
            fi
            if [[ $kind == regress* ]]; then
                make -s installcheck-regress-only REGRESS="$names" >>"$LOG/$id" 2>&1 || ok=1
            else
                make -s installcheck-isolation-only ISOLATION="$names" >>"$LOG/$id" 2>&1 || ok=1
            fi
            pk_cluster_stop ;;
        tap)
            local dir=$WORK/tap; rm -rf "$dir"; mkdir -p "$dir"
            cp -r test/t "$dir/t"; cp -r test/fuzz "$dir/fuzz"; chown -R postgres: "$dir" 2>/dev/null
            (cd "$dir" && pk_as_owner env PATH="$PG_BIN:$PATH" \
                PERL5LIB="$(pg_config --pkglibdir)/pgxs/src/test/perl" \
                PG_REGRESS="$(pg_config --pkglibdir)/pgxs/src/test/regress/pg_regress" \
                prove "t/$names") >>"$LOG/$id" 2>&1 || ok=1 ;;
        esac
    done
    return $ok
}

CAUGHT=0; SURVIVED=0; BROKEN=0
while IFS='|' read -r id file from to tests; do
    id=$(echo "$id" | sed 's/^ *//; s/ *$//'); [ -z "$id" ] || [[ $id == \#* ]] && continue
    [ $# -gt 0 ] && [[ " $* " != *" $id "* ]] && continue
    file=$(echo "$file" | sed 's/^ *//; s/ *$//'); tests=$(echo "$tests" | sed 's/^ *//; s/ *$//')
    from=$(echo "$from" | sed 's/^ *//; s/ *$//'); to=$(echo "$to" | sed 's/^ *//; s/ *$//')
    cp "$file" "$file.orig"
    FROM="$from" TO="$to" perl -0pi -e 'my $f = $ENV{FROM}; $f =~ s/\\n/\n/g; my $t = $ENV{TO}; $t =~ s/\\n/\n/g; s/\Q$f\E/$t/ or exit 3' "$file"
    if [ $? -ne 0 ] || cmp -s "$file" "$file.orig"; then
        echo "$id: NOT APPLIED (text not found in $file)"; mv "$file.orig" "$file"; continue
    fi
    if ! build "$id"; then
        echo "$id: DOES NOT BUILD (see $LOG/build.$id)"; BROKEN=$((BROKEN + 1))
    elif run_tests "$id" $tests; then
        echo "$id: SURVIVED ($tests)"; SURVIVED=$((SURVIVED + 1))
    else
        echo "$id: caught ($tests)"; CAUGHT=$((CAUGHT + 1))
    fi
    mv "$file.orig" "$file"
done < "$WORK/test/mutants/mutants.txt"

build original || echo "could not reinstall the unmutated build (see $LOG/build.original)"
echo "mutants: $CAUGHT caught, $SURVIVED survived, $BROKEN not built (logs in $LOG)"
[ "$SURVIVED" -eq 0 ] && [ "$BROKEN" -eq 0 ]
