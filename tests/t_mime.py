#!/usr/bin/env python3
"""The MIME module against Python's email, base64 and quopri modules (the
independent readers). tests/test_mime is the driver:

  test_mime --walk FILE [FLAGS]   prints "S <status>", then for each entity
                                  "P <depth> <type/subtype> <kind> <hex of the
                                  decoded body, or ->"
  test_mime --decode CTE SEED     decodes stdin in pieces, prints hex and the
                                  decoder flags

Checks: for each message, the part tree (depth, content type, whether it is a
multipart, an enclosed message or a leaf) equals the one
email.message_from_bytes(policy=email.policy.default) builds, and every leaf's
decoded body equals Python's get_payload(decode=True). For the decoders:
RFC 4648 section 10 vectors, random data encoded by base64 and quopri and
decoded back under random splits, and quopri's own decoder on line-end white
space and bad escapes. Env B = build dir. Prints N passed, N failed."""
import base64
import binascii
import email
import email.policy
import os
import quopri
import random
import subprocess
import sys
import tempfile
from tkit import B, check, finish

DRIVER = os.path.join(B, "tests", "test_mime")


def walk(msg, flags=0):
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(msg)
        path = f.name
    try:
        args = [DRIVER, "--walk", path] + (["lf"] if flags else [])
        out = subprocess.run(args, capture_output=True, timeout=60)
    finally:
        os.unlink(path)
    lines = out.stdout.decode("ascii").splitlines()
    check("SPLIT-DIFFERS" not in lines, "walk independent of the split")
    status = lines[0].split(" ", 1)[1] if lines and lines[0].startswith("S ") else "?"
    parts = []
    for l in lines:
        if l.startswith("P "):
            _, depth, ctype, kind, hx = l.split(" ")
            parts.append((int(depth), ctype, int(kind), b"" if hx == "-" else bytes.fromhex(hx)))
    return status, parts


def py_tree(m, depth=0):
    ctype = m.get_content_type()
    if ctype == "message/delivery-status":
        # Python splits it into header blocks; for MIME it is a leaf
        yield (depth, ctype, 1, None)
        return
    if m.is_multipart():
        kind = 3 if m.get_content_maintype() == "message" else 2
        yield (depth, ctype, kind, None)
        for sub in m.get_payload():
            yield from py_tree(sub, depth + 1)
        return
    yield (depth, ctype, 1, m.get_payload(decode=True))


def compare(name, msg, flags=0):
    status, ours = walk(msg, flags)
    check(status == "OPES_OK", name + ": walked to the end (%s)" % status)
    theirs = list(py_tree(email.message_from_bytes(msg, policy=email.policy.default)))
    check(len(ours) == len(theirs), name + ": %d entities, Python %d" % (len(ours), len(theirs)))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        check(a[:3] == b[:3], name + ": entity %d: %r vs Python %r" % (i + 1, a[:3], b[:3]))
        if b[3] is not None and a[2] == 1:
            check(a[3] == b[3], name + ": entity %d body %r vs Python %r" % (i + 1, a[3], b[3]))


CRLF = b"\r\n"


def crlf(s):
    return s.replace(b"\n", CRLF)


nested = crlf(b"""From: a@example.org
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

This is a multi-part message in MIME format.
--outer
Content-Type: multipart/alternative;
 boundary=inner

--inner
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

Caf=C3=A9 au lait=
, s'il vous pla=C3=AEt.
--inner
Content-Type: text/html; charset=us-ascii

<p>Cafe</p>

--inner--
--outer
Content-Type: application/octet-stream; name="a.bin"
Content-Transfer-Encoding: base64

""") + base64.encodebytes(bytes(range(256)) * 3).replace(b"\n", CRLF) + crlf(b"""--outer--
epilogue
""")

dsn = crlf(b"""Return-Path: <>
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4Xk2Lq0Zs9z9sRk.1704190532/mx.example.org"

This is a MIME-encapsulated message.

--4Xk2Lq0Zs9z9sRk.1704190532/mx.example.org
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

--4Xk2Lq0Zs9z9sRk.1704190532/mx.example.org
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; bob@example.net
Action: failed
Status: 5.1.1

--4Xk2Lq0Zs9z9sRk.1704190532/mx.example.org
Content-Description: Undelivered Message
Content-Type: message/rfc822

From: alice@example.org
To: bob@example.net
Subject: hi
Content-Type: multipart/alternative; boundary="b2"

--b2
Content-Type: text/plain
Content-Transfer-Encoding: quoted-printable

hello =3D world
--b2
Content-Type: text/html

<b>hello</b>
--b2--

--4Xk2Lq0Zs9z9sRk.1704190532/mx.example.org--
""")

dsn_headers = crlf(b"""Content-Type: multipart/report; report-type=delivery-status; boundary=B

--B
Content-Type: text/plain

Delivery failed.
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; bob@example.net
Action: failed
Status: 5.0.0
--B
Content-Type: text/rfc822-headers

From: a@example.org
Subject: x

--B--
""")

digest = crlf(b"""Content-Type: multipart/digest; boundary=d

--d

Subject: one

first
--d
Content-Type: text/plain

second
--d

Subject: three
Content-Type: multipart/mixed; boundary=e

--e
Content-Type: application/pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--e--
--d--
""")

glob = crlf(b"""Content-Type: multipart/mixed; boundary="=_x (y)"

--=_x (y)
Content-Type: message/global
Content-Transfer-Encoding: 8bit

From: a@example.org
Subject: nested

nested body
--=_x (y)
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

r=E9sum=E9 =
soft
--=_x (y)--
""")

defaults = crlf(b"""Content-Type: multipart/mixed; boundary=ok

--ok
Content-Type: text

bad type
--ok
Content-Type: image/png; name=x.png
Content-Transfer-Encoding: BASE64

iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk
YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==
--ok
Content-Type: text/plain;
  charset="utf-8" (a comment);
  format=flowed

padded delimiter next
--ok \t
Content-Type: TEXT/Plain

last
--ok--""")

# quoted-printable parts that end in a soft line break: the line end before
# the delimiter is the delimiter's (RFC 2046 5.1.1), so the body ends in "="
# and the decoded part has no final line end (Python: b"abc")
qp_soft_end = crlf(b"""Content-Type: multipart/mixed; boundary=q

--q
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Caf=C3=A9 without a final line end=
--q
Content-Transfer-Encoding: quoted-printable

two lines=
, the second ends soft too=
--q--
""")

# RFC 2231: the boundary as an extended parameter and in continuations
rfc2231 = crlf(b"""Content-Type: multipart/mixed; boundary*=us-ascii'en'a%20b

--a b
Content-Type: multipart/alternative; boundary*1="de";
 boundary*0="abc"; boundary*2*=f%3Dg

--abcdef=g
Content-Type: text/plain

inner
--abcdef=g--
--a b--
""")

# a binary part (RFC 2045 2.9, RFC 3030): bare CR and LF are data (Python
# also ends lines at a bare CR or LF, so no "--z" follows one here)
binary = crlf(b"""Content-Type: multipart/mixed; boundary=z

--z
Content-Type: application/octet-stream
Content-Transfer-Encoding: binary

""") + b"a\nb\rc\n-\r\r\n\x00\xff\n" + crlf(b"""
--z
Content-Type: text/plain

d
--z--
""")

# part header sections that end at a line that is not a field, without an
# empty line: Python takes that line as the start of the body
no_empty_line = crlf(b"""Content-Type: multipart/mixed; boundary=q

--q
Content-Type: text/html
<p>x</p>
--q
no colon here

--q
--qX
--q--
""")

for name, m in [("no empty line", no_empty_line), ("binary", binary), ("qp soft end", qp_soft_end), ("rfc2231 boundary", rfc2231), ("nested", nested), ("dsn", dsn), ("dsn-headers", dsn_headers),
                ("digest", digest), ("message/global", glob), ("defaults", defaults)]:
    compare(name, m)
# no close-delimiters: the inner multipart is ended by the outer delimiter
# (RFC 2046 5.1.2), the outer one by the end of the input. One known
# difference: Python drops the line end at the end of the input from the last
# part; the walker keeps it (no delimiter follows, so it is body, RFC 2046
# 5.1.1).
unterminated = crlf(b"""Content-Type: multipart/mixed; boundary=o

--o
Content-Type: multipart/mixed; boundary=i

--i

one
--o

two
""")
status, ours = walk(unterminated)
theirs = list(py_tree(email.message_from_bytes(unterminated, policy=email.policy.default)))
check(status == "OPES_OK", "unterminated: walked")
check([p[:3] for p in ours] == [p[:3] for p in theirs], "unterminated: tree %r vs %r" % (ours, theirs))
check(ours[2][3] == theirs[2][3] == b"one", "unterminated: inner part ended by the outer delimiter")
check(ours[3][3] == theirs[3][3] + CRLF, "unterminated: last part keeps its final line end")
# LF-only files
compare("nested LF", nested.replace(CRLF, b"\n"), 1)
compare("dsn LF", dsn.replace(CRLF, b"\n"), 1)

# ---- decoders -------------------------------------------------------------
CTE_QP, CTE_B64 = 4, 5


def decode(cte, data, seed):
    out = subprocess.run([DRIVER, "--decode", str(cte), str(seed)], input=data,
                         capture_output=True, timeout=60)
    lines = out.stdout.decode("ascii").split("\n")
    return bytes.fromhex(lines[0]), int(lines[1])


# RFC 4648 section 10
for enc, dec in [(b"", b""), (b"Zg==", b"f"), (b"Zm8=", b"fo"), (b"Zm9v", b"foo"),
                 (b"Zm9vYg==", b"foob"), (b"Zm9vYmE=", b"fooba"), (b"Zm9vYmFy", b"foobar")]:
    got, fl = decode(CTE_B64, enc, 3)
    check(got == dec and fl == 0, "RFC 4648 %r" % enc)

rng = random.Random(2045)
for i in range(40):
    raw = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400)))
    enc = base64.encodebytes(raw)  # 76-column lines, LF
    if i % 2:
        enc = enc.replace(b"\n", CRLF)
    got, fl = decode(CTE_B64, enc, i)
    check(got == base64.b64decode(enc) == raw and fl == 0, "base64 round %d" % i)
    # text-like data with line ends, and binary, through quopri
    text = bytes(rng.choice(b"abc =\t.\xe9\x00\r\n") for _ in range(rng.randrange(0, 300)))
    q = quopri.encodestring(text)
    got, fl = decode(CTE_QP, q, i)
    check(got == quopri.decodestring(q), "quopri round %d: %r -> %r" % (i, q, got))

# white space at line ends (RFC 2045 6.7 rule 3) and bad escapes: Python's
# pure-Python quopri decoder strips it (the binascii one does not), lines
# end with LF there
saved = quopri.a2b_qp
quopri.a2b_qp = None
try:
    for v in [b"trail  \nx\n", b"tab\t \t\nsoft=  \nend\n", b"a=G1 =4\n", b"lower =e9=c3=a9\n",
              b"keep =\n  \n", b"=\n", b"x \t=\ny\n"]:
        want = quopri.decodestring(v)
        for seed in (0, 5, 9):
            got, fl = decode(CTE_QP, v, seed)
            check(got == want, "quopri (pure) %r: %r vs %r" % (v, got, want))
        # with CRLF line ends the output has CRLF where Python's has LF
        got, fl = decode(CTE_QP, v.replace(b"\n", CRLF), 1)
        check(got == want.replace(b"\n", CRLF), "quopri CRLF %r: %r" % (v, got))
finally:
    quopri.a2b_qp = saved

# runs of white space longer than the decoder holds (32 octets): passed on
# whole, as binascii.a2b_qp (Python's email) passes every run
for v in [b"a" + b" " * 40 + b"\r\nb\r\n", b"x" + b"\t " * 30 + b"\r\n", b"y" + b" " * 33 + b"z\r\n"]:
    for seed in (0, 1, 7):
        got, fl = decode(CTE_QP, v, seed)
        check(got == binascii.a2b_qp(v) and fl == 0, "long white space %r: %r" % (v, got))

finish()
