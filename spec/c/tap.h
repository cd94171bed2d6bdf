/*
** tap.h: the small harness shared by the C tests (spec/c/test_*.c), each
** of which is one program that prints TAP. guard() copies an input to the
** very end of a page followed by an unreadable page, so any read past the
** span crashes (picohttpparser's trick).
*/
#ifndef smtpcode_tap_h
#define smtpcode_tap_h

#if !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE
#endif
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int ntest = 0, nfail = 0;
static char *page;
static size_t pagesz;

static inline void ok(int cond, const char *name) {
  ntest++;
  if (!cond) nfail++;
  printf("%s %d - %s\n", cond ? "ok" : "not ok", ntest, name);
}

/* Copy s[0..n) (at most a page) against the guard page; return the copy. */
static inline const char *guard(const char *s, size_t n) {
  if (n > pagesz) n = pagesz;
  memcpy(page + pagesz - n, s, n);
  return page + pagesz - n;
}

/* Map a page and its guard; says "Bail out!" and returns -1 on failure. */
static inline int guard_init(void) {
  pagesz = (size_t)sysconf(_SC_PAGESIZE);
  page = mmap(NULL, pagesz * 2, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED || mprotect(page + pagesz, pagesz, PROT_NONE) != 0) {
    printf("Bail out! cannot map a guard page\n");
    return -1;
  }
  return 0;
}

/* Print the plan; the exit status of the test program. */
static inline int done_testing(void) {
  printf("1..%d\n", ntest);
  return nfail != 0;
}

#endif
