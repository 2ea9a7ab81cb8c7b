#!/bin/sh
# The README demo: the main job of libopes (RFC 4902 4) on one message — OPES
# tracing headers added by two systems and read back, a bypass request in the
# message and in the SMTP dialog decided, a traced SMTP rejection — then the SMTP
# grammar reporting the mistakes and attacks of a client stream.
OPES=${1:-build/opes}
set -e
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
echo "# libopes $($OPES --version | cut -d' ' -f2)"
echo
printf 'Received: from client.example.org (client.example.org [192.0.2.7])\r\n by mx.example.net with ESMTPS id 4Xk2; Mon, 23 Nov 2026 10:00:00 +0000\r\nOPES-Bypass: http://scan.example.net/lang\r\nFrom: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: Bonjour\r\n\r\nBonjour Bob!\r\n' > "$d/in.eml"
echo "# 1. RFC 4902 4 (1): two OPES systems trace the message (opes trace add)"
$OPES trace add --system 'http://opes.example.net/sys?site=7654' \
    --privacy https://example.net/privacy --consent recipient --consent-by policy \
    --processor http://mx1.example.net/opes \
    --service http://scan.example.net/av --action none \
    --service http://scan.example.net/lang --action bypassed < "$d/in.eml" > "$d/hop1.eml"
$OPES trace add --system https://gw.example.com/opes \
    --service 'https://gw.example.com/spam;v=2' --action modified < "$d/hop1.eml" > "$d/hop2.eml"
sed -n '/^\r$/q;p' "$d/hop2.eml" | tr -d '\r'
echo
echo "# ... and the recipient reads the path, oldest first (opes trace show)"
$OPES trace show "$d/hop2.eml"
echo
echo "# 2. RFC 4902 4 (3, 4): bypass in the message and on RCPT (opes bypass decide)"
cat > "$d/services.json" <<'JSON'
[{"id": "http://scan.example.net/av", "system": "http://opes.example.net/sys?site=7654", "phase": "message", "bypassable": false},
 {"id": "http://scan.example.net/lang", "system": "http://opes.example.net/sys?site=7654", "phase": "message"},
 {"id": "http://scan.example.net/greylist", "system": "http://opes.example.net/sys?site=7654", "phase": "rcpt"}]
JSON
$OPES bypass decide --services "$d/services.json" --rcpt bob@example.com \
    --rcpt carol@example.com --rcpt-bypass '*' < "$d/in.eml"
echo
echo "# 3. RFC 4902 3.1: a rejection in the dialog carries the trace (opes reply)"
$OPES reply --code 550 --status 5.7.1 --system 'http://opes.example.net/sys?site=7654' \
    --service http://scan.example.net/av --text 'Message rejected: malware found'
echo
echo "# 4. the SMTP dialog: XOPES-BYPASS bound to its recipient, a command smuggled"
echo "#    behind STARTTLS, a DA<CR>TA (opes smtp check)"
printf 'EHLO client.example.org\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.com> XOPES-BYPASS=http://scan.example.net/lang\r\nRCPT TO:<carol@example.com> NOTIFY=NEVER,SUCCESS\r\nDA\rTA\r\nRSET\r\nSTARTTLS\r\nMAIL FROM:<evil@x.example>\r\n' > "$d/client.smtp"
$OPES smtp check "$d/client.smtp" || echo "(exit status $?: errors were found, as expected)"
