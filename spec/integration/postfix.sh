#!/usr/bin/env bash
# smtpcode.retry against a real Postfix, from plain Lua and from nginx.
#
# Starts a private Postfix on 127.0.0.1 (docs: ../shared/docs/toolchain.md
# §8) that knows the local users alice and grey, denies relaying, limits
# messages to 20 KB and answers through an access map a greylisting 450 for
# grey@ and a rate-limit 450 for throttle@. Then:
#  a) spec/integration/client.lua over LuaSocket, on every Lua that has
#     lua-socket: one SMTP transaction per case, each reply through
#     smtpcode.read_reply + smtpcode.retry (classify), plus the send loop of
#     examples/send-loop.lua on a simulated clock;
#  b) the same conversation inside nginx with the Lua module, over
#     ngx.socket.tcp (examples/openresty-send.lua), the tracker on an
#     ngx.shared.DICT, decisions answered over HTTP and checked here.
# Needs root (Postfix), postfix, nginx + libnginx-mod-http-lua, lua-socket,
# curl, and build/<v>/smtpcode/core.so. Loopback and high ports only;
# everything started is stopped by pid / `postfix -c DIR stop`. Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
. "$ROOT/.ci/lib.sh"
. "$ROOT/.ci/nginx-conf.sh"


PF="" NGX="" P=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  [ -n "$NGX" ] && stop_pid "$NGX" QUIT
  postfix_clean
  [ -n "$P" ] && rm -rf "$P"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ "$(id -u)" != 0 ]; then nok "runs as root (Postfix needs it)"; finish; fi
if ! command -v postfix >/dev/null; then nok "postfix is installed"; finish; fi

# ---------------------------------------------------------------- Postfix
postfix_dir
SMTP_PORT=$(free_port 25250)
CLOSED_PORT=$(free_port $((SMTP_PORT + 1)))
DOMAIN=mx.test.invalid

{ postfix_main_cf "$DOMAIN"; cat <<EOF
smtpd_recipient_restrictions = check_recipient_access texthash:$PF/etc/access
local_recipient_maps = inline:{ alice=ok, grey=ok, throttle=ok }
message_size_limit = 20480
smtputf8_enable = yes
EOF
} >"$PF/etc/main.cf"

# Greylisting as postgrey answers it, and a throttle, through an access map.
cat >"$PF/etc/access" <<EOF
grey@$DOMAIN 450 4.7.1 Greylisted, see http://postgrey.schweikert.ch/help/$DOMAIN.html
throttle@$DOMAIN 450 4.7.1 Too many messages from your IP address, rate limit exceeded; try again later
EOF

postfix_master_cf "$SMTP_PORT" >"$PF/etc/master.cf"
postfix_up "$SMTP_PORT"

# ---------------------------------------------------------------- a) plain Lua
for v in 5.1 5.2 5.3 5.4 jit; do
  case $v in jit) lua=luajit; sv=5.1 ;; *) lua=lua$v; sv=$v ;; esac
  if ! command -v "$lua" >/dev/null; then skip "$lua client" "$lua not installed"; continue; fi
  if [ ! -e "/usr/lib/x86_64-linux-gnu/lua/$sv/socket/core.so" ] \
     && ! "$lua" -e 'require "socket"' >/dev/null 2>&1; then
    skip "$lua client" "no lua-socket for $lua"; continue
  fi
  # up to date with src/ (make test has built it already; then this is a no-op)
  ${MAKE:-make} --no-print-directory "lib-$v" >/dev/null 2>&1 </dev/null
  if [ ! -f "build/$v/smtpcode/core.so" ]; then
    nok "$lua client: build/$v/smtpcode/core.so is built"; continue
  fi
  LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;" LUA_CPATH="$ROOT/build/$v/?.so;;" \
    timeout 120 "$lua" spec/integration/client.lua 127.0.0.1 "$SMTP_PORT" "$DOMAIN" "$CLOSED_PORT" \
    >"$PF/client-$v.log" 2>&1 </dev/null
  rc=$?
  tap_from "$lua: " <"$PF/client-$v.log"
  [ $rc -eq 0 ] || nok "$lua: client.lua exits with status 0 (got $rc)"
done

# ---------------------------------------------------------------- b) nginx
if ! nginx_lua; then
  nok "nginx and libnginx-mod-http-lua are installed"; finish
fi
if [ ! -f build/jit/smtpcode/core.so ]; then
  nok "build/jit/smtpcode/core.so is built"; finish
fi
P=$(mktemp -d "${TMPDIR:-/tmp}/smtpcode-nginx.XXXXXX")
mkdir -p "$P/conf" "$P/logs"
HTTP_PORT=$(free_port $((CLOSED_PORT + 1)))

{ nginx_conf_head "$ROOT" 2; cat <<NGINX
    lua_shared_dict smtpcode_retry 1m;
    server {
        listen 127.0.0.1:$HTTP_PORT reuseport;   # connections spread over both workers
        default_type text/plain;
        # One SMTP transaction per case over a cosocket; every reply through
        # smtpcode.read_reply + retry; destination failures into the shared dict.
        location = /cases {
            content_by_lua_block {
                local smtpcode = require "smtpcode"
                local retry = require "smtpcode.retry"
                local send = require "openresty-send"
                if type(smtpcode.classify) ~= "function" then
                    ngx.say("error smtpcode.classify is not available") return
                end
                local s = 777
                local policy = retry.policy{ random = function()
                    s = (s * 16807) % 2147483647 return s / 2147483647 end }
                local tracker = retry.tracker{
                    store = retry.shdict_store(ngx.shared.smtpcode_retry), clock = ngx.time }
                local D = "$DOMAIN"
                local body = "Subject: nginx\r\n\r\nHello.\r\n"
                local big = "Subject: big\r\n\r\n" .. string.rep(string.rep("y", 76) .. "\r\n", 400)
                local cases = {
                    { "known", "alice@" .. D }, { "unknown", "nosuchuser@" .. D },
                    { "relay", "someone@elsewhere.example" }, { "large", "alice@" .. D, big },
                    { "grey", "grey@" .. D }, { "throttle", "throttle@" .. D },
                }
                local now = ngx.time()
                for _, c in ipairs(cases) do
                    local reply, stage = send.attempt("127.0.0.1", $SMTP_PORT, {
                        from = "sender@client.test.invalid", to = c[2],
                        body = c[3] or body, size = true }, 10000)
                    local d = policy:decide(reply,
                                            { attempts = 1, first_attempt = now, now = now })
                    if type(reply) == "table" then
                        reply = reply.code .. " " .. (reply.enhanced and (reply.enhanced .. " ") or "")
                            .. table.concat(reply.lines, "\r\n")
                    end
                    local pause = tracker:record(D, d, now)
                    ngx.say(c[1], " action=", d.action, " reason=", tostring(d.reason),
                            " suppress=", tostring(d.suppress), " delay=", tostring(d.delay),
                            " scope=", tostring(d.scope), " pause=", pause,
                            " stage=", stage, " reply=", (reply:gsub("\r\n$", ""):gsub("\r\n", " | ")))
                end
            }
        }
        # What any worker sees for a destination.
        location = /pause {
            content_by_lua_block {
                local retry = require "smtpcode.retry"
                local tracker = retry.tracker{
                    store = retry.shdict_store(ngx.shared.smtpcode_retry), clock = ngx.time }
                local wait, untilt = tracker:pause(ngx.var.arg_dest)
                ngx.say("pid=", ngx.worker.pid(), " pause=", wait > 0 and "yes" or "no",
                        " until=", tostring(untilt), " failures=", tracker:failures(ngx.var.arg_dest))
            }
        }
        # The queue of examples/openresty-send.lua, run on a simulated
        # clock until every message has ended.
        location = /loop {
            content_by_lua_block {
                local retry = require "smtpcode.retry"
                local send = require "openresty-send"
                local D = "$DOMAIN"
                local sender = send.new{ host = "127.0.0.1", port = $SMTP_PORT,
                    dict = ngx.shared.smtpcode_retry,
                    policy = retry.policy{ max_lifetime = 3600 } }
                for _, to in ipairs({ "alice@" .. D, "nosuchuser@" .. D, "grey@" .. D }) do
                    sender:enqueue({ from = "loop@client.test.invalid", to = to,
                                     body = "Subject: loop\r\n\r\nHi.\r\n" })
                end
                local now, last, rounds = 2000000000, {}, 0
                while #sender.queue > 0 and rounds < 1000 do
                    rounds = rounds + 1
                    for _, d in ipairs(sender:run_once(now)) do last[#last + 1] = d end
                    local nxt = nil
                    for _, m in ipairs(sender.queue) do
                        if not nxt or m.next_at < nxt then nxt = m.next_at end
                    end
                    if nxt then now = math.max(now + 1, nxt) end
                end
                local count = {}
                for _, d in ipairs(last) do count[d.action] = (count[d.action] or 0) + 1 end
                ngx.say("queue=", #sender.queue, " done=", count.done or 0, " bounce=",
                        count.bounce or 0, " retry=", count.retry or 0, " expire=", count.expire or 0)
            }
        }
    }
}
NGINX
} >"$P/conf/nginx.conf"

if nginx_test "$P"; then
  ok "nginx -t accepts the config (port $HTTP_PORT)"
else
  nok "nginx -t accepts the config"; sed 's/^/#   /' "$P/logs/t.log"; finish
fi
if nginx_run "$P" -sf "http://127.0.0.1:$HTTP_PORT/pause?dest=x"; then
  ok "nginx answers on 127.0.0.1:$HTTP_PORT"
else
  nok "nginx answers on 127.0.0.1:$HTTP_PORT"; tail -20 "$P/logs/error.log" | sed 's/^/#   /'; finish
fi

body=$(curl -sS -m 60 "http://127.0.0.1:$HTTP_PORT/cases" 2>&1)
printf '%s\n' "$body" | sed 's/^/# /'
# expect CASE REGEX DESCRIPTION
expect() {
  local line
  line=$(printf '%s\n' "$body" | grep -m1 "^$1 ")
  if [[ $line =~ $2 ]]; then ok "nginx cosocket: $3"; else nok "nginx cosocket: $3"; fi
}
expect known 'action=done .*suppress=false' "known user is done"
expect unknown 'action=bounce reason=user_unknown suppress=true' "unknown user bounces, suppressed"
expect relay 'action=bounce .*suppress=false' "relaying bounces, not suppressed"
expect large 'action=bounce reason=too_large suppress=false' "oversized message bounces as too_large"
if [[ $(printf '%s\n' "$body" | grep -m1 '^grey ') =~ action=retry\ reason=greylisted\ suppress=false\ delay=([0-9]+) ]] \
   && [ "${BASH_REMATCH[1]}" -ge 300 ] && [ "${BASH_REMATCH[1]}" -le 900 ]; then
  ok "nginx cosocket: greylisted address retries in ${BASH_REMATCH[1]} s (5-15 min)"
else
  nok "nginx cosocket: greylisted address retries within 5-15 minutes"
fi
expect throttle 'action=retry reason=rate_limited .*scope=destination pause=[1-9]' \
  "rate limit retries later and pauses the destination in the shared dict"

# Several requests (nginx picks the worker); all must see the same pause.
seen=$(for i in 1 2 3 4 5 6 7 8 9 10; do curl -sS -m 10 "http://127.0.0.1:$HTTP_PORT/pause?dest=$DOMAIN"; done)
printf '%s\n' "$seen" | sed 's/^/# /'
untils=$(printf '%s\n' "$seen" | grep -o 'until=[0-9.]*' | sort -u | wc -l)
if printf '%s\n' "$seen" | grep -q 'pause=no' || [ "$untils" -ne 1 ]; then
  nok "every worker sees the destination pause (ngx.shared.DICT)"
else
  ok "every worker sees the destination pause (ngx.shared.DICT, $(printf '%s\n' "$seen" | grep -o 'pid=[0-9]*' | sort -u | wc -l) worker(s) answered)"
fi

body=$(curl -sS -m 120 "http://127.0.0.1:$HTTP_PORT/loop" 2>&1)
printf '%s\n' "$body" | sed 's/^/# /'
if [[ $body =~ ^queue=0\ done=1\ bounce=1\ retry=([0-9]+)\ expire=1 ]] && [ "${BASH_REMATCH[1]}" -ge 3 ]; then
  ok "examples/openresty-send.lua: the send loop ends every message (done, bounce, expire)"
else
  nok "examples/openresty-send.lua: the send loop ends every message (done, bounce, expire)"
fi

nginx_no_errors "$P"

stopped nginx NGX QUIT
if postfix_stop; then
  ok "Postfix stopped"
else
  nok "Postfix stopped"
fi
finish
