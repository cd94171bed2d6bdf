#!/usr/bin/env bash
# Integration: a real nginx with the Lua module (OpenResty's LuaJIT, FFI
# backend) runs many smtpcode calls at once in light threads
# (ngx.thread.spawn) and in concurrent requests. Each call fills an `into`
# table whose __newindex yields (ngx.sleep(0)): were it called, the other
# threads would run in the middle of the call. Every answer must be the
# answer of its own input, and no metamethod may run (tables are written
# raw, as on the C API). Loopback only; nginx is started and stopped by its
# pid. Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
. .ci/lib.sh
. .ci/nginx-conf.sh

if ! nginx_lua; then
  echo "ok 1 - nginx light threads # SKIP nginx or libnginx-mod-http-lua is not installed"
  echo "1..1"; exit 0
fi
need_jit_core

nginx_dir threads
port=$(free_port 18180)

{ nginx_conf_head "$ROOT" 1; cat <<'NGINX'
    init_by_lua_block {
        local smtpcode = require "smtpcode"
        local rawset, setmetatable = rawset, setmetatable
        local calls = 0
        -- an into whose metamethods yield to the other light threads
        local function yielding()
            return setmetatable({}, {
                __newindex = function(t, k, v) calls = calls + 1 ngx.sleep(0) rawset(t, k, v) end,
                __index = function(_, _) calls = calls + 1 ngx.sleep(0) return nil end,
            })
        end
        local JOBS = {
            { "classify", "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown",
              function(r) return r.reason == "user_unknown" and r.bounce == "hard" and r.retry == false end },
            { "classify", "451 4.7.1 Greylisting in action, please come back later",
              function(r) return r.reason == "greylisted" and r.bounce == "soft" and r.retry == true end },
            { "parse", "250-mx.example.net\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n",
              function(r) return r.code == 250 and r.text == "mx.example.net\nPIPELINING\nSIZE 10240000" end },
            { "parse", "421-4.3.2 busy\r\n421 4.3.2 try again later\r\n",
              function(r) return r.code == 421 and r.enhanced == "4.3.2" and r.text == "busy\ntry again later" end },
        }
        -- run n calls in light threads; returns wrong answers, metamethod calls
        function smtpcode_threads(n)
            calls = 0
            local threads, wrong = {}, 0
            for i = 1, n do
                local job = JOBS[i % #JOBS + 1]
                threads[i] = ngx.thread.spawn(function()
                    local r = smtpcode[job[1]](job[2], nil, yielding())
                    ngx.sleep(0)
                    return job[3](r)
                end)
            end
            for i = 1, n do
                local okw, good = ngx.thread.wait(threads[i])
                if not (okw and good) then wrong = wrong + 1 end
            end
            return wrong, calls
        end
    }
    server {
NGINX
cat <<NGINX
        listen 127.0.0.1:$port;
NGINX
cat <<'NGINX'
        location = /threads {
            default_type text/plain;
            content_by_lua_block {
                local smtpcode = require "smtpcode"
                local n = tonumber(ngx.var.arg_n) or 200
                local wrong, calls = smtpcode_threads(n)
                ngx.say("backend=", smtpcode._BACKEND, " calls=", n, " wrong=", wrong,
                        " metamethods=", calls)
            }
        }
    }
}
NGINX
} >"$P/conf/nginx.conf"

nginx_up "$P" "$port" "/threads?n=1"

body=$(curl -sS "http://127.0.0.1:$port/threads?n=400" 2>&1)
printf '%s\n' "$body" | sed 's/^/# /'
if printf '%s\n' "$body" | grep -q '^backend=ffi calls=400 wrong=0 metamethods=0$'; then
  ok "400 light threads with yielding into tables: every answer its own, no metamethod run (FFI)"
else
  nok "400 light threads with yielding into tables: every answer its own, no metamethod run (FFI)"
fi

# concurrent requests, each with its own light threads
pids=
for i in 1 2 3 4 5 6 7 8; do
  curl -sS "http://127.0.0.1:$port/threads?n=100" >"$P/r$i.txt" 2>&1 &
  pids="$pids $!"
done
# shellcheck disable=SC2086  # one pid per word
wait $pids
allgood=1
for i in 1 2 3 4 5 6 7 8; do
  sed 's/^/# /' "$P/r$i.txt"
  grep -q '^backend=ffi calls=100 wrong=0 metamethods=0$' "$P/r$i.txt" || allgood=0
done
if [ $allgood -eq 1 ]; then
  ok "8 concurrent requests of 100 light threads each: every answer its own"
else
  nok "8 concurrent requests of 100 light threads each: every answer its own"
fi

nginx_no_errors "$P"

stopped nginx NGX QUIT
finish
