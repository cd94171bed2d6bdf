#!/bin/sh
# bench/cg.sh: callgrind instruction counts of smtpcode's functions beside
# the rows of the shared harness (../shared/bench), in the same process:
# scan, parse and parse into per line of the harness corpus, next to its
# idiomatic string.match parser (a_match_table) and its minimal bindings
# (capi_multi, ffi_multi); then classify and classify into per line of
# bench/classify_lines.lua. Prints "interp backend row Ir/line".
#   bash bench/cg.sh [lua5.4 luajit ...]
# env: SHARED (../shared/bench), CG_LINES (20000), BUILD (a temp dir),
#   (on PUC Lua also shape_floor_rawset and shape_floor_ctor: parse's table built
#   with no parsing, bench/shape_floor.c, the floor of parse)
#   CG_REPLIES=1: only the corpus lines that are whole one-line replies
#   ("250 ok", not "250-..." nor log lines): parse answers an error for the
#   others, and that path (the C API's messages) is then what is measured
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared/bench}
CG_LINES=${CG_LINES:-20000}
INTERPS=${*:-"lua5.4 luajit"}
command -v valgrind >/dev/null || { echo "cg.sh: valgrind not installed"; exit 0; }
[ -f "$SHARED/bench.lua" ] || { echo "cg.sh: no shared harness at $SHARED"; exit 0; }
BUILD=${BUILD:-$(mktemp -d)}
[ -f "$BUILD/lua5.4/smtpbench.so" ] || BUILD="$BUILD" sh "$SHARED/build.sh" >/dev/null
[ -s "$BUILD/corpus.txt" ] || lua5.4 "$SHARED/gen_corpus.lua" 40000 > "$BUILD/corpus.txt" 2>/dev/null
if [ -n "${CG_REPLIES:-}" ]; then
  grep -E '^[2-5][0-9][0-9]( |$)' "$BUILD/corpus.txt" | head -n "$CG_LINES" > "$BUILD/corpus-cg.txt"
else
  head -n "$CG_LINES" "$BUILD/corpus.txt" > "$BUILD/corpus-cg.txt"
fi
OUT=$BUILD/cg.out
cd "$ROOT"
report() { # $1 = backend: the dumps of the last run
  for f in "$OUT"/cg.*.*; do
    awk -v b="$1" '/^desc: Trigger: Client Request: /{ split($0, a, "Client Request: "); name = a[2] }
         /^summary: /{ ir = $2 }
         END { if (name != "") { split(name, p, ":"); printf "%-8s %-5s %-22s %9.1f\n", p[1], b, p[2], ir / p[3] } }' "$f"
  done | sort -k3
}
for lua in $INTERPS; do
  case $lua in luajit) v=jit; so=luajit; backends="ffi capi";; lua5.1) v=5.1; so=lua5.1; backends=capi;;
               *) v=${lua#lua}; so=lua5.4; backends=capi;; esac
  floor=; rows=
  if [ "$v" != jit ] && [ -f bench/shape_floor.c ]; then # parse's floor, PUC Lua
    floor=$BUILD/shapefloor-$v.so
    cc -std=c99 -O2 -fPIC -shared $(pkg-config --cflags "lua$v" 2>/dev/null) -o "$floor" \
      bench/shape_floor.c 2>/dev/null && rows=,shape_floor_rawset,shape_floor_ctor || floor=
  fi
  for b in $backends; do
    rm -rf "$OUT"; mkdir -p "$OUT"
    SMTPCODE_SHAPE_FLOOR=$floor SMTPCODE_BACKEND=$b LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/$v/?.so;;" \
      valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.%p" "$lua" "$SHARED/bench.lua" \
      "$BUILD/corpus-cg.txt" "$BUILD" --callgrind --label "$lua" \
      --only a_match_table,c_byte_multi,capi_multi,ffi_multi,smtpcode_scan,smtpcode_parse,smtpcode_parse_into,smtpcode_parse_wrap$rows \
      --extra bench/harness.lua >/dev/null 2>"$OUT/log" || { cat "$OUT/log"; exit 1; }
    report "$b"
    rm -rf "$OUT"; mkdir -p "$OUT"
    SMTPCODE_BACKEND=$b SMTPBENCH_SO="$BUILD/$so/smtpbench.so" CG_LABEL=$lua \
      LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/$v/?.so;;" \
      valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.%p" "$lua" bench/cgclassify.lua \
      >/dev/null 2>"$OUT/log" || { cat "$OUT/log"; exit 1; }
    report "$b"
  done
done
