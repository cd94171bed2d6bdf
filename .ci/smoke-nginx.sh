#!/usr/bin/env bash
# Smoke test: a real nginx with Debian's Lua module (libnginx-mod-http-lua,
# OpenResty's LuaJIT) loads smtpcode from build/jit and answers with
# smtpcode.parse / smtpcode.scan results. Loopback only; nginx is started
# and stopped by its pid. Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
. .ci/lib.sh
. .ci/nginx-conf.sh

if ! nginx_lua; then
  nok "nginx and libnginx-mod-http-lua are installed"; finish
fi
need_jit_core

nginx_dir nginx
port=$(free_port 18080)

{ nginx_conf_head "$ROOT" 1; cat <<NGINX
    server {
        listen 127.0.0.1:$port;
        location = /parse {
            default_type text/plain;
            content_by_lua_block {
                local smtpcode = require "smtpcode"
                local r, err, code = smtpcode.parse("550-5.1.1 first\r\n550 5.1.1 second\r\n")
                if not r then ngx.say("error=", err, " ", code) return end
                ngx.say("code=", r.code, " enhanced=", r.enhanced, " severity=", r.severity,
                        " lines=", #r.lines, " backend=", smtpcode._BACKEND)
                local i, e, c = smtpcode.parse("250-only a start\r\n")
                ngx.say("incomplete=", tostring(i), " ", c)
            }
        }
        location = /bounces {
            default_type text/plain;
            content_by_lua_block {
                local cjson = require "cjson.safe"
                ngx.req.read_body()
                local payload = cjson.decode(ngx.req.get_body_data() or "")
                if not payload then return ngx.exit(400) end
                for _, d in ipairs(require("bounce-webhook").decide(payload)) do
                    ngx.say(d.email, " ", d.action, " ", d.reason, " ",
                            d.code or "-", " ", d.enhanced or "-")
                end
            }
        }
        location = /scan {
            default_type text/plain;
            content_by_lua_block {
                local smtpcode = require "smtpcode"
                local code, sev, enh = smtpcode.scan(ngx.unescape_uri(ngx.var.arg_line or ""))
                ngx.say("scan=", tostring(code), " ", tostring(sev), " ", tostring(enh))
            }
        }
    }
}
NGINX
} >"$P/conf/nginx.conf"

# Any HTTP answer will do here (a 500 from a broken module is checked below).
nginx_up "$P" "$port" /scan

body=$(curl -sS "http://127.0.0.1:$port/parse" 2>&1)
printf '%s\n' "$body" | sed 's/^/# /'
if printf '%s\n' "$body" | grep -q '^code=550 enhanced=5.1.1 severity=permanent lines=2 '; then
  ok "content_by_lua_block: smtpcode.parse of a 2-line 550 reply"
else
  nok "content_by_lua_block: smtpcode.parse of a 2-line 550 reply"
fi
if printf '%s\n' "$body" | grep -q '^incomplete=nil incomplete$'; then
  ok "content_by_lua_block: incomplete reply gives nil, msg, \"incomplete\""
else
  nok "content_by_lua_block: incomplete reply gives nil, msg, \"incomplete\""
fi
# ESP webhook payloads (SES, SendGrid, Mailgun, Postmark) -> suppression decisions
cat >"$P/bounces.json" <<'JSON'
[
 {"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[
   {"emailAddress":"bob@example.net","action":"failed","status":"5.1.1",
    "diagnosticCode":"smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown"}]}},
 {"event":"deferred","email":"carol@example.org",
  "response":"451 4.7.1 Greylisting in action, please come back later","attempt":"1"},
 {"event-data":{"event":"failed","severity":"permanent","recipient":"dave@example.com",
   "delivery-status":{"code":552,"message":"5.2.2 The email account that you tried to reach is over quota.",
   "description":""}}},
 {"RecordType":"Bounce","Email":"erin@example.net",
  "Details":"smtp;554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
  "Description":"The server was unable to deliver your message"}
]
JSON
body=$(curl -sS --data-binary @"$P/bounces.json" "http://127.0.0.1:$port/bounces" 2>&1)
printf '%s\n' "$body" | sed 's/^/# /'
want='bob@example.net suppress user_unknown 550 5.1.1
carol@example.org keep greylisted 451 4.7.1
dave@example.com keep mailbox_full 552 5.2.2
erin@example.net pause blocklisted 554 5.7.1'
if [ "$body" = "$want" ]; then
  ok "examples/bounce-webhook.lua: ESP bounce payloads become suppress/pause/keep decisions"
else
  nok "examples/bounce-webhook.lua: ESP bounce payloads become suppress/pause/keep decisions"
fi

body=$(curl -sS "http://127.0.0.1:$port/scan?line=451%204.7.1%20try%20later" 2>&1)
printf '%s\n' "$body" | sed 's/^/# /'
if [ "$body" = "scan=451 transient 4.7.1" ]; then
  ok "content_by_lua_block: smtpcode.scan of a 451 line"
else
  nok "content_by_lua_block: smtpcode.scan of a 451 line"
fi
nginx_no_errors "$P"

stopped nginx NGX QUIT
finish
