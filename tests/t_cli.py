#!/usr/bin/env python3
"""The opes tool against its contract (docs/cli.md): streams, JSON, exit codes.

Independent expectations: Python's json module reads every line; the RFC
grammar decides what is valid; the surrogateescape rule is checked by
decoding with Python's own codec. Env B = build dir. Prints N passed, N failed."""
import json
import os
import subprocess
import sys
from tkit import OPES, check, finish



def run(args, stdin=b""):
    p = subprocess.run([OPES] + args, input=stdin, capture_output=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def lines(out):
    return [json.loads(l) for l in out.decode("utf-8", "surrogateescape").splitlines()]


# --help, --version, usage errors
rc, out, err = run(["--help"])
check(rc == 0 and b"usage: opes" in out and err == b"", "--help on stdout, exit 0")
rc, out, err = run(["--version"])
check(rc == 0 and out.startswith(b"opes 0.") and out.endswith(b"\n"), "--version")
rc, out, err = run([])
check(rc == 64 and out == b"", "no command: usage error 64, nothing on stdout")
rc, out, err = run(["no-such-command"])
check(rc == 64 and out == b"" and b"unknown command" in err, "unknown command: 64")
rc, out, err = run(["smtp", "parse", "--bogus"])
check(rc == 64 and out == b"", "unknown option: 64")
rc, out, err = run(["smtp", "parse", "/nonexistent/file"])
check(rc == 2 and out == b"", "unreadable input: 2")
rc, out, err = run(["smtp", "parse", "--offer", "SIZE=1\r\n250 X"])
check(rc == 64 and out == b"", "an option value that would inject a line break: 64")

# features: one JSON object
rc, out, err = run(["features"])
f = json.loads(out)
check(rc == 0 and set(f) == {"version", "header_version", "features"}, "features keys")
check(isinstance(f["features"].get("zlib"), bool), "features.zlib is a boolean")

# smtp parse: RFC 5321 Appendix D.1 client lines (rfc-notes-2.md 6.1), strict
d1 = (b"EHLO bar.com\r\nMAIL FROM:<Smith@bar.com>\r\nRCPT TO:<Jones@foo.com>\r\n"
      b"RCPT TO:<Green@foo.com>\r\nRCPT TO:<Brown@foo.com>\r\nDATA\r\nQUIT\r\n")
rc, out, err = run(["smtp", "parse"], d1)
objs = lines(out)
check(rc == 0 and len(objs) == 7, "Appendix D.1: 7 objects, exit 0")
check([o["verb"] for o in objs] == ["EHLO", "MAIL", "RCPT", "RCPT", "RCPT", "DATA", "QUIT"],
      "Appendix D.1 verbs")
check(objs[1]["path"] == "Smith@bar.com" and objs[1]["params"] == [], "MAIL path, no params")
check(all(o["ok"] and o["reply"] is None and o["error"] is None for o in objs), "all ok")
want_off, o_ = [], 0
for l in d1.split(b"\r\n")[:-1]:
    want_off.append(o_)
    o_ += len(l) + 2
check([o["offset"] for o in objs] == want_off, "offsets")
keys = ["offset", "verb", "known", "ok", "status", "path", "params", "argument", "reply",
        "enhanced", "error", "error_offset", "notes"]
check(all(list(o) == keys for o in objs), "every object has every key, in order")

# null path is "", parameters in order with null for absent values
rc, out, err = run(["smtp", "parse", "--offer-all"],
                   b"MAIL FROM:<> SIZE=10 SMTPUTF8 BODY=8BITMIME\r\n")
o = lines(out)[0]
check(rc == 0 and o["path"] == "", "null reverse-path is \"\"")
check(o["params"] == [{"keyword": "SIZE", "value": "10"}, {"keyword": "SMTPUTF8", "value": None},
                      {"keyword": "BODY", "value": "8BITMIME"}], "params in order, null value")

# errors: exit 1, reply codes (RFC 5321 4.1.1.11: 555 for a parameter not offered)
rc, out, err = run(["smtp", "parse"], b"MAIL FROM:<a@b.example> SIZE=10\r\n")
o = lines(out)[0]
check(rc == 1 and o["ok"] is False and o["reply"] == 555, "SIZE not offered: 555, exit 1")
check(o["status"] == "OPES_EPARAM_UNKNOWN" and isinstance(o["error"], str), "status name")
rc, out, err = run(["smtp", "parse"], b"DA\rTA\r\n")
o = lines(out)[0]
check(rc == 1 and o["ok"] is False and o["verb"] != "DATA", "DA\\rTA is not DATA")

# notes: lenient space after the colon
rc, out, err = run(["smtp", "parse", "--lenient"], b"MAIL FROM: <a@b.example>\r\n")
o = lines(out)[0]
check(rc == 0 and o["ok"] and "space_after_colon" in o["notes"], "lenient note")
rc, out, err = run(["smtp", "parse", "--strict"], b"MAIL FROM: <a@b.example>\r\n")
check(rc == 1 and lines(out)[0]["reply"] == 501, "strict: 501")

# input ending inside a line
rc, out, err = run(["smtp", "parse"], b"NOOP\r\nQUI")
objs = lines(out)
check(rc == 1 and objs[-1]["status"] == "OPES_INCOMPLETE", "truncated input reported")

# bytes that are not UTF-8: \udcXX, recoverable with surrogateescape
raw = b"NOOP caf\xc3\xa9 \xff\xfe end\r\n"
rc, out, err = run(["smtp", "parse", "--lenient"], raw)
check(b"\\udcff\\udcfe" in out, "invalid bytes written as \\udcXX")
o = lines(out)[0]
arg = o["argument"]
if arg is not None:
    check(arg.encode("utf-8", "surrogateescape") == b"caf\xc3\xa9 \xff\xfe end",
          "surrogateescape recovers the exact bytes")

# xtext (RFC 4954 5.1 example: e=mc2@example.com <-> e+3Dmc2@example.com)
rc, out, err = run(["xtext", "encode", "e=mc2@example.com"])
check(rc == 0 and out == b"e+3Dmc2@example.com", "xtext encode")
rc, out, err = run(["xtext", "decode"], b"e+3Dmc2@example.com")
check(rc == 0 and out == b"e=mc2@example.com", "xtext decode from stdin")
rc, out, err = run(["xtext", "decode", "a+4"])
check(rc == 1 and out == b"", "malformed xtext: 1, nothing on stdout")

finish()
