/*
** bench/verdicts.c: every field of smtpcode_classify, and the scan's
** phrase digest (one stream and four), for each line of stdin, one output
** line each. A differential check of a change to the rule tables or the
** scan: build it at two commits and compare the outputs.
**
**   lua5.4 bench/mkinputs.lua build/inputs.txt
**   cc -std=c99 -D_DEFAULT_SOURCE -O2 -Isrc -o build/verdicts
**     bench/verdicts.c src/[a-z]*.c       (one command)
**   build/verdicts <build/inputs.txt >build/verdicts.new
**   (the same at the other commit) cmp build/verdicts.old build/verdicts.new
**
** Lines end at '\n' only (NUL and '\r' are part of a line); at most 1 MB of
** a line is read.
*/
#include <stdio.h>

#include "rules_data.h"
#include "smtpcode.h"

int main(void) {
  static char buf[1 << 20];
  unsigned long ln = 0;
  for (;;) {
    size_t n = 0;
    int c;
    smtpcode_verdict v;
    while ((c = getchar()) != EOF && c != '\n')
      if (n < sizeof buf) buf[n++] = (char)c;
    if (c == EOF && n == 0) break;
    smtpcode_classify(buf, n, NULL, &v);
    printf("%lu %d %d %d %d %d %d %d %d %d %d %d %d %lx %lx\n", ln++, v.code,
           v.cls, v.subject, v.detail, v.severity, v.reason, v.bounce,
           v.retry, v.scope, v.by, v.rule, v.flags,
           smtpcode_scan_digest(buf, n, 1 << 30),
           smtpcode_scan_digest(buf, n, 16));
    if (c == EOF) break;
  }
  return 0;
}
