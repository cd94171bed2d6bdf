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
