/*
** C tests of the code registry lookups (src/registry.c over the generated
** src/registry_data.c): every table is sorted the way the lookups expect,
** every row is found again by its own lookup, fallbacks follow RFC 3463 §2,
** out-of-range arguments give NULL. Prints TAP.
*/
#include "tap.h" /* first: it sets the feature macros */

#include "../../src/smtpcode.h"

static int streq(const char *a, const char *b) {
  return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Every row of every table has a kind, a code, a title, a description. */
static void test_rows(void) {
  int k, bad = 0, total = 0;
  char name[96];
  for (k = SMTPCODE_REG_REPLY; k <= SMTPCODE_REG_NOTE; k++) {
    int i, n = smtpcode_registry_count(k);
    for (i = 0; i < n; i++) {
      const smtpcode_entry *e = smtpcode_registry_at(k, i);
      total++;
      if (e == NULL || e->kind != k || e->code == NULL || e->title == NULL ||
          e->description == NULL || e->title[0] == '\0')
        bad++;
    }
    snprintf(name, sizeof name, "registry_at(%s, count) is NULL",
             smtpcode_regkind_name(k));
    ok(smtpcode_registry_at(k, n) == NULL && smtpcode_registry_at(k, -1) == NULL,
       name);
  }
  ok(bad == 0 && total > 250, "every row has kind, code, title, description");
  ok(smtpcode_registry_count(0) == 0 && smtpcode_registry_count(99) == 0,
     "unknown kinds have no rows");
  ok(smtpcode_registry_at(0, 0) == NULL, "registry_at of an unknown kind is NULL");
}

static void test_counts(void) {
  ok(smtpcode_registry_count(SMTPCODE_REG_ENHANCED) == 81,
     "81 registry entries X.0.0 .. X.7.30");
  ok(smtpcode_registry_count(SMTPCODE_REG_CLASS) == 3, "3 classes");
  ok(smtpcode_registry_count(SMTPCODE_REG_SUBJECT) == 8, "8 subjects");
  ok(smtpcode_registry_count(SMTPCODE_REG_PAIR) == 19, "19 common pairs");
  ok(smtpcode_registry_count(SMTPCODE_REG_REPLY) >= 68, "68 reply codes or more");
}

/* Each reply row is found by smtpcode_reply_info; alternates by _alt. */
static void test_reply(void) {
  int i, n = smtpcode_registry_count(SMTPCODE_REG_REPLY), bad = 0, sorted = 1;
  for (i = 0; i < n; i++) {
    const smtpcode_entry *e = smtpcode_registry_at(SMTPCODE_REG_REPLY, i);
    char buf[16];
    if (smtpcode_reply_info(e->reply) != e) bad++;
    snprintf(buf, sizeof buf, "%d", e->reply);
    if (!streq(e->code, buf)) bad++;
    if (smtpcode_standard_name(e->standard) == NULL) bad++;
    if (i > 0 && smtpcode_registry_at(SMTPCODE_REG_REPLY, i - 1)->reply >= e->reply)
      sorted = 0;
  }
  ok(bad == 0, "reply_info finds every reply row, codes and standards valid");
  ok(sorted, "reply rows are sorted and unique");
  n = smtpcode_registry_count(SMTPCODE_REG_REPLY_ALT);
  bad = 0;
  for (i = 0; i < n; i++) {
    const smtpcode_entry *e = smtpcode_registry_at(SMTPCODE_REG_REPLY_ALT, i);
    int j, found = 0;
    const smtpcode_entry *a;
    for (j = 0; (a = smtpcode_reply_alt(e->reply, j)) != NULL; j++)
      if (a == e) found = 1;
    if (!found || smtpcode_reply_info(e->reply) == NULL) bad++;
  }
  ok(bad == 0, "reply_alt finds every alternate meaning");
  ok(streq(smtpcode_reply_info(550)->title, "Mailbox unavailable"), "550 title");
  ok(smtpcode_reply_info(550)->standard == SMTPCODE_STD_STANDARD, "550 is standard");
  ok(smtpcode_reply_info(571)->standard == SMTPCODE_STD_NONSTANDARD &&
         smtpcode_reply_info(571)->emitted_by != NULL,
     "571 is non-standard and says who emits it");
  ok(smtpcode_reply_info(556)->standard == SMTPCODE_STD_EXTENSION, "556 is an extension");
  ok(smtpcode_reply_info(422)->standard == SMTPCODE_STD_REGISTRY, "422 is registry-only");
  ok(smtpcode_reply_info(456)->standard == SMTPCODE_STD_DRAFT, "456 is a draft");
  ok(smtpcode_reply_alt(220, 0) != NULL && smtpcode_reply_alt(220, 1) == NULL,
     "220 has one extension meaning (STARTTLS)");
  ok(smtpcode_reply_alt(220, -1) == NULL && smtpcode_reply_alt(599, 0) == NULL,
     "reply_alt out of range is NULL");
  ok(smtpcode_reply_info(599) == NULL && smtpcode_reply_info(0) == NULL &&
         smtpcode_reply_info(-550) == NULL && smtpcode_reply_info(100000) == NULL,
     "unknown reply codes give NULL");
}

static void test_digits(void) {
  int p, d, bad = 0;
  for (p = 1; p <= 3; p++)
    for (d = 0; d <= 9; d++)
      if (smtpcode_reply_digit(p, d) == NULL) bad++;
  ok(bad == 0, "every digit of every position is described");
  ok(streq(smtpcode_reply_digit(1, 5)->title, "Permanent Negative Completion"),
     "first digit 5");
  ok(streq(smtpcode_reply_digit(2, 5)->title, "Mail system"), "second digit 5");
  ok(smtpcode_reply_digit(1, 6) == smtpcode_reply_digit(1, 0),
     "first digits 0 and 6 share the invalid row");
  ok(smtpcode_reply_digit(0, 1) == NULL && smtpcode_reply_digit(1, 10) == NULL &&
         smtpcode_reply_digit(4, 1) == NULL && smtpcode_reply_digit(1, -1) == NULL,
     "bad position or digit gives NULL");
}

static void test_enhanced(void) {
  int i, n = smtpcode_registry_count(SMTPCODE_REG_ENHANCED), bad = 0, fb;
  int cls[4] = {0, 2, 4, 5};
  for (i = 0; i < n; i++) {
    const smtpcode_entry *e = smtpcode_registry_at(SMTPCODE_REG_ENHANCED, i);
    int c;
    char buf[32];
    snprintf(buf, sizeof buf, "X.%d.%d", e->subject, e->detail);
    if (!streq(e->code, buf)) bad++;
    for (c = 0; c < 4; c++) {
      if (smtpcode_enhanced_info(cls[c], e->subject, e->detail, &fb) != e ||
          fb != SMTPCODE_FB_NONE)
        bad++;
    }
  }
  ok(bad == 0, "enhanced_info finds every registry row in every class");
  ok(streq(smtpcode_enhanced_info(5, 7, 30, NULL)->title, "REQUIRETLS support required"),
     "X.7.30 is REQUIRETLS");
  ok(streq(smtpcode_enhanced_info(5, 1, 10, NULL)->title, "Recipient address has null MX"),
     "X.1.10 is null MX");
  {
    const smtpcode_entry *e = smtpcode_enhanced_info(5, 1, 99, &fb);
    ok(e != NULL && streq(e->code, "X.1.0") && fb == SMTPCODE_FB_SUBJECT,
       "5.1.99 falls back to its subject (X.1.0)");
    e = smtpcode_enhanced_info(4, 7, 32, &fb);
    ok(e != NULL && streq(e->code, "X.7.0") && fb == SMTPCODE_FB_SUBJECT,
       "4.7.32 (unregistered) falls back to X.7.0");
    e = smtpcode_enhanced_info(5, 9, 1, &fb);
    ok(e != NULL && e->kind == SMTPCODE_REG_CLASS && e->cls == 5 &&
           fb == SMTPCODE_FB_CLASS,
       "5.9.1 falls back to its class");
    e = smtpcode_enhanced_info(2, 999, 999, &fb);
    ok(e != NULL && e->cls == 2 && fb == SMTPCODE_FB_CLASS, "2.999.999 falls back to class 2");
    fb = 7;
    ok(smtpcode_enhanced_info(0, 9, 9, &fb) == NULL && fb == SMTPCODE_FB_NONE,
       "X.9.9 is unknown");
    ok(smtpcode_enhanced_info(9, 1, 1, NULL) == NULL &&
           smtpcode_enhanced_info(3, 1, 1, NULL) == NULL &&
           smtpcode_enhanced_info(-1, 1, 1, NULL) == NULL,
       "classes other than 2, 4, 5, X give NULL");
    ok(smtpcode_enhanced_info(5, 1000, 1, NULL) == NULL &&
           smtpcode_enhanced_info(5, 1, 1000, NULL) == NULL &&
           smtpcode_enhanced_info(5, -1, 1, NULL) == NULL &&
           smtpcode_enhanced_info(5, 1, -1, NULL) == NULL,
       "subject or detail outside 0..999 gives NULL");
  }
}

static void test_classes_subjects(void) {
  int s, bad = 0;
  for (s = 0; s < 8; s++) {
    const smtpcode_entry *e = smtpcode_subject_info(s);
    char buf[32];
    snprintf(buf, sizeof buf, "X.%d.YYY", s);
    if (e == NULL || e->subject != s || !streq(e->code, buf)) bad++;
  }
  ok(bad == 0, "subjects 0..7 are indexed by subject");
  ok(smtpcode_subject_info(8) == NULL && smtpcode_subject_info(-1) == NULL,
     "subject 8 and -1 give NULL");
  ok(streq(smtpcode_class_info(4)->title, "Persistent Transient Failure") &&
         streq(smtpcode_class_info(2)->code, "2.XXX.YYY"),
     "class 4 and 2");
  ok(smtpcode_class_info(3) == NULL && smtpcode_class_info(0) == NULL, "class 3 and 0 give NULL");
}

static void test_pairs(void) {
  int i, n = smtpcode_registry_count(SMTPCODE_REG_PAIR), bad = 0;
  for (i = 0; i < n; i++) {
    const smtpcode_entry *e = smtpcode_registry_at(SMTPCODE_REG_PAIR, i);
    if (smtpcode_pair_info(e->reply, e->cls, e->subject, e->detail) != e) bad++;
    if (smtpcode_reply_info(e->reply) == NULL) bad++;
    if (smtpcode_enhanced_info(e->cls, e->subject, e->detail, NULL) == NULL) bad++;
  }
  ok(bad == 0, "pair_info finds every pair; both codes are known");
  ok(smtpcode_pair_info(550, 5, 7, 0) != NULL &&
         smtpcode_pair_info(550, 5, 7, 0)->remarks != NULL,
     "550 5.7.0 says where it differs from the registry");
  ok(smtpcode_pair_info(550, 5, 7, 1) == NULL && smtpcode_pair_info(551, 5, 1, 1) == NULL,
     "other pairs give NULL");
}

static int hasnote(int reply, int cls, int s, int d, const char *provider,
                   const char *code) {
  const smtpcode_entry *out[16];
  int i, n = smtpcode_notes(reply, cls, s, d, out, 16);
  for (i = 0; i < n && i < 16; i++)
    if (streq(out[i]->provider, provider) && (code == NULL || streq(out[i]->code, code)))
      return 1;
  return 0;
}

static void test_notes(void) {
  int i, n = smtpcode_registry_count(SMTPCODE_REG_NOTE), bad = 0;
  const smtpcode_entry *out[2];
  for (i = 0; i < n; i++) {
    const smtpcode_entry *e = smtpcode_registry_at(SMTPCODE_REG_NOTE, i);
    if (e->provider == NULL) bad++;
    if (e->reply > 0) {
      if (!hasnote(e->reply, -1, -1, -1, e->provider, e->code)) bad++;
    } else {
      int c, d;
      for (c = 2; c <= 5; c++) {
        if (!((e->mask >> c) & 1)) continue;
        for (d = e->detail; d <= e->detail_hi; d++)
          if (!hasnote(0, c, e->subject, d, e->provider, e->code)) bad++;
      }
      if (!hasnote(0, 0, e->subject, e->detail, e->provider, e->code)) bad++;
    }
  }
  ok(n > 50 && bad == 0, "smtpcode_notes finds every note over its whole range");
  ok(hasnote(0, 5, 7, 27, "Gmail", "4/5.7.27") && hasnote(0, 4, 7, 27, "Gmail", NULL) &&
         !hasnote(0, 2, 7, 27, "Gmail", NULL),
     "Gmail 5.7.27 and 4.7.27, not 2.7.27");
  ok(hasnote(0, 5, 4, 1, "Microsoft", "5.4.1") && !hasnote(0, 4, 4, 1, "Microsoft", NULL),
     "Microsoft 5.4.1 only in class 5");
  ok(hasnote(0, 5, 7, 620, "Microsoft", "5.7.606-649") &&
         hasnote(0, 4, 7, 650, "Microsoft", "4.7.500-699") &&
         !hasnote(0, 5, 7, 650, "Microsoft", NULL),
     "Microsoft ranges 5.7.606-649 and 4.7.500-699");
  ok(hasnote(0, 4, 7, 0, "Yahoo", NULL) && hasnote(554, -1, -1, -1, "Yahoo", "554"),
     "Yahoo tags on 4.7.0 and reply 554");
  ok(smtpcode_notes(0, 5, 1, 1, out, 0) >= 1, "count is returned even with cap 0");
  ok(smtpcode_notes(250, 2, 0, 0, out, 2) == 0, "250 2.0.0 has no notes");
  ok(smtpcode_notes(0, 9, 7, 27, out, 2) == 0 && smtpcode_notes(-1, -1, -1, -1, out, 2) == 0 &&
         smtpcode_notes(100000, 5, 1000, 1000, out, 2) == 0,
     "bad arguments find no notes");
}

static void test_names(void) {
  ok(streq(smtpcode_standard_name(SMTPCODE_STD_NONSTANDARD), "non-standard") &&
         streq(smtpcode_standard_name(SMTPCODE_STD_REGISTRY), "registry") &&
         smtpcode_standard_name(0) == NULL && smtpcode_standard_name(7) == NULL,
     "standard names");
  ok(streq(smtpcode_regkind_name(SMTPCODE_REG_REPLY_ALT), "reply_alt") &&
         smtpcode_regkind_name(9) == NULL,
     "kind names");
  ok(streq(smtpcode_fallback_name(SMTPCODE_FB_SUBJECT), "subject") &&
         smtpcode_fallback_name(3) == NULL,
     "fallback names");
}

int main(void) {
  test_rows();
  test_counts();
  test_reply();
  test_digits();
  test_enhanced();
  test_classes_subjects();
  test_pairs();
  test_notes();
  test_names();
  return done_testing();
}
