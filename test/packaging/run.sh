#!/usr/bin/env bash
# Packaging: META.json against the PGXN Meta Spec v1.0.0 (offline), then
# `make dist` from a throwaway clone of HEAD: the archive is named after the
# version, holds the committed tree under pk_keys-<version>/ (LICENSE,
# META.json, control file, sources, install parts) and nothing untracked.
# Prints "packaging: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
passed=0; failed=0
step() {
    local name=$1; shift
    if "$@" >"$TMP/$name.log" 2>&1; then passed=$((passed + 1)); echo "ok - packaging $name"
    else failed=$((failed + 1)); echo "not ok - packaging $name"; tail -n 40 "$TMP/$name.log"; fi
}
TMP=$(mktemp -d /tmp/pk_keys_packaging.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
step meta_json /usr/bin/python3 test/packaging/check_meta.py META.json
version=$(/usr/bin/python3 -c 'import json; print(json.load(open("META.json"))["version"])')
dist() {
    git clone -q "$ROOT" "$TMP/clone" && make -s -C "$TMP/clone" dist && [ -f "$TMP/clone/pk_keys-$version.zip" ]
}
contents() {
    /usr/bin/python3 - "$TMP/clone/pk_keys-$version.zip" "pk_keys-$version" "$TMP/clone" <<'PY'
import subprocess, sys, zipfile
zf, prefix, clone = sys.argv[1:]
names = {n for n in zipfile.ZipFile(zf).namelist() if not n.endswith("/")}
tracked = {prefix + "/" + f for f in subprocess.check_output(["git", "-C", clone, "ls-files"], text=True).split()}
need = {prefix + "/" + f for f in ["LICENSE", "META.json", "README.md", "Makefile", "pk_keys.control",
                                   "sql/install/header-1.1.sql", "src/module.cpp"]}
print("files:", len(names), "tracked:", len(tracked))
assert need <= names, sorted(need - names)
assert names == tracked, (sorted(names - tracked)[:5], sorted(tracked - names)[:5])
assert not any("node_modules" in n for n in names)
PY
}
# Every function described as API in 90_comments.sql (and sql/comments.sql
# makes every function carry a description) has an entry in docs/reference.md.
reference_documents_api() {
    local missing=0 name
    for name in $(sed -n "s/^('\([a-z_]*\)', 'API .*/\1/p" sql/install/1.1/90_comments.sql); do
        grep -q "^### .*\`$name(" docs/reference.md || { echo "not in docs/reference.md: $name"; missing=1; }
    done
    echo "API functions documented: $(sed -n "s/^('\([a-z_]*\)', 'API .*/\1/p" sql/install/1.1/90_comments.sql | wc -l)"
    return $missing
}
step reference_documents_api reference_documents_api
step make_dist dist
step dist_contents contents
echo "packaging: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
