/*
** test_reply_simd.c: the wide line-end search of src/reply.c (SSE2 sixteen
** bytes at a time, a word of eight, then bytes) against a second copy of
** reply.c built without SIMD (SMTPCODE_NO_SIMD: memchr), its functions
** renamed. Every field of smtpcode_line and smtpcode_reply must agree, for
** the default options, lenient mode and small line limits. Inputs: reply
** lines and random bytes, with LF and CR at every offset, every length up
** to 300, each copied against a guard page (a read past the end faults).
*/
#include "tap.h"

#include "smtpcode.h"

/* the copy without SIMD: every exported function of reply.c renamed */
#define SMTPCODE_NO_SIMD 1
#define smtpcode_parse_status plain_parse_status
#define smtpcode_severity_of plain_severity_of
#define smtpcode_parse_line plain_parse_line
#define smtpcode_parse_reply plain_parse_reply
#define smtpcode_status_name plain_status_name
#define smtpcode_severity_name plain_severity_name
#define smtpcode_version plain_version
int plain_parse_status(const char *s, size_t len, int *cls, int *subject,
                       int *detail);
int plain_severity_of(int code);
int plain_parse_line(const char *s, size_t len, const smtpcode_opts *opts,
                     smtpcode_line *out);
int plain_parse_reply(const char *s, size_t len, const smtpcode_opts *opts,
                      smtpcode_reply *out, smtpcode_line *lines, int cap);
const char *plain_status_name(int status);
const char *plain_severity_name(int severity);
const char *plain_version(void);
#include "../../src/reply.c"
#undef smtpcode_parse_status
#undef smtpcode_severity_of
#undef smtpcode_parse_line
#undef smtpcode_parse_reply
#undef smtpcode_status_name
#undef smtpcode_severity_name
#undef smtpcode_version

#define XORSHIFT_SEED 0x9e3779b97f4a7c15ull
#include "xorshift.h"

/* A byte of a reply line, often one the parser or the search stops at. */
static char pick(void) {
  static const char stops[] = "\n\r\n .-\t#0123456789";
  unsigned r = rnd() % 24;
  if (r < sizeof stops - 1) return stops[r];
  return (char)(rnd() & 0xff);
}

/* A line of length n: a reply line's start ("550-5.1.1 ", "250 ", ...)
   then text, with an LF or CR at random places (or none). */
static void fill(char *buf, size_t n) {
  static const char *const heads[] = {"550 5.1.1 ", "250-2.0.0 ", "451 4.7.1",
                                      "354 ", "550 5.999.999  ", "571 #5.1.0\t",
                                      "220 ", ""};
  const char *h = heads[rnd() % 8];
  size_t j = 0, k;
  while (h[j] && j < n) {
    buf[j] = h[j];
    j++;
  }
  for (; j < n; j++) buf[j] = rnd() % 5 == 0 ? pick() : (char)('a' + rnd() % 26);
  /* most lines: no line end, or one LF (CRLF) near a random place */
  switch (rnd() % 4) {
  case 0:
    for (k = 0; k < n; k++)
      if (buf[k] == '\n' || buf[k] == '\r') buf[k] = 'x';
    break;
  case 1:
    if (n > 0) {
      k = rnd() % n;
      buf[k] = '\n';
      if (k > 0 && rnd() % 2) buf[k - 1] = '\r';
    }
    break;
  default:
    break;
  }
}

static int same_line(const smtpcode_line *a, const smtpcode_line *b) {
  return a->code == b->code && a->cls == b->cls && a->subject == b->subject &&
         a->detail == b->detail && a->flags == b->flags &&
         a->enh_off == b->enh_off && a->enh_len == b->enh_len &&
         a->text_off == b->text_off && a->text_len == b->text_len &&
         a->length == b->length;
}

static int same_reply(const smtpcode_reply *a, const smtpcode_reply *b) {
  return a->code == b->code && a->cls == b->cls && a->subject == b->subject &&
         a->detail == b->detail && a->flags == b->flags &&
         a->enh_off == b->enh_off && a->enh_len == b->enh_len &&
         a->nlines == b->nlines && a->length == b->length;
}

/* where the line ends, as a byte loop finds it */
static size_t ref_lf(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && s[i] != '\n') i++;
  return i;
}

static void test_line(void) {
  char buf[320];
  int bad = 0, badlf = 0, runs = 0;
  size_t n;
  for (n = 0; n <= 300; n++) {
    int k;
    for (k = 0; k < 300; k++) {
      const char *g;
      smtpcode_opts o;
      smtpcode_line a, b;
      int ra, rb, v;
      fill(buf, n);
      g = guard(buf, n);
      for (v = 0; v < 3; v++) {
        const smtpcode_opts *op = NULL;
        memset(&o, 0, sizeof o);
        if (v == 1) {
          o.flags = SMTPCODE_O_LENIENT;
          op = &o;
        } else if (v == 2) {
          o.max_line = 1 + (int)(rnd() % 120);
          op = &o;
        }
        memset(&a, 0x55, sizeof a);
        memset(&b, 0xaa, sizeof b);
        ra = smtpcode_parse_line(g, n, op, &a);
        rb = plain_parse_line(g, n, op, &b);
        runs++;
        if (ra != rb || !same_line(&a, &b)) bad++;
        /* a line that parses ends at the first LF, or has none */
        if (ra > 0 && v == 0) {
          size_t lf = ref_lf(g, n);
          if (lf < n ? (size_t)ra != lf + 1 || (a.flags & SMTPCODE_F_NOEOL)
                     : (size_t)ra != n || !(a.flags & SMTPCODE_F_NOEOL))
            badlf++;
        }
      }
    }
  }
  ok(bad == 0 && runs > 200000,
     "parse_line: the SSE2 and word search give every field memchr gives");
  ok(badlf == 0, "parse_line: a line ends at its first LF, at every length");
}

static void test_reply(void) {
  char buf[320];
  int bad = 0, runs = 0;
  size_t n;
  for (n = 0; n <= 300; n += 1) {
    int k;
    for (k = 0; k < 100; k++) {
      const char *g;
      smtpcode_reply a, b;
      smtpcode_line la[8], lb[8];
      int ra, rb, i;
      /* several lines: a reply head at each LF */
      size_t j = 0;
      while (j < n) {
        size_t m = 1 + rnd() % 40;
        if (m > n - j) m = n - j;
        fill(buf + j, m);
        j += m;
        if (j < n) buf[j++] = '\n';
      }
      g = guard(buf, n);
      memset(la, 0, sizeof la);
      memset(lb, 0, sizeof lb);
      ra = smtpcode_parse_reply(g, n, NULL, &a, la, 8);
      rb = plain_parse_reply(g, n, NULL, &b, lb, 8);
      runs++;
      if (ra != rb || !same_reply(&a, &b)) {
        bad++;
        continue;
      }
      for (i = 0; i < 8 && i < a.nlines; i++)
        if (!same_line(&la[i], &lb[i])) bad++;
    }
  }
  ok(bad == 0 && runs > 20000,
     "parse_reply: every line and the summary agree with the memchr build");
}

int main(void) {
  if (guard_init() != 0) return 1;
  test_line();
  test_reply();
  return done_testing();
}
