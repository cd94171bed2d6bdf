#!/usr/bin/env bash
# `make rock`: build and install the release rock from the versioned
# rockspec (rockspec/smtpcode-<SMTPCODE_VERSION>-1.rockspec) into a fresh
# tree, from a clean copy of the sources (the files git tracks or would
# track, as they are in the working tree; src lua bin rockspec data when this
# is not a git checkout), then require it from that tree and check that
# smtpcode._VERSION is the rockspec's version. Packs the installed rock into
# build/rock/ (a binary rock for this machine).
#   .ci/rock.sh [LUA_VERSION]     5.1 5.2 5.3 5.4 (default) or jit
# Works offline. Exits 0 when the rock built, installed and loaded.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
v=${1:-5.4}
case $v in
  jit) lv=5.1 lua=luajit extra=(LUA_INCDIR=/usr/include/luajit-2.1) ;;
  5.[1-4]) lv=$v lua=lua$v extra=() ;;
  *) echo "rock: unknown Lua version '$v' (5.1 5.2 5.3 5.4 jit)" >&2; exit 2 ;;
esac
version=$(sed -n 's/^#define SMTPCODE_VERSION "\(.*\)"$/\1/p' src/smtpcode.h)
rockspec=rockspec/smtpcode-$version-1.rockspec
if [ -z "$version" ] || [ ! -f "$rockspec" ]; then
  echo "rock: no $rockspec for SMTPCODE_VERSION '$version' (run: make gen)" >&2; exit 1
fi
command -v luarocks >/dev/null || { echo "rock: luarocks is not installed (make deps)" >&2; exit 1; }
command -v "$lua" >/dev/null || { echo "rock: $lua is not installed" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpcode-rock.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] || continue
    mkdir -p "$tmp/src/$(dirname "$f")" && cp -p "$f" "$tmp/src/$f"
  done
else
  for d in src lua bin rockspec data LICENSE README.md; do
    [ -e "$d" ] && cp -R "$d" "$tmp/src/"
  done
fi

echo "rock: luarocks --lua-version=$lv make --tree=<tmp> $rockspec (from a clean copy)"
if ! (cd "$tmp/src" && luarocks --lua-version="$lv" make --tree="$tmp/tree" "$rockspec" "${extra[@]}" \
        >"$tmp/make.log" 2>&1 </dev/null); then
  tail -n 25 "$tmp/make.log" >&2
  echo "rock: luarocks make failed" >&2; exit 1
fi

paths=$(luarocks --lua-version="$lv" --tree="$tmp/tree" path 2>/dev/null)
check='
local s = require "smtpcode"
local want = os.getenv("WANT")
local where = package.searchpath and package.searchpath("smtpcode.core", package.cpath) or "?"
assert(where:find(os.getenv("TREE"), 1, true), "smtpcode.core loaded from " .. tostring(where))
assert(s._VERSION == want, "smtpcode._VERSION is " .. tostring(s._VERSION) .. ", the rockspec says " .. want)
assert(s.parse("250 ok").code == 250, "parse")
assert(s.classify("550 5.1.1 User unknown").reason == "user_unknown", "classify")
assert(#s.reasons() > 20, "reasons")
print("rock: smtpcode " .. s._VERSION .. " from the tree, " .. _VERSION .. (jit and (" " .. jit.version) or ""))
'
# Run outside the repository so ./lua and ./build cannot be picked up.
if ! (cd "$tmp" && eval "$paths" && TREE="$tmp/tree" WANT="$version" "$lua" -e "$check"); then
  echo "rock: require from the tree failed" >&2; exit 1
fi
mkdir -p build/rock
if (cd build/rock && luarocks --lua-version="$lv" --tree="$tmp/tree" pack smtpcode "$version-1" >"$tmp/pack.log" 2>&1); then
  echo "rock: packed $(ls build/rock/smtpcode-"$version"-1.*.rock 2>/dev/null | head -n 1)"
else
  tail -n 5 "$tmp/pack.log" >&2
  echo "rock: luarocks pack failed" >&2; exit 1
fi
