/*
** test_mime_simd.c: the wide paths of src/mime.c (sixteen bytes at a time
** with SSE2, eight with a word) against plain byte loops. mime_eol is
** checked against a reference loop written here; mime_field against a
** second copy of mime.c built without SIMD (SMTPCODE_NO_SIMD), its
** functions renamed. Inputs: random bytes drawn mostly from the bytes the
** loops stop at (CR, LF, ':', blanks, controls), at every length and
** offset up to 80, each copied against a guard page.
*/
#include "tap.h"

#include "mime.h"

/* the copy without SIMD: every function of mime.h renamed */
#define SMTPCODE_NO_SIMD 1
#define mime_eol plain_eol
#define mime_next plain_next
#define mime_ieq plain_ieq
#define mime_ifind plain_ifind
#define mime_field plain_field
#define mime_wfind plain_wfind
#define mime_wat plain_wat
#define mime_trim plain_trim
#define mime_param plain_param
#define mime_base64 plain_base64
#define mime_qp plain_qp
#define mime_words plain_words
size_t plain_eol(const char *s, size_t n, size_t i);
size_t plain_next(const char *s, size_t n, size_t e);
int plain_ieq(const char *s, size_t n, const char *z);
long plain_ifind(const char *s, size_t n, const char *z, size_t m);
size_t plain_field(const char *s, size_t n, size_t i, size_t max, size_t *name,
                   size_t *name_len, size_t *val, size_t *val_len, int *too_long);
long plain_wfind(const char *s, size_t n, const char *z, size_t m);
int plain_wat(const char *s, size_t n, size_t i, const char *z, size_t m);
void plain_trim(const char *s, size_t *o, size_t *l);
int plain_param(const char *v, size_t n, const char *pname, size_t *po, size_t *pl);
size_t plain_base64(const char *s, size_t n, char *dst, size_t cap);
size_t plain_qp(const char *s, size_t n, char *dst, size_t cap);
size_t plain_words(const char *s, size_t n, char *dst, size_t cap);
#include "../../src/mime.c"
#undef mime_eol
#undef mime_next
#undef mime_ieq
#undef mime_ifind
#undef mime_field
#undef mime_wfind
#undef mime_wat
#undef mime_trim
#undef mime_param
#undef mime_base64
#undef mime_qp
#undef mime_words

#define XORSHIFT_SEED 88172645463325252ull
#include "xorshift.h"

/* A byte, mostly one a loop stops at. */
static char pick(void) {
  static const char stops[] = "\r\n:: \t\x01\x7f" "aZ-";
  unsigned r = rnd() % 16;
  if (r < 11) return stops[r];
  return (char)(rnd() & 0xff);
}

static size_t ref_eol(const char *s, size_t n, size_t i) {
  while (i < n && s[i] != '\r' && s[i] != '\n') i++;
  return i;
}

static void test_eol(void) {
  char buf[96];
  int bad = 0, runs = 0;
  size_t n, i;
  for (n = 0; n <= 80; n++) {
    int k;
    for (k = 0; k < 200; k++) {
      const char *g;
      size_t j;
      /* long runs without a line end, so the wide steps are taken */
      for (j = 0; j < n; j++) buf[j] = rnd() % 24 == 0 ? pick() : (char)('a' + rnd() % 26);
      g = guard(buf, n);
      for (i = 0; i <= n; i++) {
        runs++;
        if (mime_eol(g, n, i) != ref_eol(g, n, i) || plain_eol(g, n, i) != ref_eol(g, n, i))
          bad++;
      }
    }
  }
  ok(bad == 0 && runs > 100000, "mime_eol: the wide paths find the line end a byte loop finds");
}

static void test_field(void) {
  char buf[96];
  int bad = 0, runs = 0;
  size_t n;
  for (n = 0; n <= 80; n++) {
    int k;
    for (k = 0; k < 400; k++) {
      const char *g;
      size_t j, i, max = 1 + rnd() % 90;
      size_t a[5] = {0}, b[5] = {0};
      int ta = 0, tb = 0;
      for (j = 0; j < n; j++) buf[j] = rnd() % 6 == 0 ? pick() : (char)('a' + rnd() % 26);
      g = guard(buf, n);
      i = n ? rnd() % (n + 1) : 0;
      runs++;
      a[0] = mime_field(g, n, i, max, &a[1], &a[2], &a[3], &a[4], &ta);
      b[0] = plain_field(g, n, i, max, &b[1], &b[2], &b[3], &b[4], &tb);
      if (memcmp(a, b, sizeof a) != 0 || ta != tb) bad++;
    }
  }
  ok(bad == 0 && runs > 30000, "mime_field: the SSE2 build and the plain build read the same fields");
}

static void test_ieqn(void) {
  char z[64], s[64];
  int bad = 0, runs = 0, equal = 0;
  size_t n;
  for (n = 0; n <= 40; n++) {
    int k;
    for (k = 0; k < 2000; k++) {
      const char *g;
      size_t j;
      /* z: lowercase bytes (no NUL); s: z with letters in either case and,
         now and then, a byte one case bit away ('@' and '`', '[' and '{',
         0xc1 and 0xe1) or any byte */
      for (j = 0; j < n; j++) {
        unsigned char b = (unsigned char)(rnd() % 3 == 0 ? rnd() & 0xffu : 'a' + rnd() % 26u);
        if (b >= 'A' && b <= 'Z') b = (unsigned char)(b + 32);
        z[j] = (char)(b ? b : 'x');
        s[j] = (char)((z[j] >= 'a' && z[j] <= 'z' && rnd() % 2) ? z[j] - 32 : z[j]);
        if (rnd() % (4 * n + 4) == 0) s[j] = (char)(rnd() % 2 ? (unsigned char)s[j] ^ 0x20u : rnd() & 0xffu);
      }
      z[n] = '\0';
      g = guard(s, n);
      runs++;
      equal += plain_ieq(g, n, z);
      if (mime_ieqn(g, z, n) != plain_ieq(g, n, z)) bad++;
    }
  }
  ok(bad == 0 && runs > 80000 && equal > runs / 4 && equal < runs - runs / 8,
     "mime_ieqn: words of eight and four bytes compare as mime_ieq does");
}

int main(void) {
  if (guard_init() != 0) return 1;
  test_eol();
  test_field();
  test_ieqn();
  return done_testing();
}
