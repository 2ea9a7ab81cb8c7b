#!/usr/bin/env python3
"""`opes smtp check` against its contract (docs/cli.md) and against real clients.

Expectations come from outside the library: the session captures of Python's
smtplib and swaks in tests/vectors/clients/ (what each client was told to send,
in <name>.expect, and every reply the recording server gave, in <name>.session),
the RFCs' dialogues, and Python's json module reading every line.
Env B = build dir. Prints N passed, N failed."""
import json
import os
import subprocess
import sys
import tempfile
from tkit import OPES, check, finish

VEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors", "clients")
KEYS = ["type", "offset", "verb", "path", "params", "bypass", "reply", "errors", "notes"]


def run(args, stdin=b""):
    p = subprocess.run([OPES, "smtp", "check"] + args, input=stdin, capture_output=True,
                       timeout=60)
    objs = []
    for line in p.stdout.decode("utf-8", "surrogateescape").splitlines():
        objs.append(json.loads(line))
    return p.returncode, objs, p.stderr


def check_keys(objs, what):
    check(all(list(o) == KEYS for o in objs), what + ": every object has the keys, in order")


# ---- the real clients ------------------------------------------------------------

def read_fixture(name):
    with open(os.path.join(VEC, name + ".expect"), encoding="utf-8") as f:
        expect = [l.rstrip("\n") for l in f]
    codes = []
    with open(os.path.join(VEC, name + ".session"), "rb") as f:
        for l in f:
            if l.startswith(b"S\t"):
                codes.append(int(l.split(b"\t")[3][:3]))
    return expect, codes[1:]  # without the greeting


def expected_objects(expect):
    """(type, offset, verb, path, params) from the capture's own description."""
    out, tls = [], False
    for l in expect:
        if l.startswith("#") or not l:
            continue
        f = l.split("\t")
        off, verb = int(f[0]), f[1]
        if verb == "tls-start":
            tls = True
            continue
        if verb == "auth-line":
            out.append(("auth", off, "AUTH", None, None))
            continue
        v = verb.upper()
        path = params = None
        if v in ("MAIL", "RCPT"):
            path = f[2]
            params = []
            for p in f[3:]:
                k, eq, val = p.partition("=")
                params.append({"keyword": k, "value": val if eq else None})
        out.append(("command", off, v, path, params))
        if v == "DATA" and len(f) == 3:
            out.append(("body", off + len("DATA\r\n"), "DATA", None, None))
    return out, tls


# Replies of the recording server a correct server does not give (see
# tests/test_session_clients.c for the reasons): (fixture, verb) -> recorded.
DIFFER = {("smtplib-helo-fallback", "EHLO"), ("swaks-helo-fallback", "EHLO"),
          ("smtplib-commands", "EXPN"), ("smtplib-bytes-bare-lf", "DATA")}

# Clients that break a rule: the first objects and their errors.
BROKEN = {
    # a bytes message with bare LF and bare CR (RFC 5321 2.3.8)
    "smtplib-bytes-bare-lf": {"body": ["data_bare_lf", "data_bare_cr"]},
    # a 1500-octet line (RFC 5321 4.5.3.1.6: 1000)
    "smtplib-dots-long-lines": {"body": ["data_long_line"]},
    # swaks leaves the first line's dot unstuffed (RFC 5321 4.5.2)
    "swaks-data-first-line-dot": {"body": ["data_dot_not_stuffed"]},
}

with open(os.path.join(VEC, "INDEX")) as f:
    names = [l.strip() for l in f if l.strip() and not l.startswith("#")]
check(len(names) >= 27, "INDEX lists the captures")

for name in names:
    expect, codes = read_fixture(name)
    path = os.path.join(VEC, name + ".client")
    rc, objs, err = run([path])
    check_keys(objs, name)
    got = [(o["type"], o["offset"], o["verb"], o["path"], o["params"]) for o in objs]
    want, tls = expected_objects(expect)
    if name == "smtplib-size-twice":
        # "mail FROM:<...> size=211 SIZE=211": the same parameter twice (501);
        # no transaction, so RCPT and DATA get 503 and the message text is
        # read as commands, as a correct server reads it
        check(rc == 1, name + ": exit 1")
        check(objs[1]["verb"] == "MAIL" and objs[1]["errors"] == ["param_duplicate"]
              and objs[1]["reply"] == 501, name + ": duplicate SIZE is 501")
        check(objs[2]["errors"] == ["need_mail"] and objs[2]["reply"] == 503, name + ": RCPT 503")
        check(objs[3]["verb"] == "DATA" and objs[3]["errors"] == ["need_mail"], name + ": DATA 503")
        continue
    if name == "swaks-lmtp":
        # LHLO is not SMTP (the checker plays SMTP): 500, and then nothing is greeted
        check(rc == 1 and objs[0]["verb"] == "LHLO" and objs[0]["reply"] == 500
              and objs[0]["errors"] == ["wrong_hello"], name + ": LHLO 500")
        check(objs[1]["errors"] == ["need_hello"] and objs[1]["reply"] == 503,
              name + ": MAIL without a greeting: 503")
        continue
    check(got == want, name + ": the objects the client's units make")
    if got != want:
        print("   got ", got, "\n   want", want, file=sys.stderr)
    # the replies: those of the recording server, where it was right
    replies = [(o["verb"], o["reply"]) for o in objs]
    check(len(replies) == len(codes), name + ": one reply per reply the real server gave")
    for (verb, r), c in zip(replies, codes):
        if (name, verb) in DIFFER:
            continue
        check(r == c, "%s: %s reply %s, the real server gave %s" % (name, verb, r, c))
    broken = BROKEN.get(name, {})
    errors = [(o["type"], o["errors"]) for o in objs if o["errors"]]
    check(errors == list(broken.items()), name + ": errors " + repr(errors))
    check(rc == (1 if broken else 0), name + ": exit status")
    if tls:
        check("tls_handshake" in objs[-1]["notes"] and objs[-1]["verb"] == "STARTTLS",
              name + ": stops at the TLS handshake, with a note")
    if name.startswith("smtplib-"):
        # smtplib's lower-case verbs are legal and noted (RFC 5321 2.4)
        check(any("case" in o["notes"] for o in objs), name + ": lower-case verbs noted")
    if "auth" in name:
        check(any("auth_not_verified" in o["notes"] and o["reply"] == 235 for o in objs),
              name + ": the AUTH exchange is accepted with a note")

# --lenient: the same deviations become notes
for name, ids in BROKEN.items():
    rc, objs, err = run(["--lenient", os.path.join(VEC, name + ".client")])
    body = [o for o in objs if o["type"] == "body"][0]
    check(rc == 0 and body["errors"] == [] and body["notes"] == ids["body"],
          name + " --lenient: notes, exit 0")
    check(body["reply"] == 250, name + " --lenient: the body is accepted")

# --one-write: swaks --pipeline sends MAIL, the RCPTs and DATA in one write (RFC 2920
# allows it) but not before the EHLO reply; as one burst, MAIL follows EHLO and the
# message follows DATA without their replies
rc, objs, err = run(["--one-write", os.path.join(VEC, "swaks-pipeline.client")])
errs = [(o["verb"], o["errors"]) for o in objs if o["errors"]]
check(rc == 1 and errs == [("MAIL", ["pipelining"]), ("DATA", ["pipelining"])],
      "--one-write: MAIL after EHLO and the body after DATA " + repr(errs))
check([o for o in objs if o["type"] == "body"][0]["errors"] == ["pipelining"],
      "--one-write: the body sent before the 354")
rc, objs, err = run([os.path.join(VEC, "swaks-pipeline.client")])
check(rc == 0, "without --one-write the client is assumed to wait where it must")

# --one-write inside a BDAT transaction: NOOP must be the last of its group (RFC 2920
# 3.1), so the NOOP and the BDAT that follow a NOOP are each sent too early: the
# error is on them, not on the body
rc, objs, err = run(["--one-write"],
                    b"EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
                    b"BDAT 3\r\nabcNOOP\r\nNOOP\r\nBDAT 1 LAST\r\nxQUIT\r\n")
check(rc == 1 and [(o["type"], o["verb"], o["errors"]) for o in objs] ==
      [("command", "EHLO", []), ("command", "MAIL", ["pipelining"]), ("command", "RCPT", []),
       ("command", "BDAT", []), ("command", "NOOP", []), ("command", "NOOP", ["pipelining"]),
       ("command", "BDAT", ["pipelining"]), ("body", "BDAT", []), ("command", "QUIT", [])],
      "--one-write: violations inside a BDAT transaction are the commands' %r" % objs)

# ---- RFC dialogues and attacks ---------------------------------------------------

# RFC 5321 D.1 (the 550 for Green is the RFC server's policy: 250 here)
d1 = (b"EHLO bar.com\r\nMAIL FROM:<Smith@bar.com>\r\nRCPT TO:<Jones@foo.com>\r\n"
      b"RCPT TO:<Green@foo.com>\r\nRCPT TO:<Brown@foo.com>\r\nDATA\r\n"
      b"Blah blah blah...\r\n...etc. etc. etc.\r\n.\r\nQUIT\r\n")
rc, objs, err = run([], d1)
check(rc == 0 and [o["reply"] for o in objs] == [250, 250, 250, 250, 250, 354, 250, 221],
      "RFC 5321 D.1 replies")
check(objs[6]["type"] == "body" and objs[6]["offset"] == d1.index(b"Blah"), "D.1 body offset")
check(objs[1]["path"] == "Smith@bar.com" and objs[1]["params"] == [], "D.1 MAIL path")

# RFC 3030 4.1: BDAT 86 LAST
bdat = (b"EHLO ymir.claremont.edu\r\nMAIL FROM:<Sam@Random.com>\r\nRCPT TO:<Susan@Random.com>\r\n"
        b"BDAT 86 LAST\r\nTo: Susan@random.com\r\nFrom: Sam@random.com\r\n"
        b"Subject: This is a bodyless test message\r\nQUIT\r\n")
rc, objs, err = run([], bdat)
check(rc == 0 and [(o["type"], o["verb"], o["reply"]) for o in objs] ==
      [("command", "EHLO", 250), ("command", "MAIL", 250), ("command", "RCPT", 250),
       ("command", "BDAT", 250), ("body", "BDAT", 250), ("command", "QUIT", 221)],
      "RFC 3030 4.1")
check(objs[4]["offset"] == bdat.index(b"To: Susan"), "BDAT body offset")

# STARTTLS with commands injected behind it (CVE-2011-0411)
rc, objs, err = run([], b"EHLO a.example\r\nSTARTTLS\r\nMAIL FROM:<evil@x.example>\r\n")
check(rc == 1 and len(objs) == 2 and objs[1]["errors"] == ["tls_injection"]
      and objs[1]["reply"] == 220, "STARTTLS injection: an error, nothing after is read")
# a ClientHello record (RFC 8446 5.1: type 22, legacy_record_version 0x0301, a length;
# 4.1.2: handshake type 1)
rc, objs, err = run([], b"EHLO a.example\r\nSTARTTLS\r\n\x16\x03\x01\x00\x05\x01\x00\x00\x01\x03")
check(rc == 0 and objs[1]["notes"] == ["tls_handshake"], "STARTTLS then a TLS record: a note")
# what only begins like one is not a handshake: injection; a header cut by the end of
# the input is incomplete
for tail, errs in ((b"\x16\x03MAIL FROM:<evil@x.example>\r\n", ["tls_injection"]),
                   (b"\x16\x03\x09\x00\x05\x01\x00", ["tls_injection"]),
                   (b"\x16\x03\x01\xff\xff\x01\x00", ["tls_injection"]),
                   (b"\x16\x03\x01\x00\x05hello", ["tls_injection"]),
                   (b"\x16", ["incomplete"]), (b"\x16\x03\x03\x00", ["incomplete"])):
    rc, objs, err = run([], b"EHLO a.example\r\nSTARTTLS\r\n" + tail)
    check(rc == 1 and len(objs) == 2 and objs[1]["errors"] == errs and objs[1]["notes"] == [],
          "STARTTLS then %r: %r" % (tail, objs[1:]))

# SMTP smuggling: <LF>.<LF> never ends the data; the smuggled commands are text
for end in (b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r", b"\r\n.\r"):
    smug = (b"EHLO a.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"
            b"Subject: x\r\n\r\nbody" + end + b"MAIL FROM:<evil@x.example>\r\n"
            b"RCPT TO:<victim@d.example>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n")
    for mode in ([], ["--lenient"]):
        rc, objs, err = run(mode, smug)
        bodies = [o for o in objs if o["type"] == "body"]
        check(rc == 1 and len(bodies) == 1 and "data_false_end" in bodies[0]["errors"],
              "smuggling %r %s: one body, false end reported" % (end, mode))
        check([o["verb"] for o in objs if o["type"] == "command"] ==
              ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"], "smuggling %r: no smuggled command" % end)

# a line over 512 octets hiding a command after a bare LF: 500, skipped whole
long_line = b"EHLO a.example\r\nNOOP " + b"x" * 600 + b"\nRCPT TO:<evil@x.example>\r\nQUIT\r\n"
rc, objs, err = run([], long_line)
check(rc == 1 and [(o["verb"], o["reply"], o["errors"]) for o in objs] ==
      [("EHLO", 250, []), ("NOOP", 500, ["line_too_long"]), ("QUIT", 221, [])],
      "an over-long line is answered 500 and skipped to its CRLF")

# the 503 cases (RFC 5321 4.1.4), AUTH (RFC 4954 4)
seq = (b"MAIL FROM:<a@b.example>\r\nEHLO a.example\r\nRCPT TO:<c@d.example>\r\n"
       b"MAIL FROM:<a@b.example>\r\nDATA\r\nAUTH PLAIN\r\nRSET\r\nAUTH LOGIN\r\nYWxpY2U=\r\n*\r\n"
       b"AUTH CRAM-MD5\r\nQUIT\r\nNOOP\r\n")
rc, objs, err = run([], seq)
check([(o["type"], o["reply"], o["errors"], o["notes"]) for o in objs] ==
      [("command", 503, ["need_hello"], []), ("command", 250, [], []),
       ("command", 503, ["need_mail"], []), ("command", 250, [], []),
       ("command", 554, ["need_rcpt"], []), ("command", 503, ["auth_in_txn"], []),
       ("command", 250, [], []), ("command", 334, [], []), ("auth", 334, [], []),
       ("auth", 501, [], ["auth_cancelled"]), ("command", 504, ["auth_mech"], []),
       ("command", 221, [], []), ("command", None, ["after_quit"], [])],
      "503 cases, AUTH, after QUIT")
check(rc == 1, "errors: exit 1")

# an input that ends inside a command, and inside a body
rc, objs, err = run([], b"EHLO a.example\r\nMAIL FROM:<a@b.exa")
check(rc == 1 and objs[-1]["errors"] == ["incomplete"] and objs[-1]["reply"] is None,
      "incomplete command")
rc, objs, err = run([], b"EHLO a.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
                        b"DATA\r\nhalf a message")
check(rc == 1 and objs[-1]["type"] == "body" and objs[-1]["errors"] == ["incomplete"],
      "incomplete body")

# BDAT lines the parser refuses but a lax relay may take (RFC 3030 2): their chunks
# are discarded, never read as commands; with no readable size, 421 and the end
txn = b"EHLO a.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
for line, chunk, ids, reply in (
        (b"BDAT 20  LAST\r\n", b"MAIL FROM:<e@x.ex>\r\n", ["syntax"], 501),
        (b"BDAT 18 LAST\tx\r\n", b"RCPT TO:<v@x.ex>\r\n", ["syntax"], 501),
        (b"BDAT 18" + b" " * 600 + b"\r\n", b"RCPT TO:<w@x.ex>\r\n", ["line_too_long"], 500)):
    rc, objs, err = run([], txn + line + chunk + b"RSET\r\nQUIT\r\n")
    check(rc == 1 and [(o["verb"], o["reply"], o["errors"]) for o in objs] ==
          [("EHLO", 250, []), ("MAIL", 250, []), ("RCPT", 250, []), ("BDAT", reply, ids),
           ("RSET", 250, []), ("QUIT", 221, [])],
          "refused %r: its chunk is discarded %r" % (line[:20], objs))
rc, objs, err = run([], txn + b"BDAT 18446744073709551616 LAST\r\nMAIL FROM:<e@x.ex>\r\nQUIT\r\n")
check(rc == 1 and [(o["verb"], o["reply"], o["errors"]) for o in objs] ==
      [("EHLO", 250, []), ("MAIL", 250, []), ("RCPT", 250, []),
       ("BDAT", 421, ["bad_number", "framing_lost"])],
      "BDAT size over 2^64-1: 421, framing lost, nothing more read %r" % objs)

# the input ends inside a refused BDAT's chunk: a body object of its own (not a stale
# one from an earlier message)
for pre in (txn, txn + b"DATA\r\nx\r\n.\r\n"):
    for line in (b"BDAT 20  LAST\r\n", b"BDAT 20 LAST\r\n"):
        inp = pre + line + b"MAIL FR"
        rc, objs, err = run([], inp)
        check(rc == 1 and objs[-1] == {"type": "body", "offset": len(pre) + len(line),
                                       "verb": "BDAT", "path": None, "params": None,
                                       "bypass": None, "reply": None, "errors": ["incomplete"], "notes": []},
              "EOF inside a refused chunk %r: %r" % (inp[-30:], objs[-1]))

# SIZE over the advertised maximum (RFC 1870 6.1), too many recipients (RFC 5321
# 4.5.3.1.10: 452 after 100)
rc, objs, err = run([], b"EHLO a.example\r\nMAIL FROM:<a@b.example> SIZE=52428801\r\n")
check(objs[1]["reply"] == 552 and objs[1]["errors"] == ["size_exceeded"], "SIZE over 52428800")
many = b"EHLO a.example\r\nMAIL FROM:<a@b.example>\r\n" + b"".join(
    b"RCPT TO:<r%d@d.example>\r\n" % i for i in range(101))
rc, objs, err = run([], many)
check([o["reply"] for o in objs[2:]] == [250] * 100 + [452] and
      objs[-1]["errors"] == ["too_many_rcpts"], "the 101st recipient: 452")

# XOPES (docs/opes-smtp.md 8): the bypass requests bound to the transaction (MAIL)
# and to each recipient (RCPT), decoded (8.1: split on literal commas, then xtext);
# a malformed value is 501 (param_value), the parameter twice 501 (param_duplicate),
# over 500 octets 501 (param_too_long)
xo = (b"EHLO a.example\r\n"
      b"MAIL FROM:<alice@example.org> XOPES-BYPASS=http://opes.example.net/sys?site+3D7654\r\n"
      b"RCPT TO:<carol@example.net>\r\n"
      b"RCPT TO:<dave@example.net> XOPES-BYPASS=http://scan.example.net/lang,http://b.example/x+2Cy\r\n"
      b"RCPT TO:<erin@example.net> XOPES-BYPASS=opes/lang\r\n"
      b"RCPT TO:<fred@example.net> XOPES-BYPASS=* XOPES-BYPASS=*\r\n"
      b"RCPT TO:<gina@example.net> XOPES-BYPASS=http://a.example/" + b"x" * 484 + b"\r\n"
      b"DATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n")
rc, objs, err = run([], xo)
check_keys(objs, "XOPES")
check([(o["verb"], o["reply"], o["errors"]) for o in objs] ==
      [("EHLO", 250, []), ("MAIL", 250, []), ("RCPT", 250, []), ("RCPT", 250, []),
       ("RCPT", 501, ["param_value"]), ("RCPT", 501, ["param_duplicate"]),
       ("RCPT", 501, ["param_too_long"]), ("DATA", 354, []), ("DATA", 250, []),
       ("QUIT", 221, [])], "XOPES: replies %r" % [(o["verb"], o["reply"]) for o in objs])
check(objs[1]["bypass"] == ["http://opes.example.net/sys?site=7654"], "XOPES: MAIL request")
check(objs[2]["bypass"] is None and objs[0]["bypass"] is None, "XOPES: no request: null")
check(objs[3]["bypass"] == ["http://scan.example.net/lang", "http://b.example/x,y"],
      "XOPES: RCPT request, two items")
check(all(o["bypass"] is None for o in objs[4:7]), "XOPES: refused commands: null")
check(objs[8]["type"] == "body" and objs[8]["bypass"] ==
      {"mail": ["http://opes.example.net/sys?site=7654"],
       "rcpt": [{"path": "carol@example.net", "bypass": None},
                {"path": "dave@example.net",
                 "bypass": ["http://scan.example.net/lang", "http://b.example/x,y"]}]},
      "XOPES: the body carries the transaction's requests %r" % objs[8]["bypass"])
check(rc == 1, "XOPES: errors: exit 1")
# an RSET discards the requests (8.3): the next transaction has none
rc, objs, err = run([], b"EHLO a.example\r\nMAIL FROM:<a@b.example> XOPES-BYPASS=*\r\nRSET\r\n"
                        b"MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
                        b"DATA\r\nx\r\n.\r\n")
check(objs[1]["bypass"] == ["*"] and objs[-1]["bypass"] ==
      {"mail": None, "rcpt": [{"path": "c@d.example", "bypass": None}]},
      "XOPES: RSET discards the MAIL request %r" % objs[-1]["bypass"])

# usage
p = subprocess.run([OPES, "smtp", "check", "--bogus"], capture_output=True)
check(p.returncode == 64 and p.stdout == b"", "unknown option: 64")
p = subprocess.run([OPES, "smtp", "check", "/nonexistent/file"], capture_output=True)
check(p.returncode == 2 and p.stdout == b"", "unreadable input: 2")
with tempfile.NamedTemporaryFile() as t:
    rc, objs, err = run([t.name])
    check(rc == 0 and objs == [], "an empty input: nothing, exit 0")

finish()
