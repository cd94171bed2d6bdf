#!/usr/bin/env bash
# Integration: examples/rspamd-bounce.lua and examples/rspamd-dsn.lua in a
# real Rspamd (Debian's stock config redirected to a private folder with
# --var), checked with rspamc on real bounces of ../shared/corpus: a Postfix
# DSN, a DSN mixing failed and delayed recipients, an ARF complaint, a qmail
# free-text report and a message that is not a bounce. Loopback only, DNS
# on 127.0.0.1, started and stopped by pid. Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
. .ci/lib.sh

if ! shared_corpus; then skip "rspamd bounce rule" "the shared corpus is not beside the checkout"; finish; fi
if ! rspamd_here; then
  nok "rspamd is installed"; finish
fi
need_jit_core

rspamd_dir bounce-rspamd
rspamd_conf "$R" 22333 com org net jp

cat >"$R/local/rspamd.local.lua" <<LUA
package.cpath = "$ROOT/build/jit/?.so;" .. package.cpath
package.path = "$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;" .. package.path
dofile("$ROOT/examples/rspamd-bounce.lua")
dofile("$ROOT/examples/rspamd-dsn.lua")
LUA

rspamd_configtest "$R"
if rspamd_start "$R"; then
  ok "rspamd answers /ping"
else
  nok "rspamd answers /ping"
  tail -30 "$R/log/rspamd.log" "$R/log/stdout.txt" 2>/dev/null | sed 's/^/#   /'
  finish
fi

# expect FILE NAME PATTERN...: every pattern is a line of rspamc's output
expect() {
  local file=$1 name=$2 out p miss=0
  shift 2
  out=$(rspamc -h "127.0.0.1:$normal" symbols "$C/$file" 2>&1)
  printf '%s\n' "$out" | grep -E 'SMTPCODE' | sed 's/^/# /'
  for p in "$@"; do
    printf '%s\n' "$out" | grep -qF -- "$p" || { miss=1; echo "#   missing: $p"; }
  done
  if [ $miss -eq 0 ]; then ok "$name"; else nok "$name"; fi
}

expect bsd/lhost-postfix-02.eml "a Postfix DSN of two unknown users: SMTPCODE_BOUNCE_HARD" \
  'Symbol: SMTPCODE_BOUNCE_HARD (0.00)[filtered@example.co.jp user_unknown, userunknown@example.co.jp user_unknown]' \
  'Symbol: SMTPCODE_DSN_HARD (0.00)[user_unknown, 550 5.2.1, filtered@example.co.jp, 550 5.1.1, userunknown@example.co.jp]'
expect bsd/rfc3464-35.eml "a DSN mixing failed and delayed recipients" \
  'Symbol: SMTPCODE_BOUNCE_DELAYED (0.00)[sabatora@cat.example.net unknown]' \
  'Symbol: SMTPCODE_BOUNCE_HARD (0.00)[mikeneko@neko.example.or.jp user_unknown]' \
  'Symbol: SMTPCODE_BOUNCE_SOFT (0.00)[kijitora@nyaan.example.com unknown]'
expect bsd/arf-01.eml "an ARF complaint: SMTPCODE_BOUNCE_FEEDBACK" \
  'Symbol: SMTPCODE_BOUNCE_FEEDBACK (0.00)[redacted@example.net abuse]'
expect bsd/lhost-qmail-01.eml "a qmail free-text report: SMTPCODE_BOUNCE_HARD" \
  'Symbol: SMTPCODE_BOUNCE_HARD (0.00)[kijitora@example.ne.jp user_unknown]'

out=$(rspamc -h "127.0.0.1:$normal" symbols "$C/not/is-not-bounce-01.eml" 2>&1)
if printf '%s\n' "$out" | grep -q '^Action' && ! printf '%s\n' "$out" | grep -q 'SMTPCODE_BOUNCE_\|SMTPCODE_DSN_'; then
  ok "a message that is not a bounce gets no bounce symbol"
else
  nok "a message that is not a bounce gets no bounce symbol"; printf '%s\n' "$out" | head -20 | sed 's/^/#   /'
fi

if grep -q 'smtpcode bounce: format dsn, mta postfix, 2 recipients' "$R/log/rspamd.log"; then
  ok "the rule logged the format and the mail system"
else
  nok "the rule logged the format and the mail system"; grep -iE 'smtpcode|error' "$R/log/rspamd.log" | tail -10 | sed 's/^/#   /'
fi

stopped rspamd RSP TERM
finish
