#!/usr/bin/env bash
# Integration: examples/openresty-bounce.lua in a real nginx with Debian's
# Lua module: raw bounces of ../shared/corpus are POSTed and the JSON
# suppression decisions checked. Loopback only; nginx started and stopped
# by pid. Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd)
. .ci/lib.sh
. .ci/nginx-conf.sh

if ! shared_corpus; then skip "openresty bounce endpoint" "the shared corpus is not beside the checkout"; finish; fi
if ! nginx_lua; then
  nok "nginx and libnginx-mod-http-lua are installed"; finish
fi
need_jit_core

nginx_dir bounce-nginx
port=$(free_port 18180)
{ nginx_conf_head "$ROOT" 1; cat <<NGINX
    server {
        listen 127.0.0.1:$port;
        client_max_body_size 10m;
        client_body_buffer_size 1m;
        location = /bounce {
            content_by_lua_block { require("openresty-bounce").handle() }
        }
    }
}
NGINX
} >"$P/conf/nginx.conf"

nginx_up "$P" "$port" /bounce

# post FILE NAME STATUS PATTERN...: the answer's status and substrings
post() {
  local file=$1 name=$2 want=$3 body status p miss=0
  shift 3
  body=$(curl -sS -o "$P/out.json" -w '%{http_code}' --data-binary @"$C/$file" "http://127.0.0.1:$port/bounce")
  status=$body
  body=$(cat "$P/out.json")
  printf '# %s %s\n' "$status" "$body" | cut -c1-400
  [ "$status" = "$want" ] || { miss=1; echo "#   status $status, want $want"; }
  for p in "$@"; do
    printf '%s' "$body" | grep -qF -- "$p" || { miss=1; echo "#   missing: $p"; }
  done
  if [ $miss -eq 0 ]; then ok "$name"; else nok "$name"; fi
}
post bsd/lhost-postfix-02.eml "a Postfix DSN: both unknown users are suppressed" 200 \
  '"format":"dsn"' '"mta":"postfix"' \
  '"recipient":"userunknown@example.co.jp"' '"decision":"suppress"'
post bsd/rfc3464-35.eml "a delayed recipient is retried, never suppressed" 200 \
  '"recipient":"sabatora@cat.example.net"' '"action":"delayed"' '"decision":"retry"'
post bsd/arf-01.eml "a complaint is suppressed" 200 '"format":"arf"' '"action":"complained"' '"decision":"suppress"'
post not/is-not-bounce-01.eml "ordinary mail: 422 not_bounce" 422 '"error":"not_bounce"'

nginx_no_errors "$P"
stopped nginx NGX QUIT
finish
