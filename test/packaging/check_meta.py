#!/usr/bin/env python3
"""Validates META.json against the PGXN Meta Spec v1.0.0 (offline: the
required keys, their types and formats) and against the repository: the
version agrees with pk_keys.control's default_version, every provided file
exists. Prints one "ok - ..." / "not ok - ..." line per check; exits 1 on any
failure. Usage: check_meta.py [META.json]"""
import json
import os
import re
import sys

LICENSES = {"agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd", "freebsd", "gfdl_1_2",
            "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1", "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1",
            "openssl", "perl_5", "postgresql", "qpl_1_0", "ssleay", "sun", "zlib", "open_source",
            "restricted", "unrestricted", "unknown"}
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$")
PHASES = {"configure", "build", "test", "runtime", "develop"}
RELATIONS = {"requires", "recommends", "suggests", "conflicts"}
STATUS = {"stable", "testing", "unstable"}

failures = 0


def check(ok, what):
    global failures
    print(("ok - " if ok else "not ok - ") + what)
    failures += 0 if ok else 1


def main(path):
    root = os.path.dirname(os.path.abspath(path))
    try:
        meta = json.load(open(path, encoding="utf-8"))
    except ValueError as err:
        check(False, "META.json is JSON: %s" % err)
        return
    check(isinstance(meta, dict), "META.json is a JSON object")
    for key in ("name", "abstract", "maintainer", "license", "provides", "meta-spec", "version"):
        check(key in meta, "required key %s present" % key)
    check(isinstance(meta.get("name"), str) and re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", meta.get("name", "")) is not None,
          "name is a valid distribution name")
    check(isinstance(meta.get("abstract"), str) and 0 < len(meta["abstract"]) <= 200, "abstract is a short string")
    m = meta.get("maintainer")
    check(isinstance(m, str) or (isinstance(m, list) and m and all(isinstance(x, str) for x in m)),
          "maintainer is a string or a list of strings")
    lic = meta.get("license")
    check(lic in LICENSES or (isinstance(lic, list) and all(x in LICENSES for x in lic))
          or (isinstance(lic, dict) and lic), "license is a spec license name")
    check(lic == "postgresql", "license is the PostgreSQL License, as LICENSE says")
    check(os.path.isfile(os.path.join(root, "LICENSE"))
          and "PostgreSQL License" in open(os.path.join(root, "LICENSE")).read(), "LICENSE file present")
    spec = meta.get("meta-spec", {})
    check(isinstance(spec, dict) and spec.get("version") == "1.0.0", "meta-spec version is 1.0.0")
    check(SEMVER.match(str(meta.get("version", ""))) is not None, "version is semantic (x.y.z)")
    provides = meta.get("provides", {})
    check(isinstance(provides, dict) and provides, "provides names at least one extension")
    for ext, info in provides.items():
        check(isinstance(info, dict) and "file" in info and "version" in info, "provides.%s has file and version" % ext)
        check(SEMVER.match(str(info.get("version", ""))) is not None, "provides.%s version is semantic" % ext)
        check(os.path.isfile(os.path.join(root, info.get("file", ""))), "provides.%s file exists" % ext)
        if "docfile" in info:
            check(os.path.isfile(os.path.join(root, info["docfile"])), "provides.%s docfile exists" % ext)
        control = os.path.join(root, ext + ".control")
        if os.path.isfile(control):
            dv = re.search(r"^default_version\s*=\s*'([^']+)'", open(control).read(), re.M)
            want = dv.group(1) if dv else None
            got = info.get("version", "")
            check(want is not None and (got == want or got == want + ".0"),
                  "provides.%s version %s agrees with default_version %s" % (ext, got, want))
    check(meta.get("version") == provides.get(meta.get("name"), {}).get("version"),
          "the distribution's version is its extension's")
    for phase, rels in meta.get("prereqs", {}).items():
        check(phase in PHASES and isinstance(rels, dict) and set(rels) <= RELATIONS,
              "prereqs.%s uses spec phases and relations" % phase)
    if "release_status" in meta:
        check(meta["release_status"] in STATUS, "release_status is one of %s" % sorted(STATUS))
    if "tags" in meta:
        check(isinstance(meta["tags"], list) and all(isinstance(t, str) and 0 < len(t) <= 255 for t in meta["tags"]),
              "tags are short strings")


main(sys.argv[1] if len(sys.argv) > 1 else "META.json")
print("meta: %d failed" % failures)
sys.exit(1 if failures else 0)
