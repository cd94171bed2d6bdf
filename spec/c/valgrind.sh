#!/usr/bin/env bash
# Run the whole busted suite once under valgrind memcheck on lua5.4
# (build/5.4/smtpcode/core.so, built by `make lib-5.4`). Prints TAP:
#   ok 1 - valgrind busted lua5.4: 0 errors
#   ok 2 - busted under valgrind: N successes, 0 failures, 0 errors
# Memcheck's full report is kept in build/valgrind/memcheck.log and
# busted's output in build/valgrind/busted.log.
#
# Knobs: VALGRIND_SPECS (default: spec), VALGRIND_LUA (default lua5.4),
# VALGRIND_CPATH (default build/5.4/?.so).
set -uo pipefail
cd "$(dirname "$0")/../.."

LUA=${VALGRIND_LUA:-lua5.4}
CPATH=${VALGRIND_CPATH:-build/5.4/?.so}
SPECS=${VALGRIND_SPECS:-spec}
OUT=build/valgrind
mkdir -p "$OUT"

if ! command -v valgrind >/dev/null; then
  echo "not ok 1 - valgrind is installed"; echo "1..1"; exit 1
fi
so=${CPATH%%\?.so}smtpcode/core.so
if [ ! -f "$so" ]; then
  echo "not ok 1 - $so is built (make lib-5.4)"; echo "1..1"; exit 1
fi

# --error-exitcode: any memcheck error (invalid read/write, uninitialised
# value, definite leak) makes valgrind exit 99 whatever busted says.
# shellcheck disable=SC2086
valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --log-file="$OUT/memcheck.log" \
  "$LUA" /usr/bin/busted --lpath='lua/?.lua;lua/?/init.lua' --cpath="$CPATH" \
  -o TAP $SPECS >"$OUT/busted.log" 2>&1 </dev/null
rc=$?

errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$OUT/memcheck.log" | tail -n 1)
pass=$(grep -cE '^ok [0-9]+' "$OUT/busted.log")
fail=$(grep -cE '^not ok [0-9]+' "$OUT/busted.log")
bad=0
if [ -n "$errors" ] && [ "$errors" -eq 0 ] && [ "$rc" -ne 99 ]; then
  echo "ok 1 - valgrind busted $LUA: 0 errors"
else
  bad=1
  echo "not ok 1 - valgrind busted $LUA: ${errors:-?} errors (exit $rc)"
  grep -E 'Invalid|uninitialised|definitely lost|Process terminating|at 0x|by 0x' \
    "$OUT/memcheck.log" | head -n 30 | sed 's/^/#   /'
fi
if [ "$rc" -eq 0 ]; then
  echo "ok 2 - busted under valgrind: $pass passed, $fail failed"
else
  bad=1
  echo "not ok 2 - busted under valgrind: $pass passed, $fail failed (exit $rc)"
  grep -E '^not ok' "$OUT/busted.log" | head -n 10 | sed 's/^/#   /'
fi
echo "1..2"
exit $bad
