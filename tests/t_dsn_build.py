#!/usr/bin/env python3
"""opes dsn build (docs/cli.md, docs/opes-smtp.md 11): reports built by the
tool, read back with an independent reader, Python's email package
(policy=email.policy.default): the multipart/report structure (RFC 6522),
every delivery-status field (RFC 3464; in Python's model the sub-parts of a
message/delivery-status part are header blocks), the boundary, the returned
message byte for byte, base64 and quoted-printable re-encodings decoded back
to the original (RFC 6533 4.5), the envelope JSON, the due rule's exit 3.
Env B = build dir. Prints N passed, N failed."""
import base64
import email
import email.policy
import email.utils
import json
import os
import quopri
import subprocess
import sys
import tempfile
from tkit import OPES, check, finish



def run(args, stdin=b""):
    p = subprocess.run([OPES, "dsn", "build"] + args, input=stdin, capture_output=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def parse(b):
    return email.message_from_bytes(b, policy=email.policy.default)


SYS = "http://opes.example.net/sys"
AV = "http://opes.example.net/virus"
SPAM = "http://opes.example.net/spam"
DATE = "Sun, 6 Dec 2026 05:10:00 +0000"
ORIG = (b"Return-Path: <alice@example.org>\r\n"
        b"Received: from a.example.org by mx.example.net; Sun, 6 Dec 2026 05:00:00 +0000\r\n"
        b"OPES-System: http://opes.example.net/sys\r\n"
        b"OPES-Via: http://opes.example.net/virus; action=reject\r\n"
        b"From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: hello\r\n"
        b"Message-ID: <abc@example.org>\r\n\r\n"
        b"Hello Bob.\r\n--=_S.00\r\nSecond line.\r\n")
FIXED = ["--reporting-mta", "mx.example.net", "--date", DATE, "--message-id",
         "<r1@mx.example.net>", "--boundary", "S"]

tmp = tempfile.mkdtemp()
orig_path = os.path.join(tmp, "orig.eml")
with open(orig_path, "wb") as f:
    f.write(ORIG)
env_path = os.path.join(tmp, "env.json")

# ---- everything at once: structure and every field ----------------------
args = FIXED + [
    "--opes-system", SYS, "--opes-service", SPAM, "--envid", "QQ 314159+x",
    "--arrival-date", "Sun, 6 Dec 2026 05:00:00 +0000",
    "--recipient", "Carol@Ivory.EDU", "--action", "failed", "--status", "5.7.1",
    "--orcpt", "rfc822;Carol@Ivory.EDU", "--remote-mta", "mx.ivory.edu",
    "--diagnostic", "550-mailbox unavailable\r\n550 user has moved with no forwarding address",
    "--last-attempt", "Sun, 6 Dec 2026 05:05:00 +0000", "--notify", "FAILURE",
    "--opes-service", AV, "--bypassable",
    "--recipient", "dave@example.com", "--action", "delayed", "--notify", "DELAY,FAILURE",
    "--status", "4.4.1", "--will-retry-until", "Mon, 7 Dec 2026 05:00:00 +0000",
    "--final-log-id", "q-42",
    "--original", orig_path, "--envelope-out", env_path]
rc, out, err = run(args)
check(rc == 0, "build exits 0: %r" % err)
m = parse(out)
check(m.get_content_type() == "multipart/report", "multipart/report")
check(m.get_param("report-type") == "delivery-status", "report-type")
bnd = m.get_boundary()
check(bnd == "=_S.01", "boundary skips the candidate in the original: %r" % bnd)
check(b"--" + bnd.encode() not in ORIG, "boundary not in the original")
check(out.count(("--" + bnd).encode()) == 4, "three parts and the close-delimiter")
check(m["From"].addresses[0].addr_spec == "postmaster@mx.example.net", "From: postmaster")
check(m["To"].addresses[0].addr_spec == "alice@example.org", "To: the Return-Path")
check(m["Auto-Submitted"] == "auto-replied", "Auto-Submitted (RFC 3834)")
check(m["Date"].datetime == email.utils.parsedate_to_datetime(DATE) and
      m["Message-ID"] == "<r1@mx.example.net>", "Date, Message-ID")
check(m["MIME-Version"] == "1.0", "MIME-Version")
parts = list(m.iter_parts())
check(len(parts) == 3, "three parts")
check([p.get_content_type() for p in parts] ==
      ["text/plain", "message/delivery-status", "message/rfc822"], "part types")
human = parts[0].get_content()
check(SYS in human and AV in human and SPAM in human, "human part names system and services")
check("OPES-Bypass: " + AV in human, "bypass hint: the header field")
check("XOPES-BYPASS=" + AV in human, "bypass hint: the ESMTP parameter")
check("550 user has moved with no forwarding address" in human, "diagnostic in the text")
blocks = parts[1].get_payload()
check(len(blocks) == 3, "per-message block and two recipient blocks: %d" % len(blocks))
pm, r1, r2 = blocks[0], blocks[1], blocks[2]
check(pm["Original-Envelope-Id"] == "QQ 314159+x", "Original-Envelope-Id decoded text")
check(pm["Reporting-MTA"] == "dns; mx.example.net", "Reporting-MTA")
check(pm["Arrival-Date"] == "Sun, 6 Dec 2026 05:00:00 +0000", "Arrival-Date")
check(pm["X-OPES-System"] == SYS, "X-OPES-System")
check(pm["X-OPES-Service"] == SPAM, "report-wide X-OPES-Service")
check(pm["DSN-Gateway"] is None and pm["Received-From-MTA"] is None, "absent fields absent")
check(r1["Original-Recipient"] == "rfc822;Carol@Ivory.EDU", "Original-Recipient, type kept")
check(r1["Final-Recipient"] == "rfc822;Carol@Ivory.EDU", "Final-Recipient")
check(r1["Action"] == "failed" and r1["Status"] == "5.7.1", "Action, Status")
check(r1["Remote-MTA"] == "dns; mx.ivory.edu", "Remote-MTA")
# RFC 3464 9.2: a SPACE before each line after the first
check(str(r1["Diagnostic-Code"]) ==
      "smtp; 550-mailbox unavailable 550 user has moved with no forwarding address",
      "Diagnostic-Code multi-line: %r" % str(r1["Diagnostic-Code"]))
check(r1["Last-Attempt-Date"] == "Sun, 6 Dec 2026 05:05:00 +0000", "Last-Attempt-Date")
check(r1["X-OPES-Service"] == AV and r1["X-OPES-Bypassable"] == "yes", "per-recipient OPES")
check(r1["Will-Retry-Until"] is None, "no Will-Retry-Until for failed")
check(r2["Action"] == "delayed" and r2["Status"] == "4.4.1", "second recipient")
check(r2["Will-Retry-Until"] == "Mon, 7 Dec 2026 05:00:00 +0000", "Will-Retry-Until")
check(r2["Final-Log-ID"] == "q-42", "Final-Log-ID")
check(r2["Original-Recipient"] is None, "no ORCPT, no Original-Recipient")
# the returned message, byte for byte (between the part header and the
# delimiter's line end)
start = out.index(b"Content-Type: message/rfc822\r\n")
start = out.index(b"\r\n\r\n", start) + 4
end = out.index(b"\r\n--" + bnd.encode() + b"--")
check(out[start:end] == ORIG, "returned message intact")
inner = parts[2].get_payload()[0]
check(inner["Message-ID"] == "<abc@example.org>", "returned message parses")
check(inner["OPES-System"] == SYS, "returned trace fields kept")
env = json.load(open(env_path))
check(env["reverse_path"] == "" and env["recipient"] == "alice@example.org", "envelope")
check(env["mail_params"] == [] and env["rcpt_params"] == ["NOTIFY=NEVER"], "envelope params")
check(env["requiretls"] is False and env["ret"] == "full", "envelope requiretls/ret")

# the same from stdin (copied to a temporary file), same bytes
rc2, out2, _ = run(args[:-4] + ["--envelope-out", env_path], ORIG)
check(rc2 == 0 and out2 == out, "stdin gives the same report")

# ---- the remaining per-message fields -----------------------------------
rc, out, err = run(FIXED + ["--sender", "alice@example.org", "--dsn-gateway", "gw.example.org",
                            "--received-from-mta", "dns; a.example.org",
                            "--opes-service", SPAM, "--not-bypassable",
                            "--recipient", "bob@example.com", "--remote-mta", "x-local; mta7",
                            "--original", orig_path])
pm = list(parse(out).iter_parts())[1].get_payload()[0]
rb = list(parse(out).iter_parts())[1].get_payload()[1]
check(pm["DSN-Gateway"] == "dns; gw.example.org", "DSN-Gateway")
check(pm["Received-From-MTA"] == "dns; a.example.org", "Received-From-MTA as given")
check(pm["X-OPES-Service"] == SPAM and pm["X-OPES-Bypassable"] == "no", "X-OPES-Bypassable no")
check(rb["Remote-MTA"] == "x-local; mta7", "Remote-MTA with its own type")
check(rb["Status"] == "5.0.0", "default status for failed (RFC 3461 6.3 (g))")
check("may not be bypassed" in list(parse(out).iter_parts())[0].get_content(), "not bypassable")

# ---- against a real MTA: Postfix's report for the same envelope ---------
# tests/fixtures/dsn/postfix/03-failed.eml answers MAIL ... ENVID=pf-03+2Bmixed and
# RCPT TO:<reject2@remote.test> ORCPT=rfc822;reject2+2Btag@remote.test: the values
# are given to us decoded (here by `opes xtext decode`), and Postfix's
# Original-Envelope-Id and Original-Recipient must be what we write.
FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "dsn", "postfix",
                   "03-failed.eml")
if os.path.exists(FIX):
    pf = parse(open(FIX, "rb").read())
    pf_ds = [p for p in pf.walk() if p.get_content_type() == "message/delivery-status"][0]
    pf_blocks = pf_ds.get_payload()
    pf_r = [b for b in pf_blocks[1:] if "reject2@" in str(b["Final-Recipient"])][0]

    def xdec(v):
        p = subprocess.run([OPES, "xtext", "decode", v], capture_output=True, timeout=30)
        return p.stdout.decode()
    envid, orcpt = xdec("pf-03+2Bmixed"), xdec("reject2+2Btag@remote.test")
    rc, out, err = run(FIXED + ["--sender", "sender@example.test", "--envid", envid,
                                "--recipient", "reject2@remote.test", "--status", "5.1.1",
                                "--orcpt", "rfc822;" + orcpt, "--remote-mta", "127.0.0.1"], ORIG)
    ours = list(parse(out).iter_parts())[1].get_payload()
    check(ours[0]["Original-Envelope-Id"] == pf_blocks[0]["Original-Envelope-Id"] == "pf-03+mixed",
          "Original-Envelope-Id as Postfix writes it")
    check(ours[1]["Original-Recipient"] == pf_r["Original-Recipient"],
          "Original-Recipient as Postfix writes it: %r" % str(pf_r["Original-Recipient"]))
    check(ours[1]["Remote-MTA"] == pf_r["Remote-MTA"] and ours[1]["Action"] == pf_r["Action"] and
          ours[1]["Status"] == pf_r["Status"], "Remote-MTA, Action, Status as Postfix")

# ---- RET=HDRS: text/rfc822-headers, header intact -----------------------
rc, out, err = run(FIXED + ["--sender", "alice@example.org", "--ret", "hdrs",
                            "--recipient", "bob@example.com", "--original", orig_path])
m = parse(out)
p3 = list(m.iter_parts())[2]
check(p3.get_content_type() == "text/rfc822-headers", "hdrs: text/rfc822-headers")
hdr = ORIG[:ORIG.index(b"\r\n\r\n") + 2]
start = out.index(b"Content-Type: text/rfc822-headers\r\n")
start = out.index(b"\r\n\r\n", start) + 4
end = out.index(b"\r\n--" + m.get_boundary().encode() + b"--")
check(out[start:end] == hdr, "hdrs: the header section, byte for byte")
check(b"Hello Bob." not in out, "hdrs: no body")

# ---- REQUIRETLS: HDRS forced, envelope says REQUIRETLS ------------------
rc, out, err = run(FIXED + ["--sender", "alice@example.org", "--ret", "full", "--requiretls",
                            "--recipient", "bob@example.com", "--original", orig_path,
                            "--envelope-out", env_path])
m = parse(out)
check(list(m.iter_parts())[2].get_content_type() == "text/rfc822-headers", "requiretls: hdrs")
env = json.load(open(env_path))
check(env["mail_params"] == ["REQUIRETLS"] and env["requiretls"] is True and
      env["keep_without_requiretls"] is True and env["ret"] == "hdrs", "requiretls envelope")

# ---- redacted: only the Message-ID, no REQUIRETLS, OPES still named -----
rc, out, err = run(FIXED + ["--sender", "alice@example.org", "--requiretls", "--redact",
                            "--opes-system", SYS, "--recipient", "bob@example.com",
                            "--opes-service", AV, "--original", orig_path,
                            "--envelope-out", env_path])
m = parse(out)
parts = list(m.iter_parts())
check(len(parts) == 3 and parts[2].get_content_type() == "text/rfc822-headers", "redact part")
check(parts[2].get_content().strip() == "Message-ID: <abc@example.org>", "redact: Message-ID only")
check(b"Subject: hello" not in out and b"Received:" not in out, "redact: nothing else")
check(parts[1].get_payload()[0]["X-OPES-System"] == SYS, "redact: X-OPES-System kept")
check(parts[1].get_payload()[1]["X-OPES-Service"] == AV, "redact: X-OPES-Service kept")
check(AV in parts[0].get_content(), "redact: human part names the service")
check(json.load(open(env_path))["requiretls"] is False, "redact: no REQUIRETLS")

# ---- size cap: body cut at a line end, header whole ---------------------
hlen = ORIG.index(b"\r\n\r\n") + 4
rc, out, err = run(FIXED + ["--sender", "a@example.org", "--return-limit", str(hlen + 15),
                            "--recipient", "bob@example.com", "--original", orig_path])
m = parse(out)
bnd = m.get_boundary()
start = out.index(b"Content-Type: message/rfc822\r\n")
start = out.index(b"\r\n\r\n", start) + 4
end = out.index(b"\r\n--" + bnd.encode() + b"--")
check(out[start:end] == ORIG[:hlen + 12], "truncated after the first body line")
check("cut after %d of its %d octets" % (hlen + 12, len(ORIG)) in
      list(m.iter_parts())[0].get_content().replace("\r\n", " ").replace("\n", " "),
      "truncation said in the human part")

# ---- 8-bit / UTF-8 originals over a 7-bit path (RFC 6533 4.5) -----------
U = ("Subject: caf\u00e9\r\nFrom: j\u00f6ran@example.org\r\nMessage-ID: <u@x>\r\n\r\n"
     "d\u00e9j\u00e0 vu\r\n" + "long line " * 30 + "\r\n").encode()
rc, out, err = run(FIXED + ["--sender", "a@example.org", "--recipient", "b@example.com"], U)
m = parse(out)
p3 = list(m.iter_parts())[2]
check(p3.get_content_type() == "message/global", "utf-8: message/global")
check(p3["Content-Transfer-Encoding"] == "base64", "utf-8: base64")
start = out.index(b"Content-Transfer-Encoding: base64\r\n")
start = out.index(b"\r\n\r\n", start) + 4
end = out.index(b"\r\n--" + m.get_boundary().encode() + b"--")
check(base64.b64decode(out[start:end]) == U, "base64 decodes to the original")
check(max(len(l) for l in out.split(b"\r\n")) <= 998, "no line over 998")
check(all(b < 0x80 for b in out), "7-bit report")
rc, out, err = run(FIXED + ["--sender", "a@example.org", "--ret", "hdrs",
                            "--recipient", "b@example.com"], U)
m = parse(out)
p3 = list(m.iter_parts())[2]
check(p3.get_content_type() == "message/global-headers", "utf-8 hdrs: message/global-headers")
check(p3["Content-Transfer-Encoding"] == "quoted-printable", "utf-8 hdrs: QP")
start = out.index(b"Content-Transfer-Encoding: quoted-printable\r\n")
start = out.index(b"\r\n\r\n", start) + 4
end = out.index(b"\r\n--" + m.get_boundary().encode() + b"--")
check(quopri.decodestring(out[start:end]) == U[:U.index(b"\r\n\r\n") + 2], "QP decodes back")
rc, out, err = run(FIXED + ["--sender", "a@example.org", "--smtputf8",
                            "--recipient", "b@example.com", "--envelope-out", env_path], U)
check(U in out, "SMTPUTF8 path: returned as is")
check("SMTPUTF8" in json.load(open(env_path))["mail_params"], "SMTPUTF8 in the envelope")

# a UTF-8 recipient: message/global-delivery-status, utf-8 address type
rc, out, err = run(FIXED + ["--sender", "a@example.org", "--recipient",
                            "j\u00f6ran@example.org", "--orcpt", "utf-8;J\u00f6ran@example.org"],
                   ORIG)
m = parse(out)
check(m.get_param("report-type") == "global-delivery-status", "global report-type")
p2 = list(m.iter_parts())[1]
check(p2.get_content_type() == "message/global-delivery-status", "global delivery-status")
fields = out[out.index(b"Original-Recipient:"):]
check(fields.startswith("Original-Recipient: utf-8;J\u00f6ran@example.org\r\n"
                        "Final-Recipient: utf-8;j\u00f6ran@example.org\r\n".encode()),
      "utf-8 address type")

# ---- LF original: LF report ---------------------------------------------
rc, out, err = run(FIXED + ["--sender", "a@example.org", "--recipient", "b@example.com"],
                   ORIG.replace(b"\r\n", b"\n"))
check(rc == 0 and b"\r" not in out, "LF original, LF report")
check(parse(out).get_content_type() == "multipart/report", "LF report parses")

# ---- no report due: exit 3, nothing on stdout ---------------------------
rc, out, err = run(FIXED + ["--sender", "<>", "--recipient", "b@example.com"], ORIG)
check(rc == 3 and out == b"" and b"null_sender" in err, "null sender: exit 3")
rc, out, err = run(FIXED + ["--recipient", "b@example.com", "--notify", "NEVER"], ORIG)
check(rc == 3 and out == b"" and b"notify_never" in err, "NOTIFY=NEVER: exit 3")
rc, out, err = run(FIXED + ["--recipient", "b@example.com", "--hostile"], ORIG)
check(rc == 3 and out == b"" and b"hostile" in err, "hostile, unverified: exit 3")
rc, out, err = run(FIXED + ["--recipient", "b@example.com", "--hostile", "--sender-verified"],
                   ORIG)
check(rc == 0 and b"Hello Bob." not in out, "hostile, verified: headers only")
rc, out, err = run(FIXED + ["--recipient", "b@example.com", "--action", "delivered"], ORIG)
check(rc == 3 and b"not_requested" in err, "delivered without SUCCESS: exit 3")
rc, out, err = run(FIXED + ["--recipient", "b@example.com", "--action", "delivered",
                            "--notify", "SUCCESS"], ORIG)
check(rc == 0 and b"Action: delivered" in out, "delivered with SUCCESS")

# ---- usage errors -------------------------------------------------------
nrp = ORIG[ORIG.index(b"\r\n") + 2:]
rc, out, err = run(FIXED + ["--recipient", "b@example.com"], nrp)
check(rc == 64 and out == b"", "no --sender, no Return-Path: usage error")
rc, out, err = run(FIXED + ["--sender", "a@example.org", "--recipient", "b@example.com",
                            "--diagnostic", "550 x\r\nBcc: evil"], ORIG)
check(rc == 64 and out == b"", "injection refused: exit 64, nothing on stdout")
rc, out, err = run(["--recipient", "b@example.com"], ORIG)
check(rc == 64, "--reporting-mta required")
rc, out, err = run(FIXED + ["--status", "5.0.0"], ORIG)
check(rc == 64, "per-recipient option before --recipient")

# ---- defaults from the clock and random bytes ---------------------------
rc, out, err = run(["--reporting-mta", "mx.example.net", "--sender", "a@example.org",
                    "--recipient", "b@example.com"], ORIG)
m = parse(out)
check(rc == 0 and m["Date"] is not None and m["Message-ID"].endswith("@mx.example.net>"),
      "defaults: Date and Message-ID")
check(m.get_boundary().startswith("=_") and m.get_boundary().encode() not in ORIG,
      "defaults: random boundary")

finish()
