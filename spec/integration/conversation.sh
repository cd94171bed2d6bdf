#!/usr/bin/env bash
# smtpcode.read_reply and smtpcode.format against real SMTP peers.
#
# Starts a private Postfix on 127.0.0.1 (as spec/integration/postfix.sh
# does) and a small LuaSocket SMTP listener (spec/integration/listener.lua)
# whose replies are all written by smtpcode.format. Then:
#  a) the reader against Postfix's smtpd with pipelining: EHLO, then MAIL,
#     RCPT, RCPT, DATA in one write, every reply by smtpcode.read_reply
#     (spec/integration/pipeline.lua), from LuaSocket on every Lua that has
#     lua-socket and from an nginx cosocket (receiveany: several replies in
#     one read);
#  b) swaks talks to the listener (with and without --pipeline): a rejected
#     recipient gets a multi-line 550 whose text holds CR LF "250 2.0.0
#     forged OK" and NUL, and no line of the transcript is a forged reply;
#  c) Postfix delivers to the listener (a transport to its loopback port):
#     Postfix's own log shows the multi-line replies as it read them, and
#     the message with the forged "250" in a 550's text is bounced, not sent;
#  d) the conversation of a) inside a real Rspamd, over
#     rspamd_tcp.connect_sync (read_once as receiveany).
# Needs root (Postfix), postfix, swaks, nginx + libnginx-mod-http-lua,
# lua-socket, curl, build/<v>/smtpcode/core.so. Loopback and high ports
# only; everything started is stopped by pid / `postfix -c DIR stop`. TAP.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
. "$ROOT/.ci/lib.sh"
. "$ROOT/.ci/nginx-conf.sh"

check() { if eval "$1"; then ok "$2"; else nok "$2"; fi; }

PF="" NGX="" P="" LST="" RSP="" R=""
LLOG="${TMPDIR:-/tmp}/smtpcode-listener.$$.log"
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  [ -n "$NGX" ] && stop_pid "$NGX" QUIT
  [ -n "$RSP" ] && stop_pid "$RSP" TERM
  [ -n "$R" ] && rm -rf "$R"
  [ -n "$LST" ] && stop_pid "$LST"
  rm -f "$LLOG"
  postfix_clean
  [ -n "$P" ] && rm -rf "$P"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ "$(id -u)" != 0 ]; then nok "runs as root (Postfix needs it)"; finish; fi
for c in postfix swaks lua5.4; do
  command -v $c >/dev/null || { nok "$c is installed"; finish; }
done
${MAKE:-make} --no-print-directory lib-5.4 >/dev/null 2>&1 </dev/null
[ -f build/5.4/smtpcode/core.so ] || { nok "build/5.4/smtpcode/core.so is built"; finish; }

# ---------------------------------------------------------------- listener
LPORT=$(free_port 26250)
LUA_PATH="$ROOT/lua/?.lua;;" LUA_CPATH="$ROOT/build/5.4/?.so;;" \
  lua5.4 spec/integration/listener.lua "$LPORT" >"$LLOG" 2>&1 </dev/null &
LST=$!
if wait_until "$LST" 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$LPORT"; then
  ok "the smtpcode.format listener (lua5.4, LuaSocket) listens on 127.0.0.1:$LPORT"
else
  nok "the smtpcode.format listener listens"; sed 's/^/#   /' "$LLOG"; finish
fi

# ---------------------------------------------------------------- Postfix
postfix_dir
SMTP_PORT=$(free_port $((LPORT + 1)))
DOMAIN=mx.test.invalid
LDOMAIN=lua.test.invalid

{ postfix_main_cf "$DOMAIN"; cat <<CF
relay_domains = $LDOMAIN
transport_maps = texthash:$PF/etc/transport
local_recipient_maps = inline:{ alice=ok }
smtp_tls_security_level = none
smtp_dns_support_level = disabled
smtp_helo_name = postfix.test.invalid
queue_run_delay = 3600s
CF
} >"$PF/etc/main.cf"
echo "$LDOMAIN smtp:[127.0.0.1]:$LPORT" >"$PF/etc/transport"

postfix_master_cf "$SMTP_PORT" \
  'smtp      unix  -       -       n       -       -       smtp' >"$PF/etc/master.cf"
postfix_up "$SMTP_PORT"

# ---------------------------------------------------------------- a) reader, LuaSocket
for v in 5.1 5.2 5.3 5.4 jit; do
  case $v in jit) lua=luajit; sv=5.1 ;; *) lua=lua$v; sv=$v ;; esac
  if ! command -v "$lua" >/dev/null; then skip "$lua pipelining" "$lua not installed"; continue; fi
  if [ ! -e "/usr/lib/x86_64-linux-gnu/lua/$sv/socket/core.so" ] \
     && ! "$lua" -e 'require "socket"' >/dev/null 2>&1; then
    skip "$lua pipelining" "no lua-socket for $lua"; continue
  fi
  ${MAKE:-make} --no-print-directory "lib-$v" >/dev/null 2>&1 </dev/null
  LUA_PATH="$ROOT/lua/?.lua;;" LUA_CPATH="$ROOT/build/$v/?.so;;" \
    timeout 60 "$lua" spec/integration/pipeline.lua 127.0.0.1 "$SMTP_PORT" "$DOMAIN" \
    >"$PF/pipeline-$v.log" 2>&1 </dev/null
  rc=$?
  tap_from "$lua LuaSocket: " <"$PF/pipeline-$v.log"
  [ $rc -eq 0 ] || nok "$lua: pipeline.lua exits with status 0 (got $rc)"
done

# ---------------------------------------------------------------- a) reader, nginx cosocket
if ! nginx_lua || ! command -v curl >/dev/null; then
  nok "nginx, libnginx-mod-http-lua and curl are installed"
else
  ${MAKE:-make} --no-print-directory lib-jit >/dev/null 2>&1 </dev/null
  P=$(mktemp -d "${TMPDIR:-/tmp}/smtpcode-nginx.XXXXXX")
  mkdir -p "$P/conf" "$P/logs"
  HTTP_PORT=$(free_port $((SMTP_PORT + 1)))
  { nginx_conf_head "$ROOT" 1; cat <<NGINX
    server {
        listen 127.0.0.1:$HTTP_PORT;
        default_type text/plain;
        location = /ping { return 200 "pong"; }
        location = /pipeline {
            content_by_lua_block {
                local sock = ngx.socket.tcp()
                sock:settimeout(10000)
                local ok, err = sock:connect("127.0.0.1", $SMTP_PORT)
                if not ok then ngx.say("not ok - connect: ", err) return end
                local run = dofile("$ROOT/spec/integration/pipeline.lua")
                run(sock, "$DOMAIN", function(good, desc)
                    ngx.say(good and "ok - " or "not ok - ", desc)
                end)
                sock:close()
            }
        }
    }
}
NGINX
  } >"$P/conf/nginx.conf"
  if nginx_test "$P"; then
    if nginx_run "$P" -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/ping"; then
      curl -sS -m 60 "http://127.0.0.1:$HTTP_PORT/pipeline" >"$P/pipeline.txt" 2>&1
      tap_from "nginx cosocket: " <"$P/pipeline.txt"
      grep -q "^ok - " "$P/pipeline.txt" || nok "nginx cosocket: the pipelining conversation ran"
      nginx_no_errors "$P"
    else
      nok "nginx answers on 127.0.0.1:$HTTP_PORT"; tail -20 "$P/logs/error.log" | sed 's/^/#   /'
    fi
    stop_pid "$NGX" QUIT
    NGX=
  else
    nok "nginx -t accepts the config"; sed 's/^/#   /' "$P/logs/t.log"
  fi
fi

# ---------------------------------------------------------------- b) swaks -> listener
for mode in plain pipeline; do
  extra=()
  [ $mode = pipeline ] && extra=(--pipeline)
  out=$(timeout 60 swaks --server 127.0.0.1 --port "$LPORT" --helo client.test.invalid \
    --from sender@client.test.invalid --to "reject@$LDOMAIN" "${extra[@]}" 2>&1)
  rc=$?
  printf '%s\n' "$out" | grep -E '^ *(<|<\*\*) ' | cut -c1-160 | sed 's/^/# /'
  # swaks marks server lines with "<-" (or "<**" for a failure)
  check '[ $rc -ne 0 ]' "swaks ($mode): RCPT to reject@ fails (exit $rc)"
  check 'printf "%s\n" "$out" | grep -qE "^ *<\*\* +550-5\.7\.1 <reject@$LDOMAIN>: rejected"' \
    "swaks ($mode): the 550 5.7.1 is a multi-line reply"
  check 'printf "%s\n" "$out" | grep -qE "^ *<\*\* +550-5\.7\.1 250 2\.0\.0 forged OK\?"' \
    "swaks ($mode): the injected \"250 2.0.0 forged OK\" is text of a 550-5.7.1 line, its NUL a ?"
  check '! printf "%s\n" "$out" | grep -qE "^ *(<-|<\*\*) +250[ -]2\.0\.0 forged"' \
    "swaks ($mode): no line of the transcript is a forged 250"
  nlines=$(printf '%s\n' "$out" | grep -cE '^ *<\*\* +550[ -]5\.7\.1 ')
  long=$(printf '%s\n' "$out" | grep -E '^ *<\*\* +550[ -]5\.7\.1 ' | awk '{ sub(/^ *<\*\* +/, ""); if (length($0) > m) m = length($0) } END { print m + 0 }')
  check '[ "$nlines" -ge 4 ] && [ "$long" -le 510 ]' \
    "swaks ($mode): the long text is wrapped into $nlines lines, the longest $long bytes + CRLF (RFC 5321: 512)"
done
out=$(timeout 60 swaks --server 127.0.0.1 --port "$LPORT" --helo client.test.invalid \
  --from sender@client.test.invalid --to "ok@$LDOMAIN" --pipeline 2>&1)
rc=$?
printf '%s\n' "$out" | grep -E '^ *(<|<\*\*) ' | cut -c1-160 | sed 's/^/# /'
check '[ $rc -eq 0 ] && printf "%s\n" "$out" | grep -qE "^ *<- +250 2\.0\.0 as LUA"' \
  "swaks (pipeline): a message to ok@ is accepted with a 2-line 250 2.0.0 (exit $rc)"

# ---------------------------------------------------------------- c) Postfix -> listener
for to in reject defer ok; do
  timeout 60 swaks --server 127.0.0.1 --port "$SMTP_PORT" --helo client.test.invalid \
    --from sender@client.test.invalid --to "$to@$LDOMAIN" >"$PF/submit-$to.log" 2>&1 \
    || { nok "Postfix accepts a message for $to@$LDOMAIN"; sed 's/^/#   /' "$PF/submit-$to.log" | tail -5; }
done
if wait_until 0 60 bash -c "grep -q 'to=<reject@$LDOMAIN>.*status=' '$PF/maillog' && grep -q 'to=<defer@$LDOMAIN>.*status=' '$PF/maillog' && grep -q 'to=<ok@$LDOMAIN>.*status=' '$PF/maillog'"; then
  ok "Postfix delivered the three messages to the listener (smtp transport to 127.0.0.1:$LPORT)"
else
  nok "Postfix delivered the three messages to the listener"
fi
grep -E "to=<(reject|defer|ok)@$LDOMAIN>" "$PF/maillog" | cut -c1-400 | sed 's/^/# /'
rej=$(grep -m1 "to=<reject@$LDOMAIN>.*status=" "$PF/maillog")
def=$(grep -m1 "to=<defer@$LDOMAIN>.*status=" "$PF/maillog")
sent=$(grep -m1 "to=<ok@$LDOMAIN>.*status=" "$PF/maillog")
check '[[ $rej == *"status=bounced"* ]]' "Postfix bounced the message to reject@ (the forged 250 did not count)"
check '[[ $rej =~ said:\ 550-5\.7\.1\ \<reject@$LDOMAIN\>:\ rejected\ 550-5\.7\.1\ 250\ 2\.0\.0\ forged\ OK.\ 550-5\.7\.1\ Second\ line ]]' \
  "Postfix's log shows the multi-line 550-5.7.1 as it read it, the forged 250 inside a 550 line"
check '[[ $rej =~ 550\ 5\.7\.1\ [^\(]*\(in\ reply\ to\ RCPT\ TO\ command\) ]]' \
  "Postfix's log shows the last line 550 5.7.1 answering RCPT TO"
check '[[ $def == *"status=deferred"* && $def =~ said:\ 451-4\.7\.1\ \<defer@$LDOMAIN\>:\ greylisted,\ try\ again\ later\ 451\ 4\.7\.1\ See\ the\ test\ listener ]]' \
  "Postfix deferred the message to defer@ on the 2-line 451 4.7.1"
check '[[ $sent == *"status=sent"* && $sent =~ \(250-2\.0\.0\ Ok:\ [0-9]+\ bytes\ queued\ 250\ 2\.0\.0\ as\ LUA[0-9]+\) ]]' \
  "Postfix sent the message to ok@ and logged the 2-line 250 2.0.0"

# ---------------------------------------------------------------- d) Rspamd
# Rspamd's TCP API has no receive, but a synchronous connection
# (rspamd_tcp.connect_sync, in a symbol's coroutine) has read_once: a
# three-line adapter gives read_reply what it needs (receiveany), and the
# same pipelined conversation runs inside a real Rspamd.
if ! rspamd_here; then
  nok "rspamd is installed"
else
  ${MAKE:-make} --no-print-directory lib-jit >/dev/null 2>&1 </dev/null
  R=$(mktemp -d "${TMPDIR:-/tmp}/smtpcode-rspamd.XXXXXX")
  rspamd_conf "$R" $((SMTP_PORT + 10)) com org net
  cat >"$R/local/rspamd.local.lua" <<LUA
-- generated by spec/integration/conversation.sh
package.cpath = "$ROOT/build/jit/?.so;" .. package.cpath
package.path = "$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;" .. package.path
local rspamd_tcp = require "rspamd_tcp"
local run = dofile("$ROOT/spec/integration/pipeline.lua")
rspamd_config:register_symbol({
  name = "SMTPCODE_PIPELINE", score = 0.0, group = "smtpcode",
  flags = "coro", -- the callback yields in connect_sync and read_once
  description = "smtpcode.read_reply over rspamd_tcp.connect_sync",
  callback = function(task)
    if not task:get_header("X-Pipeline-Test") then return false end
    local out = assert(io.open("$R/pipeline.txt", "w"))
    local ok, conn = rspamd_tcp.connect_sync({ task = task, host = "127.0.0.1",
      port = $SMTP_PORT, timeout = 10 })
    if not ok then
      out:write("not ok - connect_sync: ", tostring(conn), "\n") out:close() return false
    end
    local sock = {
      send = function(_, data)
        local wrote, err = conn:write(data)
        if wrote then return #data end
        return nil, err
      end,
      receive = function() return nil, "closed" end,
      receiveany = function()
        local got, data = conn:read_once()
        if got then return tostring(data) end
        return nil, tostring(data):find("timeout") and "timeout" or "closed"
      end,
    }
    local good, bad = 0, 0
    run(sock, "$DOMAIN", function(pass, desc)
      if pass then good = good + 1 else bad = bad + 1 end
      out:write(pass and "ok - " or "not ok - ", desc, "\n")
    end)
    conn:close()
    out:close()
    return true, 1.0, good .. " ok, " .. bad .. " not ok"
  end,
})
LUA
  printf 'From: a@example.org\r\nTo: b@example.com\r\nSubject: pipeline\r\nX-Pipeline-Test: 1\r\nMessage-ID: <p-1@example.org>\r\nDate: Mon, 30 Nov 2026 12:00:00 +0000\r\n\r\nHi.\r\n' >"$R/msg.eml"
  if rspamd_start "$R"; then
    out=$(rspamc -h "127.0.0.1:$normal" symbols "$R/msg.eml" 2>&1)
    printf '%s\n' "$out" | grep -E 'SMTPCODE' | sed 's/^/# /'
    if [ -f "$R/pipeline.txt" ]; then
      tap_from "Rspamd connect_sync: " <"$R/pipeline.txt"
    else
      nok "Rspamd: the rule ran the conversation"; tail -20 "$R/log/rspamd.log" | sed 's/^/#   /'
    fi
    if printf "%s\n" "$out" | grep -qE "SMTPCODE_PIPELINE .*\[[0-9]+ ok, 0 not ok\]"; then
      ok "Rspamd: SMTPCODE_PIPELINE reports the conversation"
    else
      nok "Rspamd: SMTPCODE_PIPELINE reports the conversation"
      printf '%s\n' "$out" | head -20 | sed 's/^/#   /'
      grep -iE "error|smtpcode|lua" "$R/log/rspamd.log" | tail -20 | sed 's/^/#   /'
    fi
  else
    nok "rspamd answers /ping"; tail -20 "$R/log/rspamd.log" "$R/log/stdout.txt" 2>/dev/null | sed 's/^/#   /'
  fi
  stop_pid "$RSP" TERM
  RSP=
  rm -rf "$R"
fi

stop_pid "$LST"
LST=
if postfix_stop; then ok "Postfix stopped"; else nok "Postfix stopped"; fi
finish
