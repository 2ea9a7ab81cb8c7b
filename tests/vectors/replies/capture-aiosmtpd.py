#!/usr/bin/python3
"""Capture real SMTP replies from aiosmtpd (Debian python3-aiosmtpd) as test
vectors for libopes' reply and EHLO parsers.

Run: /usr/bin/python3 tests/vectors/replies/capture-aiosmtpd.py tests/vectors/replies
It starts aiosmtpd on 127.0.0.1 at a random free port, talks to it with a
plain socket client, and writes, per session:
  <name>.bin     every byte the server sent, unmodified
  <name>.expect  one line per reply line, split by this script (not by
                 libopes): "<code>\t<1 if last line else 0>\t<text>"
  <name>.client  the commands the client sent (for the reader)
and the raw EHLO reply alone as <name>-ehlo.bin.
"""
import os
import socket
import sys
import time

import aiosmtpd
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

VERSION = aiosmtpd.__version__  # 1.4.3 from python3-aiosmtpd 1.4.3-1.1+deb12u1


class Handler:
    async def handle_DATA(self, server, session, envelope):
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = getattr(auth_data, "login", None) == b"test" and auth_data.password == b"test"
    return AuthResult(success=ok)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read_reply(sock, buf):
    """Read one complete reply (possibly multi-line); return (lines, rest)."""
    lines = []
    while True:
        while b"\r\n" not in buf:
            chunk = sock.recv(4096)
            if not chunk:
                raise EOFError("server closed")
            buf += chunk
        line, buf = buf.split(b"\r\n", 1)
        lines.append(line)
        if len(line) < 4 or line[3:4] != b"-":
            return lines, buf


def session(name, outdir, commands, **kwargs):
    port = free_port()
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port,
                     server_hostname="mx.example.test", ident="libopes-fixture", **kwargs)
    ctl.start()
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        raw = bytearray()
        buf = b""
        lines, buf = read_reply(sock, buf)
        replies = [lines]
        ehlo_raw = None
        for cmd in commands:
            sock.sendall(cmd)
            lines, buf = read_reply(sock, buf)
            replies.append(lines)
            if cmd.upper().startswith(b"EHLO") and ehlo_raw is None:
                ehlo_raw = b"".join(l + b"\r\n" for l in lines)
        sock.close()
    finally:
        ctl.stop()
    raw = b"".join(l + b"\r\n" for r in replies for l in r)
    with open(os.path.join(outdir, name + ".bin"), "wb") as f:
        f.write(raw)
    with open(os.path.join(outdir, name + ".expect"), "w") as f:
        for r in replies:
            for l in r:
                last = 0 if l[3:4] == b"-" else 1
                f.write("%s\t%d\t%s\n" % (l[:3].decode(), last, l[4:].decode("ascii")))
    with open(os.path.join(outdir, name + ".client"), "wb") as f:
        f.write(b"".join(commands))
    if ehlo_raw is not None:
        with open(os.path.join(outdir, name + "-ehlo.bin"), "wb") as f:
            f.write(ehlo_raw)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "."
    base = "aiosmtpd-%s" % VERSION
    session(base + "-plain", outdir, [
        b"EHLO client.example.test\r\n",
        b"HELP\r\n",
        b"NOOP\r\n",
        b"VRFY someone\r\n",
        b"MAIL FROM:<a@example.test>\r\n",
        b"RCPT TO:<b@example.test>\r\n",
        b"RCPT TO:<c@example.test> NOTIFY=SUCCESS\r\n",
        b"FOO bar\r\n",
        b"MAIL FROM:<x@example.test>\r\n",
        b"DATA\r\n",
        b"Subject: t\r\n\r\nhello\r\n.\r\n",
        b"RSET\r\n",
        b"QUIT\r\n",
    ])
    session(base + "-auth-utf8", outdir, [
        b"EHLO client.example.test\r\n",
        b"AUTH LOGIN\r\n",
        b"dGVzdA==\r\n",
        b"dGVzdA==\r\n",
        b"MAIL FROM:<a@example.test> SMTPUTF8 SIZE=1000\r\n",
        b"RCPT TO:<b@example.test>\r\n",
        b"DATA\r\n",
        b"Subject: t\r\n\r\nhello\r\n.\r\n",
        b"QUIT\r\n",
    ], enable_SMTPUTF8=True, auth_require_tls=False, authenticator=authenticator,
        data_size_limit=1048576)


if __name__ == "__main__":
    main()
