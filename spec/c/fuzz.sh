#!/usr/bin/env bash
# Build every libFuzzer target spec/c/fuzz_<t>.c against the C core
# (src/*.c without the Lua binding) and run each for FUZZ_TIME seconds
# (default 10) on a temporary copy of its seed corpus spec/c/corpus/<t>/
# (the repository corpus never grows). Fails on any finding; prints TAP:
#   ok N - fuzz <t>: <execs> execs
# and a last line "fuzz: <total> execs in <n> targets".
#
# A target whose "needs:" symbol is not defined by src/ yet is skipped.
# Binaries are built in a private temporary directory (runs may overlap).
# Findings are kept in build/fuzz/findings/<t>/ with the run's log; to turn
# one into a regression test copy it to spec/c/regress/<t>/ (replayed by
# spec/c/test_fuzz_regress.c under ASan/UBSan in `make test`).
#
# Knobs: FUZZ_TIME (seconds per target), FUZZ_TARGETS ("line reply ..."),
# FUZZ_ARGS (extra libFuzzer flags), CLANG (default clang).
set -uo pipefail
cd "$(dirname "$0")/../.."

T=${FUZZ_TIME:-10}
CLANG=${CLANG:-clang}
OUT=build/fuzz
FLAGS=(-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=all -std=c99 -D_DEFAULT_SOURCE -Isrc)
n=0 bad=0 total=0 ran=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); bad=1; echo "not ok $n - $1"; }

if ! command -v "$CLANG" >/dev/null; then
  nok "clang is installed"; echo "1..$n"; exit 1
fi
case $T in ''|*[!0-9]*) nok "FUZZ_TIME is a whole number of seconds (got '$T')"; echo "1..$n"; exit 1;; esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/smtpcode-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/obj"

# The core, compiled once with coverage instrumentation.
objs=()
for src in src/*.c; do
  o="$WORK/obj/$(basename "$src" .c).o"
  if ! "$CLANG" "${FLAGS[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" \
      -c "$src" -o "$o" 2>"$WORK/cc.log"; then
    nok "compile $src for fuzzing"; sed 's/^/#   /' "$WORK/cc.log" | head -20
    continue
  fi
  objs+=("$o")
done
defined=$(nm --defined-only "${objs[@]}" 2>/dev/null | awk '$2 == "T" { print $3 }')
# An archive: each target links only the objects it uses, so a source
# another engineer is still writing does not break the other targets.
lib=$WORK/libsmtpcode-fuzz.a
rm -f "$lib"
[ ${#objs[@]} -gt 0 ] && ar rcs "$lib" "${objs[@]}"

targets=${FUZZ_TARGETS:-$(ls spec/c/fuzz_*.c 2>/dev/null | sed 's|.*/fuzz_||; s|\.c$||')}
for t in $targets; do
  src=spec/c/fuzz_$t.c
  [ -f "$src" ] || { nok "fuzz $t: no $src"; continue; }
  missing=
  for sym in $(sed -n 's/^\*\* needs: *//p' "$src"); do
    grep -qx "$sym" <<<"$defined" || missing="$missing $sym"
  done
  if [ -n "$missing" ]; then
    ok "fuzz $t: # SKIP not in src/ yet:$missing"; continue
  fi
  bin=$WORK/fuzz_$t
  if ! "$CLANG" "${FLAGS[@]}" "$src" "$lib" -o "$bin" 2>"$WORK/cc.log"; then
    nok "fuzz $t: build"; sed 's/^/#   /' "$WORK/cc.log" | head -20; continue
  fi
  corpus=$WORK/corpus-$t
  mkdir -p "$corpus"
  [ -d spec/c/corpus/$t ] && cp spec/c/corpus/$t/* "$corpus"/ 2>/dev/null
  [ -d spec/c/regress/$t ] && cp spec/c/regress/$t/* "$corpus"/ 2>/dev/null
  art=$WORK/art-$t
  mkdir -p "$art"
  dict=()
  [ -f spec/c/fuzz.dict ] && dict=(-dict=spec/c/fuzz.dict)
  # shellcheck disable=SC2086
  "$bin" -max_total_time="$T" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$art/" "${dict[@]}" ${FUZZ_ARGS:-} \
    "$corpus" >"$WORK/$t.log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$t.log" | tail -n 1)
  execs=${execs:-0}
  total=$((total + execs))
  ran=$((ran + 1))
  if [ "$rc" -eq 0 ] && [ -z "$(ls -A "$art")" ]; then
    ok "fuzz $t: $execs execs"
  else
    nok "fuzz $t: $execs execs, finding (exit $rc)"
    grep -E 'ERROR|invariant|SUMMARY|runtime error|prefix of' \
      "$WORK/$t.log" | head -n 12 | sed 's/^/#   /'
    keep=$OUT/findings/$t
    mkdir -p "$keep"
    cp "$WORK/$t.log" "$keep/fuzz-$(date +%Y%m%d-%H%M%S).log"
    for f in "$art"/*; do
      [ -f "$f" ] || continue
      cp "$f" "$keep/"
      echo "#   reproducer: $keep/$(basename "$f") -> copy to spec/c/regress/$t/"
    done
  fi
done

echo "1..$n"
echo "fuzz: $total execs in $ran targets, ${T}s each"
exit $bad
