#!/usr/bin/env bash
# Destination state shared across workers and machines: a real
# redis-server, two nginx instances with the Lua module standing in for two
# sending machines (4 and 2 workers, lua-resty-redis from Debian's
# lua-nginx-redis over a keepalive pool) and a plain-Lua process (lua5.1,
# redis-lua from Debian's lua-redis), all trackers on the same Redis:
#  a) a rate limit recorded by one machine pauses the destination for all;
#  b) N failures recorded concurrently for one destination (parallel
#     requests to 4 nginx workers, and to both machines) give the pause of
#     the same N recorded one after another: ngx.shared.DICT and Redis;
#  c) Redis stopped mid-run: requests still answer (no pause), errors are
#     counted and logged; Redis slow (DEBUG SLEEP): the same, by timeout;
#  d) Redis started again (empty): the script is loaded again (NOSCRIPT)
#     and state is rebuilt as failures recur.
# Loopback and free ports only; everything started is stopped by pid.
# Prints TAP. Needs redis-server, nginx + libnginx-mod-http-lua,
# lua-nginx-redis, lua-redis + lua-socket (lua5.1), curl, build/jit.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
. "$ROOT/.ci/lib.sh"
. "$ROOT/.ci/nginx-conf.sh"

check() { # check NAME GOT PATTERN: GOT matches the extended regex PATTERN
  if printf '%s\n' "$2" | grep -Eq -- "$3"; then ok "$1"; else nok "$1"; fi
  printf '%s\n' "$2" | sed 's/^/#   /'
}

missing=
command -v redis-server >/dev/null || missing="$missing redis-server"
nginx_lua || missing="$missing nginx-lua"
[ -f /usr/share/lua/5.1/nginx/redis.lua ] || missing="$missing lua-nginx-redis"
[ -f /usr/share/lua/5.1/redis.lua ] || missing="$missing lua-redis"
command -v lua5.1 >/dev/null || missing="$missing lua5.1"
command -v curl >/dev/null || missing="$missing curl"
[ -f build/jit/smtpcode/core.so ] || missing="$missing build/jit"
if [ -n "$missing" ]; then nok "needed parts are installed (missing:$missing)"; finish; fi

P=$(mktemp -d "${TMPDIR:-/tmp}/smtpcode-redis.XXXXXX")
RDS='' NGA='' NGB='' SRV=''
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  [ -n "$NGA" ] && stop_pid "$NGA" QUIT
  [ -n "$NGB" ] && stop_pid "$NGB" QUIT
  [ -n "$RDS" ] && stop_pid "$RDS" TERM
  [ -n "$SRV" ] && stop_pid "$SRV" TERM
  rm -rf "$P"
}
trap cleanup EXIT

rport=$(free_port 16379)
start_redis() { redis_start "$rport" "$P" --enable-debug-command local; }
if start_redis; then ok "redis-server answers on 127.0.0.1:$rport"; else
  nok "redis-server answers on 127.0.0.1:$rport"; finish; fi

# nginx_start NAME WORKERS PORT: a private nginx running spec/integration/redis/app.lua
nginx_start() {
  local name=$1 workers=$2 port=$3 d="$P/$1"
  mkdir -p "$d/conf" "$d/logs"
  { nginx_conf_head "$ROOT" "$workers"
    cat <<NGINX
    init_by_lua_block { package.path = "$ROOT/spec/integration/redis/?.lua;" .. package.path }
    lua_shared_dict smtp 4m;
    lua_socket_log_errors off;   # the store logs Redis trouble itself (warn)
    init_worker_by_lua_block { require("app").port = $rport }
    server {
        listen 127.0.0.1:$port reuseport;   # connections spread over all workers
        default_type text/plain;
        location = /rec   { content_by_lua_block { require("app").handle("rec") } }
        location = /pause { content_by_lua_block { require("app").handle("pause") } }
        location = /many  { content_by_lua_block { require("app").handle("many") } }
        location = /pauses { content_by_lua_block { require("app").handle("pauses") } }
        location = /check { content_by_lua_block { require("app").handle("check") } }
    }
}
NGINX
  } >"$d/conf/nginx.conf"
  local up=0
  nginx_run "$d" -sf -o /dev/null "http://127.0.0.1:$port/pause?dest=x" || up=1
  eval "NG$name=\$NGX"
  return $up
}
aport=$(free_port 18480)
if nginx_start A 4 "$aport"; then ok "nginx A (4 workers) answers on $aport"; else
  nok "nginx A answers"; tail -20 "$P/A/logs/error.log" | sed 's/^/#   /'; finish; fi
bport=$(free_port $((aport + 1)))
if nginx_start B 2 "$bport"; then ok "nginx B (2 workers) answers on $bport"; else
  nok "nginx B answers"; tail -20 "$P/B/logs/error.log" | sed 's/^/#   /'; finish; fi

A="http://127.0.0.1:$aport" B="http://127.0.0.1:$bport"
plain() { LUA_PATH="$ROOT/lua/?.lua;;" lua5.1 spec/integration/redis/plain.lua "$rport" "$@" 2>&1; }
NOW=$(date +%s)
CM=${SMTPCODE_CONC_DESTS:-2000}   # destinations in the concurrency check

# ---------------------------------------------------------------- a
check "machine A records a rate limit in Redis: paused 300 s" \
  "$(curl -sS "$A/rec?store=redis&dest=mx.shared.example&reason=rate_limited&now=$NOW")" '^pause=300 failures=1 '
check "machine B sees the pause A recorded" \
  "$(curl -sS "$B/pause?store=redis&dest=mx.shared.example&now=$((NOW + 100))")" '^pause=200 failures=1 '
check "the plain-Lua process (redis-lua) sees it too" \
  "$(plain pause mx.shared.example '' $((NOW + 100)))" '^pause=200 failures=1 errors=0'
check "plain Lua records a block listing; machine A holds mail 1800 s" \
  "$(plain record mx.listed.example blocklisted "$NOW"; curl -sS "$A/pause?store=redis&dest=mx.listed.example&now=$NOW")" \
  '^pause=1800 failures=1 '
check "a second rate limit on B doubles the pause for everyone" \
  "$(curl -sS "$B/rec?store=redis&dest=mx.shared.example&now=$NOW"; plain pause mx.shared.example '' "$NOW")" \
  'pause=600 failures=2 errors=0'
check "machine A reads the pauses of three destinations in one pipeline (lua-resty-redis)" \
  "$(curl -sS "$A/pauses?store=redis&dests=mx.shared.example,none.example,mx.listed.example&now=$NOW")" \
  '^pauses=600,0,1800 errors=0'

# the tracker's behaviour cases through Redis (plain Lua; flushes the db)
while IFS= read -r line; do
  case $line in
    "ok - "*) ok "redis_store: ${line#ok - }" ;;
    "not ok - "*) nok "redis_store: ${line#not ok - }" ;;
    *) echo "# ${line#\# }" ;;
  esac
done < <(LUA_PATH="$ROOT/lua/?.lua;;" lua5.1 spec/integration/redis/behaviour.lua "$rport" 2>&1)
curl -sS -o /dev/null "$A/rec?store=redis&dest=mx.shared.example&reason=rate_limited&n=2&now=$NOW"
ttl=$(redis-cli -p "$rport" ttl 'smtpcode:{mx.shared.example}')
check "one hash per destination, key prefix{destination}, TTL the 4 h window" \
  "key smtpcode:{mx.shared.example} type=$(redis-cli -p "$rport" type 'smtpcode:{mx.shared.example}') ttl=$ttl" \
  'type=hash ttl=14[0-4][0-9][0-9]$'

# ---------------------------------------------------------------- b
# N = 40 failures for each of M destinations, sent as 40 parallel requests
# that each record one failure per destination; the pause is compared with
# a destination given its 40 failures one after another.
parallel() { # parallel URL COUNT [URL2]: COUNT requests, alternating URL and URL2
  local i urls=()
  for i in $(seq 1 "$2"); do
    if [ -n "${3:-}" ] && [ $((i % 2)) = 0 ]; then urls+=("$3"); else urls+=("$1"); fi
  done
  curl -sS --no-progress-meter --parallel --parallel-immediate --parallel-max 40 --max-time 120 "${urls[@]}" >"$P/parallel.out"
  echo "# answered by $(grep -o 'pid=[0-9]*' "$P/parallel.out" | sort -u | wc -l) worker processes;" \
    "lock waits: $(grep -o 'lock_waits=[0-9]*' "$P/parallel.out" | sort -t= -k2 -n | tail -1)" \
    "$(grep -o 'lock_timeouts=[0-9]*' "$P/parallel.out" | sort -t= -k2 -n | tail -1)" \
    "$(grep -o 'lock_expired=[0-9]*' "$P/parallel.out" | sort -t= -k2 -n | tail -1)"
}
curl -sS -o /dev/null "$A/rec?store=shdict&grow=1&dest=seq.example&n=40&now=$NOW"
t0=$SECONDS
parallel "$A/many?store=shdict&grow=1&prefix=c&per=5&count=$CM&now=$NOW&barrier=c&k=8" 8
echo "# 8 parallel requests x $CM destinations x 5 failures (shdict): $((SECONDS - t0)) s"
check "ngx.shared.DICT, 4 workers: 40 concurrent failures of $CM destinations give the pause of 40 sequential ones" \
  "$(curl -sS "$A/check?store=shdict&grow=1&prefix=c&count=$CM&n=40&seq=seq.example&now=$NOW")" \
  '^want=[0-9]+ bad=0 short=0 '
# The same with a slow read of the pause's end (spec/integration/redis/app.lua:
# get spins ~20 us after reading): a read-then-write without the lock loses
# pauses here in nearly every run.
curl -sS -o /dev/null "$A/rec?store=slowdict&grow=1&dest=seqslow.example&n=40&now=$NOW"
t0=$SECONDS
parallel "$A/many?store=slowdict&grow=1&prefix=s&per=5&count=500&now=$NOW&barrier=s&k=8" 8
echo "# 8 parallel requests x 500 destinations x 5 failures (slow reads): $((SECONDS - t0)) s"
check "ngx.shared.DICT with slow reads, 4 workers: 40 concurrent failures give the pause of 40 sequential ones" \
  "$(curl -sS "$A/check?store=slowdict&grow=1&prefix=s&count=500&n=40&seq=seqslow.example&now=$NOW")" \
  '^want=[0-9]+ bad=0 short=0 '
curl -sS -o /dev/null "$A/rec?store=redis&grow=1&dest=seq.example&n=40&now=$NOW"
t0=$SECONDS
parallel "$A/many?store=redis&grow=1&prefix=r&count=100&now=$NOW" 40 \
  "$B/many?store=redis&grow=1&prefix=r&count=100&now=$NOW"
echo "# 40 parallel requests x 100 destinations (Redis, both machines): $((SECONDS - t0)) s"
check "Redis, machines A and B together: 40 concurrent failures give the pause of 40 sequential ones" \
  "$(curl -sS "$B/check?store=redis&grow=1&prefix=r&count=100&n=40&seq=seq.example&now=$NOW")" \
  '^want=[0-9]+ bad=0 short=0 '

# A long-lived plain-Lua process with one redis-lua client, kept across
# the Redis restart below (commands through a FIFO, answers in a file).
mkfifo "$P/serve.in"
LUA_PATH="$ROOT/lua/?.lua;;" lua5.1 spec/integration/redis/plain.lua "$rport" serve \
  <"$P/serve.in" >"$P/serve.out" 2>"$P/serve.err" &
SRV=$!
exec 7>"$P/serve.in"
serve() { # serve COMMAND: send one command, print its answer
  local before
  before=$(wc -l <"$P/serve.out")
  echo "$1" >&7
  wait_until "$SRV" 10 test "$(wc -l <"$P/serve.out")" -gt "$before"
  tail -n 1 "$P/serve.out"
}
check "long-lived redis-lua client: records before Redis stops" \
  "$(serve "record long.example rate_limited $NOW")" '^pause=300 failures=1 errors=0'

# ---------------------------------------------------------------- c
stop_pid "$RDS" TERM; RDS=
out=$(for i in 1 2 3 4 5 6; do curl -sS -w '# http=%{http_code} %{time_total}s\n' \
  "$A/rec?store=redis&dest=down.example&now=$NOW"; done)
check "Redis stopped: machine A still answers every request, no pause, errors counted" \
  "$out" '^pause=0 failures=0 .*errors=[1-9]'
if [ "$(printf '%s\n' "$out" | grep -c 'http=200')" = 6 ]; then ok "every answer is HTTP 200 while Redis is down"; else
  nok "every answer is HTTP 200 while Redis is down"; fi
check "Redis stopped: machine B and the shared dict go on" \
  "$(curl -sS "$B/rec?store=redis&dest=down.example&now=$NOW"; curl -sS "$B/rec?store=shdict&dest=down.example&now=$NOW")" \
  'pause=300 failures=1'
check "Redis stopped: a list of pauses answers 0 for each, error counted" \
  "$(serve "pauses long.example,other.example $NOW")" '^pauses=0,0 errors=[1-9]'
check "Redis stopped: the plain-Lua process records without raising, error counted" \
  "$(plain record down.example rate_limited "$NOW")" '^pause=0 failures=0 errors=1'
# (errors: how many calls found Redis down; the pauses call before may
# count one or two, as the store's 1 s back-off falls on a busy machine)
check "Redis stopped: the long-lived client answers no pause, error counted" \
  "$(serve "record long.example rate_limited $NOW")" '^pause=0 failures=0 errors=[1-9]'
check "Redis stopped: the errors are logged by nginx (warn)" \
  "$(grep -h 'redis_store:' "$P/A/logs/error.log" "$P/B/logs/error.log" | head -3 | cut -c1-160)" \
  'connection refused'

# ---------------------------------------------------------------- d
if start_redis; then ok "redis-server started again (empty) on $rport"; else nok "redis-server started again"; finish; fi
sleep 1.2   # the stores' retry_after (1 s): each worker tries Redis again
out=$(curl -sS "$A/rec?store=redis&dest=back.example&now=$NOW"; curl -sS "$A/rec?store=redis&dest=back.example&now=$NOW")
check "Redis back: failures recur on A and pause again (script reloaded after NOSCRIPT)" \
  "$out" 'pause=600 failures=2 '
check "Redis back: B and plain Lua see the rebuilt state" \
  "$(curl -sS "$B/pause?store=redis&dest=back.example&now=$NOW"; plain pause back.example '' "$NOW")" \
  'pause=600 failures=2 errors=0'
serve "sleep 1.1" >/dev/null
check "Redis back: the long-lived redis-lua client connects again and records" \
  "$(serve "record long.example rate_limited $NOW"; serve "record long.example rate_limited $NOW")" \
  'pause=600 failures=2 errors=[1-9]'
exec 7>&-
stop_pid "$SRV" TERM; SRV=
if grep -q 'noscript=[1-9]' <<<"$out$(for i in 1 2 3 4 5 6 7 8; do curl -sS "$A/rec?store=redis&dest=ns$i.example&now=$NOW"; done)"; then
  ok "a worker found the script gone (NOSCRIPT) and loaded it again"
else
  nok "a worker found the script gone (NOSCRIPT) and loaded it again"
fi

# Redis slow: DEBUG SLEEP blocks the server for 2 s; the stores' 200 ms
# timeout answers "no pause" meanwhile.
redis-cli -p "$rport" debug sleep 2 >/dev/null 2>&1 &
sleeper=$!
sleep 0.3
out=$(curl -sS -w ' %{time_total}s\n' "$A/rec?store=redis&dest=slow.example&now=$NOW")
check "Redis slow: the request answers with no pause, error counted" "$out" '^pause=0 .*errors=[1-9]'
check "Redis slow: the error logged is a timeout" \
  "$(sleep 0.3; grep -h 'redis_store: timeout' "$P/A/logs/error.log" | head -1 | cut -c1-200)" 'timeout'
wait "$sleeper" 2>/dev/null

if grep -hE '\[(error|alert|crit|emerg)\]' "$P/A/logs/error.log" "$P/B/logs/error.log" >"$P/errors"; then
  nok "nginx error logs have no errors (warnings for Redis expected)"; head -20 "$P/errors" | sed 's/^/#   /'
else
  ok "nginx error logs have no errors (warnings for Redis expected)"
fi
finish
