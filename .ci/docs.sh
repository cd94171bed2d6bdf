#!/usr/bin/env bash
# `make docs` and the docs stage of `make test`: build the HTML reference with
# LDoc (config.ld: the modules under lua/ and the pages docs/*.md) into
# build/docs/, and say in TAP whether it worked:
#   1  ldoc runs without an error or a warning (--fatalwarnings), and renders
#      Markdown (lua-discount)
#   2  every docs/*.md page has its HTML page
#   3  every Lua module under lua/ has its HTML page
# Links between the pages (`parse.md`) are rewritten to the HTML pages.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
out=${DOCS_DIR:-build/docs}
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
echo "1..3"

if ! command -v ldoc >/dev/null 2>&1; then
  nok "ldoc is installed (Debian: lua-ldoc, lua-discount)"
  nok "every docs/*.md page has its HTML page # ldoc missing"
  nok "every Lua module has its HTML page # ldoc missing"
  exit 1
fi

rm -rf "$out"
mkdir -p "$out"
log=$(ldoc --fatalwarnings -d "$out" . 2>&1)
rc=$?
printf '%s\n' "$log" | sed 's/^/# /'
# LDoc prints a problem as "file:line: message"; any such line fails too.
# "falling back to text": no Markdown formatter (lua-discount), pages unrendered.
if [ "$rc" -eq 0 ] && ! printf '%s\n' "$log" | grep -qE '^[^ ]+:[0-9]+: |falling back to text'; then
  ok "ldoc builds $out without an error or a warning"
else
  nok "ldoc builds $out without an error or a warning (exit status $rc)"
fi

missing=
for p in docs/*.md; do
  f="$out/topics/$(basename "$p").html"
  if [ -s "$f" ]; then
    # links between pages: X.md -> X.md.html
    sed -i -E 's/href="([A-Za-z0-9_.-]+)\.md(#[^"]*)?"/href="\1.md.html\2"/g' "$f"
  else
    missing="$missing $p"
  fi
done
if [ -z "$missing" ]; then ok "every docs/*.md page has its HTML page"; else nok "pages without HTML:$missing"; fi

missing=
for m in lua/smtpcode.lua lua/smtpcode/*.lua; do
  [ -f "$m" ] || continue
  name=${m#lua/}; name=${name%.lua}; name=${name//\//.}
  [ -s "$out/modules/$name.html" ] || missing="$missing $name"
done
if [ -z "$missing" ]; then ok "every Lua module has its HTML page"; else nok "modules without HTML:$missing"; fi
[ "$fail" -eq 0 ] && echo "# the reference: $out/index.html"
exit "$fail"
