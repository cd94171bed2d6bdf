#!/bin/sh
# bench/cdiff.sh: compare every field of smtpcode_find and smtpcode_classify
# between the C core of a git revision (default HEAD) and the working tree's
# src/, on every line of examples/, spec/fixtures, ../shared/corpus and N
# (default 300000) generated texts (bench/cdiff.c), with SIMD and with
# -DSMTPCODE_NO_SIMD. Prints the number of texts and "same", or the first
# differing lines and exits 1.
#   bash bench/cdiff.sh [REV [N]]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REV=${1:-HEAD}
N=${2:-300000}
CC=${CC:-cc}
W=$(mktemp -d "${TMPDIR:-/tmp}/smtpcode-cdiff.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$ROOT"
mkdir -p "$W/rev"
git archive "$REV" src | tar -x -C "$W/rev"
{
  ls examples/maillog.txt examples/replies.txt spec/fixtures/*.tsv
  [ -d ../shared/corpus ] && ls ../shared/corpus/*.tsv
  find spec/fixtures/unseen spec/fixtures/unseen-logs -type f ! -name '*.md'
  [ -d ../shared/corpus/emails ] && find ../shared/corpus/emails -type f ! -name LICENSE
} 2>/dev/null > "$W/files"
status=0
for simd in "" -DSMTPCODE_NO_SIMD; do
  for side in base work; do
    if [ $side = base ]; then s=$W/rev/src; else s=src; fi
    $CC -std=c99 -D_DEFAULT_SOURCE -O2 $simd -I"$s" -o "$W/$side" bench/cdiff.c "$s"/*.c
    # shellcheck disable=SC2046
    "$W/$side" "$N" "$W/$side.out" $(cat "$W/files") 2>"$W/$side.log"
  done
  if cmp -s "$W/base.out" "$W/work.out"; then
    echo "cdiff ${simd:-SIMD}: $(wc -l < "$W/work.out") texts, every field the same as $REV"
  else
    echo "cdiff ${simd:-SIMD}: fields differ from $REV (text number: line of the output)"
    diff "$W/base.out" "$W/work.out" | head -20
    status=1
  fi
done
exit $status
