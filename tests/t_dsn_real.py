#!/usr/bin/env python3
"""`opes dsn parse` on real DSNs made by real MTAs (Postfix and Exim from
Debian, on loopback: tests/fixtures/dsn/make-fixtures.sh, README.md there).

Independent expectation: tests/fixtures/dsn/expect.py reads each fixture with
Python's email package; nothing is written by hand per fixture and nothing
comes from libopes. Env B = build dir. Prints N passed, N failed.

Comparison, field by field (one check per field, per recipient, per
returned header):
  - every string on both sides goes through expect.norm(): unfolded (a line
    break before WSP removed), other CR/LF removed, each run of SP/HTAB made
    one SP, leading/trailing SP removed;
  - types (*_type), action, report_type and extension / header names are
    compared case-insensitively (RFC 3464 2.1: types and field names are
    case-insensitive; RFC 5322 1.2.2);
  - arrival_date, last_attempt_date, will_retry_until are compared as
    instants with their zone offset (email.utils.parsedate_to_datetime on
    both sides), so a trailing comment such as "(UTC)" kept or dropped by the
    parser does not matter; a value that does not parse is compared as text;
  - a key absent on one side equals an empty value (null, "", [], false) on
    the other; any other missing or extra key fails.
Each report is also given in CRLF form (its wire form).
For not-dsn/: exit status 2 and {"dsn": false}. For real.mbox with --mbox:
one line per message, `offset` = the byte offset of its From_ line, each
object equal to the expectation for the fixture it came from; real.mbox.gz
gives the same lines in a zlib build and fails clearly without zlib.
"""
import email.utils
import gzip
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "fixtures", "dsn")
sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, FIX)
import expect  # noqa: E402
import mta_driver  # noqa: E402
from tkit import OPES, check, finish  # noqa: E402 (after the path set-up)


DATES = ("arrival_date", "last_attempt_date", "will_retry_until")
CASELESS = ("action", "report_type")


def run(args):
    p = subprocess.run([OPES] + args, capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def empty(v):
    return v is None or v == "" or v == [] or v is False


def same_scalar(key, a, b):
    if isinstance(a, str) and isinstance(b, str):
        a, b = expect.norm(a), expect.norm(b)
        if key in DATES:
            try:
                da = email.utils.parsedate_to_datetime(a)
                db = email.utils.parsedate_to_datetime(b)
                return da == db and da.utcoffset() == db.utcoffset()
            except (TypeError, ValueError):
                return a == b
        if key.endswith("_type") or key in CASELESS:
            return a.lower() == b.lower()
    return a == b


def same_pairs(where, exp, act):
    """extensions and returned_headers: [{"name", "value"}] in order."""
    exp = exp or []
    act = act or []
    check(isinstance(act, list) and len(act) == len(exp),
          "%s: %d entries expected, got %r" % (where, len(exp), act))
    if not isinstance(act, list):
        return
    for i, (e, a) in enumerate(zip(exp, act)):
        ok = (isinstance(a, dict) and isinstance(a.get("name"), str)
              and isinstance(a.get("value"), str)
              and a["name"].lower() == e["name"].lower()
              and expect.norm(a["value"]) == e["value"])
        check(ok, "%s[%d]: expected %r, got %r" % (where, i, e, a))


def compare_obj(where, exp, act, skip=()):
    keys = [k for k in exp if k not in skip]
    keys += [k for k in act if k not in exp and k not in skip]
    for k in keys:
        e, a = exp.get(k), act.get(k)
        w = "%s: %s" % (where, k)
        if k in ("extensions", "returned_headers"):
            same_pairs(w, e, a)
        elif k == "recipients":
            e = e or []
            a = a or []
            check(isinstance(a, list) and len(a) == len(e),
                  "%s: %d recipients expected, got %d" % (w, len(e), len(a)))
            for i, (er, ar) in enumerate(zip(e, a if isinstance(a, list) else [])):
                if not isinstance(ar, dict):
                    check(False, "%s[%d]: not an object: %r" % (w, i, ar))
                    continue
                compare_obj("%s[%d]" % (w, i), er, ar)
        elif k not in exp or k not in act:
            check(empty(e) and empty(a), "%s: expected %r, got %r" % (w, e, a))
        else:
            check(same_scalar(k, e, a), "%s: expected %r, got %r" % (w, e, a))


def decode(out):
    return out.decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------- the fixtures
# (these checks need no libopes: the fixtures, the mbox and the expectation
# code must agree with each other whatever the tool does)
reports = (mta_driver.mbox_files([os.path.join(FIX, "postfix")])
           + mta_driver.mbox_files([os.path.join(FIX, "exim")]))
not_dsn = mta_driver.mbox_files([os.path.join(FIX, "not-dsn")])
check(len(reports) >= 20 and len(not_dsn) >= 2,
      "fixtures present (%d reports, %d not-dsn)" % (len(reports), len(not_dsn)))
for path in reports:
    check(expect.expect_file(path).get("dsn") is True,
          "%s: Python's email package sees a DSN" % os.path.relpath(path, FIX))
for path in not_dsn:
    check(expect.expect_file(path) == {"dsn": False},
          "%s: Python's email package sees no DSN" % os.path.relpath(path, FIX))
MBOX = os.path.join(FIX, "real.mbox")
with open(MBOX, "rb") as f:
    mbox_bytes = f.read()
with tempfile.TemporaryDirectory() as tmp:
    mta_driver.write_mbox(os.path.join(tmp, "m"), reports)
    with open(os.path.join(tmp, "m"), "rb") as f:
        check(f.read() == mbox_bytes, "real.mbox is exactly the reports, mboxrd-escaped")
with gzip.open(MBOX + ".gz", "rb") as f:
    check(f.read() == mbox_bytes, "real.mbox.gz holds real.mbox")

# ---------------------------------------------------------------- the tool
rc, out, err = run(["dsn", "parse", "--help"]) if os.path.exists(OPES) else (-1, b"", b"")
if not os.path.exists(OPES):
    check(False, "%s does not exist: build it first (make)" % OPES)
elif rc == 64 and b"unknown command" in err:
    check(False, "`opes dsn parse` is missing from %s (unknown command 'dsn'): "
          "every real-MTA fixture below is unchecked" % OPES)
else:
    for path in reports:
        name = os.path.relpath(path, FIX)
        exp = expect.expect_file(path)
        rc, out, err = run(["dsn", "parse", path])
        check(rc == 0, "%s: exit 0, got %d (%s)" % (name, rc, err.decode(errors="replace")))
        try:
            act = json.loads(decode(out))
        except ValueError:
            check(False, "%s: output is one JSON object: %r" % (name, out[:200]))
            continue
        check(act.get("dsn") is True, "%s: dsn true" % name)
        compare_obj(name, exp, act, skip=("dsn",))

    # the same reports in their wire form (CRLF), as a filter or an MTA hook
    # would hand them over: the expectation is recomputed from the CRLF bytes
    with tempfile.TemporaryDirectory() as tmp:
        for path in reports:
            name = os.path.relpath(path, FIX) + " (CRLF)"
            with open(path, "rb") as f:
                crlf = f.read().replace(b"\n", b"\r\n")
            tpath = os.path.join(tmp, "crlf.eml")
            with open(tpath, "wb") as f:
                f.write(crlf)
            rc, out, err = run(["dsn", "parse", tpath])
            check(rc == 0, "%s: exit 0, got %d" % (name, rc))
            try:
                act = json.loads(decode(out))
            except ValueError:
                check(False, "%s: output is one JSON object: %r" % (name, out[:200]))
                continue
            compare_obj(name, expect.expect_bytes(crlf), act, skip=("dsn",))

    for path in not_dsn:
        name = os.path.relpath(path, FIX)
        rc, out, err = run(["dsn", "parse", path])
        check(rc == 2, "%s: exit 2, got %d" % (name, rc))
        try:
            act = json.loads(decode(out))
        except ValueError:
            act = None
        check(act == {"dsn": False}, "%s: {\"dsn\": false}, got %r" % (name, out[:200]))

    # ------------------------------------------------------------ the mbox
    mbox = MBOX
    data = mbox_bytes
    offsets, pos = [], 0
    while True:
        if data.startswith(b"From ", pos):
            offsets.append(pos)
        nl = data.find(b"\n", pos)
        if nl < 0:
            break
        pos = nl + 1
    check(len(offsets) == len(reports),
          "real.mbox holds every report (%d From_ lines, %d reports)"
          % (len(offsets), len(reports)))
    rc, out, err = run(["dsn", "parse", "--mbox", mbox])
    check(rc == 0, "--mbox real.mbox: exit 0, got %d (%s)" % (rc, err.decode(errors="replace")))
    lines = decode(out).splitlines()
    check(len(lines) == len(reports), "--mbox: %d lines for %d messages"
          % (len(lines), len(reports)))
    for i, (line, path) in enumerate(zip(lines, reports)):
        name = "real.mbox#%d (%s)" % (i, os.path.relpath(path, FIX))
        try:
            act = json.loads(line)
        except ValueError:
            check(False, "%s: not JSON: %r" % (name, line[:200]))
            continue
        check(act.get("offset") == offsets[i], "%s: offset %r, expected %d"
              % (name, act.get("offset"), offsets[i]))
        check(act.get("dsn") is True, "%s: dsn true" % name)
        compare_obj(name, expect.expect_file(path), act, skip=("dsn", "offset"))

    rc_f, out_f, _ = run(["features"])
    zlib = bool(rc_f == 0 and json.loads(out_f).get("features", {}).get("zlib"))
    rc, outz, err = run(["dsn", "parse", "--mbox", mbox + ".gz"])
    if zlib:
        check(rc == 0 and outz == out, "--mbox real.mbox.gz: the same lines as real.mbox")
    else:
        check(rc != 0 and (b"gzip" in err.lower() or b"zlib" in err.lower()),
              "--mbox real.mbox.gz without zlib: fails and says why (%d, %r)" % (rc, err[:200]))

finish()
