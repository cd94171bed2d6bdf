/*
** cbounce.c: smtpcode_bounce_read over files, for `make bench` (callgrind
** counts per message) and for profiling. Usage: cbounce ITER FILE...
** Prints "messages N bytes B reports R" once.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"

static char *slurp(const char *p, size_t *n) {
  FILE *f = fopen(p, "rb");
  char *s;
  long k;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  k = ftell(f);
  fseek(f, 0, SEEK_SET);
  s = malloc((size_t)k + 1);
  if (s) *n = fread(s, 1, (size_t)k, f);
  fclose(f);
  return s;
}

static smtpcode_brcpt R[64];

int bench_bounce(char **m, size_t *n, int count, char *buf, size_t cap);

int bench_bounce(char **m, size_t *n, int count, char *buf, size_t cap) {
  int i, r = 0;
  smtpcode_breport out;
  for (i = 0; i < count; i++)
    if (m[i] && smtpcode_bounce_read(m[i], n[i], NULL, buf, cap, &out, R, 64) == 0) r++;
  return r;
}

int main(int argc, char **argv) {
  int iter, i, count = argc - 2, reports = 0;
  char **m, *buf;
  size_t *n, bytes = 0, cap = 0;
  if (argc < 3) {
    fprintf(stderr, "usage: cbounce ITER FILE...\n");
    return 2;
  }
  iter = atoi(argv[1]);
  m = calloc((size_t)count, sizeof *m);
  n = calloc((size_t)count, sizeof *n);
  for (i = 0; i < count; i++) {
    m[i] = slurp(argv[i + 2], &n[i]);
    bytes += n[i];
    if (2 * n[i] + 4096 > cap) cap = 2 * n[i] + 4096;
  }
  buf = malloc(cap);
  for (i = 0; i < iter; i++) reports = bench_bounce(m, n, count, buf, cap);
  printf("messages %d bytes %lu reports %d\n", count, (unsigned long)bytes, reports);
  return 0;
}
