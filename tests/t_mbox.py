#!/usr/bin/env python3
"""The mbox reader against Python's mailbox module (an independent mbox
writer and reader) and its gzip input against Python's gzip module.

A mailbox is written with mailbox.mbox (which quotes lines starting "From "
as ">From " and leaves ">From " lines alone: mboxo), then split by
tests/test_mbox --split (the library's reader; see that file for the output
format). Checks, per message: the count, the From_ line and its offset
(mailbox's table of contents), and the data against mailbox's own bytes for
the message (get_bytes, which keeps the quoting) with the quoting undone here
by a regular expression: one level of ^>From for mboxo, one ">" of ^>+From
for mboxrd. A message that held no ">From " line comes back exactly as it
was given (mailbox adds a final newline where one was missing).

gzip (zlib builds): the same mailbox compressed by gzip.compress, as one
member and as two members cut inside a line, reads the same; a truncated
copy is OPES_EBAD_GZIP. Without zlib: OPES_EUNSUPPORTED.
Env B = build dir. Prints N passed, N failed."""
import gzip
import mailbox
import os
import random
import re
import subprocess
import sys
import tempfile
from tkit import B, check, finish

DRIVER = os.path.join(B, "tests", "test_mbox")


def unhex(s):
    return b"" if s == "-" else bytes.fromhex(s)


def split(path, variant="mboxrd"):
    out = subprocess.run([DRIVER, "--split", path, variant], capture_output=True, timeout=120)
    res = {"zlib": None, "msgs": [], "end": None, "error": None, "rc": out.returncode}
    for line in out.stdout.decode("ascii").splitlines():
        f = line.split(" ")
        if f[0] == "Z":
            res["zlib"] = f[1] == "1"
        elif f[0] == "M":
            res["msgs"].append((int(f[1]), unhex(f[2]), unhex(f[3]), int(f[4])))
        elif f[0] == "N":
            res["end"] = (int(f[1]), int(f[2]))
        elif f[0] == "X":
            res["error"] = (f[1], int(f[2]))
    return res


def unquote_mboxo(b):
    return re.sub(rb"(?m)^>From ", b"From ", b)


def unquote_mboxrd(b):
    return re.sub(rb"(?m)^>(>*From )", rb"\1", b)


rng = random.Random(4155)
HEAD = b"From: a@example.org\nTo: b@example.org\nSubject: %d\n\n"
bodies = [
    b"plain body\n",
    b"From here on, quoting\nFrom the start of a line\n",   # mailbox quotes these
    b">From an already quoted line\n>>From deeper\n",        # mboxo ambiguity
    b"ends without a newline",                               # mailbox adds one
    b"ends with blank lines\n\n\n",
    b"",
    b"x" * 200000 + b"\n" + b"From the long line\n",
    b"carriage\r\nreturns\r\n\r\n",
    b"From\nFrom:\n>From\nFromage\n  From indented\n",
    b"\n".join(rng.choice([b"From x", b">From y", b">>From z", b"line", b"", b">", b"F"])
               for _ in range(300)) + b"\n",
]
messages = [HEAD % i + body for i, body in enumerate(bodies)]
senders = [b"MAILER-DAEMON", b"a@example.org", b"-", b"x@y"]

tmp = tempfile.mkdtemp()
path = os.path.join(tmp, "box")
box = mailbox.mbox(path)
for i, m in enumerate(messages):
    box.add(b"From %s Mon Jan  1 00:00:%02d 2024\n" % (senders[i % 4], i) + m)
box.flush()
box.close()

box = mailbox.mbox(path)
keys = sorted(box.keys())
box.get_bytes(keys[0])  # builds the table of contents
toc = box._toc  # key -> (start, stop): start is the From_ line's offset
raw = open(path, "rb").read()

results = {}
for variant in ("mboxrd", "mboxo"):
    r = split(path, variant)
    results[variant] = r
    check(r["rc"] == 0 and r["error"] is None, variant + ": read without error: %r" % (r["error"],))
    check(len(r["msgs"]) == len(keys), variant + ": %d messages, mailbox has %d"
          % (len(r["msgs"]), len(keys)))
    check(r["end"] == (len(keys), len(raw)), variant + ": end: count and length %r" % (r["end"],))
    for k, got in zip(keys, r["msgs"]):
        off, from_line, data, flags = got
        tag = "%s message %d" % (variant, k)
        check(off == toc[k][0], tag + ": offset %d, mailbox says %d" % (off, toc[k][0]))
        check(from_line == b"From " + box.get_message(k).get_from().encode(),
              tag + ": From_ line %r" % from_line)
        stored = box.get_bytes(k)
        want = unquote_mboxo(stored) if variant == "mboxo" else unquote_mboxrd(stored)
        check(data == want, tag + ": data equals mailbox's bytes unquoted")
        check(flags == 0, tag + ": no flags (%d)" % flags)

# round trip: what was given comes back (mboxo reads what mailbox wrote)
for i, (m, got) in enumerate(zip(messages, results["mboxo"]["msgs"])):
    given = m if m.endswith(b"\n") else m + b"\n"
    if b"\n>From " in given:
        continue  # mboxo loses these (see opes/mbox.h)
    check(got[2] == given, "message %d comes back as given" % i)
check(sum(1 for m in messages if b"\n>From " not in m) >= 7, "most messages round-trip")
# mboxrd and mboxo differ exactly where ">>From" lines are
check(results["mboxrd"]["msgs"][2][2] != results["mboxo"]["msgs"][2][2], "variants differ on >>From")

# gzip
zl = results["mboxrd"]["zlib"]
gz1 = os.path.join(tmp, "box1.gz")
gz2 = os.path.join(tmp, "box2.gz")
gzt = os.path.join(tmp, "boxt.gz")
cut = raw.index(b"\n>From an already") + 3  # inside ">From"
open(gz1, "wb").write(gzip.compress(raw))
open(gz2, "wb").write(gzip.compress(raw[:cut]) + gzip.compress(raw[cut:], compresslevel=1))
whole = gzip.compress(raw)
open(gzt, "wb").write(whole[: len(whole) - 5])
if zl:
    for p in (gz1, gz2):
        r = split(p)
        check(r["msgs"] == results["mboxrd"]["msgs"] and r["end"] == results["mboxrd"]["end"],
              os.path.basename(p) + ": the same messages as the plain mailbox")
    r = split(gzt)
    check(r["rc"] == 1 and r["error"] is not None and r["error"][0] == "OPES_EBAD_GZIP",
          "truncated gzip: %r" % (r["error"],))
else:
    r = split(gz1)
    check(r["rc"] == 1 and r["error"] == ("OPES_EUNSUPPORTED", 0),
          "gzip without zlib: %r" % (r["error"],))
check(zl is not None, "the driver says whether zlib is built in")

finish()
