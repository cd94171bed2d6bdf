/*
** C tests of the reply parser (src/reply.c). Each input is placed at the
** very end of a page followed by an unreadable guard page, so any read
** past the span crashes (picohttpparser's trick). Prints TAP.
*/
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/smtpcode.h"
#include "tap.h"

static int reply(const char *s, const smtpcode_opts *o, smtpcode_reply *r,
                 smtpcode_line *lines, int cap) {
  size_t n = strlen(s);
  return smtpcode_parse_reply(guard(s, n), n, o, r, lines, cap);
}

static void test_basic(void) {
  smtpcode_reply r;
  smtpcode_line ln[8];
  int n;
  n = reply("250 OK\r\n", NULL, &r, ln, 8);
  ok(n == 8 && r.code == 250 && r.nlines == 1 && ln[0].text_len == 2,
     "250 OK");
  n = reply("550-5.1.1 a\r\n550 5.1.1 b\r\n", NULL, &r, ln, 8);
  ok(n == 26 && r.code == 550 && r.cls == 5 && r.subject == 1 &&
         r.detail == 1 && r.nlines == 2,
     "multi-line with enhanced codes");
  ok(ln[1].text_off == 10 && ln[1].text_len == 1, "second line text span");
  n = reply("250-a\r\n251 b\r\n", NULL, &r, ln, 8);
  ok(n == SMTPCODE_EINCONSISTENT && r.nlines == 2, "inconsistent at line 2");
  n = reply("250-a\r\n", NULL, &r, ln, 8);
  ok(n == SMTPCODE_EINCOMPLETE, "continuation last is incomplete");
  /* a final line without its ending is complete as it stands (RFC 5321
     4.2: the text is optional) */
  n = reply("250", NULL, &r, ln, 8);
  ok(n == 3 && r.code == 250 && r.nlines == 1 && ln[0].text_len == 0 &&
         (r.flags & SMTPCODE_F_NOEOL),
     "bare code without ending is a complete reply");
  n = reply("250\r", NULL, &r, ln, 8);
  ok(n == 4 && r.code == 250 && ln[0].text_len == 0,
     "bare code and a lone CR is a complete reply");
  n = reply("250-a\r\n250", NULL, &r, ln, 8);
  ok(n == 10 && r.code == 250 && r.nlines == 2 && ln[1].text_len == 0,
     "bare final code after a continuation ends the reply");
  n = reply("25", NULL, &r, ln, 8);
  ok(n == SMTPCODE_ESYNTAX && r.nlines == 1, "a two-digit line is not a reply");
  n = reply("250-a\r\n25", NULL, &r, ln, 8);
  ok(n == SMTPCODE_ESYNTAX && r.nlines == 2,
     "a two-digit final line is a syntax error at line 2");
  n = reply("250-a", NULL, &r, ln, 8);
  ok(n == SMTPCODE_EINCOMPLETE, "continuation without ending is incomplete");
  n = reply("250\r\n", NULL, &r, ln, 8);
  ok(n == 5 && r.code == 250, "bare code with ending is complete");
  n = reply("550 4.7.1 x", NULL, &r, ln, 8);
  ok(n == 11 && (r.flags & SMTPCODE_F_MISMATCH), "class mismatch flagged");
  n = reply("571 5.7.1 x", NULL, &r, ln, 8);
  ok(n == SMTPCODE_ESYNTAX, "571 strict is a syntax error");
  {
    smtpcode_opts o = {SMTPCODE_O_LENIENT, 0, 0, 0};
    n = reply("571 5.7.1 x", &o, &r, ln, 8);
    ok(n == 11 && r.code == 571 && (r.flags & SMTPCODE_F_NONSTANDARD),
       "571 lenient is non-standard");
  }
  n = reply("", NULL, &r, ln, 0);
  ok(n == SMTPCODE_EINCOMPLETE, "empty input is incomplete");
  n = smtpcode_parse_reply(NULL, 0, NULL, &r, NULL, 0);
  ok(n == SMTPCODE_ESYNTAX, "NULL input is a syntax error");
}

static void test_status(void) {
  int c, s, d;
  ok(smtpcode_parse_status("5.7.26", 6, &c, &s, &d) == 6 && c == 5 && s == 7 &&
         d == 26,
     "status 5.7.26");
  ok(smtpcode_parse_status(guard("5.01.1", 6), 6, &c, &s, &d) ==
         SMTPCODE_ESYNTAX,
     "status 5.01.1 rejected");
  ok(smtpcode_parse_status(guard("5.1.1000", 8), 8, &c, &s, &d) ==
         SMTPCODE_ESYNTAX,
     "status 5.1.1000 rejected");
  ok(smtpcode_parse_status(guard("5.1.", 4), 4, &c, &s, &d) == SMTPCODE_ESYNTAX,
     "status 5.1. rejected without reading past the end");
}

static void test_names(void) {
  ok(strcmp(smtpcode_status_name(SMTPCODE_ETOOLONG), "too_long") == 0,
     "status name too_long");
  ok(smtpcode_status_name(-99) == NULL, "unknown status name is NULL");
  ok(strcmp(smtpcode_severity_name(SMTPCODE_SEV_TRANSIENT), "transient") == 0,
     "severity name");
  ok(smtpcode_severity_of(550) == SMTPCODE_SEV_PERMANENT &&
         smtpcode_severity_of(199) == SMTPCODE_SEV_UNKNOWN,
     "severity_of");
  ok(strcmp(smtpcode_version(), SMTPCODE_VERSION) == 0, "version");
}

/* Every prefix of every input: spans stay inside, no crash. */
static void test_prefixes(void) {
  static const char *inputs[] = {
      "250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
      "550-5.1.1 first\r\n550 5.1.1 second",
      "571 #5.7.1\tx\r\n",
      "250 5.1.1000 x\n",
      "421-4.7.0 a\n421-4.7.0 b\n421 4.7.0",
  };
  size_t i, cut;
  int bad = 0;
  for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    size_t n = strlen(inputs[i]);
    for (cut = 0; cut <= n; cut++) {
      smtpcode_reply r;
      smtpcode_line ln[8];
      smtpcode_opts o = {SMTPCODE_O_LENIENT, 0, 0, 0};
      int k;
      for (k = 0; k < 2; k++) {
        const char *p = guard(inputs[i], cut);
        int got = smtpcode_parse_reply(p, cut, k ? &o : NULL, &r, ln, 8);
        if (got > (int)cut) bad++;
        if (got > 0) {
          int j;
          if (r.enh_len && (r.enh_off < 0 || r.enh_off + r.enh_len > got)) bad++;
          for (j = 0; j < r.nlines && j < 8; j++)
            if (ln[j].text_len < 0 || ln[j].text_off + ln[j].text_len > ln[j].length)
              bad++;
        }
      }
    }
  }
  ok(bad == 0, "every prefix parses inside its span");
}

static void test_limits(void) {
  static char big[20000];
  smtpcode_reply r;
  smtpcode_line ln[4];
  smtpcode_opts o = {0, 100, 3, 200};
  int n;
  memset(big, 'x', sizeof big);
  memcpy(big, "250 ", 4);
  n = smtpcode_parse_reply(big, sizeof big, NULL, &r, ln, 4);
  ok(n == SMTPCODE_ETOOLONG, "a 20000-byte line is too long by default");
  n = smtpcode_parse_reply(big, 150, &o, &r, ln, 4);
  ok(n == SMTPCODE_ETOOLONG, "max_line 100");
  n = reply("250-a\n250-b\n250-c\n250 d\n", &o, &r, ln, 4);
  ok(n == SMTPCODE_ETOOLONG, "max_lines 3");
  {
    smtpcode_opts o2 = {0, 0, 0, 12};
    n = reply("250-aaaa\n250-bbbb\n250 c\n", &o2, &r, ln, 4);
    ok(n == SMTPCODE_ETOOLONG, "max_reply 12");
    n = reply("250-aa\n250 c\n", &o2, &r, ln, 4);
    ok(n == SMTPCODE_ETOOLONG, "max_reply counts line endings (13 > 12)");
    n = reply("250-a\n250 c\n", &o2, &r, ln, 4);
    ok(n == 12, "a reply of exactly max_reply bytes is fine");
  }
}

/*
** An enhanced code reads the same whether the line ends right after it
** (a span under 10 bytes: the checked reader) or text follows (10 bytes or
** more: the reader without bounds checks), each input at the end of a
** guarded page.
*/
static void test_enhanced_spans(void) {
  static const char *codes[] = {
      "5.1.1", "2.0.0", "4.7.1", "5.10.100", "5.999.999", "4.0.10",
      "5.1.10", "5.0.0", "5.1000.1", "5.1.1000", "5.01.1", "5.1.01",
      "5.1.", "5..1", "5.1.1x", "3.1.1", "6.1.1", "5,1.1", "5.1,1", "#5.1.1",
      "5.1.1\t", "5.99.99",
  };
  static const char *tails[] = {"", " Recipient unknown", "\tx y z w v u"};
  size_t i, j;
  int bad = 0, k;
  for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    for (k = 0; k < 2; k++) {
      smtpcode_opts o = {SMTPCODE_O_LENIENT, 0, 0, 0};
      smtpcode_line a, b;
      char buf[64];
      int ra, rb;
      snprintf(buf, sizeof buf, "550 %s", codes[i]);
      ra = smtpcode_parse_line(guard(buf, strlen(buf)), strlen(buf),
                               k ? &o : NULL, &a);
      for (j = 1; j < sizeof tails / sizeof tails[0]; j++) {
        snprintf(buf, sizeof buf, "550 %s%s", codes[i], tails[j]);
        rb = smtpcode_parse_line(guard(buf, strlen(buf)), strlen(buf),
                                 k ? &o : NULL, &b);
        if ((ra < 0) != (rb < 0)) bad++;
        /* a tab tail makes "5.1.1" lenient-only: compare space tails */
        if (j == 1 && ra > 0 && rb > 0 &&
            (a.cls != b.cls || a.subject != b.subject ||
             a.detail != b.detail || a.enh_off != b.enh_off ||
             a.enh_len != b.enh_len || a.flags != b.flags)) {
          bad++;
          printf("# differs: %s (lenient %d)\n", codes[i], k);
        }
      }
    }
  }
  ok(bad == 0, "enhanced codes read alike at a line's end and before text");
}

int main(void) {
  if (guard_init() != 0) return 1;
  test_basic();
  test_status();
  test_names();
  test_prefixes();
  test_limits();
  test_enhanced_spans();
  return done_testing();
}
