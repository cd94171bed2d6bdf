/*
** test_reasons.c: the reason records of the core (smtpcode_reason_get,
** from data/reasons.tsv) agree with the names, scopes and verdicts the
** rest of the C API gives.
*/
#include "smtpcode.h"
#include "tap.h"

static int nonempty(const char *s) { return s != NULL && s[0] != '\0'; }

static void test_range(void) {
  ok(smtpcode_reason_get(SMTPCODE_REASON_NONE) == NULL, "no record for NONE");
  ok(smtpcode_reason_get(-1) == NULL, "no record for -1");
  ok(smtpcode_reason_get(SMTPCODE_REASON_COUNT) == NULL,
     "no record for SMTPCODE_REASON_COUNT");
}

static void test_records(void) {
  int i, good = 1;
  for (i = 1; i < SMTPCODE_REASON_COUNT; i++) {
    const smtpcode_reason_info *r = smtpcode_reason_get(i);
    const char *name = smtpcode_reason_name(i);
    if (r == NULL || name == NULL || strcmp(r->name, name) != 0 ||
        smtpcode_reason_of(name, strlen(name)) != i ||
        smtpcode_scope_name(r->scope) == NULL ||
        (r->hard != 0 && r->hard != 1) ||
        (r->nocode_retry != 0 && r->nocode_retry != 1) ||
        !nonempty(r->label) || !nonempty(r->description) ||
        !nonempty(r->advice_transient) || !nonempty(r->advice_permanent) ||
        !nonempty(r->who_transient) || !nonempty(r->todo_transient) ||
        !nonempty(r->who_permanent) || !nonempty(r->todo_permanent) ||
        (r->who_nocode == NULL) != (r->todo_nocode == NULL)) {
      good = 0;
      printf("# reason %d (%s) is incomplete\n", i, name ? name : "?");
    }
  }
  ok(good, "every reason has a complete record named as smtpcode_reason_name");
}

static void test_facts(void) {
  const smtpcode_reason_info *r;
  r = smtpcode_reason_get(SMTPCODE_REASON_RELAY_DENIED);
  ok(r->scope == SMTPCODE_SCOPE_SESSION, "relay_denied: scope session");
  r = smtpcode_reason_get(SMTPCODE_REASON_SYSTEM_ERROR);
  ok(r->scope == SMTPCODE_SCOPE_DESTINATION && r->nocode_retry == 1,
     "system_error: scope destination, retried without a code");
  r = smtpcode_reason_get(SMTPCODE_REASON_USER_UNKNOWN);
  ok(r->hard == 1 && r->scope == SMTPCODE_SCOPE_RECIPIENT,
     "user_unknown: hard, scope recipient");
  r = smtpcode_reason_get(SMTPCODE_REASON_MAILBOX_FULL);
  ok(r->hard == 0, "mailbox_full: not hard");
  r = smtpcode_reason_get(SMTPCODE_REASON_NETWORK);
  ok(r->who_nocode != NULL, "network: its own texts for a failure without a code");
}

/* A permanent failure is a hard bounce exactly when the record says so. */
static void test_settle(void) {
  int i, good = 1;
  for (i = 1; i < SMTPCODE_REASON_COUNT; i++) {
    smtpcode_verdict v;
    const char *s = "550 5.0.0 refused";
    const smtpcode_reason_info *r = smtpcode_reason_get(i);
    smtpcode_classify(s, strlen(s), NULL, &v);
    if (smtpcode_settle(&v, i, 0) != 0 || v.scope != r->scope ||
        (v.bounce == SMTPCODE_BOUNCE_HARD) != (r->hard == 1)) {
      good = 0;
      printf("# reason %d (%s): scope %d bounce %d\n", i, r->name, v.scope,
             v.bounce);
    }
  }
  ok(good, "settle gives each reason the record's scope and hard bounce");
}

static void test_scopes(void) {
  int i, good = 1;
  ok(smtpcode_scope_name(0) == NULL, "no name for SCOPE_NONE");
  ok(smtpcode_scope_name(SMTPCODE_SCOPE_SESSION + 1) == NULL,
     "no name past the last scope");
  for (i = 1; i <= SMTPCODE_SCOPE_SESSION; i++) {
    const char *n = smtpcode_scope_name(i);
    if (n == NULL || smtpcode_scope_of(n, strlen(n)) != i) good = 0;
  }
  ok(good, "every scope name reads back as its number");
  ok(strcmp(smtpcode_scope_name(SMTPCODE_SCOPE_DESTINATION), "destination") == 0,
     "scope 4 is destination");
}

int main(void) {
  test_range();
  test_records();
  test_facts();
  test_settle();
  test_scopes();
  return done_testing();
}
