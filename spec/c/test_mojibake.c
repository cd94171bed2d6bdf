/*
** C tests of the repair of double-encoded UTF-8 (src/mojibake.c) and of
** classify reading the repaired text. Inputs sit against a guard page, so
** a read past the span crashes. Prints TAP.
*/
#include "tap.h"

#include "../../src/mojibake.h"
#include "../../src/smtpcode.h"
#include "mojibake_ref.h"

static char outb[8192];

/* smtpcode_unmojibake of s (against the guard page) is want. */
static int fixes(const char *s, const char *want) {
  size_t n = strlen(s), used = 0;
  size_t o = smtpcode_unmojibake(guard(s, n), n, outb, sizeof outb, &used);
  return used == n && o == strlen(want) && memcmp(outb, want, o) == 0;
}

static void test_sequences(void) {
  ok(fixes("caf\xC3\x83\xC2\xA9", "caf\xC3\xA9"), "\"Ã©\" is \"é\"");
  ok(fixes("\xC3\x90\xC2\xBF\xC3\x90\xC2\xBE", "\xD0\xBF\xD0\xBE"),
     "Cyrillic read as Latin-1 (\"Ð¿Ð¾\" is \"по\")");
  ok(fixes("\xC3\x90\xC5\xB8", "\xD0\x9F"),
     "Windows-1252's Ÿ stands for byte 9F (\"ÐŸ\" is \"П\")");
  ok(fixes("\xC3\x91\xC2\x81", "\xD1\x81"),
     "a byte Windows-1252 leaves undefined, kept as U+0081 (\"с\")");
  ok(fixes("n\xC3\xA2\xE2\x82\xAC\xE2\x84\xA2t", "n\xE2\x80\x99t"),
     "\"â€™\" is the apostrophe U+2019 (€ and ™ stand for 80 and 99)");
  ok(fixes("\xC3\xA5\xC2\xAE\xC2\x9B", "\xE5\xAE\x9B"),
     "a three-byte sequence (CJK)");
  ok(fixes("\xC3\xA0\xC2\xA4\xC2\xA8\xC3\xA0\xC2\xA4\xC2\xAE",
           "\xE0\xA4\xA8\xE0\xA4\xAE") &&
         fixes("\xC3\xA0\xC2\xA0\xC2\x80", "\xE0\xA0\x80") &&
         fixes("\xC3\xAD\xC2\x9F\xC2\xBF", "\xED\x9F\xBF"),
     "three-byte sequences led by E0 (Devanagari, U+0800) and ED (U+D7FF)");
  ok(fixes("\xC3\xB0\xC5\xB8\xC2\x90\xCB\x86", "\xF0\x9F\x90\x88"),
     "a four-byte sequence (U+1F408), Windows-1252 reading");
  ok(fixes("\xC3\xA2\xE2\x82\xAC\xE2\x80\x9C", "\xE2\x80\x93"),
     "\"â€“\" is the en dash");
  ok(fixes("550 \xC3\xA3\xC6\x92\xC2\xA6 x \xC3\xA3\xE2\x80\x9A\xC2\xB9 y",
           "550 \xE3\x83\xA6 x \xE3\x82\xB9 y"),
     "ƒ and ‚ stand for 83 and 82; ASCII between sequences stays");
}

static void test_unchanged(void) {
  ok(fixes("550 5.1.1 User unknown", "550 5.1.1 User unknown"), "ASCII");
  ok(fixes("caf\xC3\xA9 d\xC3\xA9j\xC3\xA0 \xC3\x9C\xC3\xA7", "caf\xC3\xA9 d\xC3\xA9j\xC3\xA0 \xC3\x9C\xC3\xA7"),
     "proper UTF-8 with accents");
  ok(fixes("\xC3\x83 a \xC3\x83", "\xC3\x83 a \xC3\x83"),
     "a lead character followed by no continuation character");
  ok(fixes("\xC3\x80\xC2\x80", "\xC3\x80\xC2\x80") &&
         fixes("\xC3\x81\xC2\xBF", "\xC3\x81\xC2\xBF"),
     "C0 and C1 would be overlong (U+00C0 U+0080, U+00C1 U+00BF)");
  ok(fixes("\xC3\xA0\xC2\x80\xC2\x80", "\xC3\xA0\xC2\x80\xC2\x80") &&
         fixes("\xC3\xA0\xC2\x9F\xC2\xBF", "\xC3\xA0\xC2\x9F\xC2\xBF"),
     "E0 80 80 and E0 9F BF would be overlong");
  ok(fixes("\xC3\xAD\xC2\xA0\xC2\x80", "\xC3\xAD\xC2\xA0\xC2\x80"),
     "ED A0 80 would be a surrogate");
  ok(fixes("\xC3\xB0\xC2\x80\xC2\x80\xC2\x80", "\xC3\xB0\xC2\x80\xC2\x80\xC2\x80") &&
         fixes("\xC3\xB4\xC2\x90\xC2\x80\xC2\x80", "\xC3\xB4\xC2\x90\xC2\x80\xC2\x80") &&
         fixes("\xC3\xB5\xC2\x80\xC2\x80\xC2\x80", "\xC3\xB5\xC2\x80\xC2\x80\xC2\x80"),
     "F0 80 (overlong), F4 90 (past U+10FFFF), F5 (no lead) stay");
  ok(fixes("\xC3\xA5\xC2\xAE", "\xC3\xA5\xC2\xAE") &&
         fixes("\xC3\xA5\xC2\xAE\xC2", "\xC3\xA5\xC2\xAE\xC2") &&
         fixes("\xC3\xA5\xC2\xAE\xE2\x82", "\xC3\xA5\xC2\xAE\xE2\x82") &&
         fixes("\xC3", "\xC3"),
     "a sequence cut at the end of the text stays, nothing read past it");
  ok(fixes("\xC3\x83\xFF\xC2\xA9\x80", "\xC3\x83\xFF\xC2\xA9\x80"),
     "invalid UTF-8 is copied as it is");
  ok(fixes("\xC3\xA3\xE2\x80\x9D\xC2\xA6", "\xE3\x94\xA6"),
     "” stands for 94: \"ã”¦\" is U+3526");
}

static void test_roundtrip(void) {
  static unsigned char u[4], d[16];
  unsigned long cp, bad = 0, n = 0;
  int w;
  for (w = 0; w < 2; w++) {
    for (cp = 0x80; cp <= 0x10FFFF; cp++) {
      size_t k, m, o, used;
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      k = mr_put(cp, u);
      m = mr_encode(u, k, d, w);
      o = smtpcode_unmojibake(guard((const char *)d, m), m, outb, sizeof outb,
                              &used);
      n++;
      if (used != m || o != k || memcmp(outb, u, k) != 0) {
        if (bad < 5) printf("# U+%04lX reading %d: %lu of %lu bytes\n", cp, w, (unsigned long)used, (unsigned long)m);
        bad++;
      }
    }
  }
  ok(bad == 0 && n == 2 * 1111936UL,
     "every code point U+0080..U+10FFFF double-encoded (Latin-1 and "
     "Windows-1252 readings) is repaired to itself");
}

static void test_bounds(void) {
  const char *s = "ab\xC3\x90\xC2\xBF" "cd";
  size_t used = 99, o;
  o = smtpcode_unmojibake(guard(s, 8), 8, outb, 3, &used);
  ok(o == 2 && used == 2, "a sequence is never cut when out fills up");
  o = smtpcode_unmojibake(guard(s, 8), 8, outb, 4, &used);
  ok(o == 4 && used == 6 && memcmp(outb, "ab\xD0\xBF", 4) == 0,
     "out fills up after a whole sequence");
  o = smtpcode_unmojibake(guard(s, 8), 8, outb, 0, NULL);
  ok(o == 0, "no room: nothing written, used may be NULL");
  o = smtpcode_unmojibake(guard(s, 0), 0, outb, sizeof outb, &used);
  ok(o == 0 && used == 0, "empty text");
}

static void test_view(void) {
  char buf[64];
  const char *plain = "550 5.1.1 User unknown", *p = plain;
  const char *moj = "550 \xC3\x90\xC2\xBF", *q = moj;
  const char *apo = "550 wasn\xE2\x80\x99t found", *a = apo;
  const char *both = "550 n\xC3\xA2\xE2\x82\xAC\xE2\x84\xA2t", *b = both;
  int n = smtpcode_mojibake_view(&p, (int)strlen(plain), buf, sizeof buf);
  ok(p == plain && n == (int)strlen(plain), "view: ASCII text is read as it is");
  p = "d\xC3\xA9j\xC3\xA0";
  n = smtpcode_mojibake_view(&p, 6, buf, sizeof buf);
  ok(n == 6 && p != buf, "view: proper UTF-8 is read as it is");
  n = smtpcode_mojibake_view(&q, (int)strlen(moj), buf, sizeof buf);
  ok(q == buf && n == 6 && memcmp(buf, "550 \xD0\xBF", 6) == 0,
     "view: double-encoded text is read repaired");
  n = smtpcode_mojibake_view(&a, (int)strlen(apo), buf, sizeof buf);
  ok(a == buf && n == 16 && memcmp(buf, "550 wasn't found", 16) == 0,
     "view: U+2019 is read as an ASCII apostrophe");
  n = smtpcode_mojibake_view(&b, (int)strlen(both), buf, sizeof buf);
  ok(b == buf && n == 7 && memcmp(buf, "550 n't", 7) == 0,
     "view: a double-encoded U+2019 is read as an ASCII apostrophe");
  q = moj;
  n = smtpcode_mojibake_view(&q, (int)strlen(moj), buf, 5);
  ok(q == moj && n == (int)strlen(moj), "view: a text that does not fit is read as it is");
  q = moj;
  n = smtpcode_mojibake_view(&q, 0, buf, sizeof buf);
  ok(q == moj && n == 0, "view: empty text");
}

/* The fast path reads 64 and 16 bytes at a time: a sequence at any place
** of a text of any length up to 200 bytes is still found, and nothing
** past the text is read (guard page). */
static void test_view_everywhere(void) {
  static char t[256], buf[256];
  size_t len, at;
  int bad = 0, plainbad = 0;
  for (len = 4; len <= 200; len++) {
    for (at = 0; at + 4 <= len; at++) {
      const char *p;
      int n;
      memset(t, 'a', len);
      memcpy(t + at, "\xC3\x83\xC2\xA9", 4);
      p = guard(t, len);
      n = smtpcode_mojibake_view(&p, (int)len, buf, sizeof buf);
      if (p != buf || n != (int)len - 2 || memcmp(buf + at, "\xC3\xA9", 2) != 0)
        bad++;
    }
    {
      const char *p, *g;
      memset(t, 'a', len);
      p = g = guard(t, len);
      if (smtpcode_mojibake_view(&p, (int)len, buf, sizeof buf) != (int)len || p != g)
        plainbad++;
    }
  }
  ok(bad == 0, "view: a sequence anywhere in texts of 4..200 bytes is repaired");
  ok(plainbad == 0, "view: ASCII texts of 4..200 bytes are read as they are");
}

static smtpcode_verdict cl(const char *s, size_t n) {
  smtpcode_verdict v;
  smtpcode_classify(guard(s, n), n, NULL, &v);
  return v;
}

static void test_classify(void) {
  static const char *const plain[] = {
    "550 \xD0\x90\xD0\xB4\xD1\x80\xD0\xB5\xD1\x81\xD0\xB0\xD1\x82 \xD0\xBD\xD0"
    "\xB5 \xD0\xBD\xD0\xB0\xD0\xB9\xD0\xB4\xD0\xB5\xD0\xBD", /* адресат не найден */
    "550 \xE9\x82\xAE\xE7\xAE\xB1\xE4\xB8\x8D\xE5\xAD\x98\xE5\x9C\xA8", /* 邮箱不存在 */
    "452 bo\xC3\xAEte aux lettres pleine",
  };
  static unsigned char d[512];
  size_t i;
  int w, good = 1, before = 1;
  for (i = 0; i < sizeof plain / sizeof plain[0]; i++) {
    smtpcode_verdict a = cl(plain[i], strlen(plain[i]));
    for (w = 0; w < 2; w++) {
      size_t m = mr_encode((const unsigned char *)plain[i], strlen(plain[i]), d, w);
      smtpcode_verdict b = cl((const char *)d, m);
      if (b.reason != a.reason || b.severity != a.severity || b.rule != a.rule)
        good = 0;
    }
    if (a.reason == SMTPCODE_REASON_UNKNOWN) before = 0;
  }
  ok(before && good, "classify reads double-encoded text as the text itself");
  {
    const char *s = "550 L\xE2\x80\x99" "adresse n\xE2\x80\x99" "existe pas";
    smtpcode_verdict v = cl(s, strlen(s));
    ok(v.reason == SMTPCODE_REASON_USER_UNKNOWN,
       "classify reads a typographic apostrophe as an ASCII one");
  }
}

int main(void) {
  if (guard_init() != 0) return 1;
  test_sequences();
  test_unchanged();
  test_roundtrip();
  test_bounds();
  test_view();
  test_view_everywhere();
  test_classify();
  return done_testing();
}
