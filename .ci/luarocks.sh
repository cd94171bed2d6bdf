#!/usr/bin/env bash
# luarocks make of rockspec/smtpcode-scm-1.rockspec into a fresh tree for
# Lua 5.1, 5.2, 5.3, 5.4 and LuaJIT, then `require "smtpcode"` from that tree
# with the matching interpreter; the release rockspec
# (rockspec/smtpcode-<SMTPCODE_VERSION>-1.rockspec) is listed, linted and
# built the same way by .ci/rock.sh (`make rock`), which checks _VERSION.
# Works offline. Prints TAP.
# The build runs in a copy of the sources so that luarocks' stray objects
# (src/*.o, smtpcode/core.so) never land in the working tree.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROCKSPEC=rockspec/smtpcode-scm-1.rockspec
VERSION=$(sed -n 's/^#define SMTPCODE_VERSION "\(.*\)"$/\1/p' src/smtpcode.h)
RELEASE=rockspec/smtpcode-$VERSION-1.rockspec
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtpcode-rocks.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0 bad=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); bad=1; echo "not ok $n - $1"; }

# 1. the rockspec lists every C source and every Lua module of the tree.
for rs in "$ROCKSPEC" "$RELEASE"; do
if [ ! -f "$rs" ]; then nok "$rs exists (SMTPCODE_VERSION $VERSION; run make gen)"; continue; fi
if out=$(lua5.4 - "$rs" <<'LUA'
local env = {}
local chunk = assert(loadfile(arg[1], "t", env)); chunk()
local listed, lua = {}, {}
for name, m in pairs(env.build.modules) do
  if type(m) == "table" then for _, s in ipairs(m.sources) do listed[s] = name end
  else lua[m] = name end
end
local problems = {}
local p = io.popen("ls src/*.c src/lua/*.c lua/smtpcode.lua lua/smtpcode/*.lua 2>/dev/null")
for f in p:lines() do
  if f:match("%.c$") and not listed[f] then problems[#problems + 1] = f .. " is not in smtpcode.core's sources" end
  if f:match("%.lua$") and not lua[f] then problems[#problems + 1] = f .. " is not in build.modules" end
end
p:close()
for f in pairs(listed) do if not io.open(f) then problems[#problems + 1] = f .. " is listed but missing" end end
for f in pairs(lua) do if not io.open(f) then problems[#problems + 1] = f .. " is listed but missing" end end
if env.build.install and env.build.install.bin then
  for _, f in pairs(env.build.install.bin) do
    if not io.open(f) then problems[#problems + 1] = f .. " (install.bin) is missing" end
  end
end
table.sort(problems)
io.write(table.concat(problems, "\n"))
os.exit(#problems == 0 and 0 or 1)
LUA
); then
  ok "$rs lists every src/*.c and lua/ module"
else
  nok "$rs lists every src/*.c and lua/ module"
  printf '%s\n' "$out" | sed 's/^/#   /'
fi

if luarocks lint "$rs" >"$tmp/lint.log" 2>&1; then
  ok "luarocks lint $rs"
else
  nok "luarocks lint $rs"; sed 's/^/#   /' "$tmp/lint.log"
fi
done

# the release rock: built from the versioned rockspec, required, _VERSION checked
if out=$(bash .ci/rock.sh 5.4 2>&1); then
  ok "make rock: $RELEASE builds, installs and loads as smtpcode $VERSION"
else
  nok "make rock: $RELEASE builds, installs and loads as smtpcode $VERSION"
fi
printf '%s\n' "$out" | sed 's/^/# /'

mkdir -p "$tmp/src"
for d in src lua bin rockspec; do [ -d "$d" ] && cp -R "$d" "$tmp/src/"; done

check='
local s = require "smtpcode"
local function searchpath(name, path)
  name = name:gsub("%.", "/")
  for pat in path:gmatch("[^;]+") do
    local f = pat:gsub("%?", name)
    local fh = io.open(f)
    if fh then fh:close() return f end
  end
end
local where = (package.searchpath or searchpath)("smtpcode.core", package.cpath) or "?"
assert(where:find(TREE, 1, true), "smtpcode.core loaded from " .. where .. ", not from the tree")
local r = assert(s.parse("550-5.1.1 first\r\n550 5.1.1 second\r\n"))
assert(r.code == 550 and r.enhanced == "5.1.1" and r.severity == "permanent", "parse")
print("# " .. _VERSION .. (jit and (" " .. jit.version) or "") .. " smtpcode " .. tostring(s._VERSION) .. " backend " .. tostring(s._BACKEND))
'

lua_of() { case $1 in jit) echo "5.1 luajit" ;; *) echo "$1 lua$1" ;; esac; }

# Build the five trees concurrently, each from its own copy of the sources
# (luarocks writes objects next to them), then check them in order.
pids=()
for v in 5.1 5.2 5.3 5.4 jit; do
  read -r lv lua <<<"$(lua_of $v)"
  extra=()
  [ $v = jit ] && extra=(LUA_INCDIR=/usr/include/luajit-2.1)
  cp -R "$tmp/src" "$tmp/src-$v"
  (cd "$tmp/src-$v" && luarocks --lua-version="$lv" make --tree="$tmp/tree-$v" "$ROCKSPEC" "${extra[@]}" \
     >"$tmp/make-$v.log" 2>&1 </dev/null; echo $? >"$tmp/make-$v.rc") &
  pids+=($!)
done
wait "${pids[@]}"

for v in 5.1 5.2 5.3 5.4 jit; do
  read -r lv lua <<<"$(lua_of $v)"
  tree="$tmp/tree-$v"
  if [ "$(cat "$tmp/make-$v.rc")" = 0 ]; then
    ok "luarocks --lua-version=$lv make ($lua)"
  else
    nok "luarocks --lua-version=$lv make ($lua)"
    tail -n 15 "$tmp/make-$v.log" | sed 's/^/#   /'
    continue
  fi
  # the module exports the C API (SMTPCODE_API) and luaopen only: the
  # private headers hide the tables and test entry points of the core
  so=$(find "$tree" -name core.so -path '*smtpcode*' | head -n 1)
  if [ "$v" = 5.4 ] && [ -n "$so" ] && command -v nm >/dev/null; then
    extra_syms=$(nm -D --defined-only "$so" | awk '{ print $3 }' |
      grep -E '^(smtpcode_(rd|reg)_|smtpcode_classify_split$|smtpcode_scan_digest$)' || true)
    api=$(nm -D --defined-only "$so" | awk '{ print $3 }' | grep -c '^smtpcode_classify$' || true)
    if [ -z "$extra_syms" ] && [ "$api" = 1 ]; then
      ok "core.so of the LuaRocks build exports the C API and nothing internal"
    else
      nok "core.so of the LuaRocks build exports the C API and nothing internal"
      printf '%s\n' "$extra_syms" | head -n 5 | sed 's/^/#   /'
    fi
  fi
  if [ -f bin/smtpcode ] && [ "$v" = 5.4 ]; then
    if [ -x "$tree/bin/smtpcode" ]; then ok "install.bin: the tree has bin/smtpcode"
    else nok "install.bin: the tree has bin/smtpcode"; fi
  fi
  paths=$(luarocks --lua-version="$lv" --tree="$tree" path 2>/dev/null)
  # Run outside the repository so ./lua and ./build cannot be picked up.
  if out=$(cd "$tmp" && eval "$paths" && TREE="$tree" "$lua" -e "TREE = os.getenv('TREE')" -e "$check" 2>&1); then
    ok "require \"smtpcode\" from the $lua tree"
    printf '%s\n' "$out" | grep '^#'
  else
    nok "require \"smtpcode\" from the $lua tree"
    printf '%s\n' "$out" | sed 's/^/#   /'
  fi
done
echo "1..$n"
exit $bad
