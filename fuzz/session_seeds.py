#!/usr/bin/env python3
"""Seeds for fuzz_session_server and fuzz_session_client (deterministic).

Server seeds: every real-client capture (tests/vectors/clients/*.client), the
RFC dialogues (RFC 5321 Appendix D, RFC 3030 4, RFC 2920 4, RFC 4954 4.1,
RFC 2033), SMTP smuggling, STARTTLS injection and an over-long line, each
behind the harness's 4 option bytes (a few option sets each).
Client seeds: the recorded server of every capture (*.session), replayed as
the harness's script: the client's units as literal sends, the server's as
feeds. Files are named by the SHA-256 of their content.
Run from the repository root: python3 fuzz/session_seeds.py"""
import hashlib
import os
import re

VEC = "tests/vectors/clients"


def write(d, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha256(data).hexdigest()), "wb") as f:
        f.write(data)


def index():
    with open(os.path.join(VEC, "INDEX")) as f:
        return [l.strip() for l in f if l.strip()]


# option bytes: flags (all offered: 8|16|32|64), chunk seed, reply seed, sent mode
SERVER_OPTS = [bytes([0x78, 7, 0, 0]), bytes([0x7D, 3, 0, 1]), bytes([0xF8, 11, 5, 6]),
               bytes([0x02, 1, 0, 2])]

RFC = [
    # RFC 5321 D.1
    b"EHLO bar.com\r\nMAIL FROM:<Smith@bar.com>\r\nRCPT TO:<Jones@foo.com>\r\n"
    b"RCPT TO:<Green@foo.com>\r\nRCPT TO:<Brown@foo.com>\r\nDATA\r\nBlah blah blah...\r\n"
    b"...etc. etc. etc.\r\n.\r\nQUIT\r\n",
    # RFC 5321 D.2
    b"EHLO bar.com\r\nMAIL FROM:<Smith@bar.com>\r\nRCPT TO:<Jones@foo.com>\r\n"
    b"RCPT TO:<Green@foo.com>\r\nRSET\r\nQUIT\r\n",
    # RFC 5321 D.4
    b"EHLO bar.com\r\nVRFY Crispin\r\nMAIL FROM:<EAK@bar.com>\r\nRCPT TO:<Admin.MRC@foo.com>\r\n"
    b"DATA\r\nBlah blah blah...\r\n...etc. etc. etc.\r\n.\r\nQUIT\r\n",
    # RFC 3030 4.1
    b"EHLO ymir.claremont.edu\r\nMAIL FROM:<Sam@Random.com>\r\nRCPT TO:<Susan@Random.com>\r\n"
    b"BDAT 86 LAST\r\nTo: Susan@random.com\r\nFrom: Sam@random.com\r\n"
    b"Subject: This is a bodyless test message\r\nQUIT\r\n",
    # RFC 3030 4.2, shortened chunks
    b"EHLO ymir.claremont.edu\r\nMAIL FROM:<ned@ymir.claremont.edu> BODY=BINARYMIME\r\n"
    b"RCPT TO:<gvaudre@cnri.reston.va.us>\r\nRCPT TO:<jstewart@cnri.reston.va.us>\r\n"
    b"BDAT 10\r\n\r\n.\r\n\x00\xff\r\nBDAT 3\r\nabcBDAT 0 LAST\r\nDATA\r\nQUIT\r\n",
    # RFC 2920 4
    b"EHLO dbc.mtview.ca.us\r\nMAIL FROM:<mrose@dbc.mtview.ca.us>\r\nRCPT TO:<ned@innosoft.com>\r\n"
    b"RCPT TO:<dan@innosoft.com>\r\nRCPT TO:<kvc@innosoft.com>\r\nDATA\r\nHi.\r\n.\r\nQUIT\r\n",
    # RFC 4954 4.1 and its rules
    b"EHLO client.example.com\r\nAUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\nAUTH PLAIN\r\n"
    b"RSET\r\nAUTH CRAM-MD5\r\ncmpzMyBlYzNhNTlmZWQzOTVhYmExZWM2MzY3YzRmNGI0MWFjMA==\r\n",
    b"EHLO c.example\r\nAUTH LOGIN\r\nYWxpY2U=\r\n*\r\nAUTH LOGIN YWxpY2U=\r\nczNjcmV0IHBhc3M=\r\n"
    b"MAIL FROM:<a@b.example> AUTH=<>\r\n",
    # RFC 2033
    b"LHLO foo.edu\r\nMAIL FROM:<chris@bar.com>\r\nRCPT TO:<pat@foo.com>\r\nRCPT TO:<jones@foo.com>\r\n"
    b"DATA\r\nBlah\r\n.\r\nQUIT\r\n",
    # STARTTLS injection (CVE-2011-0411)
    b"EHLO a.example\r\nSTARTTLS\r\nMAIL FROM:<evil@x.example>\r\nRCPT TO:<v@x.example>\r\n",
    b"EHLO a.example\r\nSTARTTLS\r\nEHLO a.example\r\nSTARTTLS\r\nAUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n",
    # an over-long line hiding a command, and one ending in CRLF
    b"EHLO a.example\r\nNOOP " + b"x" * 520 + b"\nRCPT TO:<evil@x.example>\r\nNOOP " +
    b"y" * 600 + b"\r\nQUIT\r\n",
    # SMTPUTF8, SIZE, limits
    b"EHLO a.example\r\nMAIL FROM:<a@b.example> SIZE=1001\r\nMAIL FROM:<a@b.example> SMTPUTF8\r\n"
    b"RCPT TO:<j\xc3\xb6@d.example>\r\nRCPT TO:<r1@d.example>\r\nRCPT TO:<r2@d.example>\r\n"
    b"RCPT TO:<r3@d.example> NOTIFY=NEVER\r\nDATA\r\n" + b"z" * 1100 + b"\r\n.\r\n",
]
for end in (b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r", b"\r\n.\r"):
    RFC.append(b"EHLO a.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"
               b"Subject: x\r\n\r\nbody" + end + b"MAIL FROM:<evil@x.example>\r\n"
               b"RCPT TO:<victim@d.example>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n")


def server_seeds():
    d = "fuzz/corpus/session_server"
    for name in index():
        with open(os.path.join(VEC, name + ".client"), "rb") as f:
            data = f.read()
        for o in SERVER_OPTS[:2]:
            write(d, o + data)
    for data in RFC:
        for o in SERVER_OPTS:
            write(d, o + data)


def unescape(s):
    return re.sub(rb"\\(x[0-9a-f]{2}|.)", lambda m: bytes([int(m.group(1)[1:], 16)])
                  if m.group(1).startswith(b"x") else {b"r": b"\r", b"n": b"\n", b"t": b"\t"}
                  .get(m.group(1), m.group(1)), s)


def client_seeds():
    d = "fuzz/corpus/session_client"
    for name in index():
        lmtp = "lmtp" in name
        script = bytearray([1 if lmtp else 0, 5])
        in_data = False
        with open(os.path.join(VEC, name + ".session"), "rb") as f:
            for line in f:
                if not (line.startswith(b"C\t") or line.startswith(b"S\t")):
                    continue
                unit = unescape(line.rstrip(b"\n").split(b"\t", 3)[3])
                if line.startswith(b"S\t"):
                    for i in range(0, len(unit), 255):  # feeds of at most 255 bytes
                        part = unit[i:i + 255]
                        script += bytes([1, len(part)]) + part
                    if unit.startswith(b"354"):
                        in_data = True
                    script += b"\x03"  # what may be sent now
                elif in_data:
                    script += b"\x02"  # the data has been sent
                    in_data = False
                elif unit[:2] == b"\x16\x03":
                    script += b"\x06"  # TLS is up
                    break
                elif len(unit) <= 255:
                    script += bytes([0, 0xFF, len(unit)]) + unit
        write(d, bytes(script))
    # RFC 2920 4 (pipelined, all rejected) and a table-driven walk
    pipe = bytearray([0, 3])
    for chunk in (b"220 innosoft.com SMTP service ready\r\n",):
        pipe += bytes([1, len(chunk)]) + chunk
    pipe += bytes([0, 0])  # EHLO
    r = b"250-innosoft.com\r\n250 PIPELINING\r\n"
    pipe += bytes([1, len(r)]) + r
    pipe += bytes([0, 3, 0, 7, 0, 7, 0, 10, 3])
    r = (b"250 sender OK\r\n550 remote mail not allowed\r\n550 remote mail not allowed\r\n"
         b"554 no valid recipients given\r\n")
    pipe += bytes([1, len(r)]) + r + bytes([3, 0, 15])
    r = b"221 goodbye\r\n"
    pipe += bytes([1, len(r)]) + r + b"\x03"
    write(d, bytes(pipe))


if __name__ == "__main__":
    server_seeds()
    client_seeds()
