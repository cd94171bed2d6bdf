/*
** C tests of smtpcode_find (src/find.c). Each input is copied to the end
** of a page followed by an unreadable guard page, so a read past the span
** crashes; every reported span must lie inside the input. Runs the
** free-text catalogue of docs/peers.md 2c, then random inputs built from
** the bytes that matter to the scanner. Prints TAP.
*/
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/smtpcode.h"
#include "tap.h"

/* Is f consistent and inside s[0..n)? (how NONE is consistent when empty) */
static int sane(const char *s, int n, const smtpcode_found *f) {
  if (f->how == SMTPCODE_HOW_NONE) return f->code == 0 && f->cls == 0;
  if (f->how != SMTPCODE_HOW_REPLY && f->how != SMTPCODE_HOW_STATUS) return 0;
  if (f->start < 0 || f->end > n || f->start >= f->end) return 0;
  if (f->text_off < 0 || f->text_len < 0 || f->text_off + f->text_len > n)
    return 0;
  if (f->text_len > 0 && f->text_off + f->text_len != f->end) return 0;
  if (f->nlines < 1) return 0;
  if (f->how == SMTPCODE_HOW_REPLY) {
    int c;
    if (f->code_off != f->start || f->code_off + 3 > n) return 0;
    c = (s[f->code_off] - '0') * 100 + (s[f->code_off + 1] - '0') * 10 +
        (s[f->code_off + 2] - '0');
    if (c != f->code || f->code < 200 || f->code > 559) return 0;
  } else if (f->code != 0 || f->code_off != -1 || f->cls == 0) {
    return 0;
  }
  if (f->cls) {
    int c, sb, d;
    if (f->enh_off < f->start || f->enh_off + f->enh_len > n) return 0;
    if (smtpcode_parse_status(s + f->enh_off, (size_t)f->enh_len, &c, &sb,
                              &d) != f->enh_len)
      return 0;
    if (c != f->cls || sb != f->subject || d != f->detail) return 0;
    if (!!(f->flags & SMTPCODE_F_MISMATCH) !=
        (f->code != 0 && f->code / 100 != f->cls))
      return 0;
  }
  return 1;
}

static int run(const char *s, smtpcode_found *o, smtpcode_found *in) {
  size_t n = strlen(s);
  const char *p = guard(s, n);
  int r = smtpcode_find(p, n, o, in);
  if (!sane(p, (int)n, o) || !sane(p, (int)n, in)) return -100;
  if (in->how != SMTPCODE_HOW_NONE &&
      (in->start < o->start || in->end > o->end))
    return -101;
  return r;
}

static const struct {
  const char *id, *text;
  int code;
  const char *enh;
} cases[] = {
    {"F01", "550 5.1.1 user unknown (in reply to RCPT TO command) 421", 550, "5.1.1"},
    {"F02", "[221] 2.0.0 Bye", 221, "2.0.0"},
    {"F03", "Jan 10 12:00:01 mx postfix/smtp[1234]: 4ABC123: to=<u@example.com>, relay=mx.example.net[192.0.2.1]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=5.1.1, status=bounced (host mx.example.net[192.0.2.1] said: 550 5.1.1 <u@example.com>: Recipient address rejected: User unknown (in reply to RCPT TO command))", 550, "5.1.1"},
    {"F04", "Jan 10 12:00:01 mx postfix/smtp[1234]: 4ABC123: to=<u@example.com>, relay=mx.example.net[192.0.2.1]:25, delay=3, delays=0.1/0/2/0.9, dsn=4.7.1, status=deferred (host mx.example.net[192.0.2.1] said: 450 4.7.1 <u@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html (in reply to RCPT TO command))", 450, "4.7.1"},
    {"F05", "2024-02-10 12:00:00 1rXabc-000abc-AB ** u@example.com R=dnslookup T=remote_smtp H=mx.example.net [192.0.2.1]: SMTP error from remote mail server after RCPT TO:<u@example.com>: 550 5.1.1 User unknown", 550, "5.1.1"},
    {"F06", "2024-02-10 12:00:00 1rXabc-000abc-AB == u@example.com R=dnslookup T=remote_smtp defer (-44) H=mx.example.net [192.0.2.1]: SMTP error from remote mail server after RCPT TO:<u@example.com>: 451 4.7.1 Please try again later", 451, "4.7.1"},
    {"F07", "Feb 10 12:00:00 host sm-mta[999]: 41AB: to=<u@example.com>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=120000, relay=mx.example.net. [192.0.2.1], dsn=5.1.1, stat=User unknown", 0, "5.1.1"},
    {"F08", "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'", 550, "5.1.10"},
    {"F09", "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1 double-checking the recipient's email address for typos or\r\n550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser", 550, "5.1.1"},
    {"F10", "smtplib.SMTPRecipientsRefused: {'u@example.com': (550, b'5.1.1 User unknown')}", 550, "5.1.1"},
    {"F11", "Can't send mail - all recipients were rejected: 550 5.1.1 <u@example.com>: Recipient address rejected", 550, "5.1.1"},
    {"F12", "Diagnostic-Code: smtp; 550 5.1.1 <u@example.com>... User unknown", 550, "5.1.1"},
    {"F13", "Status: 5.1.1", 0, "5.1.1"},
    {"F14", "5.7.1 Relaying denied", 0, "5.7.1"},
    {"F15", "Server at 5.1.1.1 refused the connection", 0, NULL},
    {"F16", "upgrade to v2.0.1 failed", 0, NULL},
    {"F17", "Meeting on 10.2.2024 at 5.30", 0, NULL},
    {"F18", "550 5.7.1 \xe2\x80\x9cMessage rejected\xe2\x80\x9d \xe2\x80\x94 see policy", 550, "5.7.1"},
    {"F19", "SMTP error 550: 5.7.1 Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org", 550, "5.7.1"},
    {"F20", "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes", 421, "4.7.0"},
    {"F21", "452 4.2.2 The email account that you tried to reach is over quota", 452, "4.2.2"},
    {"F22", "552 5.2.2 Mailbox full", 552, "5.2.2"},
    {"F23", "550 5.7.26 This mail has been blocked because the sender is unauthenticated", 550, "5.7.26"},
    {"F24", "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org", 554, "5.7.1"},
    {"F25", "550 11.22.33.44 blacklisted see http://www.spamhaus.org/query/bl?ip=11.22.33.44", 550, NULL},
    {"F26", "Connection timed out", 0, NULL},
    {"F27", "250 2.0.0 OK 1700000000 abc.123 - gsmtp", 250, "2.0.0"},
    {"F28", "550 4.7.1 Try later", 550, "4.7.1"},
    {"F29", "451 5.7.1 Greylisted", 451, "5.7.1"},
    {"F30", "421 Service not available, closing transmission channel", 421, NULL},
    {"F31", "Mail quota exceeded 5.2.2", 0, "5.2.2"},
    {"F32", "  550 5.1.1 leading spaces", 550, "5.1.1"},
    {"F33", "450-4.2.1 The user you are trying to contact is receiving mail too quickly\r\n450 4.2.1 Please resend later", 450, "4.2.1"},
    {"F34", "550 5.1.1000 too long detail", 550, NULL},
    {"F35", "550 5.01.001 leading zeros", 550, NULL},
    {"inner", "450 4.1.1 <u@x>: rejected: host said: 550 5.1.1 User unknown", 450, "4.1.1"},
    {"angle", "554 4.4.7 Message expired.<421 4.4.2 Connection timed out>", 554, "4.4.7"},
    {"python", "(550, b'5.1.1 User unknown')", 550, "5.1.1"},
    {"cut at end", "said: 550 5.1.1", 550, "5.1.1"},
    {"cut in enh", "said: 550 5.1.", 550, NULL},
    {"cut in code", "said: 55", 0, NULL},
};

static void test_cases(void) {
  size_t i;
  char name[96];
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    smtpcode_found o, in;
    int r = run(cases[i].text, &o, &in);
    int want_found = cases[i].code != 0 || cases[i].enh != NULL;
    int good = r > -100 && (want_found ? r == 0 : r == SMTPCODE_ENOTFOUND) &&
               o.code == cases[i].code;
    if (good && cases[i].enh) {
      const char *p = page + pagesz - strlen(cases[i].text);
      good = o.cls != 0 && (size_t)o.enh_len == strlen(cases[i].enh) &&
             memcmp(p + o.enh_off, cases[i].enh, (size_t)o.enh_len) == 0;
    } else if (good) {
      good = o.cls == 0;
    }
    snprintf(name, sizeof name, "%s: code %d, enhanced %s, spans inside",
             cases[i].id, cases[i].code, cases[i].enh ? cases[i].enh : "none");
    ok(good, name);
  }
  {
    smtpcode_found o, in;
    run("450 4.1.1 <u@x>: rejected: host said: 550 5.1.1 User unknown", &o, &in);
    ok(in.how == SMTPCODE_HOW_REPLY && in.code == 550 && in.cls == 5,
       "inner reply reported");
    ok(smtpcode_find("550 5.1.1 x", 11, &o, NULL) == 0 && o.code == 550,
       "inner may be NULL");
    ok(smtpcode_find(NULL, 5, &o, &in) == SMTPCODE_ENOTFOUND &&
           o.how == SMTPCODE_HOW_NONE && in.how == SMTPCODE_HOW_NONE,
       "NULL text: not found");
    ok(smtpcode_find("", 0, &o, &in) == SMTPCODE_ENOTFOUND, "empty text");
  }
}

/* Every prefix of every case: a cut never reads past the span. */
static void test_prefixes(void) {
  size_t i, k;
  int bad = 0;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = strlen(cases[i].text);
    for (k = 0; k <= n; k++) {
      smtpcode_found o, in;
      const char *p = guard(cases[i].text, k);
      smtpcode_find(p, k, &o, &in);
      if (!sane(p, (int)k, &o) || !sane(p, (int)k, &in)) bad++;
    }
  }
  ok(bad == 0, "every prefix of every case gives spans inside the input");
}

/* Random texts made of the bytes the scanner cares about. */
static void test_random(void) {
  static const char *const atoms[] = {
      "550", "5.1.1", "4.7.1", "250", "421", " ", " ", " ", "-", ".", ":",
      ";", "(", ")", "[", "]", "<", ">", "'", "\"", "#", "=", "dsn", "said",
      "error", "\r\n", "\n", "x", "ab", "1", "2", "0", "\xe2\x80\x98",
      "\xe2\x80\x99", "\xe2\x80\x9c", "\xc2\xab", "\xe2", "://", " (in reply to ",
      "##", ",", "b'", "\0"};
  char buf[512];
  int t, bad = 0, found = 0, inner = 0;
  unsigned seed = 12345u;
  for (t = 0; t < 200000; t++) {
    size_t n = 0;
    int parts, k;
    smtpcode_found o, in;
    const char *p;
    seed = seed * 1103515245u + 12345u;
    parts = 1 + (int)((seed >> 16) % 24);
    for (k = 0; k < parts; k++) {
      const char *a;
      size_t al;
      seed = seed * 1103515245u + 12345u;
      a = atoms[(seed >> 16) % (sizeof atoms / sizeof atoms[0])];
      al = a[0] ? strlen(a) : 1;
      if (n + al > sizeof buf) break;
      memcpy(buf + n, a, al);
      n += al;
    }
    p = guard(buf, n);
    if (smtpcode_find(p, n, &o, &in) == 0) found++;
    if (in.how != SMTPCODE_HOW_NONE) inner++;
    if (!sane(p, (int)n, &o) || !sane(p, (int)n, &in) ||
        (in.how != SMTPCODE_HOW_NONE && (in.start < o.start || in.end > o.end)))
      bad++;
  }
  printf("# random: %d found, %d with an inner reply, of 200000\n", found, inner);
  ok(bad == 0 && found > 1000 && inner > 100,
     "random inputs: every span inside the input and consistent");
}

/* Inputs larger than SMTPCODE_MAX_TEXT: only the first part is searched. */
static void test_large(void) {
  size_t n = 4u * 1024u * 1024u, k;
  char *big = malloc(n);
  smtpcode_found o, in;
  int r;
  if (big == NULL) {
    ok(0, "malloc");
    return;
  }
  for (k = 0; k + 10 <= n; k += 10) memcpy(big + k, "550-5.1.1 ", 10);
  r = smtpcode_find(big, n, &o, &in);
  ok(r == 0 && o.code == 550 && o.end <= SMTPCODE_MAX_TEXT,
     "huge multi-line-looking input: span within SMTPCODE_MAX_TEXT");
  memset(big, 'x', n);
  memcpy(big + n - 20, "said: 550 5.1.1 x", 17);
  ok(smtpcode_find(big, n, &o, &in) == SMTPCODE_ENOTFOUND,
     "a code past SMTPCODE_MAX_TEXT is not searched");
  for (k = 0; k + 6 <= n; k += 6) memcpy(big + k, "(550, ", 6);
  r = smtpcode_find(big, n, &o, &in);
  ok(r == SMTPCODE_ENOTFOUND || o.end <= SMTPCODE_MAX_TEXT,
     "huge input of half-formed candidates");
  free(big);
}

int main(void) {
  if (guard_init() != 0) return 1;
  test_cases();
  test_prefixes();
  test_random();
  test_large();
  return done_testing();
}
