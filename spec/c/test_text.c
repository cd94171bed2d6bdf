/*
** C tests of smtpcode_text_next (src/text.c): the text of a found reply
** without its repeated codes, as spans; and smtpcode_status_message
** (src/status.c). Inputs sit against a guard page (tap.h). Prints TAP.
*/
#define _DEFAULT_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/smtpcode.h"
#include "tap.h"
#include "text_check.h"

/* find in s, walk its text; is the joined text want, in nspans spans? */
static void expect(const char *in, const char *want, int nspans) {
  size_t n = strlen(in), got;
  const char *s = guard(in, n), *why;
  smtpcode_found f;
  char out[512], name[1200];
  int k;
  if (smtpcode_find(s, n, &f, NULL) < 0) {
    snprintf(name, sizeof name, "find finds a reply in %.60s", in);
    ok(0, name);
    return;
  }
  k = text_walk(s, n, &f, out, sizeof out, &got, &why);
  snprintf(name, sizeof name,
           "text of %.70s is \"%s\" (%d spans, got \"%s\", %d, %s)", in, want,
           nspans, out, k, why);
  ok(k == nspans && strcmp(out, want) == 0, name);
}

static void test_texts(void) {
  expect("550 5.1.1 user unknown", "user unknown", 1);
  expect("550-5.1.1 a\r\n550-5.1.1 b\r\n550 5.1.1 c", "a\nb\nc", 3);
  expect("550-a\n550 b", "a\nb", 2);
  expect("550-5.7.1 a\n550 5.7.1\n550 5.7.1 c", "a\n", 2);
  /* a multi-line reply that a log joined with spaces */
  expect("host x said: 550-5.2.1 For more 550-5.2.1 information, go to "
         "550 5.2.1 https://x (in reply to RCPT TO command)",
         "For more information, go to https://x", 3);
  expect("552-5.2.2 Quota 552 MB exceeded 552 5.2.2 bye",
         "Quota 552 MB exceeded bye", 2);
  expect("550-Foo 550 bar", "Foo bar", 2);
  expect("550-a 550-b 550 c", "a b c", 3);
  /* without an enhanced code only the last "550 " is a line's code */
  expect("550-a 550 b 550 c", "a 550 b c", 2);
  expect("550-5.1.1 a 550-5.1.1", "a", 1);
  expect("550-5.1.1 a 550-5.1.1 550-5.1.1 b", "a b", 2);
  /* a reply whose code is not followed by '-' keeps what it quotes */
  expect("550 5.1.1 see 550-5.1.1 x", "see 550-5.1.1 x", 1);
  /* other numbers and other enhanced codes stay */
  expect("451-4.7.1 try 451 seconds 451-4.7.2 later",
         "try 451 seconds 451-4.7.2 later", 1);
  expect("Status: 5.1.1", "", 0);
  expect("550 5.1.1", "", 0);
}

static void test_bad(void) {
  const char *s = guard("550-a 550 b", 11), *why;
  smtpcode_found f;
  size_t pos = 0, off = 7, n = 7;
  int r = smtpcode_find(s, 11, &f, NULL);
  ok(r == 0, "find finds 550-a 550 b");
  ok(smtpcode_text_next(s, 5, &f, &pos, &off, &n) == SMTPCODE_SPAN_END &&
         off == 0 && n == 0,
     "a text past len gives no span, and an empty one");
  ok(smtpcode_text_next(NULL, 11, &f, &pos, &off, &n) == SMTPCODE_SPAN_END &&
         smtpcode_text_next(s, 11, NULL, &pos, &off, &n) == SMTPCODE_SPAN_END,
     "NULL text or found gives no span");
  pos = 1000;
  ok(smtpcode_text_next(s, 11, &f, &pos, &off, &n) == SMTPCODE_SPAN_END,
     "a cursor past the text gives no span");
  f.code_off = 9;
  ok(text_walk(s, 11, &f, NULL, 0, NULL, &why) >= 0,
     "a code span at the very end is read inside the input");
  f.code_off = 10;
  ok(smtpcode_text_next(s, 11, &f, &pos, &off, &n) == SMTPCODE_SPAN_END,
     "a code span past the input gives no span");
  r = smtpcode_find(s, 11, &f, NULL);
  f.enh_len = 4;
  f.enh_off = 9;
  pos = 0;
  ok(r == 0 &&
         smtpcode_text_next(s, 11, &f, &pos, &off, &n) == SMTPCODE_SPAN_END,
     "an enhanced code span past the input gives no span");
}

/* Random texts of the bytes that matter: every walk keeps the invariants. */
static void test_random(void) {
  static const char *const parts[] = {
    "550", "550-", "550 ", "5.1.1", "5.1.1 ", " ", "  ", "\r\n", "\n", "\r",
    "-", "a", "said: ", "(", ")", "451-4.7.1 ", "552 ", "5.", "#5.1.1"};
  char buf[256], out[512];
  int i, bad = 0, walks = 0;
  unsigned seed = 12345;
  for (i = 0; i < 200000; i++) {
    size_t n = 0, got;
    int k;
    const char *s, *why;
    smtpcode_found f, in;
    while (n < 200) {
      const char *p;
      size_t m;
      seed = seed * 1103515245u + 12345u;
      if ((seed >> 16) % 16 == 0) break;
      p = parts[(seed >> 8) % (sizeof parts / sizeof parts[0])];
      m = strlen(p);
      if (n + m > sizeof buf) break;
      memcpy(buf + n, p, m);
      n += m;
    }
    s = guard(buf, n);
    if (smtpcode_find(s, n, &f, &in) < 0) continue;
    walks++;
    k = text_walk(s, n, &f, out, sizeof out, &got, &why);
    if (k < 0 && bad++ < 5) printf("# %s: %.*s\n", why, (int)n, buf);
    if (in.how != SMTPCODE_HOW_NONE &&
        text_walk(s, n, &in, NULL, 0, NULL, &why) < 0 && bad++ < 5)
      printf("# inner: %s: %.*s\n", why, (int)n, buf);
  }
  ok(bad == 0 && walks > 1000, "random texts keep every invariant of a walk");
}

static void test_messages(void) {
  char b[SMTPCODE_MESSAGE_MAX];
  int n;
  n = smtpcode_status_message(SMTPCODE_ESYNTAX, 1, b, sizeof b);
  ok(n == 32 && strcmp(b, "line 1 is not a valid reply line") == 0,
     "syntax: line 1 is not a valid reply line");
  smtpcode_status_message(SMTPCODE_EINCOMPLETE, 12, b, sizeof b);
  ok(strcmp(b, "reply is incomplete at line 12") == 0, "incomplete");
  smtpcode_status_message(SMTPCODE_EINCONSISTENT, 2, b, sizeof b);
  ok(strcmp(b, "line 2 has a different reply code than line 1") == 0,
     "inconsistent");
  smtpcode_status_message(SMTPCODE_ETOOLONG, 1000, b, sizeof b);
  ok(strcmp(b, "reply exceeds a size limit at line 1000") == 0, "too_long");
  smtpcode_status_message(-99, -7, b, sizeof b);
  ok(strcmp(b, "error -99 at line -7") == 0, "another status");
  n = smtpcode_status_message(INT_MIN, INT_MIN, b, sizeof b);
  ok(n == (int)strlen(b) && n < SMTPCODE_MESSAGE_MAX &&
         strcmp(b, "error -2147483648 at line -2147483648") == 0,
     "the longest numbers fit SMTPCODE_MESSAGE_MAX");
  n = smtpcode_status_message(SMTPCODE_EINCONSISTENT, INT_MAX, b, sizeof b);
  ok(n == (int)strlen(b) && n < SMTPCODE_MESSAGE_MAX,
     "the longest message fits");
  memset(b, 'x', sizeof b);
  n = smtpcode_status_message(SMTPCODE_ESYNTAX, 1, b, 5);
  ok(n == 32 && strcmp(b, "line") == 0 && b[5] == 'x',
     "a short buffer gets a cut, terminated message and the whole length");
  ok(smtpcode_status_message(SMTPCODE_ESYNTAX, 1, NULL, 0) == 32,
     "cap 0 writes nothing and says the length");
}

int main(void) {
  if (guard_init() != 0) return 1;
  test_texts();
  test_bad();
  test_random();
  test_messages();
  return done_testing();
}
