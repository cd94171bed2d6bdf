#!/usr/bin/env bash
# bench/store.sh: figures of the destination tracker's stores.
#  - plain Lua (bench/store.lua, luajit and lua5.1): the in-process store,
#    Redis through redis-lua with and without pipelining, memory per
#    destination;
#  - nginx with the Lua module, one worker (bench/store/app.lua): decisions
#    per second through the shared dict and through Redis (lua-resty-redis,
#    with and without pipelining), shared-dict bytes per destination, and
#    the per-request cost split into classify, decide, tracker and the rest;
#    then requests over one keepalive connection (curl) for an empty
#    handler and the full handler, built per request and once per worker.
# Starts redis-server and nginx on free loopback ports, stops them by pid.
# Standalone (not in `make bench`: it needs redis-server and nginx):
#   bash bench/store.sh
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
. .ci/lib.sh
. .ci/nginx-conf.sh
[ -f build/jit/smtpcode/core.so ] || make --no-print-directory lib-jit >/dev/null || exit 1
P=$(mktemp -d "${TMPDIR:-/tmp}/smtpcode-benchstore.XXXXXX")
RDS='' NGX=''
cleanup() { [ -n "$NGX" ] && stop_pid "$NGX" QUIT; [ -n "$RDS" ] && stop_pid "$RDS"; rm -rf "$P"; }
trap cleanup EXIT

rport=$(free_port 16479)
redis_start "$rport" "$P" || { echo "redis-server did not start"; exit 1; }

for lua in luajit lua5.1; do
  LUA_PATH="$ROOT/lua/?.lua;;" LUA_CPATH="$ROOT/build/jit/?.so;;" $lua bench/store.lua "$rport"
done

# Instructions per decision through the in-process store (callgrind, no
# clock involved): the run with 2N decisions minus the run with N, over N.
if command -v valgrind >/dev/null; then
  cat >"$P/ir.lua" <<'LUA'
local retry = require "smtpcode.retry"
local t, dec = retry.tracker(), { action = "retry", reason = "rate_limited", scope = "destination" }
local dests = {}
for i = 1, 1000 do dests[i] = "d" .. i .. ".bench.example" end
for i = 1, tonumber(arg[1]) do local d = dests[i % 1000 + 1]; t:pause(d); t:record(d, dec) end
LUA
  for lua in lua5.4 luajit; do
    ir() {
      LUA_PATH="$ROOT/lua/?.lua;;" valgrind --tool=callgrind --callgrind-out-file="$P/cg.out" \
        $lua "$P/ir.lua" "$1" >/dev/null 2>&1
      awk '/^(summary|totals):/ { print $2; exit }' "$P/cg.out"
    }
    a=$(ir 20000); b=$(ir 40000)
    echo "callgrind $lua: memory_store pause + record: $(( (b - a) / 20000 )) instructions per decision"
  done
fi

port=$(free_port 18580)
mkdir -p "$P/conf" "$P/logs"
{ nginx_conf_head "$ROOT" 1; cat <<NGINX
    init_by_lua_block { package.path = "$ROOT/bench/store/?.lua;" .. package.path }
    init_worker_by_lua_block { require("app").port = $rport }
    lua_shared_dict smtp 64m;
    server {
        listen 127.0.0.1:$port;
        default_type text/plain;
        location = /empty { content_by_lua_block { require("app").handle("empty") } }
        location = /once  { content_by_lua_block { require("app").handle("once") } }
        location = /naive { content_by_lua_block { require("app").handle("naive") } }
        location = /parts { content_by_lua_block { require("app").handle("parts") } }
        location = /store { content_by_lua_block { require("app").handle("store") } }
        location = /mem   { content_by_lua_block { require("app").handle("mem") } }
    }
}
NGINX
} >"$P/conf/nginx.conf"
nginx_run "$P" -sf -o /dev/null "http://127.0.0.1:$port/empty" || {
  echo "nginx did not start"; tail "$P/logs/error.log"; exit 1; }
U="http://127.0.0.1:$port"
echo "== nginx (OpenResty LuaJIT), one worker: each piece in a loop inside a request"
curl -sS "$U/parts?n=20000"
echo "== nginx: decisions per second (pause + record) through each store"
curl -sS "$U/store?kind=memory&n=200000"
curl -sS "$U/store?kind=shdict&n=200000"
curl -sS "$U/store?kind=redis&n=5000"
curl -sS "$U/store?kind=redis&n=20000&pipe=10"
curl -sS "$U/store?kind=redis&n=50000&pipe=100"
curl -sS "$U/store?kind=redis&n=50000&many=100"
curl -sS "$U/mem?n=10000"
echo "== nginx: requests over one keepalive connection (curl), best of 3 x 2000"
for what in empty once naive; do
  best=
  for _ in 1 2 3; do
    urls=()
    for _ in $(seq 1 2000); do urls+=("$U/$what"); done
    t=$(curl -sS -o /dev/null -w '%{time_total}\n' "${urls[@]}" | awk '{ s += $1 } END { printf "%.1f", s / NR * 1e6 }')
    if [ -z "$best" ] || awk "BEGIN { exit !($t < $best) }"; then best=$t; fi
  done
  printf '%-8s %8s us per request\n' "$what" "$best"
done
