#!/usr/bin/env bash
# bench/stream.sh LUAS...: bench/stream.lua on each Lua of LUAS (5.4, jit),
# then instructions per reply under callgrind (lua5.4 and luajit): the whole
# process once per contender over the 4096-byte cut, minus a run that only
# builds the corpus. Called by `make bench`.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
mkdir -p build/bench
for v in "$@"; do
  case $v in jit) lua=luajit; backends="ffi capi" ;; *) lua=lua$v; backends=capi ;; esac
  for b in $backends; do
    echo "== $lua bench/stream.lua (SMTPCODE_BACKEND=$b)"
    SMTPCODE_BACKEND=$b LUA_PATH='lua/?.lua;lua/?/init.lua;bench/?.lua;;' \
      LUA_CPATH="build/$v/?.so;;" $lua bench/stream.lua || exit 1
  done
done
command -v valgrind >/dev/null || { echo "callgrind: valgrind not installed, no instruction counts"; exit 0; }
for v in "$@"; do
  case $v in jit) lua=luajit ;; *) lua=lua$v ;; esac
  declare -A ir=()
  n=0
  for c in none lua reader; do
    out=$(STREAM_ONLY=$c LUA_PATH='lua/?.lua;lua/?/init.lua;bench/?.lua;;' LUA_CPATH="build/$v/?.so;;" \
      valgrind --tool=callgrind --callgrind-out-file="build/bench/cg.stream.$v.$c" \
      $lua bench/stream.lua 2>/dev/null)
    ir[$c]=$(awk '/^(summary|totals):/ { print $2; exit }' "build/bench/cg.stream.$v.$c")
    [ "$c" = lua ] && n=$(printf '%s\n' "$out" | awk '{ print $2 }')
  done
  if [ "${n:-0}" -gt 0 ]; then
    awk -v l="${ir[lua]}" -v r="${ir[reader]}" -v z="${ir[none]}" -v n="$n" -v lua="$lua" 'BEGIN {
      printf "callgrind: %s 4096-byte reads: lua line loop %.0f, smtpcode.reader %.0f instructions per reply (%.2fx)\n",
        lua, (l - z) / n, (r - z) / n, (l - z) / (r - z) }'
  fi
  unset ir
done
