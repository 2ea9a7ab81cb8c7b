#!/usr/bin/env python3
"""The header module against Python's email package (an independent RFC 5322
reader). tests/test_header --emit prints:

  B <name> <value> <flags> <built>   a field built by opes_header_field_build
  S <message>                        a message, then the scanner's fields:
  F <name> <raw>                     name and raw body of each field
  E <offset>                         the body's offset

(all hex). Checks: Python reads each built field back as one header with the
given name and the value unchanged (unfolding per RFC 5322 2.2.3), without a
defect, and the body after it; every built line is within 78 characters
(these values all have places to fold), none is WSP only, none has a bare CR
or LF. For the message, Python's header list (names, raw values) and its body
equal the scanner's. Env B = build dir. Prints N passed, N failed."""
import email.parser
import email.policy
import os
import re
import subprocess
import sys
from tkit import B, check, finish



def unhex(s):
    return b"" if s == "-" else bytes.fromhex(s)


out = subprocess.run([os.path.join(B, "tests", "test_header"), "--emit"], capture_output=True,
                     timeout=60)
check(out.returncode == 0, "test_header --emit ran")
recs = [l.split(" ") for l in out.stdout.decode("ascii").splitlines()]

OPES_HEADER_LF = 1
builds = [r for r in recs if r[0] == "B"]
check(len(builds) == 8, "eight built fields")
for _, hn, hv, fl, hb in builds:
    name, value, flags, built = unhex(hn), unhex(hv), int(fl), unhex(hb)
    eol = b"\n" if flags & OPES_HEADER_LF else b"\r\n"
    tag = name.decode()
    # line structure
    check(built.endswith(eol), tag + ": ends with its line end")
    lines = built[: -len(eol)].split(eol)
    for ln in lines:
        check(b"\r" not in ln and b"\n" not in ln, tag + ": no bare CR or LF")
        check(len(ln) <= 998, tag + ": line within 998 octets")
        check(len(ln.decode("utf-8")) <= 78, tag + ": line within 78 characters: %r" % ln)
        check(ln.strip(b" \t") != b"", tag + ": no WSP-only line")
    for ln in lines[1:]:
        check(ln[:1] in (b" ", b"\t"), tag + ": continuation lines start with WSP")
    # Python reads it back (policy.default unfolds: RFC 5322 2.2.3)
    msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(
        built + eol + b"body" + eol)
    check(list(msg.keys()) == [tag], tag + ": one header of that name: %r" % list(msg.keys()))
    check(msg.defects == [], tag + ": no message defects")
    got = str(msg[tag]).encode("utf-8", "surrogateescape")
    want = value.lstrip(b" \t")
    check(got == want, tag + ": value read back: %r != %r" % (got, want))
    check(msg.get_payload().strip() == "body", tag + ": body after the field")
    # the stored source keeps the folds: removing each line end before WSP
    # gives the value (RFC 5322 2.2.3)
    src = [v for k, v in msg.raw_items()]
    src = src[0].encode("utf-8", "surrogateescape") if len(src) == 1 else b""
    check(re.sub(rb"\r?\n(?=[ \t])", b"", src).rstrip(b"\r\n") == want,
          tag + ": the source unfolds to the value")

# the scanner against Python on a realistic message
srec = [r for r in recs if r[0] == "S"]
check(len(srec) == 1, "one scanned message")
message = unhex(srec[0][1])
fields = [(unhex(r[1]), unhex(r[2])) for r in recs if r[0] == "F"]
ends = [int(r[1]) for r in recs if r[0] == "E"]
msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(message)
py = [(k.encode(), v.encode()) for k, v in msg.items()]
check(len(py) == len(fields), "as many fields as Python: %d, %d" % (len(fields), len(py)))
for (n1, r1), (n2, v2) in zip(fields, py):
    check(n1 == n2, "name %r == %r" % (n1, n2))
    # compat32 gives the body after the colon, less leading WSP and the final line end
    check(r1.lstrip(b" \t") == v2, "%r: raw %r == %r" % (n1, r1, v2))
check(len(ends) == 1 and message[ends[0]:] == msg.get_payload().encode(),
      "the body starts where the scanner says")

finish()
