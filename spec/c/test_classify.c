/*
** C tests of the classifier (src/classify.c, src/rules_data.c). Inputs sit
** at the very end of a page followed by an unreadable guard page, so any
** read past the span crashes. Prints TAP.
*/
#if !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE
#endif
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/smtpcode.h"
#include "../../src/mojibake.h"
#include "../../src/rules_data.h"
#include "tap.h"

static smtpcode_verdict cl(const char *s) {
  smtpcode_verdict v;
  size_t n = strlen(s);
  smtpcode_classify(guard(s, n), n, NULL, &v);
  return v;
}

/* classify with the codes given (no smtpcode_find) */
static smtpcode_verdict clf(const char *s, int code, int c, int sb, int d) {
  smtpcode_found f;
  smtpcode_verdict v;
  size_t n = strlen(s);
  memset(&f, 0, sizeof f);
  f.code = code;
  f.cls = c;
  f.subject = sb;
  f.detail = d;
  f.code_off = -1;
  f.how = code ? SMTPCODE_HOW_REPLY : (c ? SMTPCODE_HOW_STATUS : 0);
  smtpcode_classify(guard(s, n), n, &f, &v);
  return v;
}

static void test_names(void) {
  static const char *const names[] = {
    "user_unknown", "mailbox_full", "mailbox_disabled", "bad_address",
    "host_unknown", "sender_rejected", "relay_denied", "greylisted",
    "rate_limited", "blocklisted", "spam", "policy", "sender_auth",
    "auth_required", "tls_required", "too_large", "syntax", "network",
    "expired", "loop", "service_unavailable", "system_error", "unknown"
  };
  int i, good = 1;
  for (i = 0; i < 23; i++) {
    const char *n = smtpcode_reason_name(i + 1);
    if (n == NULL || strcmp(n, names[i]) != 0) good = 0;
    if (smtpcode_reason_of(names[i], strlen(names[i])) != i + 1) good = 0;
  }
  ok(good, "reason names are the documented vocabulary, both ways");
  ok(smtpcode_reason_name(0) == NULL && smtpcode_reason_name(24) == NULL,
     "no name for NONE or out of range");
  ok(smtpcode_reason_of("user", 4) < 0 && smtpcode_reason_of("user_unknownx", 13) < 0,
     "prefixes and longer words are not reasons");
  ok(strcmp(smtpcode_scope_name(SMTPCODE_SCOPE_DESTINATION), "destination") == 0 &&
     smtpcode_scope_of("session", 7) == SMTPCODE_SCOPE_SESSION,
     "scope names");
}

static void test_decisions(void) {
  smtpcode_verdict v;
  smtpcode_rule r;
  v = clf("User unknown", 550, 5, 1, 1);
  ok(v.reason == SMTPCODE_REASON_USER_UNKNOWN && v.bounce == SMTPCODE_BOUNCE_HARD &&
     v.retry == SMTPCODE_RETRY_NO && v.scope == SMTPCODE_SCOPE_RECIPIENT,
     "550 5.1.1 user unknown: hard, no retry, recipient");
  ok(v.by == SMTPCODE_BY_TEXT && smtpcode_rule_info(v.rule, &r) == 0 &&
     strcmp(r.match, "user unknown") == 0 && r.line > 0,
     "the deciding rule is reported");
  v = clf("QUEUE.Expired; message expired", 550, 4, 4, 7);
  ok(v.severity == SMTPCODE_SEV_PERMANENT && v.retry == SMTPCODE_RETRY_NO &&
     v.reason == SMTPCODE_REASON_EXPIRED && (v.flags & SMTPCODE_V_MISMATCH),
     "550 4.4.7: the reply code decides permanence");
  v = clf("Greylisted", 451, 5, 7, 1);
  ok(v.severity == SMTPCODE_SEV_TRANSIENT && v.retry == SMTPCODE_RETRY_YES &&
     v.reason == SMTPCODE_REASON_GREYLISTED, "451 5.7.1 greylisted: transient");
  v = clf("xyzzy", 0, 5, 1, 1);
  ok(v.severity == SMTPCODE_SEV_PERMANENT && v.reason == SMTPCODE_REASON_USER_UNKNOWN &&
     v.by == SMTPCODE_BY_ENHANCED, "enhanced code alone: its class and entry decide");
  v = clf("xyzzy", 550, 5, 7, 777);
  ok(v.reason == SMTPCODE_REASON_POLICY && v.by == SMTPCODE_BY_CLASS,
     "unknown detail falls back to the subject");
  v = clf("xyzzy", 503, 0, 0, 0);
  ok(v.reason == SMTPCODE_REASON_SYNTAX && v.by == SMTPCODE_BY_REPLY,
     "reply code default");
  v = clf("xyzzy", 550, 0, 0, 0);
  ok(v.reason == SMTPCODE_REASON_UNKNOWN && v.by == SMTPCODE_BY_NONE &&
     v.bounce == SMTPCODE_BOUNCE_SOFT, "nothing known: unknown, soft");
  v = clf("Connection timed out", 0, 0, 0, 0);
  ok(v.severity == SMTPCODE_SEV_UNKNOWN && v.reason == SMTPCODE_REASON_NETWORK &&
     v.retry == SMTPCODE_RETRY_YES, "no code: the text decides; timeout retries");
  v = clf("nothing to see", 0, 0, 0, 0);
  ok(v.reason == SMTPCODE_REASON_UNKNOWN && v.retry == SMTPCODE_RETRY_NA,
     "no code, no words: unknown, retry not applicable");
  v = clf("OK", 250, 2, 0, 0);
  ok(v.reason == SMTPCODE_REASON_NONE && v.bounce == SMTPCODE_BOUNCE_NONE &&
     v.retry == SMTPCODE_RETRY_NA && v.scope == SMTPCODE_SCOPE_NONE,
     "success has no reason");
  ok(strcmp(smtpcode_verdict_description(&v), smtpcode_verdict_description(&v)) == 0 &&
     strlen(smtpcode_verdict_advice(&v)) > 0, "success has plain-words text");
  v = clf("Too many recipients", 552, 5, 5, 3);
  ok(v.reason == SMTPCODE_REASON_RATE_LIMITED &&
     v.severity == SMTPCODE_SEV_TRANSIENT && (v.flags & SMTPCODE_V_RCPTS552),
     "552 too many recipients is transient");
  v = clf("Mailbox full", 552, 5, 2, 2);
  ok(v.reason == SMTPCODE_REASON_MAILBOX_FULL && v.severity == SMTPCODE_SEV_PERMANENT &&
     v.bounce == SMTPCODE_BOUNCE_SOFT, "552 5.2.2 full: permanent, soft");
}

static void test_text(void) {
  smtpcode_verdict v;
  v = cl("553 5.1.8 <a@example.org>: Sender address rejected: Domain not found");
  ok(v.reason == SMTPCODE_REASON_SENDER_REJECTED && v.scope == SMTPCODE_SCOPE_SENDER,
     "sender context turns domain not found into sender_rejected");
  v = cl("450 4.1.2 <b@example.net>: Recipient address rejected: Domain not found");
  ok(v.reason == SMTPCODE_REASON_HOST_UNKNOWN, "recipient domain not found");
  v = cl("Sender address rejected: User unknown in local recipient table");
  ok(v.reason == SMTPCODE_REASON_SENDER_REJECTED, "sender user unknown");
  v = cl("550 5.7.1 Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org");
  ok(v.reason == SMTPCODE_REASON_BLOCKLISTED, "DNSBL beats 5.7.1 and 'service unavailable'");
  v = cl("USER UNKNOWN");
  ok(v.reason == SMTPCODE_REASON_USER_UNKNOWN, "ASCII case is folded");
  v = cl("user\tunknown");
  ok(v.reason == SMTPCODE_REASON_USER_UNKNOWN, "tab reads as a space");
  v = cl("spammer");
  ok(v.reason == SMTPCODE_REASON_UNKNOWN, "word boundary: spam in spammer is not spam");
  v = cl("550 5.1.1 <x>... 192.0.2.1 has sent to too many recipients this hour. IB607");
  ok(v.reason == SMTPCODE_REASON_RATE_LIMITED, "strong text vetoes 5.1.1");
  v = cl("Received-SPF: Pass (mailfrom) identity=mailfrom");
  ok(v.reason == SMTPCODE_REASON_UNKNOWN && v.by == SMTPCODE_BY_NONE &&
     v.retry == SMTPCODE_RETRY_NA, "a bare word does not make a failure");
  v = cl("550 5.7.1 SPF");
  ok(v.reason == SMTPCODE_REASON_SENDER_AUTH, "a bare word refines a code");
  v = cl("Delivery has been delayed to these recipients: 400 4.4.7 Message delayed");
  ok(v.severity == SMTPCODE_SEV_TRANSIENT && v.retry == SMTPCODE_RETRY_YES &&
     v.bounce == SMTPCODE_BOUNCE_NONE && (v.flags & SMTPCODE_V_DELAYED) &&
     v.reason != SMTPCODE_REASON_EXPIRED, "a delay notice is delayed");
  v = cl("550 5.1.1 user unknown; it had been delayed");
  ok(v.severity == SMTPCODE_SEV_PERMANENT && !(v.flags & SMTPCODE_V_DELAYED) &&
     v.bounce == SMTPCODE_BOUNCE_HARD, "a permanent reply is not delayed");
  v = cl("550 5.7.1 Your IP 192.0.2.7 has a poor sending reputation");
  ok(v.reason == SMTPCODE_REASON_BLOCKLISTED, "near: poor ~ reputation, a word between");
  v = cl("550 5.7.1 poor. Your reputation is fine");
  ok(v.reason != SMTPCODE_REASON_BLOCKLISTED, "near: not across a sentence end");
  v = cl("550 5.7.1 poor one two three four five six reputation");
  ok(v.reason != SMTPCODE_REASON_BLOCKLISTED, "near: not past five words");
  v = cl("550 5.7.1 poor one two three four reputation");
  ok(v.reason == SMTPCODE_REASON_BLOCKLISTED, "near: four words between");
  v = cl("5.3.0 - Other mail system problem 550-'Mailbox unavailable'");
  ok(v.code == 550 && v.reason == SMTPCODE_REASON_USER_UNKNOWN,
     "vendor prefix: the quoted reply, its title ignored");
}

/*
** The scan reads long texts with two interleaved streams; where it splits
** must not change anything. Texts with phrases across every split point,
** sender and recipient markers on both sides, and every suffix of them.
*/
static void test_split(void) {
  static const char *const texts[] = {
    "Mar  4 08:16:56 mail postfix/smtp[21941]: 94147676F6: to=<peggy@example.net>, "
    "relay=mx1.example.net[198.51.100.7]:25, dsn=5.1.1, status=bounced (host "
    "mx1.example.net[198.51.100.7] said: 550 5.1.1 <peggy@example.net>: Recipient "
    "address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))",
    "553 5.1.8 <a@example.org>: Sender address rejected: Domain not found; also the "
    "recipient mailbox is full and the message was blocked using zen.spamhaus.org, "
    "greylisted, please try again later; too many connections from your IP address",
    "550-5.7.26 This mail has been blocked because the sender is unauthenticated.\r\n"
    "550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.\r\n"
    "550-5.7.26 Authentication results: DKIM = did not pass SPF [example.com] with ip: "
    "[192.0.2.1] = did not pass\r\n550 5.7.26 For instructions see the help page",
  };
  static char all[2048]; /* all three: blocks end at every place */
  size_t t, off, nall = 0;
  int bad = 0, cases = 0, split;
  for (t = 0; t < sizeof texts / sizeof texts[0]; t++) {
    size_t n = strlen(texts[t]);
    memcpy(all + nall, texts[t], n);
    nall += n;
    all[nall++] = ' ';
  }
  for (t = 0; t <= sizeof texts / sizeof texts[0]; t++) {
    const char *text = t < sizeof texts / sizeof texts[0] ? texts[t] : all;
    size_t n = t < sizeof texts / sizeof texts[0] ? strlen(text) : nall;
    for (off = 0; off < n; off++) {
      smtpcode_verdict one, two;
      const char *g = guard(text + off, n - off);
      unsigned long d = smtpcode_scan_digest(g, n - off, 1 << 30);
      smtpcode_classify_split(g, n - off, NULL, &one, 1 << 30);
      for (split = 1; split <= 80; split += 13) { /* 1 << 30: one stream */
        smtpcode_classify_split(g, n - off, NULL, &two, split);
        bad += memcmp(&one, &two, sizeof one) != 0;
        bad += smtpcode_scan_digest(g, n - off, split) != d;
        cases++;
      }
    }
  }
  /* a last block of 1 to 3 bytes after a phrase that ends the first */
  for (off = 0; off + 515 < nall; off++) {
    for (t = 513; t <= 515; t++) {
      const char *g = guard(all + off, t);
      unsigned long d = smtpcode_scan_digest(g, t, 1 << 30);
      for (split = 1; split <= 3; split++) {
        bad += smtpcode_scan_digest(g, t, split) != d;
        cases++;
      }
    }
  }
  ok(bad == 0 && cases > 1000, "one stream or four: the same phrases found, the same verdicts");
}

/* smtpcode_verdict_text names the texts a verdict gets: the same number,
** the same description and advice, over every severity, reason and retry. */
/* fields without an enhanced code: the one written in the text is used */
static void test_fields(void) {
  static const char text[] = "Sorry, no mailbox here by that name. (#5.1.1)";
  smtpcode_verdict v, w;
  v = clf(text, 550, 0, 0, 0);
  w = cl("550 Sorry, no mailbox here by that name. (#5.1.1)");
  ok(v.reason == SMTPCODE_REASON_USER_UNKNOWN && v.code == 550 && v.cls == 5 &&
     v.subject == 1 && v.detail == 1, "code 550 and qmail text: user_unknown, 5.1.1");
  ok(memcmp(&v, &w, sizeof v) == 0, "the same verdict as the whole reply");
  v = clf("Requested action aborted (#4.3.0)", 0, 0, 0, 0);
  ok(v.cls == 4 && v.subject == 3 && v.detail == 0 &&
     v.severity == SMTPCODE_SEV_TRANSIENT, "no reply code: the text's enhanced code");
  v = clf("550 5.1.1 user unknown", 451, 0, 0, 0);
  ok(v.code == 451 && v.cls == 0, "not from a reply with another reply code");
  v = clf(text, 550, 5, 7, 1);
  ok(v.cls == 5 && v.subject == 7 && v.detail == 1, "the caller's enhanced code wins");
}

static void test_texts(void) {
  const char *desc[SMTPCODE_VERDICT_TEXTS], *adv[SMTPCODE_VERDICT_TEXTS];
  int sev, r, rt, bad = 0, seen = 0;
  memset(desc, 0, sizeof desc);
  memset(adv, 0, sizeof adv);
  for (sev = 0; sev <= 5; sev++)
    for (r = -1; r <= SMTPCODE_REASON_COUNT; r++)
      for (rt = 0; rt <= 2; rt++) {
        smtpcode_verdict v;
        int t;
        memset(&v, 0, sizeof v);
        v.severity = sev;
        v.reason = r;
        v.retry = rt;
        t = smtpcode_verdict_text(&v);
        if (t < 0 || t >= SMTPCODE_VERDICT_TEXTS) {
          bad++;
          continue;
        }
        if (desc[t] == NULL) {
          desc[t] = smtpcode_verdict_description(&v);
          adv[t] = smtpcode_verdict_advice(&v);
          seen++;
        } else if (desc[t] != smtpcode_verdict_description(&v) ||
                   adv[t] != smtpcode_verdict_advice(&v)) {
          bad++;
        }
      }
  ok(bad == 0 && seen > SMTPCODE_REASON_COUNT,
     "smtpcode_verdict_text: one number per description and advice");
}

static void test_bounds(void) {
  static char big[SMTPCODE_MAX_CLASSIFY + 64];
  smtpcode_verdict v;
  smtpcode_found f;
  memset(big, 'a', sizeof big);
  memcpy(big + sizeof big - 12, "user unknown", 12);
  memset(&f, 0, sizeof f);
  smtpcode_classify(big, sizeof big, &f, &v);
  ok((v.flags & SMTPCODE_V_TRUNCATED) && v.reason == SMTPCODE_REASON_UNKNOWN,
     "text past the limit is not read");
  smtpcode_classify(NULL, 5, NULL, &v);
  ok(v.reason == SMTPCODE_REASON_UNKNOWN && v.severity == SMTPCODE_SEV_UNKNOWN,
     "NULL text is empty");
  smtpcode_classify("", 0, NULL, &v);
  ok(v.reason == SMTPCODE_REASON_UNKNOWN, "empty text");
  {
    unsigned char all[256];
    int i;
    for (i = 0; i < 256; i++) all[i] = (unsigned char)i;
    smtpcode_classify(guard((const char *)all, 256), 256, NULL, &v);
    ok(1, "every byte value is accepted");
  }
  ok(smtpcode_settle(&v, 99, 0) < 0 && smtpcode_settle(&v, 0, 0) < 0,
     "settle rejects bad reasons");
  v = clf("User unknown", 550, 5, 1, 1);
  ok(smtpcode_settle(&v, SMTPCODE_REASON_POLICY, 0) == 0 &&
     v.reason == SMTPCODE_REASON_POLICY && v.by == SMTPCODE_BY_USER &&
     v.bounce == SMTPCODE_BOUNCE_SOFT && v.scope == SMTPCODE_SCOPE_MESSAGE,
     "settle recomputes bounce and scope");
  ok(smtpcode_rule_count() > 500 &&
     smtpcode_rule_info(smtpcode_rule_count(), NULL) == SMTPCODE_ENOTFOUND,
     "rule table size and bounds");
  /* the generated rows and the scan's shift agree */
  ok(SCR_LOEND < SCR_HIGH && (int)SCR_NLO <= smtpcode_rd_ncls &&
         smtpcode_rd_ncls <= 255 &&
         smtpcode_rd_scan.bcls['u'] % SCR_K0 == 0 && SCR_NCOL <= SCR_NLO &&
         smtpcode_rd_scan.bcls['U'] == smtpcode_rd_scan.bcls['u'],
     "the byte table's low entries are column offsets below SCR_HIGH");
}

/* smtpcode_verdict_by and smtpcode_evidence_name: the `by` of classify */
static void test_by(void) {
  smtpcode_verdict v = cl("550 5.1.1 User unknown");
  ok(smtpcode_verdict_by(&v) == SMTPCODE_BY_TEXT &&
         strcmp(smtpcode_evidence_name(smtpcode_verdict_by(&v)), "rule") == 0,
     "a text rule decided: rule");
  v = cl("554 5.7.1 xyz");
  ok(smtpcode_verdict_by(&v) == SMTPCODE_BY_ENHANCED, "an enhanced code decided");
  v = cl("250 2.0.0 Ok");
  ok(v.by == SMTPCODE_BY_NONE && smtpcode_verdict_by(&v) == SMTPCODE_BY_REPLY,
     "a success is shown as decided by its reply code");
  v = cl("hello world");
  ok(smtpcode_verdict_by(&v) == SMTPCODE_BY_NONE &&
         smtpcode_evidence_name(SMTPCODE_BY_NONE) == NULL,
     "nothing decided: no name");
  ok(strcmp(smtpcode_evidence_name(SMTPCODE_BY_CLASS), "enhanced_subject") == 0 &&
         strcmp(smtpcode_evidence_name(SMTPCODE_BY_USER), "user") == 0 &&
         strcmp(smtpcode_evidence_name(SMTPCODE_BY_REPLY), "reply") == 0 &&
         smtpcode_evidence_name(-1) == NULL && smtpcode_evidence_name(6) == NULL,
     "evidence names and bounds");
}

/* A multi-line reply's line break and repeated code read as one blank
** (joinview): phrases across them hold; a prefix cut at the end of the
** text is read inside the span; a text longer than the repair buffer is
** read as it is. */
static void test_multiline(void) {
  static char big[SMTPCODE_MAX_REPAIR + 200];
  const char *head = "421-4.7.28 an unusual rate of\r\n421-4.7.28 unsolicited mail";
  smtpcode_verdict v;
  size_t i;
  v = cl(head);
  ok(v.reason == SMTPCODE_REASON_BLOCKLISTED && v.code == 421 && v.cls == 4 &&
         v.subject == 7 && v.detail == 28,
     "a phrase split by the repeated code holds");
  v = cl("550-5.1.1 no such\n550 user");
  ok(v.reason == SMTPCODE_REASON_USER_UNKNOWN, "LF and a last line without an enhanced code");
  v = cl("550 x\r\n550-5.");
  ok(v.code == 550, "a prefix cut at the end of the text");
  v = cl("550 x\r\n55");
  ok(v.code == 550, "a code cut at the end of the text");
  v = cl("550-x\r\n\r\n");
  ok(v.code == 550, "line breaks at the end of the text");
  memset(big, 'x', sizeof big - 1);
  for (i = 1; i + 1 < sizeof big; i += 2) big[i] = ' ';
  memcpy(big, head, strlen(head));
  big[sizeof big - 1] = '\0';
  smtpcode_classify(big, sizeof big - 1, NULL, &v); /* more than guard's page */
  ok(v.reason == SMTPCODE_REASON_SPAM,
     "a text longer than SMTPCODE_MAX_REPAIR is read unjoined (the limit)");
}

int main(void) {
  if (guard_init() != 0) return 1;
  test_by();
  test_names();
  test_decisions();
  test_text();
  test_split();
  test_fields();
  test_texts();
  test_bounds();
  test_multiline();
  return done_testing();
}
