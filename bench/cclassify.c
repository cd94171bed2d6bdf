/*
** bench/cclassify.c: smtpcode_find and smtpcode_classify (the C core alone)
** over a fixed set of failure lines.
**
**   build/bench/cclassify [MAILLOG [REPEAT [TSV]]]
**   valgrind --tool=callgrind --toggle-collect=bench_classify \
**     build/bench/cclassify examples/maillog.txt 1
**
** Lines: four typical failure lines (below), then the failure lines of
** MAILLOG (default examples/maillog.txt): Postfix status= other than sent,
** smtpd "reject:", Exim "**" and "==" lines -- the same choice as
** bench/classify.lua, which also takes the `diagnostic` column of TSV
** (default ../shared/corpus/sisimai5-bounces.tsv; "" or a missing file:
** none), so that the figures cover the same lines. bench_find() calls smtpcode_find on every line and
** bench_classify() calls smtpcode_find + smtpcode_classify (the work of one
** classify() from Lua, without the binding); callgrind counts each with
** --toggle-collect. A checksum of the verdicts is printed so that a change
** of results shows.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smtpcode.h"

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

#define MAXLINES 4096

static const char *const fixed[] = {
  "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in "
  "local recipient table",
  "451 4.7.1 Greylisting in action, please come back later",
  "Jan 10 12:00:01 mx postfix/smtp[1234]: 4ABC123: to=<u@example.com>, "
  "relay=mx.example.net[192.0.2.1]:25, delay=1.2, delays=0.1/0/0.5/0.6, "
  "dsn=5.1.1, status=bounced (host mx.example.net[192.0.2.1] said: 550 5.1.1 "
  "<u@example.com>: Recipient address rejected: User unknown (in reply to "
  "RCPT TO command))",
  "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
  "zen.spamhaus.org",
};

static const char *lines[MAXLINES];
static size_t lens[MAXLINES];
static int nlines;

static void add(const char *s, size_t n) {
  if (nlines < MAXLINES) {
    lines[nlines] = s;
    lens[nlines] = n;
    nlines++;
  }
}

static int failure(const char *s) {
  const char *st = strstr(s, " status=");
  if (st) return strncmp(st + 8, "sent", 4) != 0;
  return strstr(s, " reject: ") || strstr(s, " ** ") || strstr(s, " == ");
}

static void readlog(const char *path) {
  FILE *f = fopen(path, "rb");
  char buf[8192];
  if (f == NULL) {
    perror(path);
    exit(2);
  }
  while (fgets(buf, sizeof buf, f)) {
    size_t n = strcspn(buf, "\r\n");
    char *copy;
    buf[n] = '\0';
    if (!failure(buf)) continue;
    copy = malloc(n + 1);
    if (copy == NULL) exit(2);
    memcpy(copy, buf, n + 1);
    add(copy, n);
  }
  fclose(f);
}

/* The non-blank `diagnostic` fields of a TSV file with a header line. */
static void readtsv(const char *path) {
  static char buf[65536];
  FILE *f;
  int col = -1, k;
  char *p, *q;
  if (path == NULL || *path == '\0' || (f = fopen(path, "rb")) == NULL) return;
  if (fgets(buf, sizeof buf, f)) {
    buf[strcspn(buf, "\r\n")] = '\0';
    for (p = buf, k = 0; p != NULL; k++) {
      q = strchr(p, '\t');
      if ((q ? (size_t)(q - p) : strlen(p)) == 10 && strncmp(p, "diagnostic", 10) == 0)
        col = k;
      p = q ? q + 1 : NULL;
    }
  }
  while (col >= 0 && fgets(buf, sizeof buf, f)) {
    char *copy;
    size_t n;
    buf[strcspn(buf, "\n")] = '\0';
    for (p = buf, k = 0; p != NULL && k < col; k++) {
      p = strchr(p, '\t');
      if (p) p++;
    }
    if (p == NULL) continue;
    n = strcspn(p, "\t");
    if (strspn(p, " \t\r\f\v") >= n) continue; /* blank */
    copy = malloc(n + 1);
    if (copy == NULL) exit(2);
    memcpy(copy, p, n);
    copy[n] = '\0';
    add(copy, n);
  }
  fclose(f);
}

NOINLINE long bench_find(int repeat);
NOINLINE long bench_classify(int repeat);

NOINLINE long bench_find(int repeat) {
  long sum = 0;
  int r, i;
  smtpcode_found f, in;
  for (r = 0; r < repeat; r++)
    for (i = 0; i < nlines; i++) {
      smtpcode_find(lines[i], lens[i], &f, &in);
      sum += f.code + f.cls * 7 + f.subject * 11 + f.detail * 13 + f.end;
    }
  return sum;
}

NOINLINE long bench_classify(int repeat) {
  long sum = 0;
  int r, i;
  smtpcode_verdict v;
  for (r = 0; r < repeat; r++)
    for (i = 0; i < nlines; i++) {
      smtpcode_classify(lines[i], lens[i], NULL, &v);
      sum = sum * 31 + v.reason * 1009 + v.rule * 7 + v.by * 3 + v.severity +
            v.scope * 17 + v.bounce * 5 + v.retry * 19;
      sum &= 0xffffffffffL;
    }
  return sum;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "examples/maillog.txt";
  int repeat = argc > 2 ? atoi(argv[2]) : 200;
  const char *tsv =
      argc > 3 ? argv[3] : "../shared/corpus/sisimai5-bounces.tsv";
  size_t i, bytes = 0;
  double t0, tf, tc;
  long sf, scl;
  if (repeat < 1) repeat = 1;
  for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    add(fixed[i], strlen(fixed[i]));
  readlog(path);
  readtsv(tsv);
  for (i = 0; i < (size_t)nlines; i++) bytes += lens[i];
  t0 = now();
  sf = bench_find(repeat);
  tf = now() - t0;
  t0 = now();
  scl = bench_classify(repeat);
  tc = now() - t0;
  printf("lines %d bytes %lu (avg %.0f) repeat %d\n", nlines,
         (unsigned long)bytes, (double)bytes / nlines, repeat);
  printf("smtpcode_find                 %7.1f ns/line  checksum %ld\n",
         tf * 1e9 / ((double)nlines * repeat), sf);
  printf("smtpcode_find+classify        %7.1f ns/line  checksum %ld\n",
         tc * 1e9 / ((double)nlines * repeat), scl);
  return 0;
}
