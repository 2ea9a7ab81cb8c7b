#!/usr/bin/env python3
"""The round trip of issue 6: a report built by `opes dsn build` and read by
`opes dsn parse` gives back exactly what was put in, across every option of
`opes dsn build` (docs/cli.md). Each case is a spec (report-wide values, the
recipients with their values, the original); the spec is turned into the
options, the report is built, piped into `opes dsn parse`, and every value of
the spec is compared with the JSON field by field (typed fields: value and
type). The expectation is written from the RFCs, not from the tool:
  - RFC 3464 2.2/2.3: an mta-name without a type is "dns"; an address-type
    kept as given; a utf-8 address (RFC 6533 3) typed "utf-8" and the report
    global (message/global-delivery-status); Diagnostic-Code type "smtp" and,
    for a multi-line reply, the lines joined with the one SPACE RFC 3464 9.2
    puts before each continuation line (unfolding removes only the CRLF);
  - RFC 3461 6.3: ENVID and ORCPT back decoded, exactly as given (values
    that would need xtext on the wire: "+", "=", SPACE, "\\");
    6.3 (g): Status 5.0.0 / 4.0.0 / 2.0.0 by action when none is given;
  - RFC 3461 4.3, RFC 8689 5, docs/opes-smtp.md 11.5: the returned type
    (message/rfc822 after a failure with RET FULL or none; text/rfc822-headers
    for RET=HDRS, REQUIRETLS, a hostile verdict, no failure; the Message-ID
    alone, or nothing, when redacted; message/global* for a UTF-8 original);
    every header field of the original (trace fields OPES-System and OPES-Via
    included) in the returned headers, unfolded.
Each report is also read by Python's email package (an independent reader):
the multipart/report structure, the boundary (=_SEED.NN, absent from the
original), the part types, one delivery-status block per recipient, the
report's own header (From, To, Date, Message-ID, Subject, Auto-Submitted).
Env B = build dir. Prints N passed, N failed."""
import base64
import email
import email.policy
import email.utils
import json
import os
import quopri
import re
import subprocess
import sys
import tempfile
from tkit import OPES, check, finish



def eq(got, want, what):
    check(got == want, "%s: got %r, want %r" % (what, got, want))


tmp = tempfile.mkdtemp()
ENV = os.path.join(tmp, "env.json")

SYS = "http://opes.example.net/sys"
AV = "http://opes.example.net/virus"
SPAM = "http://opes.example.net/spam;v=2"
D1 = "Sun, 6 Dec 2026 05:00:00 +0000"
D2 = "Sun, 6 Dec 2026 05:05:00 -0800"
D3 = "Mon, 7 Dec 2026 05:00:00 +0100"
DATE = "Sun, 6 Dec 2026 05:10:00 +0000"

ORIG = (b"Return-Path: <alice+tag@example.org>\r\n"
        b"Received: from a.example.org (a.example.org [192.0.2.1])\r\n"
        b"\tby mx.example.net with ESMTP id 42; Sun, 6 Dec 2026 05:00:00 +0000\r\n"
        b"OPES-System: http://opes.example.net/sys\r\n"
        b"OPES-Via: http://opes.example.net/virus; action=reject,\r\n"
        b" http://opes.example.net/spam;v=2\r\n"
        b"From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: hello\r\n"
        b"Message-ID: <abc@example.org>\r\n\r\n"
        b"Hello Bob.\r\n--=_S.00\r\nSecond line.\r\n")
NO_MSGID = ORIG.replace(b"Message-ID: <abc@example.org>\r\n", b"")
NO_RP = ORIG[ORIG.index(b"\r\n") + 2:]
UTF8 = ("Return-Path: <j\u00f6ran@example.org>\r\nSubject: caf\u00e9\r\n"
        "From: J\u00f6ran <j\u00f6ran@example.org>\r\nOPES-System: " + SYS + "\r\n"
        "Message-ID: <u@example.org>\r\n\r\nd\u00e9j\u00e0 vu\r\n").encode()
LATIN1 = b"Return-Path: <a@example.org>\r\nSubject: caf\xe9\r\nMessage-ID: <l@x>\r\n\r\nd\xe9j\xe0\r\n"


def has8(s):
    return any(ord(c) > 127 for c in s)


def typed(v, default):
    """'type; name' or 'name' -> (name, type), as RFC 3464 2.2 reads it"""
    if ";" in v:
        t, n = v.split(";", 1)
        return n.strip(), t.strip()
    return v, default


def orig_fields(orig):
    """the header fields of the original: (name, unfolded value)"""
    nl = b"\r\n" if b"\r\n" in orig[:orig.index(b"\n") + 1] else b"\n"
    head = orig[:orig.index(nl + nl) + len(nl)].decode("utf-8", "surrogateescape")
    out = []
    for line in head.split(nl.decode()):
        if not line:
            continue
        if line[0] in " \t":
            out[-1][1] += line
        else:
            n, v = line.split(":", 1)
            out.append([n, v])
    return [(n, v.strip(" \t")) for n, v in out]


def expected_returned(spec):
    """returned_type and which header fields (None: no returned headers in
    the JSON, the part being transfer-encoded)"""
    orig = spec["orig"]
    opt = spec.get("opts", {})
    fields = orig_fields(orig)
    if opt.get("redact"):
        ids = [f for f in fields if f[0].lower() == "message-id"]
        return ("text/rfc822-headers", ids) if ids else ("", [])
    any_failed = any(r.get("action", "failed") == "failed" for r in spec["rcpts"])
    hdrs = (opt.get("ret") == "hdrs" or opt.get("requiretls") or opt.get("hostile") or
            not any_failed)
    eight = any(c > 127 for c in orig)
    utf8 = False
    if eight:
        try:
            orig.decode("utf-8")
            utf8 = True
        except UnicodeDecodeError:
            pass
    path8 = opt.get("8bitmime") or opt.get("smtputf8")
    if eight and not utf8 and not path8:
        hdrs = True  # RFC 6522: 8-bit content, a 7-bit path: the headers
    if utf8:
        t = "message/global-headers" if hdrs else "message/global"
    else:
        t = "text/rfc822-headers" if hdrs else "message/rfc822"
    encoded = eight and not (opt.get("smtputf8") if utf8 else path8)
    return t, (None if encoded else fields)


def args_of(spec):
    a = ["--reporting-mta", spec["rmta"]]
    o = spec.get("opts", {})
    for k in ("sender", "opes-system", "envid", "arrival-date", "date", "message-id",
              "boundary", "dsn-gateway", "received-from-mta", "subject", "postmaster", "ret",
              "return-limit"):
        if k in o:
            a += ["--" + k, o[k]]
    if "opes-service" in o:
        a += ["--opes-service", o["opes-service"]]
        if o.get("bypassable") is True:
            a.append("--bypassable")
        elif o.get("bypassable") is False:
            a.append("--not-bypassable")
    for k in ("requiretls", "redact", "8bitmime", "smtputf8", "hostile", "sender-verified"):
        if o.get(k):
            a.append("--" + k)
    for r in spec["rcpts"]:
        a += ["--recipient", r["addr"]]
        for k in ("action", "status", "diagnostic", "orcpt", "notify", "remote-mta",
                  "last-attempt", "final-log-id", "will-retry-until", "opes-service"):
            if k in r:
                a += ["--" + k, r[k]]
        if r.get("bypassable") is True:
            a.append("--bypassable")
        elif r.get("bypassable") is False:
            a.append("--not-bypassable")
    return a


def build(args, stdin):
    p = subprocess.run([OPES, "dsn", "build"] + args, input=stdin, capture_output=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def parse_json(report):
    p = subprocess.run([OPES, "dsn", "parse"], input=report, capture_output=True, timeout=60)
    return p.returncode, (json.loads(p.stdout) if p.stdout else None)


def roundtrip(name, spec):
    o = spec.get("opts", {})
    args = args_of(spec) + ["--envelope-out", ENV]
    if os.path.exists(ENV):
        os.unlink(ENV)
    rc, out, err = build(args, spec["orig"])
    eq(rc, 0, name + ": build exit (%s)" % err.decode(errors="replace").strip())
    if rc != 0:
        return None
    prc, j = parse_json(out)
    eq(prc, 0, name + ": parse exit")
    if j is None:
        return None
    sender = o.get("sender")
    if sender is None:
        sender = [v for n, v in orig_fields(spec["orig"]) if n.lower() == "return-path"][0]
        sender = sender.strip("<>")
    # RFC 6533: a UTF-8 address anywhere in the report (its recipient too)
    glob = has8(sender) or any(has8(r["addr"]) or has8(r.get("orcpt", "")) or
                               has8(r.get("diagnostic", "")) for r in spec["rcpts"])
    eq(j["dsn"], True, name + ": dsn")
    eq(j["global"], glob, name + ": global")
    eq(j.get("report_type"), "global-delivery-status" if glob else "delivery-status",
       name + ": report_type")
    # ---- per-message ----
    rm, rmt = typed(spec["rmta"], "dns")
    eq((j.get("reporting_mta"), j.get("reporting_mta_type")), (rm, rmt), name + ": reporting_mta")
    for key, opt in (("dsn_gateway", "dsn-gateway"), ("received_from_mta", "received-from-mta")):
        if opt in o:
            eq((j.get(key), j.get(key + "_type")), typed(o[opt], "dns"), name + ": " + key)
        else:
            check(key not in j, name + ": no " + key)
    for key, opt in (("original_envelope_id", "envid"), ("arrival_date", "arrival-date"),
                     ("opes_system", "opes-system"), ("opes_service", "opes-service")):
        eq(j.get(key), o.get(opt), name + ": " + key)
    eq(j.get("opes_bypassable"), o.get("bypassable"), name + ": report opes_bypassable")
    eq(j.get("extensions"), [], name + ": no unknown per-message field")
    check("problems" not in j, name + ": no per-message problem: %r" % j.get("problems"))
    # ---- per-recipient ----
    rs = j.get("recipients", [])
    eq(len(rs), len(spec["rcpts"]), name + ": recipient count")
    for i, (r, g) in enumerate(zip(spec["rcpts"], rs)):
        n = "%s: rcpt %d " % (name, i)
        eq((g.get("final_recipient"), g.get("final_recipient_type")),
           (r["addr"], "utf-8" if has8(r["addr"]) else "rfc822"), n + "final_recipient")
        action = r.get("action", "failed")
        eq(g.get("action"), action, n + "action")
        dflt = {"failed": "5.0.0", "delayed": "4.0.0"}.get(action, "2.0.0")
        eq(g.get("status"), r.get("status", dflt), n + "status")
        if "orcpt" in r:
            t, a = r["orcpt"].split(";", 1) if ";" in r["orcpt"] else ("rfc822", r["orcpt"])
            if has8(a):
                t = "utf-8"
            eq((g.get("original_recipient"), g.get("original_recipient_type")), (a, t),
               n + "original_recipient")
        else:
            check("original_recipient" not in g, n + "no ORCPT, no Original-Recipient")
        if "remote-mta" in r:
            eq((g.get("remote_mta"), g.get("remote_mta_type")), typed(r["remote-mta"], "dns"),
               n + "remote_mta")
        else:
            check("remote_mta" not in g, n + "no remote_mta")
        if "diagnostic" in r:
            lines = re.split(r"\r?\n", r["diagnostic"])
            eq((g.get("diagnostic_code"), g.get("diagnostic_code_type")),
               (" ".join(lines), "smtp"), n + "diagnostic_code")
        else:
            check("diagnostic_code" not in g, n + "no diagnostic_code")
        for key, opt in (("last_attempt_date", "last-attempt"), ("final_log_id", "final-log-id"),
                         ("will_retry_until", "will-retry-until"), ("opes_service", "opes-service")):
            eq(g.get(key), r.get(opt), n + key)
        eq(g.get("opes_bypassable"), r.get("bypassable") if "opes-service" in r else None,
           n + "opes_bypassable")
        eq(g.get("extensions"), [], n + "no unknown field")
        check("problems" not in g, n + "no problem: %r" % g.get("problems"))
    # ---- the returned content ----
    rt, fields = expected_returned(spec)
    eq(j.get("returned_type", ""), rt, name + ": returned_type")
    if fields is not None and rt:
        got = [(h["name"], h["value"]) for h in j.get("returned_headers", [])]
        eq(got, fields, name + ": returned header fields")
    elif rt:
        check("returned_headers" not in j, name + ": encoded part: no header fields")
    # ---- Python's email package, an independent reader ----
    m = email.message_from_bytes(out, policy=email.policy.default)
    eq(m.get_content_type(), "multipart/report", name + ": py multipart/report")
    eq(m.get_param("report-type"), "global-delivery-status" if glob else "delivery-status",
       name + ": py report-type")
    bnd = m.get_boundary()
    check(bnd is not None and re.fullmatch(r"=_%s\.[0-9A-F]{2}" % re.escape(o["boundary"]), bnd)
          is not None, name + ": py boundary %r" % bnd)
    check(("--" + bnd).encode() not in spec["orig"], name + ": boundary not in the original")
    nl = b"\n" if o.get("lf") else b"\r\n"
    check(out.rstrip(b"\r\n").endswith(b"--" + bnd.encode() + b"--"), name + ": close-delimiter")
    parts = list(m.iter_parts())
    want = ["text/plain", "message/global-delivery-status" if glob else "message/delivery-status"]
    if rt:
        want.append(rt)
    eq([p.get_content_type() for p in parts], want, name + ": py part types")
    check(not m.defects and all(not p.defects for p in parts),
          name + ": py defects %r" % ([m.defects] + [p.defects for p in parts]))
    if len(parts) > 1 and not glob:
        blocks = parts[1].get_payload()
        eq(len(blocks), 1 + len(spec["rcpts"]), name + ": py delivery-status blocks")
        if len(blocks) == 1 + len(spec["rcpts"]):
            eq(blocks[0]["Reporting-MTA"], "%s; %s" % (rmt, rm), name + ": py Reporting-MTA")
            if "envid" in o:
                eq(str(blocks[0]["Original-Envelope-Id"]), o["envid"], name + ": py ENVID")
            for r, blk in zip(spec["rcpts"], blocks[1:]):
                eq(str(blk["Final-Recipient"]), "rfc822;" + r["addr"], name + ": py Final-Recipient")
                eq(str(blk["Action"]), r.get("action", "failed"), name + ": py Action")
    to = m["To"].addresses[0].addr_spec.encode("utf-8", "surrogateescape").decode("utf-8")
    eq(to, sender, name + ": py To: the original sender")
    eq(m["From"].addresses[0].addr_spec,
       o.get("postmaster", "postmaster@" + rm), name + ": py From")
    eq(m["Date"].datetime, email.utils.parsedate_to_datetime(o["date"]), name + ": py Date")
    eq(m["Message-ID"], o["message-id"], name + ": py Message-ID")
    if "subject" in o:
        eq(m["Subject"], o["subject"], name + ": py Subject")
    eq(m["Auto-Submitted"], "auto-replied", name + ": py Auto-Submitted")
    if rt and fields is None:
        # a transfer-encoded returned part: Python decodes it back
        p3 = parts[-1]
        cte = str(p3["Content-Transfer-Encoding"]).lower()
        start = out.index(b"\r\n\r\n", out.index(b"Content-Transfer-Encoding: ",
                                                  out.index(b"Content-Type: " + rt.encode()))) + 4
        body = out[start:out.index(b"\r\n--" + bnd.encode() + b"--")]
        raw = base64.b64decode(body) if cte == "base64" else quopri.decodestring(body)
        part = spec["orig"] if not rt.endswith("headers") else \
            spec["orig"][:spec["orig"].index(b"\r\n\r\n") + 2]
        eq(raw, part, name + ": py decodes the encoded returned content")
    # ---- the envelope ----
    env = json.load(open(ENV))
    eq(env["reverse_path"], "", name + ": envelope reverse_path")
    eq(env["recipient"], sender, name + ": envelope recipient")
    rtls = bool(o.get("requiretls")) and not o.get("redact")
    eq(env["requiretls"], rtls, name + ": envelope requiretls")
    eq(env["keep_without_requiretls"], rtls, name + ": envelope keep_without_requiretls")
    eq("REQUIRETLS" in env["mail_params"], rtls, name + ": envelope REQUIRETLS param")
    eq(env["rcpt_params"], ["NOTIFY=NEVER"], name + ": envelope rcpt_params")
    eq(env["boundary"], bnd, name + ": envelope boundary")
    eq(env["ret"], "hdrs" if rt.endswith("headers") or not rt else "full", name + ": envelope ret")
    eq(env["truncated"], "return-limit" in o and
       int(o["return-limit"]) < len(spec["orig"]), name + ": envelope truncated")
    return j, out, env


def base(**kw):
    o = {"date": DATE, "message-id": "<r1@mx.example.net>", "boundary": "S"}
    o.update(kw)
    return o


ALL_RCPTS = [
    {"addr": "Carol@Ivory.EDU", "action": "failed", "status": "5.7.1",
     "diagnostic": "550-5.7.1 mailbox unavailable\r\n550 5.7.1 user has moved (no forwarding)",
     "orcpt": "rfc822;Carol+list=x@Ivory.EDU", "notify": "FAILURE,DELAY",
     "remote-mta": "mx.ivory.edu", "last-attempt": D2, "final-log-id": "q-42 a(b)",
     "opes-service": AV, "bypassable": True},
    {"addr": "dave@example.com", "action": "delayed", "status": "4.4.1",
     "diagnostic": "421 4.4.1 try again later", "notify": "DELAY",
     "remote-mta": "x-local-hostname; mta7", "will-retry-until": D3,
     "orcpt": 'rfc822;"dave  q\\\\x"@example.com', "opes-service": SPAM, "bypassable": False},
    {"addr": "erin@example.com", "action": "delivered", "status": "2.0.0",
     "notify": "SUCCESS,FAILURE", "last-attempt": D1, "opes-service": SYS + "/log"},
    {"addr": "frank@example.com", "action": "relayed", "notify": "SUCCESS",
     "remote-mta": "dns; legacy.example.com", "diagnostic": "250 ok"},
    {"addr": "grace@example.com", "action": "expanded", "notify": "SUCCESS",
     "orcpt": "x-foo;list-7"},
]

CASES = [
    ("everything", {"rmta": "mx.example.net", "orig": ORIG, "rcpts": ALL_RCPTS,
                    "opts": base(sender="alice@example.org", **{
                        "opes-system": SYS, "opes-service": SPAM, "bypassable": True,
                        "envid": "QQ 314159+x=y\\z", "arrival-date": D1,
                        "dsn-gateway": "gw.example.org",
                        "received-from-mta": "dns; a.example.org",
                        "subject": "Undeliverable: hello", "postmaster": "mailer@example.net",
                        "ret": "full"})}),
    ("ret-hdrs", {"rmta": "x-local-hostname; mta.local", "orig": ORIG,
                  "rcpts": [{"addr": "bob@example.com", "diagnostic": "554 no"}],
                  "opts": base(sender="a@example.org", ret="hdrs",
                               **{"opes-service": AV, "bypassable": False})}),
    ("ret-unset-failure", {"rmta": "mx.example.net", "orig": ORIG,
                           "rcpts": [{"addr": "bob@example.com"}],
                           "opts": base(sender="a@example.org")}),
    ("no-failure-full", {"rmta": "mx.example.net", "orig": ORIG,
                         "rcpts": [{"addr": "bob@example.com", "action": "delivered",
                                    "notify": "SUCCESS"}],
                         "opts": base(sender="a@example.org", ret="full")}),
    ("requiretls", {"rmta": "mx.example.net", "orig": ORIG,
                    "rcpts": [{"addr": "bob@example.com", "status": "5.7.10"}],
                    "opts": base(sender="a@example.org", ret="full", requiretls=True,
                                 **{"opes-system": SYS})}),
    ("redact", {"rmta": "mx.example.net", "orig": ORIG,
                "rcpts": [{"addr": "bob@example.com", "opes-service": AV, "bypassable": True}],
                "opts": base(sender="a@example.org", requiretls=True, redact=True,
                             **{"opes-system": SYS})}),
    ("redact-no-msgid", {"rmta": "mx.example.net", "orig": NO_MSGID,
                         "rcpts": [{"addr": "bob@example.com"}],
                         "opts": base(sender="a@example.org", redact=True)}),
    ("sender-from-return-path", {"rmta": "mx.example.net", "orig": ORIG,
                                 "rcpts": [{"addr": "bob@example.com"}], "opts": base()}),
    ("utf8-recipients-global", {"rmta": "mx.example.net", "orig": ORIG,
                                "rcpts": [{"addr": "j\u00f6ran@example.org",
                                           "orcpt": "utf-8;J\u00f6ran+tag=1@example.org"},
                                          {"addr": "plain@example.org",
                                           "orcpt": "utf-8;plain@example.org"},
                                          # "\x" in a UTF-8 address: written in
                                          # the unitext form, read back as given
                                          {"addr": "j\u00f6ran\\x@example.org",
                                           "orcpt": "utf-8;a\\x{E9}b@example.org"},
                                          {"addr": "\u7530\u4e2d@\u4f8b\u3048.jp",
                                           "diagnostic": "550 ne d\u00e9livre pas"}],
                                "opts": base(sender="a@example.org",
                                             envid="id-\u00e9".encode("ascii", "replace")
                                             .decode())}),
    ("utf8-original-smtputf8", {"rmta": "mx.example.net", "orig": UTF8,
                                "rcpts": [{"addr": "bob@example.com"}],
                                "opts": base(smtputf8=True)}),
    ("utf8-original-7bit", {"rmta": "mx.example.net", "orig": UTF8,
                            "rcpts": [{"addr": "bob@example.com"}],
                            "opts": base(sender="a@example.org")}),
    ("utf8-original-7bit-hdrs", {"rmta": "mx.example.net", "orig": UTF8,
                                 "rcpts": [{"addr": "bob@example.com"}],
                                 "opts": base(sender="a@example.org", ret="hdrs")}),
    ("latin1-original-8bitmime", {"rmta": "mx.example.net", "orig": LATIN1,
                                  "rcpts": [{"addr": "bob@example.com"}],
                                  "opts": base(**{"8bitmime": True})}),
    ("hostile-verified", {"rmta": "mx.example.net", "orig": ORIG,
                          "rcpts": [{"addr": "bob@example.com", "status": "5.7.1",
                                     "opes-service": AV}],
                          "opts": base(sender="a@example.org", ret="full", hostile=True,
                                       **{"sender-verified": True, "opes-system": SYS})}),
    ("return-limit", {"rmta": "mx.example.net", "orig": ORIG,
                      "rcpts": [{"addr": "bob@example.com"}],
                      "opts": base(sender="a@example.org", **{"return-limit": str(
                          ORIG.index(b"\r\n\r\n") + 8)})}),
    ("lf-original", {"rmta": "mx.example.net", "orig": ORIG.replace(b"\r\n", b"\n"),
                     "rcpts": [{"addr": "bob@example.com",
                                "diagnostic": "550-a\n550-b\n550 c"}],
                     "opts": base(sender="a@example.org", lf=True,
                                  envid="lf+1", **{"opes-system": SYS})}),
]

for name, spec in CASES:
    res = roundtrip(name, spec)
    if name == "lf-original" and res:
        check(b"\r" not in res[1], "lf-original: an LF report")
    if name == "return-limit" and res:
        j, out, env = res
        eq(env["truncated"], True, "return-limit: truncated")
    if name == "redact" and res:
        out = res[1]
        check(b"Subject: hello" not in out and b"OPES-Via" not in out,
              "redact: no other field of the original")
        check(SYS.encode() in out and AV.encode() in out, "redact: the OPES names stay")

# ---- the sender rules ----------------------------------------------------
FIX = ["--reporting-mta", "mx.example.net", "--date", DATE, "--message-id", "<r@x>",
       "--boundary", "S"]
rc, out, err = build(FIX + ["--sender", "<>", "--recipient", "b@example.com"], ORIG)
check(rc == 3 and out == b"", "--sender <>: exit 3, nothing on stdout (%d)" % rc)
rc, out, err = build(FIX + ["--recipient", "b@example.com"], NO_RP)
check(rc == 64 and out == b"", "neither --sender nor Return-Path: exit 64 (%d)" % rc)
rc, out, err = build(FIX + ["--sender", "a@example.org", "--envid", " QQ",
                            "--recipient", "b@example.com"], ORIG)
check(rc == 64 and out == b"", "an ENVID that a field cannot carry back: exit 64 (%d)" % rc)

finish()
