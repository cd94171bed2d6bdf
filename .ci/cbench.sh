#!/usr/bin/env bash
# C part of `make bench`: native timing of build/bench/cbench, then
# callgrind instruction counts per line for smtpcode_parse_line and
# smtpcode_parse_reply (each driver function toggled separately).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/bench/cbench}
corpus=build/bench/corpus.txt
lua5.4 bench/corpus.lua "${BENCH_LINES:-50000}" >"$corpus"
echo "== C core (gcc ${OPT:--O2}), $corpus"
"$bin" "$corpus" 20
if ! command -v valgrind >/dev/null; then
  echo "callgrind: valgrind not installed, skipped"
  exit 0
fi
nlines=$(grep -c '' "$corpus")
for fn in bench_lines bench_replies; do
  out=build/bench/callgrind.$fn.out
  valgrind --tool=callgrind --toggle-collect="$fn" --callgrind-out-file="$out" \
    "$bin" "$corpus" 1 >/dev/null 2>build/bench/callgrind.$fn.log
  ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$out")
  case $fn in
    bench_lines) what="smtpcode_parse_line " ;;
    *) what="smtpcode_parse_reply" ;;
  esac
  awk -v ir="$ir" -v n="$nlines" -v w="$what" \
    'BEGIN { printf "callgrind: %s %7.1f instructions/line (%d Ir, %d lines)\n", w, ir / n, ir, n }'
done
