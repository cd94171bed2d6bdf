/*
** bench/cbench.c: the C core alone, over the bench corpus.
**
**   make bench    (builds build/bench/cbench, runs it natively and under
**                  valgrind --tool=callgrind, prints instructions per line)
**   build/bench/cbench CORPUS [REPEAT]
**
** CORPUS is the output of `lua5.4 bench/corpus.lua`. bench_lines() calls
** smtpcode_parse_line on every line and bench_replies() calls
** smtpcode_parse_reply on every reply; callgrind counts each with
** --toggle-collect. Every result is checked.
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

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0) {
    perror(path);
    exit(2);
  }
  buf = malloc((size_t)n + 1);
  if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    perror(path);
    exit(2);
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

NOINLINE long bench_lines(const char *buf, size_t len, long *nlines);
NOINLINE long bench_replies(const char *buf, size_t len, long *nreplies);

/* Parse every line; returns the sum of the codes. */
NOINLINE long bench_lines(const char *buf, size_t len, long *nlines) {
  size_t pos = 0;
  long sum = 0, n = 0;
  smtpcode_line line;
  while (pos < len) {
    int r = smtpcode_parse_line(buf + pos, len - pos, NULL, &line);
    if (r <= 0) {
      fprintf(stderr, "cbench: line parse failed at byte %lu: %d\n",
              (unsigned long)pos, r);
      exit(1);
    }
    sum += line.code;
    n++;
    pos += (size_t)r;
  }
  *nlines = n;
  return sum;
}

/* Parse every reply; returns the sum of code x lines (= bench_lines sum). */
NOINLINE long bench_replies(const char *buf, size_t len, long *nreplies) {
  size_t pos = 0;
  long sum = 0, n = 0;
  smtpcode_reply reply;
  smtpcode_line lines[16];
  while (pos < len) {
    int r = smtpcode_parse_reply(buf + pos, len - pos, NULL, &reply, lines, 16);
    if (r <= 0) {
      fprintf(stderr, "cbench: reply parse failed at byte %lu: %d\n",
              (unsigned long)pos, r);
      exit(1);
    }
    sum += (long)reply.code * reply.nlines;
    n++;
    pos += (size_t)r;
  }
  *nreplies = n;
  return sum;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  size_t len;
  char *buf;
  long nlines = 0, nreplies = 0, s1 = 0, s2 = 0;
  int i, repeat;
  double t0, tl = 1e9, tr = 1e9;
  if (argc < 2) {
    fprintf(stderr, "usage: %s CORPUS [REPEAT]\n", argv[0]);
    return 2;
  }
  repeat = argc > 2 ? atoi(argv[2]) : 20;
  if (repeat < 1) repeat = 1;
  buf = slurp(argv[1], &len);
  for (i = 0; i < repeat; i++) {
    double dt;
    t0 = now();
    s1 = bench_lines(buf, len, &nlines);
    dt = now() - t0;
    if (dt < tl) tl = dt;
    t0 = now();
    s2 = bench_replies(buf, len, &nreplies);
    dt = now() - t0;
    if (dt < tr) tr = dt;
  }
  if (s1 != s2) {
    fprintf(stderr, "cbench: line and reply checksums differ (%ld, %ld)\n",
            s1, s2);
    return 1;
  }
  printf("lines %ld replies %ld bytes %lu\n", nlines, nreplies,
         (unsigned long)len);
  printf("smtpcode_parse_line   %6.1f ns/line (best of %d)\n",
         tl * 1e9 / (double)nlines, repeat);
  printf("smtpcode_parse_reply  %6.1f ns/line (best of %d)\n",
         tr * 1e9 / (double)nlines, repeat);
  free(buf);
  return 0;
}
