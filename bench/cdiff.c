/*
** bench/cdiff.c: every field of smtpcode_find (with and without the inner
** reply) and of smtpcode_classify (its own find, the caller's fields, one
** stream) for each line of the files named, then for N mutated, joined
** and random texts (NUL and non-ASCII bytes too; a fixed seed, so two
** builds see the same texts), one line of numbers per text. bench/cdiff.sh
** builds it against two revisions of src/ and compares the outputs: a
** change meant only for speed must leave them identical.
**
**   build/bench/cdiff N OUT FILE...
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "smtpcode.h"
int smtpcode_classify_split(const char *s, size_t len, const smtpcode_found *f,
                            smtpcode_verdict *out, int split);
static FILE *out;
static unsigned long long rs = 88172645463325252ull;
static unsigned rnd(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return (unsigned)(rs >> 11); }
static void pf(const smtpcode_found *f) {
  fprintf(out, " %d %d %d %d %d %d %d %d %d %d %d %d %d %d", f->code, f->cls, f->subject, f->detail, f->flags, f->how, f->start, f->end, f->code_off, f->enh_off, f->enh_len, f->text_off, f->text_len, f->nlines);
}
static void pv(const smtpcode_verdict *v) {
  fprintf(out, " | %d %d %d %d %d %d %d %d %d %d %d %d", v->code, v->cls, v->subject, v->detail, v->severity, v->reason, v->bounce, v->retry, v->scope, v->by, v->rule, v->flags);
}
static long count;
static void one(const char *s, size_t n) {
  smtpcode_found f, in;
  smtpcode_verdict v;
  int r = smtpcode_find(s, n, &f, &in);
  fprintf(out, "%d", r); pf(&f); pf(&in);
  r = smtpcode_find(s, n, &f, NULL); pf(&f);
  smtpcode_classify(s, n, NULL, &v); pv(&v);
  smtpcode_classify(s, n, &f, &v); pv(&v);
  smtpcode_classify_split(s, n, NULL, &v, 1 << 30); pv(&v);
  fputc('\n', out);
  count++;
}
static char *lines[400000]; static size_t lens[400000]; static int nl;
static void addline(const char *s, size_t n) {
  if (nl >= 400000) return;
  lines[nl] = malloc(n + 1); memcpy(lines[nl], s, n); lines[nl][n] = 0; lens[nl] = n; nl++;
}
static void readfile(const char *path, int tabs) {
  FILE *f = fopen(path, "rb"); static char buf[1 << 20];
  if (!f) { perror(path); exit(2); }
  while (fgets(buf, sizeof buf, f)) {
    size_t n = strcspn(buf, "\n");
    buf[n] = 0;
    addline(buf, n);
    if (tabs) { char *p = buf, *q;
      while ((q = strchr(p, '\t'))) { if (q > p) addline(p, (size_t)(q - p)); p = q + 1; }
      if (*p) addline(p, strlen(p));
      { char *e; for (e = buf; (e = strstr(e, "\\n")); e += 2) { e[0] = '\r'; e[1] = '\n'; } addline(buf, strlen(buf)); } }
  }
  fclose(f);
}
static const char *const frag[] = {"550", "5.1.1", "421", "4.7.0", " ", "-", "\r\n", "\n", "(", ")", "'", "\"", ":", "#", "dsn=", "status=", "said: ", "user unknown", "mailbox full", "spam", "blocked", "Ã©", "Ã", "\xc3\xa9", "\xe2\x80\x99", "\xc2\xbb", "\0", "550-", "550 ", "reject=", ",", "try again later", "delayed", "not", "http://", "=", "\xd0\xbf\xd0\xbe", "â€™", "Ð¿", "quota", "over", "rate", "IP", " 192.0.2.1 ", "relay", "denied", "5.7.1", "4.2.2", "451 ", "(in reply to RCPT TO command)", "<bob@example.com>", "\xff", "\xc0", "\x80", "~", "5", "4", "."};
int main(int argc, char **argv) {
  int i, k, m;
  long N = atol(argv[1]);
  static char buf[8192];
  out = fopen(argv[2], "w");
  for (i = 3; i < argc; i++) readfile(argv[i], 1);
  fprintf(stderr, "%d lines\n", nl);
  for (i = 0; i < nl; i++) one(lines[i], lens[i]);
  for (k = 0; k < N; k++) {
    size_t n = 0; int mode = rnd() % 4;
    if (mode == 0 && nl) { /* mutate a line */
      int li = rnd() % nl; n = lens[li] > 4000 ? 4000 : lens[li]; memcpy(buf, lines[li], n);
      for (m = rnd() % 6; m >= 0; m--) {
        int op = rnd() % 4; size_t at = n ? rnd() % n : 0;
        if (op == 0 && n) buf[at] = (char)rnd();
        else if (op == 1 && n < 7000) { const char *fr = frag[rnd() % (sizeof frag / sizeof *frag)]; size_t fl = fr[0] ? strlen(fr) : 1; memmove(buf + at + fl, buf + at, n - at); memcpy(buf + at, fr, fl); n += fl; }
        else if (op == 2 && n) { size_t l = rnd() % 8; if (at + l > n) l = n - at; memmove(buf + at, buf + at + l, n - at - l); n -= l; }
        else if (n) { n = at; }
      }
    } else if (mode == 1) { /* fragments */
      for (m = rnd() % 20; m >= 0 && n < 7000; m--) { const char *fr = frag[rnd() % (sizeof frag / sizeof *frag)]; size_t fl = fr[0] ? strlen(fr) : 1; memcpy(buf + n, fr, fl); n += fl; }
    } else if (mode == 2) { /* random bytes, biased */
      size_t L = rnd() % 300; const char *al = "0123455. -:()\r\n'\"#=abcxyzÃ©\xc3\xe2\x80";
      for (n = 0; n < L; n++) buf[n] = rnd() % 3 ? al[rnd() % strlen(al)] : (char)rnd();
    } else { /* two lines joined */
      if (nl) { int a = rnd() % nl, b = rnd() % nl; size_t la = lens[a] > 3000 ? 3000 : lens[a], lb = lens[b] > 3000 ? 3000 : lens[b];
        memcpy(buf, lines[a], la); buf[la] = rnd() % 2 ? ' ' : '\n'; memcpy(buf + la + 1, lines[b], lb); n = la + 1 + lb; }
    }
    one(buf, n);
  }
  fclose(out);
  fprintf(stderr, "%ld texts\n", count);
  return 0;
}
