# shellcheck shell=bash
# Helpers sourced by the smoke-test scripts and spec/integration/postfix.sh.

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
