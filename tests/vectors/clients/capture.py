#!/usr/bin/python3
"""Capture what real SMTP clients send, as test fixtures for libopes.

Run from anywhere:  python3 tests/vectors/clients/capture.py

A tiny recording ESMTP server (standard library only) listens on 127.0.0.1
on a free port, answers like a plausible server and records every byte the
client sends, exactly and in order. Real clients are driven against it:
Python's smtplib (in this process) and swaks (a subprocess). For each run
four files are written next to this script (see README):

  <name>.client   every byte the client sent (whole session, message data too)
  <name>.server   every byte the server sent
  <name>.session  both sides interleaved, one logical unit per line, escaped
  <name>.expect   the expectation: one line per command, built from what this
                  script TOLD the client to send (API arguments, command line
                  options and the client's documented behaviour), never from
                  a parser; only offsets come from the recording

Before anything is written, every expected command line is compared byte for
byte with what the server received (and every DATA length with the observed
end of data), so a fixture never holds an expectation the client did not
meet. INDEX lists the fixtures, one name per line, for tests/test_clients.c.

Everything is deterministic apart from the versions, the date in the .expect
headers and the TLS ClientHello bytes after STARTTLS (random by design).
"""

import base64
import datetime
import inspect
import os
import re
import shlex
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import threading
from email.message import EmailMessage

HERE = os.path.dirname(os.path.abspath(__file__))
HELO = "client.example"
SERVER_NAME = "mx.example"
USER, PASSWORD = "alice", "s3cret pass"

CAPS_FULL = [
    "PIPELINING",
    "SIZE 52428800",
    "8BITMIME",
    "SMTPUTF8",
    "DSN",
    "ENHANCEDSTATUSCODES",
    "AUTH PLAIN LOGIN",
    "STARTTLS",
    "CHUNKING",
]
# smtplib's login() prefers PLAIN over LOGIN (Lib/smtplib.py preferred_auths),
# so AUTH LOGIN is captured against a server offering only LOGIN.
CAPS_LOGIN_ONLY = [c if not c.startswith("AUTH ") else "AUTH LOGIN" for c in CAPS_FULL]
CAPS_LMTP = ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"]

FIXED_DATE = "Thu, 01 Jan 2026 00:00:00 +0000"


# ---------------------------------------------------------------------------
# The recording server
# ---------------------------------------------------------------------------


class CaptureServer(threading.Thread):
    """One connection, recorded. Its own minimal line splitting is used only
    to know what to answer and where each unit starts (offsets); the
    expectation never comes from it."""

    def __init__(self, caps, refuse_ehlo=0):
        super().__init__(daemon=True)
        self.caps = list(caps)
        self.refuse_ehlo = refuse_ehlo
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.client = bytearray()  # every byte received, in order
        self.server = bytearray()  # every byte sent, in order
        self.seen = []  # (kind, offset, bytes): kind cmd/auth/data/bdat/tls
        self.session = []  # ('C'|'S', offset, bytes)
        self.error = None
        self.mode = "cmd"
        self.lmtp = False
        self.rcpts = 0
        self.auth_steps = []
        self.bdat_left = 0
        self.bdat_last = False
        self.tls_start = None
        self.closing = False
        self.conn = None

    # -- output --
    def reply(self, text):
        data = text.encode("ascii")
        self.session.append(("S", len(self.server), data))
        self.server += data
        self.conn.sendall(data)

    def note(self, kind, off, data):
        self.seen.append((kind, off, bytes(data)))
        self.session.append(("C", off, bytes(data)))

    # -- the loop --
    def run(self):
        try:
            self.serve()
        except Exception as e:  # reported by the caller
            self.error = e
        finally:
            self.lsock.close()
            if self.conn is not None:
                self.conn.close()

    def serve(self):
        self.lsock.settimeout(30)
        self.conn, _ = self.lsock.accept()
        self.conn.settimeout(10)
        self.reply("220 %s ESMTP libopes capture server\r\n" % SERVER_NAME)
        pos = 0
        while not self.closing:
            newpos = self.step(pos)
            if newpos is not None:
                pos = newpos
                continue
            try:
                data = self.conn.recv(65536)
            except socket.timeout:
                if self.mode == "tls":
                    break
                raise
            if not data:
                break
            self.client += data
        if self.mode == "tls" and self.tls_start is not None:
            n = len(self.client) - self.tls_start
            self.note("tls", self.tls_start, self.client[self.tls_start :])
            self.tls_bytes = n

    def line_at(self, pos):
        eol = self.client.find(b"\n", pos)
        if eol < 0:
            return None
        return bytes(self.client[pos : eol + 1])

    def step(self, pos):
        """Consume one unit at pos if it is complete; return the new position,
        or None when more bytes are needed."""
        if self.mode in ("cmd", "auth"):
            line = self.line_at(pos)
            if line is None:
                return None
            self.note(self.mode, pos, line)
            if self.mode == "cmd":
                self.command(line, pos + len(line))
            else:
                self.auth_line(line)
            return pos + len(line)
        if self.mode == "data":
            # RFC 5321 4.1.1.4: the data ends with CRLF "." CRLF; the CRLF
            # ending the DATA line counts as the first CRLF of an empty body.
            if self.client[pos : pos + 3] == b".\r\n":
                end = pos + 3
            else:
                i = self.client.find(b"\r\n.\r\n", pos)
                if i < 0:
                    return None
                end = i + 5
            self.note("data", pos, self.client[pos:end])
            self.mode = "cmd"
            if self.lmtp:  # RFC 2033 4.2: one reply per accepted recipient
                for _ in range(self.rcpts):
                    self.reply("250 2.1.5 Ok, delivered\r\n")
            else:
                self.reply("250 2.0.0 Ok: queued as CAPTURE\r\n")
            return end
        if self.mode == "bdat":
            if len(self.client) - pos < self.bdat_left:
                return None
            end = pos + self.bdat_left
            self.note("bdat", pos, self.client[pos:end])
            self.mode = "cmd"
            self.reply("250 2.0.0 %d octets received%s\r\n"
                       % (self.bdat_left, ", queued" if self.bdat_last else ""))
            return end
        if self.mode == "tls":
            # Record the client's first TLS record(s) (a ClientHello), then
            # close: the header's length field says when one record is whole.
            have = len(self.client) - self.tls_start
            if have >= 5:
                rec = 5 + int.from_bytes(self.client[self.tls_start + 3 : self.tls_start + 5], "big")
                if have >= rec:
                    self.closing = True
                    return pos
            return None
        raise AssertionError(self.mode)

    def command(self, line, next_pos):
        text = line.rstrip(b"\r\n")
        word, _, arg = text.partition(b" ")
        verb = word.upper()
        if verb in (b"EHLO", b"LHLO"):
            if verb == b"EHLO" and self.refuse_ehlo > 0:
                self.refuse_ehlo -= 1
                self.reply("502 Command not implemented\r\n")
                return
            self.lmtp = verb == b"LHLO"
            lines = [SERVER_NAME + " greets " + arg.decode("utf-8", "replace")] + self.caps
            out = "".join("250-%s\r\n" % l for l in lines[:-1]) + "250 %s\r\n" % lines[-1]
            self.reply(out)
        elif verb == b"HELO":
            self.reply("250 %s\r\n" % SERVER_NAME)
        elif verb == b"MAIL":
            self.rcpts = 0
            self.reply("250 2.1.0 Ok\r\n")
        elif verb == b"RCPT":
            self.rcpts += 1
            self.reply("250 2.1.5 Ok\r\n")
        elif verb == b"DATA":
            self.mode = "data"
            self.reply("354 End data with <CR><LF>.<CR><LF>\r\n")
        elif verb == b"BDAT":
            parts = arg.split()
            self.bdat_left = int(parts[0])
            self.bdat_last = len(parts) > 1 and parts[1].upper() == b"LAST"
            self.mode = "bdat"
        elif verb in (b"RSET", b"NOOP"):
            self.reply("250 2.0.0 Ok\r\n")
        elif verb == b"VRFY":
            self.reply("252 2.0.0 Cannot VRFY user, but will accept message\r\n")
        elif verb == b"EXPN":
            self.reply("250 2.1.5 Staff <staff@example.org>\r\n")
        elif verb == b"HELP":
            self.reply("214 2.0.0 See RFC 5321\r\n")
        elif verb == b"QUIT":
            self.reply("221 2.0.0 Bye\r\n")
            self.closing = True
        elif verb == b"STARTTLS":
            self.reply("220 2.0.0 Ready to start TLS\r\n")
            self.mode = "tls"
            self.tls_start = next_pos
        elif verb == b"AUTH":
            parts = arg.split(b" ")
            mech = parts[0].upper()
            ir = len(parts) > 1
            if mech == b"PLAIN":
                self.auth_steps = [] if ir else ["235 2.7.0 Authentication successful"]
                if ir:
                    self.reply("235 2.7.0 Authentication successful\r\n")
                else:
                    self.reply("334 \r\n")  # RFC 4954 4: empty challenge
                    self.mode = "auth"
            elif mech == b"LOGIN":
                if ir:
                    self.auth_steps = ["235 2.7.0 Authentication successful"]
                    self.reply("334 UGFzc3dvcmQ6\r\n")
                else:
                    self.auth_steps = ["334 UGFzc3dvcmQ6", "235 2.7.0 Authentication successful"]
                    self.reply("334 VXNlcm5hbWU6\r\n")
                self.mode = "auth"
            else:
                self.reply("504 5.5.4 Unrecognized authentication type\r\n")
        else:
            self.reply("500 5.5.2 Error: command not recognized\r\n")

    def auth_line(self, line):
        if line.rstrip(b"\r\n") == b"*":  # RFC 4954 4: the client cancels
            self.mode = "cmd"
            self.reply("501 5.7.0 Authentication cancelled\r\n")
            return
        step = self.auth_steps.pop(0)
        if not self.auth_steps:
            self.mode = "cmd"
        self.reply(step + "\r\n")


# ---------------------------------------------------------------------------
# Expectations: built from what the client is told to send
# ---------------------------------------------------------------------------


class Expect:
    """Each item: the unit kind the server will see, the exact bytes the
    client must send (from the API call or command line), and the fields
    of the .expect line."""

    def __init__(self):
        self.items = []

    def _add(self, kind, line, fields, enc="ascii"):
        self.items.append({"kind": kind, "bytes": line.encode(enc), "fields": fields})

    def cmd(self, verb, arg=None):
        """A command whose argument (if any) is one string: HELO/EHLO/LHLO
        domain, VRFY/EXPN/HELP/NOOP string; none for DATA-less verbs."""
        line = verb if arg is None else verb + " " + arg
        self._add("cmd", line + "\r\n", [verb] + ([] if arg is None else [arg]))

    def mail_rcpt(self, verb, kw, addr, params, enc="ascii"):
        """MAIL FROM:<addr> params / RCPT TO:<addr> params. addr without
        brackets ("" for the null path); params exactly as sent."""
        line = "%s %s:<%s>%s\r\n" % (verb, kw, addr, "".join(" " + p for p in params))
        self._add("cmd", line, [verb, addr] + list(params), enc)

    def data(self, verb, wire_body):
        """DATA, then the body as it must appear on the wire (dot-stuffed,
        with the final CRLF.CRLF); the .expect line carries its length."""
        self._add("cmd", verb + "\r\n", [verb, str(len(wire_body))])
        self.items.append({"kind": "data", "bytes": wire_body, "fields": None})

    def auth(self, mech, initial=None):
        line = "AUTH " + mech + ("" if initial is None else " " + initial)
        self._add("cmd", line + "\r\n", ["AUTH", mech] + ([] if initial is None else [initial]))

    def auth_line(self, response):
        self._add("auth", response + "\r\n", ["auth-line", response])

    def starttls(self, verb="STARTTLS"):
        self._add("cmd", verb + "\r\n", [verb])
        self.items.append({"kind": "tls", "bytes": None, "fields": ["tls-start"]})


def b64(s):
    return base64.b64encode(s.encode("utf-8")).decode("ascii")


def rfc5321_dot_stuff(data):
    """RFC 5321 4.5.2: a line starting with "." gets one more "." ("line
    start" as smtplib's (?m)^ sees it: the start of data or after a LF)."""
    return re.sub(rb"(?m)^\.", b"..", data)


def smtplib_wire_body(msg):
    """What smtplib.SMTP.data() documents: a str has lone CR and LF turned
    into CRLF and is encoded as ASCII, bytes are sent as they are; lines
    beginning with a period are quoted; a CRLF is added if the message does
    not end with one; then "." CRLF."""
    if isinstance(msg, str):
        msg = re.sub(r"\r\n|\n|\r", "\r\n", msg).encode("ascii")
    q = rfc5321_dot_stuff(msg)
    if q[-2:] != b"\r\n":
        q += b"\r\n"
    return q + b".\r\n"


def smtplib_msg_len(msg):
    """The size smtplib.sendmail() announces with SIZE: the length of the
    message after the line-ending fix, before dot-stuffing."""
    if isinstance(msg, str):
        msg = re.sub(r"\r\n|\n|\r", "\r\n", msg).encode("ascii")
    return len(msg)


def expect_sendmail(e, frm, tos, msg, mail_options=(), rcpt_options=(), esmtp=True,
                    size=True, enc="ascii"):
    """smtplib.SMTP.sendmail() as documented: MAIL FROM with the given
    options (preceded by "size=N" when the server offers SIZE; all options
    dropped when the session is not ESMTP), one RCPT TO per recipient with
    rcpt_options, DATA. smtplib sends its verbs in lower case."""
    opts = []
    if esmtp:
        if size:
            opts.append("size=%d" % smtplib_msg_len(msg))
        opts += list(mail_options)
    e.mail_rcpt("mail", "FROM", frm, opts, enc)
    for to in tos:
        e.mail_rcpt("rcpt", "TO", to, list(rcpt_options) if esmtp else [], enc)
    e.data("data", smtplib_wire_body(msg))


# ---------------------------------------------------------------------------
# smtplib scenarios. Each drive() function is the exact Python call; its
# source goes into the .expect header.
# ---------------------------------------------------------------------------

MSG_PLAIN = (
    "From: Alice <alice@example.org>\n"
    "To: Bob <bob@example.net>\n"
    "Subject: fixture\n"
    "Date: " + FIXED_DATE + "\n"
    "Message-ID: <plain@client.example>\n"
    "\n"
    "Hello Bob,\n"
    "this message was sent by Python's smtplib.\n"
)

MSG_DOTS = (
    "From: alice@example.org\r\n"
    "To: bob@example.net\r\n"
    "Subject: dots and long lines\r\n"
    "Date: " + FIXED_DATE + "\r\n"
    "\r\n"
    ".leading dot\r\n"
    "..two leading dots\r\n"
    ".\r\n"
    "a line after a lone dot\r\n"
    " . not at the start\r\n"
    + "x" * 998 + "\r\n"  # exactly the RFC 5321 4.5.3.1.6 limit with CRLF
    + "y" * 1500 + "\r\n"  # over it: smtplib does not wrap
    + "."  # last line is a dot without a line end
)

MSG_BARE_LF = (
    b"From: alice@example.org\n"
    b"To: bob@example.net\n"
    b"Subject: bare LF line ends (bytes are sent as they are)\n"
    b"\n"
    b"line one\n"
    b".dot after a bare LF\n"
    b"a bare CR\rin the middle\r\n"
    b"last line\n"
)

MSG_UTF8 = (
    "From: =?utf-8?q?Jos=C3=A9?= <jösé@exämple.org>\r\n"
    "To: 用户@例子.广告\r\n"
    "Subject: SMTPUTF8\r\n"
    "Date: " + FIXED_DATE + "\r\n"
    "\r\n"
    "Grüße\r\n"
).encode("utf-8")


def smtp(port):
    return smtplib.SMTP("127.0.0.1", port, local_hostname=HELO, timeout=10)


def sl_sendmail(port):
    s = smtp(port)
    s.sendmail("alice@example.org", ["bob@example.net"], MSG_PLAIN)
    s.quit()


def sl_sendmail_exp(e):
    e.cmd("ehlo", HELO)
    expect_sendmail(e, "alice@example.org", ["bob@example.net"], MSG_PLAIN)
    e.cmd("quit")


def sl_mail_params(port):
    s = smtp(port)
    s.sendmail("alice@example.org", ["bob@example.net", "carol@example.net"], MSG_PLAIN,
               mail_options=["BODY=8BITMIME"],
               rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;bob@example.net"])
    s.quit()


def sl_mail_params_exp(e):
    e.cmd("ehlo", HELO)
    expect_sendmail(e, "alice@example.org", ["bob@example.net", "carol@example.net"], MSG_PLAIN,
                    ["BODY=8BITMIME"],
                    ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;bob@example.net"])
    e.cmd("quit")


SIZE_PLAIN = smtplib_msg_len(MSG_PLAIN)


def sl_size_twice(port):
    s = smtp(port)
    s.sendmail("alice@example.org", ["bob@example.net"], MSG_PLAIN,
               mail_options=["SIZE=%d" % SIZE_PLAIN, "BODY=8BITMIME"])
    s.quit()


def sl_size_twice_exp(e):
    e.cmd("ehlo", HELO)
    expect_sendmail(e, "alice@example.org", ["bob@example.net"], MSG_PLAIN,
                    ["SIZE=%d" % SIZE_PLAIN, "BODY=8BITMIME"])
    e.cmd("quit")


def sl_smtputf8(port):
    s = smtp(port)
    s.sendmail("jösé@exämple.org", ["用户@例子.广告"], MSG_UTF8, mail_options=["SMTPUTF8"])
    s.quit()


def sl_smtputf8_exp(e):
    e.cmd("ehlo", HELO)
    expect_sendmail(e, "jösé@exämple.org", ["用户@例子.广告"], MSG_UTF8, ["SMTPUTF8"],
                    enc="utf-8")
    e.cmd("quit")


def utf8_message():
    m = EmailMessage()
    m["From"] = "José <jösé@exämple.org>"
    m["To"] = "用户@例子.广告"
    m["Subject"] = "send_message with SMTPUTF8"
    m["Date"] = FIXED_DATE
    m.set_content("Grüße\n")
    return m


def sl_send_message_utf8(port):
    s = smtp(port)
    s.send_message(utf8_message())
    s.quit()


def sl_send_message_utf8_exp(e):
    # smtplib.send_message() documents: with non-ASCII addresses and a
    # server offering SMTPUTF8, the message is serialized with utf8=True and
    # "SMTPUTF8 and BODY=8BITMIME are asserted on the send"; the addresses
    # come from From and To. The serialization is the email package's.
    import email.generator
    import io
    m = utf8_message()
    buf = io.BytesIO()
    g = email.generator.BytesGenerator(buf, policy=m.policy.clone(utf8=True))
    g.flatten(m, linesep="\r\n")
    flat = buf.getvalue()
    e.cmd("ehlo", HELO)
    expect_sendmail(e, "jösé@exämple.org", ["用户@例子.广告"], flat,
                    ["SMTPUTF8", "BODY=8BITMIME"], enc="utf-8")
    e.cmd("quit")


def sl_auth_plain(port):
    s = smtp(port)
    s.login(USER, PASSWORD)
    s.sendmail("alice@example.org", ["bob@example.net"], MSG_PLAIN)
    s.quit()


def sl_auth_plain_exp(e):
    e.cmd("ehlo", HELO)
    # RFC 4616 2: message = [authzid] NUL authcid NUL passwd
    e.auth("PLAIN", b64("\0%s\0%s" % (USER, PASSWORD)))
    expect_sendmail(e, "alice@example.org", ["bob@example.net"], MSG_PLAIN)
    e.cmd("quit")


def sl_auth_plain_noir(port):
    s = smtp(port)
    s.login(USER, PASSWORD, initial_response_ok=False)
    s.quit()


def sl_auth_plain_noir_exp(e):
    e.cmd("ehlo", HELO)
    e.auth("PLAIN")
    e.auth_line(b64("\0%s\0%s" % (USER, PASSWORD)))
    e.cmd("quit")


def sl_auth_login(port):
    s = smtp(port)
    s.login(USER, PASSWORD)
    s.quit()


def sl_auth_login_exp(e):
    # smtplib's auth_login() answers the initial call (no challenge) with
    # the user name, so AUTH LOGIN carries it as an initial response.
    e.cmd("ehlo", HELO)
    e.auth("LOGIN", b64(USER))
    e.auth_line(b64(PASSWORD))
    e.cmd("quit")


def sl_auth_login_noir(port):
    s = smtp(port)
    s.login(USER, PASSWORD, initial_response_ok=False)
    s.quit()


def sl_auth_login_noir_exp(e):
    e.cmd("ehlo", HELO)
    e.auth("LOGIN")
    e.auth_line(b64(USER))
    e.auth_line(b64(PASSWORD))
    e.cmd("quit")


MULTI_RCPTS = [
    "bob@example.net",
    '"john doe"@example.org',
    "carol@[192.0.2.1]",
    "dave@[IPv6:2001:db8::1]",
    "first.last+tag@sub.example.com",
    "postmaster",
]


def sl_multi_rcpt(port):
    s = smtp(port)
    s.sendmail("", MULTI_RCPTS, MSG_PLAIN)
    s.quit()


def sl_multi_rcpt_exp(e):
    # from_addr "" is sent as the null reverse-path "<>" (smtplib.quoteaddr)
    e.cmd("ehlo", HELO)
    expect_sendmail(e, "", MULTI_RCPTS, MSG_PLAIN)
    e.cmd("quit")


def sl_dots_long(port):
    s = smtp(port)
    s.sendmail("alice@example.org", ["bob@example.net"], MSG_DOTS)
    s.quit()


def sl_dots_long_exp(e):
    e.cmd("ehlo", HELO)
    expect_sendmail(e, "alice@example.org", ["bob@example.net"], MSG_DOTS)
    e.cmd("quit")


def sl_bytes_bare_lf(port):
    s = smtp(port)
    s.sendmail("alice@example.org", ["bob@example.net"], MSG_BARE_LF)
    s.quit()


def sl_bytes_bare_lf_exp(e):
    e.cmd("ehlo", HELO)
    expect_sendmail(e, "alice@example.org", ["bob@example.net"], MSG_BARE_LF)
    e.cmd("quit")


def sl_helo_fallback(port):
    s = smtp(port)
    s.sendmail("alice@example.org", ["bob@example.net"], MSG_PLAIN,
               mail_options=["BODY=8BITMIME"], rcpt_options=["NOTIFY=NEVER"])
    s.quit()


def sl_helo_fallback_exp(e):
    # sendmail(): "If EHLO fails, HELO will be tried and ESMTP options
    # suppressed."
    e.cmd("ehlo", HELO)
    e.cmd("helo", HELO)
    expect_sendmail(e, "alice@example.org", ["bob@example.net"], MSG_PLAIN, esmtp=False)
    e.cmd("quit")


def sl_commands(port):
    s = smtp(port)
    s.ehlo()
    s.verify("bob")
    s.verify("Bob <bob@example.net>")
    s.expn("staff")
    s.help()
    s.help("MAIL")
    s.noop()
    s.rset()
    s.docmd("NOOP", "are you there?")
    s.docmd("RSET")
    s.docmd("VRFY", '"Bob Example"')
    s.docmd("HELP")
    s.quit()


def sl_commands_exp(e):
    e.cmd("ehlo", HELO)
    e.cmd("vrfy", "bob")
    # verify() sends only the address part (email.utils.parseaddr), unquoted
    e.cmd("vrfy", "bob@example.net")
    e.cmd("expn", "staff")
    e.cmd("help")
    e.cmd("help", "MAIL")
    e.cmd("noop")
    e.cmd("rset")
    e.cmd("NOOP", "are you there?")
    e.cmd("RSET")
    e.cmd("VRFY", '"Bob Example"')
    e.cmd("HELP")
    e.cmd("quit")


def sl_starttls(port):
    s = smtp(port)
    try:
        s.starttls(context=ssl.create_default_context())
    except (ssl.SSLError, OSError, smtplib.SMTPException):
        pass  # the server records the ClientHello and hangs up
    s.close()


def sl_starttls_exp(e):
    e.cmd("ehlo", HELO)
    e.starttls("STARTTLS")


SMTPLIB = [
    ("smtplib-sendmail", CAPS_FULL, 0, sl_sendmail, sl_sendmail_exp),
    ("smtplib-mail-params", CAPS_FULL, 0, sl_mail_params, sl_mail_params_exp),
    ("smtplib-size-twice", CAPS_FULL, 0, sl_size_twice, sl_size_twice_exp),
    ("smtplib-smtputf8", CAPS_FULL, 0, sl_smtputf8, sl_smtputf8_exp),
    ("smtplib-send-message-utf8", CAPS_FULL, 0, sl_send_message_utf8, sl_send_message_utf8_exp),
    ("smtplib-auth-plain", CAPS_FULL, 0, sl_auth_plain, sl_auth_plain_exp),
    ("smtplib-auth-plain-noir", CAPS_FULL, 0, sl_auth_plain_noir, sl_auth_plain_noir_exp),
    ("smtplib-auth-login", CAPS_LOGIN_ONLY, 0, sl_auth_login, sl_auth_login_exp),
    ("smtplib-auth-login-noir", CAPS_LOGIN_ONLY, 0, sl_auth_login_noir, sl_auth_login_noir_exp),
    ("smtplib-multi-rcpt", CAPS_FULL, 0, sl_multi_rcpt, sl_multi_rcpt_exp),
    ("smtplib-dots-long-lines", CAPS_FULL, 0, sl_dots_long, sl_dots_long_exp),
    ("smtplib-bytes-bare-lf", CAPS_FULL, 0, sl_bytes_bare_lf, sl_bytes_bare_lf_exp),
    ("smtplib-helo-fallback", CAPS_FULL, 1, sl_helo_fallback, sl_helo_fallback_exp),
    ("smtplib-commands", CAPS_FULL, 0, sl_commands, sl_commands_exp),
    ("smtplib-starttls", CAPS_FULL, 0, sl_starttls, sl_starttls_exp),
]

# ---------------------------------------------------------------------------
# swaks scenarios: (name, caps, refuse_ehlo, argv after the server options,
# expectation). The data is always given with --data so that no date or
# message id makes the capture vary.
# ---------------------------------------------------------------------------

SWAKS_DATA = ("From: alice@example.org\\nTo: bob@example.net\\nSubject: swaks fixture\\n"
              "Date: " + FIXED_DATE + "\\nMessage-Id: <swaks@client.example>\\n\\n"
              "Hello from swaks.\\nSecond line.")

SWAKS_DATA_DOTS = ("From: alice@example.org\\nTo: bob@example.net\\nSubject: dots\\n"
                   "Date: " + FIXED_DATE + "\\n\\n"
                   ".leading dot\\n..two dots\\n.\\nafter a lone dot\\n"
                   "ends with a line end\\n")


def swaks_wire_body(data):
    """What swaks documents for --data (and its source does with the
    default data fix-up): the two characters backslash-n become CRLF,
    leading dots are quoted, a trailing "." line is removed if present, and
    "\\r\\n." plus the line's CRLF are appended (so data that already ends
    with a line end gets an empty line before the final dot)."""
    text = data.replace("\\n", "\r\n")
    text = re.sub(r"\r?\n\.\r?\n?$", "", text)
    text = text.replace("\n.", "\n..")
    return (text + "\r\n." + "\r\n").encode("ascii")


def swaks_send(e, frm, tos, data, helo_verb="EHLO", helo=HELO):
    e.cmd(helo_verb, helo)
    e.mail_rcpt("MAIL", "FROM", frm, [])
    for to in tos:
        e.mail_rcpt("RCPT", "TO", to, [])
    e.data("DATA", swaks_wire_body(data))
    e.cmd("QUIT")


def sw_base(helo=HELO):
    return ["--helo", helo, "--from", "alice@example.org", "--to", "bob@example.net",
            "--data", SWAKS_DATA]


def sw_plain_exp(e):
    swaks_send(e, "alice@example.org", ["bob@example.net"], SWAKS_DATA)


SW_PIPE_RCPTS = "bob@example.net,carol@example.net,dave@example.net"


def sw_pipeline_exp(e):
    swaks_send(e, "alice@example.org", SW_PIPE_RCPTS.split(","), SWAKS_DATA)


def sw_auth_plain_exp(e):
    e.cmd("EHLO", HELO)
    e.auth("PLAIN", b64("\0%s\0%s" % (USER, PASSWORD)))
    e.mail_rcpt("MAIL", "FROM", "alice@example.org", [])
    e.mail_rcpt("RCPT", "TO", "bob@example.net", [])
    e.data("DATA", swaks_wire_body(SWAKS_DATA))
    e.cmd("QUIT")


def sw_auth_login_exp(e):
    e.cmd("EHLO", HELO)
    e.auth("LOGIN")
    e.auth_line(b64(USER))
    e.auth_line(b64(PASSWORD))
    e.mail_rcpt("MAIL", "FROM", "alice@example.org", [])
    e.mail_rcpt("RCPT", "TO", "bob@example.net", [])
    e.data("DATA", swaks_wire_body(SWAKS_DATA))
    e.cmd("QUIT")


def sw_tls_exp(e):
    e.cmd("EHLO", HELO)
    e.starttls("STARTTLS")


def sw_helo_fallback_exp(e):
    e.cmd("EHLO", HELO)
    swaks_send(e, "alice@example.org", ["bob@example.net"], SWAKS_DATA, helo_verb="HELO")


def sw_smtp_exp(e):
    swaks_send(e, "alice@example.org", ["bob@example.net"], SWAKS_DATA, helo_verb="HELO")


def sw_lmtp_exp(e):
    swaks_send(e, "alice@example.org", ["bob@example.net", "carol@example.net"], SWAKS_DATA,
               helo_verb="LHLO")


def sw_literal_exp(e):
    swaks_send(e, "alice@example.org", ["bob@example.net"], SWAKS_DATA, helo="[192.0.2.7]")


def sw_literal6_exp(e):
    swaks_send(e, "alice@example.org", ["bob@example.net"], SWAKS_DATA,
               helo="[IPv6:2001:db8::7]")


def sw_dots_exp(e):
    # --from '<>' is swaks' documented spelling of the null sender
    swaks_send(e, "", ["bob@example.net"], SWAKS_DATA_DOTS)


SWAKS_DATA_FIRST_DOT = ".first line starts with a dot\\nSubject: x\\n\\nbody"


def sw_first_dot_exp(e):
    # swaks quotes only dots that follow a LF (s/\n\./\n../g), so a first
    # line starting with "." goes out unstuffed: a deviation from RFC 5321
    # 4.5.2 (the receiver removes that dot). The expectation models swaks.
    swaks_send(e, "alice@example.org", ["bob@example.net"], SWAKS_DATA_FIRST_DOT)


SWAKS = [
    ("swaks-plain", CAPS_FULL, 0, sw_base(), sw_plain_exp),
    ("swaks-pipeline", CAPS_FULL, 0,
     ["--pipeline", "--helo", HELO, "--from", "alice@example.org", "--to", SW_PIPE_RCPTS,
      "--data", SWAKS_DATA], sw_pipeline_exp),
    ("swaks-auth-plain", CAPS_FULL, 0,
     sw_base() + ["--auth", "PLAIN", "--auth-user", USER, "--auth-password", PASSWORD],
     sw_auth_plain_exp),
    ("swaks-auth-login", CAPS_FULL, 0,
     sw_base() + ["--auth", "LOGIN", "--auth-user", USER, "--auth-password", PASSWORD],
     sw_auth_login_exp),
    ("swaks-starttls", CAPS_FULL, 0, sw_base() + ["--tls"], sw_tls_exp),
    ("swaks-helo-fallback", CAPS_FULL, 1, sw_base(), sw_helo_fallback_exp),
    ("swaks-protocol-smtp", CAPS_FULL, 0, sw_base() + ["--protocol", "SMTP"], sw_smtp_exp),
    ("swaks-lmtp", CAPS_LMTP, 0,
     ["--protocol", "LMTP", "--helo", HELO, "--from", "alice@example.org",
      "--to", "bob@example.net,carol@example.net", "--data", SWAKS_DATA], sw_lmtp_exp),
    ("swaks-ehlo-literal", CAPS_FULL, 0, sw_base("[192.0.2.7]"), sw_literal_exp),
    ("swaks-ehlo-ipv6-literal", CAPS_FULL, 0, sw_base("[IPv6:2001:db8::7]"), sw_literal6_exp),
    ("swaks-null-sender-dots", CAPS_FULL, 0,
     ["--helo", HELO, "--from", "<>", "--to", "bob@example.net", "--data", SWAKS_DATA_DOTS],
     sw_dots_exp),
    ("swaks-data-first-line-dot", CAPS_FULL, 0,
     ["--helo", HELO, "--from", "alice@example.org", "--to", "bob@example.net",
      "--data", SWAKS_DATA_FIRST_DOT], sw_first_dot_exp),
]


# What each capture shows beyond the plain grammar, written into the .expect
# header ("deviation:" = against an RFC; "note:" = legal but worth knowing).
SMTPLIB_CASE = ("note: smtplib sends its verbs in lower case (ehlo, helo, mail, rcpt, data, "
                "rset, noop, vrfy, expn, help, quit; AUTH and STARTTLS upper) and its own "
                "SIZE parameter as \"size=\"; legal, RFC 5321 2.4 and 4.1.1")
NOTES = {
    "smtplib-size-twice": [
        "deviation: smtplib adds its own size=N when the server offers SIZE, so the SIZE=",
        "deviation:   the caller put in mail_options goes out a second time on the same",
        "deviation:   MAIL line. RFC 1870 3 adds one optional SIZE parameter to MAIL; a",
        "deviation:   repeated one is a 501 (as RFC 3461 4.5/5.1 says for the DSN ones)",
    ],
    "smtplib-bytes-bare-lf": [
        "deviation: a bytes message is sent as it is: bare LF and bare CR reach the DATA",
        "deviation:   stream (RFC 5321 2.3.8: CR and LF only as CRLF); a dot after a bare LF",
        "deviation:   is still doubled, and CRLF is added after the final bare LF",
    ],
    "smtplib-dots-long-lines": [
        "deviation: the 1500-octet text line is sent as it is (RFC 5321 4.5.3.1.6: 1000",
        "deviation:   octets incl. CRLF); smtplib neither wraps nor refuses it",
    ],
    "smtplib-commands": [
        "deviation: verify(\"Bob <bob@example.net>\") sends \"vrfy bob@example.net\": RFC 5321",
        "deviation:   4.1.1.6 vrfy = \"VRFY\" SP String, and String (Atom / Quoted-string,",
        "deviation:   4.1.2) has no unquoted \"@\" (it would be \"bob@example.net\" quoted); the",
        "deviation:   prose of 3.5.1 (\"a user name or a user name and domain\"; the strings",
        "deviation:   \"cannot be further restricted\") is why servers, and libopes, take it",
    ],
    "smtplib-auth-login": [
        "note: smtplib sends the user name as an initial response to AUTH LOGIN",
        "note:   (RFC 4954 4 allows an initial response; LOGIN itself is not standardized)",
    ],
    "smtplib-helo-fallback": [
        "note: after HELO smtplib drops every mail_options/rcpt_options entry, as documented",
    ],
    "swaks-data-first-line-dot": [
        "deviation: swaks quotes leading dots only after a LF (s/\\n\\./\\n../g), so the first",
        "deviation:   line of the data goes out unstuffed (RFC 5321 4.5.2): a receiver removes",
        "deviation:   that dot",
    ],
    "swaks-null-sender-dots": [
        "note: data ending with a line end gets an empty line before the final dot (swaks",
        "note:   always appends CRLF \".\")",
    ],
    "swaks-pipeline": [
        "note: swaks sends MAIL, every RCPT and DATA in one write (RFC 2920 3.1 allows DATA",
        "note:   as the last command of a group)",
    ],
}


# ---------------------------------------------------------------------------
# Running, checking, writing
# ---------------------------------------------------------------------------


def escape(data):
    out = []
    for b in data:
        if b == 0x5C:
            out.append("\\\\")
        elif b == 0x0D:
            out.append("\\r")
        elif b == 0x0A:
            out.append("\\n")
        elif b == 0x09:
            out.append("\\t")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


class Mismatch(Exception):
    pass


def match(name, srv, exp):
    """Pair each expected item with what the server saw, in order; check
    the bytes; return the .expect lines (offset + fields)."""
    seen = list(srv.seen)
    if len(seen) != len(exp.items):
        raise Mismatch("%s: expected %d units, server saw %d:\n%s" % (
            name, len(exp.items), len(seen),
            "\n".join("  %s %d %r" % (k, o, b[:80]) for k, o, b in seen)))
    lines = []
    for item, (kind, off, data) in zip(exp.items, seen):
        if item["kind"] != kind:
            raise Mismatch("%s: at %d expected a %s unit, saw %s %r"
                           % (name, off, item["kind"], kind, data[:80]))
        if item["bytes"] is not None and item["bytes"] != data:
            raise Mismatch("%s: at %d expected\n  %r\nsaw\n  %r" % (name, off, item["bytes"], data))
        if kind == "tls":
            if not data or data[0] != 0x16:
                raise Mismatch("%s: no TLS handshake record after STARTTLS" % name)
            lines.append("%d\ttls-start\t%d" % (off, len(data)))
        elif item["fields"] is not None:
            lines.append("%d\t%s" % (off, "\t".join(item["fields"])))
    return lines


def write_fixture(name, header, srv, lines):
    with open(os.path.join(HERE, name + ".client"), "wb") as f:
        f.write(bytes(srv.client))
    with open(os.path.join(HERE, name + ".server"), "wb") as f:
        f.write(bytes(srv.server))
    with open(os.path.join(HERE, name + ".session"), "w", encoding="ascii", newline="\n") as f:
        f.write("# %s: the whole session, both directions interleaved in the order the\n" % name)
        f.write("# server handled them (a reply follows the unit it answers; pipelined\n")
        f.write("# commands may have arrived together). Fields: C (client, offset in\n")
        f.write("# %s.client) or S (server, offset in %s.server), offset, length,\n" % (name, name))
        f.write("# the bytes escaped (\\r \\n \\t \\\\ \\xNN). Whole-session capture for the\n")
        f.write("# session tests.\n")
        for d, off, data in srv.session:
            f.write("%s\t%d\t%d\t%s\n" % (d, off, len(data), escape(data)))
    with open(os.path.join(HERE, name + ".expect"), "w", encoding="utf-8", newline="\n") as f:
        for h in header:
            f.write("# " + h + "\n")
        for l in lines:
            f.write(l + "\n")


def common_header(caps, refuse_ehlo):
    h = ["date: " + datetime.date.today().isoformat()]
    if refuse_ehlo:
        # The session never saw an EHLO reply: nothing was advertised.
        h.append("capabilities:")
        h.append("server: refused the first EHLO with 502; the client then used HELO, so no")
        h.append("server:   extension was advertised (a later EHLO would have offered")
        h.append("server:   " + ", ".join(caps) + ")")
    else:
        h.append("capabilities: " + ", ".join(caps))
    h.append("server: tests/vectors/clients/capture.py, a recording server on 127.0.0.1")
    h.append("format: offset<TAB>verb as sent<TAB>fields; see README in this directory")
    return h


def run_smtplib(name, caps, refuse_ehlo, drive, expect_fn):
    srv = CaptureServer(caps, refuse_ehlo)
    srv.start()
    drive(srv.port)
    srv.join(15)
    if srv.is_alive() or srv.error:
        raise Mismatch("%s: server: %r" % (name, srv.error or "still running"))
    e = Expect()
    expect_fn(e)
    lines = match(name, srv, e)
    src = inspect.getsource(drive).rstrip("\n").split("\n")
    header = ["client: Python %s smtplib (%s)" % (sys.version.split()[0], smtplib.__file__),
              "call: (PORT is the capture server's port; names are defined in capture.py)"]
    header += ["call:   " + l for l in src]
    header += [SMTPLIB_CASE] + NOTES.get(name, [])
    header += common_header(caps, refuse_ehlo)
    write_fixture(name, header, srv, lines)


def swaks_version():
    out = subprocess.run(["swaks", "--version"], capture_output=True, text=True).stdout
    return out.strip().split("\n")[0]


def run_swaks(name, caps, refuse_ehlo, args, expect_fn, version):
    srv = CaptureServer(caps, refuse_ehlo)
    srv.start()
    argv = ["swaks", "--server", "127.0.0.1", "--port", str(srv.port), "--timeout", "10"] + args
    r = subprocess.run(argv, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    srv.join(15)
    if srv.is_alive() or srv.error:
        raise Mismatch("%s: server: %r" % (name, srv.error or "still running"))
    e = Expect()
    expect_fn(e)
    try:
        lines = match(name, srv, e)
    except Mismatch:
        sys.stderr.write(r.stdout.decode("utf-8", "replace"))
        raise
    shown = ["swaks", "--server", "127.0.0.1", "--port", "PORT", "--timeout", "10"] + args
    header = ["client: %s (/usr/bin/swaks, Debian package swaks)" % version,
              "command: " + shlex.join(shown),
              "exit status: %d" % r.returncode]
    header += NOTES.get(name, [])
    header += common_header(caps, refuse_ehlo)
    write_fixture(name, header, srv, lines)


def main():
    if shutil.which("swaks") is None:
        sys.exit("capture.py: swaks is not installed (apt-get install -y swaks)")
    names = []
    for name, caps, refuse, drive, exp in SMTPLIB:
        run_smtplib(name, caps, refuse, drive, exp)
        names.append(name)
    version = swaks_version()
    for name, caps, refuse, args, exp in SWAKS:
        run_swaks(name, caps, refuse, args, exp, version)
        names.append(name)
    with open(os.path.join(HERE, "INDEX"), "w", encoding="ascii", newline="\n") as f:
        for n in names:
            f.write(n + "\n")
    print("%d fixtures written to %s" % (len(names), HERE))


if __name__ == "__main__":
    main()
