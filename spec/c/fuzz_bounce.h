/*
** fuzz_bounce.h: invariants of smtpcode_bounce_read, the walk of a whole
** bounce message, shared by the libFuzzer target spec/c/fuzz_bounce.c and
** spec/c/test_fuzz_regress.c, which replays its seeds and findings
** (spec/c/corpus/bounce/, spec/c/regress/bounce/) under ASan/UBSan.
** Every span lies inside the message or the used part of the buffer; no
** more recipients than the limit and the array; total >= nrcpt; names of
** every enum are known; a delayed recipient is never a hard bounce.
*/
#ifndef smtpcode_fuzz_bounce_h
#define smtpcode_fuzz_bounce_h

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/bounce.h"

#ifndef CHECK
#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "invariant broken at %s:%d: %s\n", __FILE__, __LINE__, \
              #cond);                                                       \
      abort();                                                              \
    }                                                                       \
  } while (0)
#endif

static void span_ok(smtpcode_span s, size_t len, size_t cap) {
  CHECK(s.len >= 0 && s.off >= 0);
  if (s.len == 0) return;
  CHECK(s.where == 0 || s.where == 1);
  CHECK((size_t)s.off + (size_t)s.len <= (s.where ? cap : len));
}

static inline void check_bounce(const uint8_t *data, size_t size) {
  static smtpcode_brcpt r[8];
  static char buf[2 * 65536 + 4096];
  smtpcode_breport out;
  smtpcode_bounce_opts o;
  size_t cap;
  int st, i;
  if (size > 65536) return;
  memset(&o, 0, sizeof o);
  o.max_recipients = 5;
  cap = size & 1 ? size : 2 * size + 4096; /* a small buffer too */
  st = smtpcode_bounce_read((const char *)data, size, &o, buf, cap, &out, r, 8);
  CHECK(st == 0 || st == SMTPCODE_ENOTBOUNCE || st == SMTPCODE_ESYNTAX ||
        st == SMTPCODE_ETOOLONG);
  CHECK(smtpcode_bounce_status_name(st) != NULL || st == 0);
  if (st != 0) return;
  CHECK(out.nrcpt >= 0 && out.nrcpt <= 5 && out.total >= out.nrcpt);
  CHECK(smtpcode_bformat_name(out.format) != NULL);
  span_ok(out.reporting_mta, size, cap);
  span_ok(out.arrival_date, size, cap);
  span_ok(out.report_type, size, cap);
  span_ok(out.headers, size, cap);
  span_ok(out.message_id, size, cap);
  span_ok(out.subject, size, cap);
  span_ok(out.fb_type, size, cap);
  for (i = 0; i < out.nrcpt; i++) {
    CHECK(r[i].recipient.len > 0);
    span_ok(r[i].recipient, size, cap);
    span_ok(r[i].original, size, cap);
    span_ok(r[i].diagnostic, size, cap);
    span_ok(r[i].status_raw, size, cap);
    span_ok(r[i].remote_mta, size, cap);
    CHECK(smtpcode_action_name(r[i].action) != NULL);
    CHECK(r[i].v.reason >= 0 && r[i].v.reason < SMTPCODE_REASON_COUNT);
    CHECK(r[i].action != SMTPCODE_ACT_DELAYED || r[i].v.bounce != SMTPCODE_BOUNCE_HARD);
  }
}

#endif
