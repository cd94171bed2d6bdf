#!/usr/bin/env bash
# Install the Debian packages smtpcode needs, only those that are missing.
#   .ci/deps.sh test   everything `make test` uses (default)
#   .ci/deps.sh demo   the small set `make demo` uses
# As root on Debian: apt-get update + install (non-interactive, waits for
# the dpkg lock). Otherwise: print the missing packages and fail.
# SMTPCODE_NO_DEPS=1 skips the whole step.
set -euo pipefail

set_name=${1:-test}
[ "${SMTPCODE_NO_DEPS:-0}" = 1 ] && exit 0

# Never plain luajit/libluajit-5.1-dev: they conflict with
# libnginx-mod-http-lua (docs/toolchain.md finding 1); luajit2 has the same
# paths. gcc alone does not pull libc6-dev with --no-install-recommends.
demo_pkgs=(make gcc libc6-dev pkg-config lua5.4 liblua5.4-dev lua-cjson)
test_pkgs=(make gcc libc6-dev pkg-config
  lua5.1 lua5.2 lua5.3 lua5.4
  liblua5.1-0-dev liblua5.2-dev liblua5.3-dev liblua5.4-dev
  luajit2 libluajit2-5.1-dev
  lua-busted luarocks lua-cjson lua-socket lua-check
  redis-server lua-redis lua-nginx-redis
  nginx libnginx-mod-http-lua rspamd postfix swaks
  valgrind clang libclang-rt-14-dev libsisimai-perl curl
  time lua-ldoc lua-discount)

case $set_name in
  demo) want=("${demo_pkgs[@]}") ;;
  test) want=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 [test|demo]" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps: not a Debian system; install the equivalents of: ${want[*]}" >&2
  exit 1
fi

missing=()
for p in "${want[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ] || [ ! -f /etc/debian_version ] || ! command -v apt-get >/dev/null; then
  echo "deps: not root on Debian; install them first, e.g.:" >&2
  echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 -q)
t0=$(date +%s)
apt-get "${apt_opts[@]}" update </dev/null
if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
  # No system Postfix instance: the tests run a private one on loopback.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
fi
apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" </dev/null
echo "deps: installed ${#missing[@]} packages in $(( $(date +%s) - t0 )) s"
