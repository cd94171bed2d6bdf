# shellcheck shell=bash
# Helpers sourced by the smoke-test scripts and spec/integration/*.sh.

# free_port BASE: print the first port >= BASE nobody listens on (loopback).
free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
    p=$((p + 1))
  done
  echo "$p"
}

# wait_until PID SECONDS CMD...: retry CMD every 0.1 s until it succeeds;
# give up after SECONDS or as soon as process PID has exited (PID 0: no
# process to watch, e.g. a daemon that forked away).
wait_until() {
  local pid=$1 limit=$(( $2 * 10 )) i=0
  shift 2
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -ge $limit ] && return 1
    if [ "$pid" != 0 ]; then kill -0 "$pid" 2>/dev/null || return 1; fi
    sleep 0.1
  done
}

# stop_pid PID [SIGNAL]: signal one process we started and reap it (10 s,
# then KILL).
stop_pid() {
  local pid=$1 sig=${2:-TERM} i=0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  kill -"$sig" "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -ge 100 ]; then kill -KILL "$pid" 2>/dev/null; break; fi
    sleep 0.1
  done
  wait "$pid" 2>/dev/null
}

# TAP for the test scripts: ok NAME, nok NAME, skip NAME REASON number the
# lines; tap_from PREFIX numbers the "ok - " / "not ok - " lines a Lua driver
# prints (other lines pass as comments); finish prints the plan and exits 1
# when anything failed.
n=0 bad=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); bad=1; echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
finish() { echo "1..$n"; exit $bad; }
tap_from() {
  local line
  while IFS= read -r line; do
    case $line in
      "ok - "*) ok "${1}${line#ok - }" ;;
      "not ok - "*) nok "${1}${line#not ok - }" ;;
      *) echo "# ${line#\# }" ;;
    esac
  done
}

# rspamd_conf DIR BASE TLD...: a private Rspamd in DIR on top of Debian's
# stock /etc/rspamd (redirected with --var, see rspamd_vars): folders
# local/override.d, db, run, log; ports from BASE on (sets normal,
# controller, proxy); one normal and one controller worker, no proxy; the
# log in DIR/log/rspamd.log; DNS on 127.0.0.1 so nothing leaves the
# machine; only the TLDs given (cold start 0.8 s instead of 9 s with
# ~9600). The caller writes DIR/local/rspamd.local.lua.
rspamd_conf() {
  local dir=$1 base=$2
  shift 2
  mkdir -p "$dir/local/override.d" "$dir/db" "$dir/run" "$dir/log"
  chmod 755 "$dir"
  normal=$(free_port "$base")
  controller=$(free_port $((normal + 1)))
  proxy=$(free_port $((controller + 1)))
  cat >"$dir/local/override.d/worker-normal.inc" <<EOC
bind_socket = "127.0.0.1:$normal"; count = 1;
EOC
  cat >"$dir/local/override.d/worker-controller.inc" <<EOC
bind_socket = "127.0.0.1:$controller"; count = 1;
EOC
  cat >"$dir/local/override.d/worker-proxy.inc" <<EOC
enabled = false; bind_socket = "127.0.0.1:$proxy";
EOC
  cat >"$dir/local/override.d/logging.inc" <<'EOC'
type = "file"; filename = "$LOGDIR/rspamd.log"; level = "info";
EOC
  cat >"$dir/local/override.d/options.inc" <<'EOC'
url_tld = "$LOCAL_CONFDIR/tld.dat";
dns { nameserver = ["127.0.0.1:53"]; timeout = 0.2s; retransmits = 0; }
EOC
  printf '%s\n' "$@" >"$dir/local/tld.dat"
}

# rspamd_vars DIR: set the array V to the --var options that point the
# stock config at DIR (for rspamd and rspamadm).
rspamd_vars() {
  V=(--var="LOCAL_CONFDIR=$1/local" --var="DBDIR=$1/db" --var="RUNDIR=$1/run" --var="LOGDIR=$1/log")
}

# rspamd_start DIR: start the Rspamd of rspamd_conf in the foreground of a
# background job (pid in RSP, output in DIR/log/stdout.txt) and wait up to
# 60 s for /ping to answer pong; 1 if it does not.
rspamd_start() {
  rspamd_vars "$1"
  rspamd -f -i -c /etc/rspamd/rspamd.conf "${V[@]}" >"$1/log/stdout.txt" 2>&1 </dev/null &
  RSP=$!
  wait_until "$RSP" 60 bash -c "curl -sf http://127.0.0.1:$normal/ping | grep -q pong"
}

# nginx_lua: nginx and Debian's Lua module (libnginx-mod-http-lua) are here.
nginx_lua() {
  command -v nginx >/dev/null && [ -f /usr/share/nginx/modules/ngx_http_lua_module.so ]
}

# nginx_test DIR: `nginx -t` on the private nginx of prefix DIR
# (DIR/conf/nginx.conf, see .ci/nginx-conf.sh); its output in DIR/logs/t.log.
nginx_test() {
  nginx -p "$1" -c conf/nginx.conf -e logs/error.log -t >"$1/logs/t.log" 2>&1
}

# nginx_run DIR CURL_ARGS...: start the private nginx of prefix DIR in the
# background (pid in NGX, output in DIR/logs/stdout.log) and wait up to 20 s
# until `curl CURL_ARGS` succeeds; 1 if it does not.
nginx_run() {
  local dir=$1
  shift
  nginx -p "$dir" -c conf/nginx.conf -e logs/error.log >"$dir/logs/stdout.log" 2>&1 </dev/null &
  NGX=$!
  wait_until "$NGX" 20 curl "$@"
}

# nginx_up DIR PORT PATH: nginx_test and nginx_run as two TAP tests, for a
# script that needs that nginx to go on (any HTTP answer on PATH will do);
# on failure the log as comments, then finish.
nginx_up() {
  local dir=$1 port=$2 path=$3
  if nginx_test "$dir"; then
    ok "nginx -t accepts the config (port $port)"
  else
    nok "nginx -t accepts the config"; sed 's/^/#   /' "$dir/logs/t.log"; finish
  fi
  if nginx_run "$dir" -s -o /dev/null "http://127.0.0.1:$port$path"; then
    ok "nginx answers on 127.0.0.1:$port"
  else
    nok "nginx answers on 127.0.0.1:$port"; tail -20 "$dir/logs/error.log" | sed 's/^/#   /'; finish
  fi
}

# A private Postfix on 127.0.0.1 (docs: ../shared/docs/toolchain.md §8),
# run as root: postfix_dir makes its folder (path in PF: etc/, spool/,
# data/ owned by postfix); the caller writes $PF/etc/main.cf, starting with
# postfix_main_cf DOMAIN, and $PF/etc/master.cf with postfix_master_cf;
# postfix_up starts it; postfix_stop stops it. Mail is never delivered
# (discard) unless the caller adds a transport.
postfix_dir() {
  PF=$(mktemp -d "${TMPDIR:-/tmp}/smtpcode-postfix.XXXXXX")
  chmod 755 "$PF"
  mkdir -p "$PF/etc" "$PF/spool" "$PF/data"
  chown postfix:postfix "$PF/data"
}

# postfix_main_cf DOMAIN: the lines of main.cf every test peer shares
# (myhostname DOMAIN, loopback only, no relaying, log in $PF/maillog); the
# caller adds its own (local_recipient_maps, restrictions, limits).
postfix_main_cf() {
  cat <<CF
compatibility_level = 3.6
queue_directory = $PF/spool
data_directory = $PF/data
maillog_file = $PF/maillog
maillog_file_prefixes = /var, /dev/stdout, $PF
mail_owner = postfix
setgid_group = postdrop
myhostname = $1
mydomain = test.invalid
myorigin = \$myhostname
mydestination = \$myhostname, localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
smtpd_relay_restrictions = reject_unauth_destination
smtpd_helo_required = yes
alias_maps =
alias_database =
local_transport = discard:local delivery disabled in test peer
default_transport = discard:no outbound delivery from test peer
smtpd_banner = \$myhostname ESMTP test-peer
biff = no
CF
}

# postfix_master_cf PORT [LINE...]: master.cf with smtpd on 127.0.0.1:PORT
# and the services a queue needs, then the extra LINEs (e.g. an smtp client).
postfix_master_cf() {
  cat <<CF
127.0.0.1:$1 inet n   -      n      -      -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
  shift
  [ $# -gt 0 ] && printf '%s\n' "$@"
  return 0
}

# postfix_up PORT: check and start the Postfix of $PF, wait up to 20 s until
# it listens on PORT; two TAP tests; on failure the logs as comments, then
# finish.
postfix_up() {
  if timeout 60 postfix -c "$PF/etc" check >"$PF/check.log" 2>&1 \
     && timeout 60 postfix -c "$PF/etc" start >"$PF/start.log" 2>&1; then
    ok "private Postfix starts (config $PF/etc)"
  else
    nok "private Postfix starts"
    sed 's/^/#   /' "$PF"/check.log "$PF"/start.log "$PF/maillog" 2>/dev/null | tail -20
    finish
  fi
  if wait_until 0 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1"; then
    ok "Postfix listens on 127.0.0.1:$1"
  else
    nok "Postfix listens on 127.0.0.1:$1"; tail -20 "$PF/maillog" | sed 's/^/#   /'; finish
  fi
}

# postfix_stop: stop the Postfix of $PF (30 s); 1 if it did not stop.
postfix_stop() {
  timeout 30 postfix -c "$PF/etc" stop >/dev/null 2>&1
}

# postfix_clean: for the EXIT trap: stop the Postfix of $PF if it runs and
# remove its folder.
postfix_clean() {
  if [ -n "$PF" ] && [ -f "$PF/spool/pid/master.pid" ]; then postfix_stop; fi
  [ -n "$PF" ] && rm -rf "$PF"
  return 0
}

# shared_corpus: set C to the maildir of the shared bounce corpus
# (../shared/corpus beside the checkout, or /work/shared); 1 if absent.
# shellcheck disable=SC2034  # C is for the caller
shared_corpus() {
  local d
  C=
  for d in "$ROOT/../shared/corpus/emails/maildir" /work/shared/corpus/emails/maildir; do
    [ -f "$d/bsd/lhost-postfix-02.eml" ] && { C=$d; return 0; }
  done
  return 1
}

# need_jit_core: a failed test and finish unless the module for LuaJIT (what
# nginx and Rspamd load) is built.
need_jit_core() {
  [ -f build/jit/smtpcode/core.so ] || { nok "build/jit/smtpcode/core.so is built (make lib-jit)"; finish; }
}

# rspamd_here: rspamd and rspamc are installed.
rspamd_here() {
  command -v rspamd >/dev/null && command -v rspamc >/dev/null
}

# nginx_dir NAME / rspamd_dir NAME: a private folder for one nginx (path in
# P, with conf/ and logs/; pid in NGX) or one Rspamd (path in R; pid in
# RSP); at exit the process is stopped and the folder removed.
nginx_dir() {
  P=$(mktemp -d "${TMPDIR:-/tmp}/smtpcode-$1.XXXXXX")
  NGX=
  trap nginx_clean EXIT
  mkdir -p "$P/conf" "$P/logs"
}
nginx_clean() { [ -n "$NGX" ] && stop_pid "$NGX" QUIT; rm -rf "$P"; }
rspamd_dir() {
  R=$(mktemp -d "${TMPDIR:-/tmp}/smtpcode-$1.XXXXXX")
  RSP=
  trap rspamd_clean EXIT
}
rspamd_clean() { [ -n "$RSP" ] && stop_pid "$RSP" TERM; rm -rf "$R"; }

# redis_start PORT DIR [OPTION...]: a private redis-server on 127.0.0.1:PORT
# (no persistence; its files and redis.log in DIR; no fd 7, which a caller
# may hold open as a pipe), pid in RDS; waits up to 20 s for PING.
redis_start() {
  local port=$1 dir=$2
  shift 2
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$dir" --logfile "$dir/redis.log" --daemonize no "$@" >/dev/null 2>&1 7>&- &
  RDS=$!
  wait_until "$RDS" 20 redis-cli -p "$port" ping
}

# stopped NAME VAR SIGNAL: stop the process whose pid is in the variable
# VAR (stop_pid with SIGNAL) as one TAP test "NAME stopped (pid N)", and
# empty VAR so the EXIT trap leaves it alone.
stopped() {
  local pid=${!2}
  stop_pid "$pid" "$3"
  if kill -0 "$pid" 2>/dev/null; then nok "$1 stopped (pid $pid)"; else ok "$1 stopped (pid $pid)"; fi
  printf -v "$2" '%s' ''
}

# nginx_no_errors DIR: one TAP test, the error log of the nginx of prefix
# DIR has no [error], [alert], [crit] or [emerg] line (those shown if so).
nginx_no_errors() {
  if grep -E '\[(error|alert|crit|emerg)\]' "$1/logs/error.log" >"$1/logs/errors"; then
    nok "nginx error log has no errors"; sed 's/^/#   /' "$1/logs/errors" | head -20
  else
    ok "nginx error log has no errors"
  fi
}

# rspamd_configtest DIR: one TAP test, `rspamadm configtest` accepts the
# config of rspamd_conf DIR; on failure its output as comments, then finish.
rspamd_configtest() {
  rspamd_vars "$1"
  if rspamadm "${V[@]}" configtest -c /etc/rspamd/rspamd.conf >"$1/log/configtest.txt" 2>&1; then
    ok "rspamadm configtest (ports $normal/$controller)"
  else
    nok "rspamadm configtest"; tail -20 "$1/log/configtest.txt" | sed 's/^/#   /'
    finish
  fi
}
