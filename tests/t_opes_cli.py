#!/usr/bin/env python3
"""Whole OPES flows through the opes tool (docs/opes-smtp.md, docs/cli.md):
trace add / trace show / reply / bypass decide.

Independent expectations: Python's email package (RFC 5322 parser, policy
default) reads every message the tool writes; smtplib's own reply reader
reads the traced reply from a socket; the spec's examples give the wire
words. Env B = build dir. Prints N passed, N failed."""
import email
import email.policy
import json
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
from tkit import OPES, check, finish



def run(args, stdin=b""):
    p = subprocess.run([OPES] + args, input=stdin, capture_output=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


SYS1 = "http://opes.example.net/sys?site=7654"
SYS2 = "https://gw.example.org/opes"
PROC1 = "http://mx1.example.net/opes"
AV = "http://scan.example.net/av"
LANG = "http://scan.example.net/lang"
SPAM = "https://gw.example.org/spam;v=2"  # a ";" inside: written in <>

MSG = (b"Received: from a.example (a.example [192.0.2.1])\r\n"
       b"\tby b.example with ESMTP id 1; Mon, 23 Nov 2026 10:00:00 +0000\r\n"
       b"From: Alice <alice@a.example>\r\nTo: bob@b.example\r\nSubject: Test\r\n"
       b"Message-ID: <1@a.example>\r\n\r\nHi, this is a test!\r\n")


def parse(b):
    return email.message_from_bytes(b, policy=email.policy.default)


def show(b):
    rc, out, err = run(["trace", "show"], b)
    return rc, (json.loads(out) if out else None)


# ---- trace add: first system (RFC 4902 4: MUST add tracing headers) ------
args1 = ["trace", "add", "--system", SYS1, "--privacy", "https://example.net/privacy",
         "--consent", "recipient", "--consent-by", "policy", "--processor", PROC1,
         "--service", AV, "--service", LANG, "--action", "modified"]
rc, m1, err = run(args1, MSG)
check(rc == 0 and err == b"", "trace add exits 0, nothing on stderr")
check(m1.endswith(MSG), "the original message follows byte for byte (prepend, no edit)")
block1 = m1[:len(m1) - len(MSG)]
check(block1.startswith(b"OPES-System: ") and b"\r\nOPES-Via: " in block1,
      "the block is OPES-System then OPES-Via (spec 3.5)")
check(all(len(l) <= 998 for l in block1.split(b"\r\n")), "block lines <= 998 (RFC 5322 2.1.1)")
check(b"\n" not in block1.replace(b"\r\n", b""), "no bare LF in the block")
p = parse(m1)
check(not p.defects and all(not v.defects if hasattr(v, "defects") else True
                            for v in p.values()), "email package: no defects")
check(p.keys()[:2] == ["OPES-System", "OPES-Via"], "email package sees the fields first")
check(SYS1 in str(p["OPES-System"]) and "consent=recipient" in str(p["OPES-System"]),
      "email package: the unfolded OPES-System value")
check(p["Subject"] == "Test" and p.get_content().startswith("Hi,"), "message intact after it")

# ---- trace add: a second system downstream (LF line ends, as on disk) ----
m1_lf = m1.replace(b"\r\n", b"\n")
rc, m2, err = run(["trace", "add", "--system", SYS2, "--service", SPAM, "--action",
                   "none", "--bypass", "refused"], m1_lf)
check(rc == 0 and m2.endswith(m1_lf), "second system: prepended, rest untouched")
check(b"\r" not in m2, "LF input gets an LF block")
check(b"<" + SPAM.encode() + b">" in m2, "an id with ';' is written in <> (spec 3.1)")
p2 = parse(m2)
check(p2.keys()[:4] == ["OPES-System", "OPES-Via", "OPES-System", "OPES-Via"],
      "two blocks, newest on top")

# ---- trace show: path order, oldest first (spec 3.5) ---------------------
rc, t = show(m2)
check(rc == 0 and t["valid"] is True and t["errors"] == [], "trace valid, exit 0")
check([s["id"] for s in t["systems"]] == [SYS1, SYS2], "systems oldest first")
check(t["systems"][0]["params"] == {"privacy": "https://example.net/privacy",
                                    "consent": "recipient", "consent-by": "policy"},
      "system params read back exactly")
check([(s["id"], s["system"]) for s in t["services"]] ==
      [(PROC1, SYS1), (AV, SYS1), (LANG, SYS1), (SPAM, SYS2)], "services in path order")
check(t["services"][0]["params"] == {"role": "processor"}, "processor entry")
check(t["services"][2]["params"] == {"action": "modified"}, "service action")
check(t["services"][3]["params"] == {"action": "none", "bypass": "refused"},
      "refused bypass is traced (spec 3.3)")
check(t["bypass"] == [], "no bypass request")

# ---- trace show: a message without trace, an invalid trace, not a message
rc, t = show(MSG)
check(rc == 0 and t == {"valid": True, "systems": [], "services": [], "bypass": [],
                        "errors": []}, "no trace: valid and empty")
orphan = b"OPES-Via: http://nobody.example/, " + AV.encode() + b"\r\n" + MSG
rc, t = show(orphan)
check(rc == 1 and t["valid"] is False and t["errors"][0]["status"] == "OPES_EBAD_TRACE",
      "an OPES-Via without its OPES-System: invalid, exit 1 (spec 3.6)")
bad = b"OPES-System: not a uri\r\n" + MSG
rc, t = show(bad)
check(rc == 1 and t["valid"] is False and t["errors"][0]["field"] == "OPES-System",
      "a malformed OPES-System: invalid")
rc, out, err = run(["trace", "show"], b"\x00\x01\x02 no header here")
check(rc == 2 and out == b"", "not a message: exit 2, nothing on stdout")
byp = b"OPES-Bypass: " + AV.encode() + b", <" + SPAM.encode() + b">\r\n" + MSG
rc, t = show(byp)
check(rc == 0 and t["bypass"] == [AV, SPAM], "OPES-Bypass items reported")

# ---- refusals: a value that would inject a line break (docs/cli.md) -----
for opt, val in (("--system", "http://a.example/\r\nX-Evil: 1"),
                 ("--privacy", "http://a.example/\nX-Evil: 1"),
                 ("--processor", "http://a.example/\rX")):
    a = ["trace", "add", "--system", SYS1] + ([opt, val] if opt != "--system" else [])
    if opt == "--system":
        a = ["trace", "add", "--system", val]
    rc, out, err = run(a, MSG)
    check(rc == 64 and out == b"", "trace add refuses %s with a line break: 64, no output" % opt)
rc, out, err = run(["trace", "add", "--system", SYS1, "--service", "http://s.example/\nX: y"], MSG)
check(rc == 64 and out == b"", "trace add refuses a service id with LF")
rc, out, err = run(["trace", "add", "--system", "not-absolute"], MSG)
check(rc == 64 and out == b"", "trace add refuses a relative id")
rc, out, err = run(["trace", "add", "--action", "modified", "--system", SYS1], MSG)
check(rc == 64 and out == b"", "--action without a --service before it: 64")

# ---- a service deleted a trace field: caught (RFC 4902 3.1) -------------
# (the tool cannot run services; the library's test_trace drives that flow.
#  Here: what the tool prints is what the library verified.)

# ---- reply: the traced rejection, read by smtplib's reply reader ---------
rc, out, err = run(["reply", "--code", "550", "--status", "5.7.1", "--system", SYS1,
                    "--service", AV, "--text", "Message rejected by OPES service",
                    "--bypassable"])
check(rc == 0 and out.endswith(b"\r\n"), "reply: exit 0, CRLF lines")
lines = out.split(b"\r\n")[:-1]
check(all(len(l) + 2 <= 512 for l in lines), "every reply line fits 512 with CRLF")
check([l[:10] for l in lines[:-1]] == [b"550-5.7.1 "] * (len(lines) - 1) and
      lines[-1].startswith(b"550 5.7.1 "), "one code, one enhanced code on every line")
check(lines[1] == b"550-5.7.1 OPES-System: " + SYS1.encode() and
      lines[2] == b"550-5.7.1 OPES-Via: " + AV.encode(), "spec 6 example lines")
a, b = socket.socketpair()
a.sendall(out)
a.close()
cli = smtplib.SMTP()
cli.sock = b
code, msg = cli.getreply()
b.close()
check(code == 550 and b"OPES-System: " + SYS1.encode() in msg and
      b"OPES-Via: " + AV.encode() in msg, "smtplib reads one 550 reply carrying the trace")
rc, out, err = run(["reply", "--code", "550", "--system", SYS1, "--service", AV, "--text",
                    "x\r\n250 ok"])
check(rc == 64 and out == b"", "reply refuses a text with CRLF")
rc, out, err = run(["reply", "--code", "250", "--system", SYS1, "--service", AV, "--text", "x"])
check(rc == 64 and out == b"", "reply refuses a success code")
rc, out, err = run(["reply", "--code", "550", "--system", "http://x.example/" + "a" * 600,
                    "--service", AV, "--text", "x"])
check(rc == 64 and out == b"", "an id too long for one reply line is refused, not split")

# ---- bypass decide: the flows of spec 7 ---------------------------------
svc = [
    {"id": AV, "system": SYS1, "processor": PROC1, "phase": "message", "bypassable": False},
    {"id": LANG, "system": SYS1, "processor": PROC1, "phase": "message", "bypassable": True},
    {"id": "http://rcpt.example.net/check", "system": SYS1, "phase": "rcpt",
     "bypassable": True},
    {"id": "http://other.example/x", "system": SYS2, "phase": "message", "bypassable": True},
]
sf = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
json.dump(svc, sf)
sf.close()


def decide(extra, msg=MSG):
    rc, out, err = run(["bypass", "decide", "--services", sf.name] + extra, msg)
    return rc, (json.loads(out) if out else None), err


def table(d):
    return [[(s["decision"], s["reason"]) for s in r["services"]] for r in d["recipients"]]


# no request: everything applies
rc, d, _ = decide(["--rcpt", "a@x.example"])
check(rc == 0 and table(d) == [[("apply", "no_request")] * 4], "no request: all apply")
# via the header: the named service only; RCPT-phase service out of reach
hdr = b"OPES-Bypass: " + LANG.encode() + b"\r\n" + MSG
rc, d, _ = decide(["--rcpt", "a@x.example"], hdr)
check(table(d) == [[("apply", "no_request"), ("bypass", "matched_id"),
                    ("apply", "no_request"), ("apply", "no_request")]],
      "header request bypasses the named message service")
check(d["recipients"][0]["services"][1]["trace"]["action"] == "bypassed", "traced as bypassed")
hdr_star = b"OPES-Bypass: *\r\n" + MSG
rc, d, _ = decide(["--rcpt", "a@x.example"], hdr_star)
check(table(d) == [[("refused", "not_bypassable"), ("bypass", "wildcard"),
                    ("refused", "too_late"), ("bypass", "wildcard")]],
      "header '*': malware scanner refused, RCPT service too late (RFC 4902 3.2)")
check(d["recipients"][0]["services"][2]["trace"]["bypass"] == "too-late",
      "too-late traced (spec 3.3)")
# via MAIL (xtext on the wire: '=' is +3D)
rc, d, _ = decide(["--mail-bypass", "http://opes.example.net/sys?site+3D7654",
                   "--rcpt", "a@x.example", "--rcpt", "b@x.example"])
check(d["mail_bypass"] == [SYS1], "MAIL value xtext-decoded")
check(table(d) == [[("refused", "not_bypassable"), ("bypass", "matched_system"),
                    ("bypass", "matched_system"), ("apply", "no_request")]] * 2 and
      d["groups"] == 1, "MAIL request naming the system: all of its services, every recipient")
# via RCPT for one of two recipients
rc, d, _ = decide(["--rcpt", "a@x.example", "--rcpt", "b@x.example", "--rcpt-bypass", LANG])
check(table(d)[0] == [("apply", "no_request")] * 4 and
      table(d)[1][1] == ("bypass", "matched_id") and d["groups"] == 2,
      "RCPT request: that recipient only; two copies (groups)")
# a spelling difference never widens to '*' (RFC 3986 6.2.2)
rc, d, _ = decide(["--rcpt", "a@x.example", "--rcpt-bypass", "HTTP://Scan.Example.NET/lang"])
check(table(d)[0] == [("apply", "no_request"), ("bypass", "matched_id"),
                      ("apply", "no_request"), ("apply", "no_request")],
      "HTTP://Scan.Example.NET/lang matches the lang service only")
# an unknown URI is '*' (RFC 3897 4.3)
rc, d, _ = decide(["--rcpt", "a@x.example", "--rcpt-bypass", "http://unknown.example/"])
check(table(d)[0] == [("refused", "not_bypassable"), ("bypass", "unknown_as_wildcard"),
                      ("bypass", "unknown_as_wildcard"), ("bypass", "unknown_as_wildcard")],
      "an unknown identifier bypasses what may be bypassed")
# refusals of malformed input
rc, d, err = decide(["--rcpt", "a@x.example", "--mail-bypass", "a=b"])
check(rc == 64 and d is None, "a MAIL value that is not xtext: 64")
rc, d, err = decide(["--rcpt", "a@x.example"], b"OPES-Bypass: <http://a.example/\r\n" + MSG)
check(rc == 1 and d["errors"] and d["header_bypass"] == ["*"],
      "a malformed OPES-Bypass field: reported, read as '*' (RFC 3897 4)")
nul = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
nul.write('[{"id": "http://a.example/", "phase": "message\\u0000x"}]')
nul.close()
rc, out, err = run(["bypass", "decide", "--services", nul.name, "--rcpt", "a@b"], MSG)
check(rc == 64 and out == b"", "a phase with an embedded NUL is no phase name: 64")
os.unlink(nul.name)
rc, out, err = run(["bypass", "decide", "--services", "/nonexistent", "--rcpt", "a@b"], MSG)
check(rc == 64 and out == b"", "unreadable services file: 64")
os.unlink(sf.name)

finish()
