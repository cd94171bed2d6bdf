/*
** test_bounce.c: smtpcode_bounce_read on small messages written from how
** real systems lay out their reports, and on hostile MIME (unterminated
** boundaries, 10,000 nested parts, a 1 MB header, base64 garbage, NUL
** bytes). Runs under ASan/UBSan (make test).
*/


#include "tap.h"
#include <stdlib.h>
#include "../../src/bounce.h"

static smtpcode_brcpt R[16];
static smtpcode_breport O;

static int rd(const char *m, size_t n, char *buf, size_t cap) {
  return smtpcode_bounce_read(m, n, NULL, buf, cap, &O, R, 16);
}

static int spaneq(const char *m, const char *buf, smtpcode_span s, const char *z) {
  const char *p = (s.where ? buf : m) + s.off;
  return (size_t)s.len == strlen(z) && memcmp(p, z, (size_t)s.len) == 0;
}

static const char dsn[] =
    "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
    "Subject: Undelivered Mail Returned to Sender\r\n"
    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
    "\tboundary=\"B1/x\"\r\n"
    "\r\n"
    "--B1/x\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mx.example.net.\r\n"
    "--B1/x\r\nContent-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.example.net\r\n\r\n"
    "final-recipient: rfc822; ann@example.org\r\n"
    "ACTION: failed\r\nStatus: 5.1.1\r\n"
    "Diagnostic-Code: smtp; 550-5.1.1 mailbox ann@example.org is unknown\r\n"
    " 550 5.1.1 please check the address\r\n\r\n"
    "Final-Recipient: rfc822; bob@example.com\r\nAction: delayed\r\n"
    "Status: 4.4.1 (no answer)\r\n"
    "Diagnostic-Code: X-Postfix; connect to 192.0.2.25:25: timed out\r\n"
    "--B1/x\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    "Message-ID: <q1@example.com>\r\nSubject: =?utf-8?q?caf=C3=A9?= =?iso-8859-1?q?_cr=E8me?=\r\n";

int main(void) {
  char *buf = malloc(4 * 1024 * 1024);
  char *big;
  size_t n, i;
  int st;
  if (guard_init() < 0 || buf == NULL) return 1;

  st = rd(dsn, sizeof dsn - 1, buf, 8192);
  ok(st == 0 && O.format == SMTPCODE_BF_DSN && O.nrcpt == 2, "a DSN of two recipients, no close delimiter");
  ok(spaneq(dsn, buf, R[0].recipient, "ann@example.org") && R[0].action == SMTPCODE_ACT_FAILED &&
         R[0].v.code == 550 && R[0].v.cls == 5 && R[0].v.subject == 1 && R[0].v.detail == 1 &&
         R[0].v.reason == SMTPCODE_REASON_USER_UNKNOWN && R[0].v.bounce == SMTPCODE_BOUNCE_HARD,
     "fields in any case; folded diagnostic; user unknown, hard");
  ok(spaneq(dsn, buf, R[0].diagnostic, "550 5.1.1 mailbox ann@example.org is unknown please check the address"),
     "diagnostic unfolded, the repeated 550 5.1.1 prefix left out");
  ok(R[1].action == SMTPCODE_ACT_DELAYED && R[1].v.bounce == SMTPCODE_BOUNCE_SOFT &&
         R[1].v.retry == SMTPCODE_RETRY_YES && R[1].v.cls == 4,
     "a delayed recipient is soft and retried");
  ok(spaneq(dsn, buf, O.message_id, "<q1@example.com>") &&
         spaneq(dsn, buf, O.subject, "caf\xc3\xa9 cr\xc3\xa8me"),
     "returned headers; RFC 2047 words in UTF-8 and ISO-8859-1 decoded");
  ok(O.mta != 0 && strcmp(smtpcode_bounce_mta_name(O.mta), "postfix") == 0, "mta postfix");

  /* every prefix of the DSN, against the guard page: no read past the end */
  for (n = 0; n <= sizeof dsn - 1; n++) {
    st = rd(guard(dsn, n), n, buf, 2 * n + 4096);
    if (st != 0 && st != SMTPCODE_ENOTBOUNCE && st != SMTPCODE_ESYNTAX) break;
  }
  ok(n == sizeof dsn, "every truncation of a DSN reads inside its input");

  /* ordinary mail */
  {
    static const char m[] = "From: ann@example.org\nSubject: lunch?\n\nsee you at noon\n";
    ok(rd(m, sizeof m - 1, buf, 4096) == SMTPCODE_ENOTBOUNCE, "ordinary mail is not a bounce");
    ok(rd("", 0, buf, 4096) == SMTPCODE_ENOTBOUNCE, "an empty message is not a bounce");
    ok(rd("\n\n", 2, buf, 4096) == SMTPCODE_ESYNTAX, "a message without a header is syntax");
  }

  /* 10,000 nested multiparts */
  big = malloc(2 * 1024 * 1024);
  n = 0;
  n += (size_t)sprintf(big + n, "From: x@example.org\n");
  for (i = 0; i < 10000; i++)
    n += (size_t)sprintf(big + n, "Content-Type: multipart/mixed; boundary=b%lu\n\n--b%lu\n",
                         (unsigned long)i, (unsigned long)i);
  st = rd(big, n, buf, 4 * 1024 * 1024);
  ok(st == SMTPCODE_ENOTBOUNCE && (O.flags & SMTPCODE_BR_PARTS), "10,000 nested parts: depth limit, no crash");

  /* a 1 MB header */
  memcpy(big, "X-Big: ", 7);
  memset(big + 7, 'a', 1024 * 1024);
  memcpy(big + 7 + 1024 * 1024, "\n\nbody\n", 7);
  ok(rd(big, 1024 * 1024 + 14, buf, 4 * 1024 * 1024) == SMTPCODE_ETOOLONG, "a 1 MB header field is too_long");

  /* base64 garbage and NUL bytes in the DSN part */
  {
    static const char m[] =
        "Content-Type: multipart/report; report-type=delivery-status; boundary=Z\n\n"
        "--Z\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n"
        "!!!!****\x00\x00\xff\xfe====@@@@\n--Z\nContent-Type: text/plain\n\nx\0y\n--Z--\n";
    st = rd(m, sizeof m - 1, buf, 4096);
    ok(st == 0 && O.format == SMTPCODE_BF_DSN && O.nrcpt == 0, "base64 garbage and NUL bytes: a DSN with no recipient");
  }

  /* no buffer at all, no recipient array */
  st = smtpcode_bounce_read(dsn, sizeof dsn - 1, NULL, NULL, 0, &O, NULL, 0);
  ok(st == 0 && O.nrcpt == 0 && O.total == 2 && (O.flags & SMTPCODE_BR_MORE_RCPTS),
     "no buffer and no recipient array: counts, never writes");

  /* a small buffer: raw spans, never an overflow */
  st = rd(dsn, sizeof dsn - 1, buf, 16);
  ok(st == 0 && O.nrcpt == 2 && (O.flags & SMTPCODE_BR_NOBUF), "a small buffer degrades, never overflows");

  free(big);
  free(buf);
  return done_testing();
}
