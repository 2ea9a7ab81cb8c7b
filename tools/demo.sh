#!/bin/sh
# The README demo: the SMTP grammar at work on a client stream that mixes good
# commands with the mistakes and attacks libopes reports.
OPES=${1:-build/opes}
set -e
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
echo "# libopes $($OPES --version | cut -d' ' -f2) — features:"
$OPES features
echo
echo "# opes smtp parse --offer-all: a client stream, one JSON report per line"
printf 'EHLO client.example.org\r\nMAIL FROM:<alice@example.org> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=QQ314159\r\nRCPT TO:<bob@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.com\r\nRCPT TO:<Postmaster>\r\nRCPT TO:<carol@[IPv6:2001:db8::1]> NOTIFY=NEVER,SUCCESS\r\nMAIL FROM:<> SIZE=100 SIZE=200\r\nRCPT TO:<dave@example.net> XOPES-BYPASS=*\r\nMAIL FROM: <eve@example.org>\r\nDA\rTA\r\nQUIT\r\n' > "$tmp"
$OPES smtp parse --offer-all "$tmp" || echo "(exit status $?: errors were found, as expected)"
echo
echo "# the same stream, --lenient: the space after the colon is accepted and noted"
$OPES smtp parse --offer-all --lenient "$tmp" | grep '"eve@' || true
