#!/bin/sh
# examples/demo-cli.sh: the smtpcode command on the sample mail log and on
# the most common failure replies (run by `make demo` after examples/demo.lua).
#
#   sh examples/demo-cli.sh [LUA]      # LUA: lua5.1 .. lua5.4, luajit (default lua5.4)
set -e
LUA=${1:-lua5.4}
cd "$(dirname "$0")/.."

echo
echo "== smtpcode classify examples/maillog.txt (the first 15 failures, then the summary)"
"$LUA" bin/smtpcode classify examples/maillog.txt |
  awk -F '\t' '/^#/ { print; next } $3 != "success" && $0 != "" && n < 15 { n++; print }'

for reply in \
  "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown in local recipient table" \
  "554 5.1.8 <news@example.com>: Sender address rejected: Domain not found" \
  "451 4.7.1 Greylisting in action, please come back later" \
  "421 4.7.0 Try again later, closing connection. (rate limited)" \
  "550 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org" \
  "smtp error [221] 2.0.0 bye" \
  "Unable to connect to SMTP server"
do
  echo
  echo "== smtpcode explain '$reply'"
  "$LUA" bin/smtpcode explain "$reply"
done
