/*
** text_check.h: the invariants of a walk of smtpcode_text_next, shared by
** spec/c/test_text.c and the libFuzzer target spec/c/fuzz_text.c: every
** span lies inside the found text, in order, without overlap; no span
** starts with a code the walk drops (text_coded); the walk ends within a
** bounded number of calls. The text
** joined (line break before a SPAN_LINE span but the first) is written to
** out[0..cap) when out is not NULL. Returns the number of spans, or -1
** when an invariant breaks (*why names it).
*/
#ifndef smtpcode_text_check_h
#define smtpcode_text_check_h

#include <stddef.h>
#include <string.h>

#include "../../src/smtpcode.h"

/*
** Does span s[off..off+n) of kind k (not the first) start with a code the
** walk drops: the reply code at the start of a later line of a multi-line
** reply, or, after a dropped code and a blank inside a line, "550-" (no
** enhanced code) or "550-5.1.1" / "550 5.1.1" with the reply's own
** enhanced code? (A JOIN span never starts the text: off > 0.)
*/
static inline int text_coded(const char *s, size_t off, size_t n,
                             const smtpcode_found *f, int k) {
  const char *c;
  size_t e;
  if (f->code_off < 0 || n < 3) return 0;
  c = s + f->code_off;
  if (memcmp(s + off, c, 3) != 0) return 0;
  if (k == SMTPCODE_SPAN_LINE)
    return off > 0 && (s[off - 1] == '\n' || s[off - 1] == '\r');
  if (n < 4 || s[off - 1] != ' ' || (s[off + 3] != '-' && s[off + 3] != ' '))
    return 0;
  if (f->enh_len <= 0) return s[off + 3] == '-';
  e = off + 4 + (size_t)f->enh_len;
  return e <= off + n && memcmp(s + off + 4, s + f->enh_off,
                                (size_t)f->enh_len) == 0 &&
         (e == off + n || s[e] == ' ');
}

static inline int text_walk(const char *s, size_t len, const smtpcode_found *f,
                            char *out, size_t cap, size_t *outlen,
                            const char **why) {
  size_t pos = 0, off, n, last = 0, o = 0, tlen;
  int k, spans = 0;
  *why = "";
  if (outlen) *outlen = 0;
  tlen = f->text_len > 0 ? (size_t)f->text_len : 0;
  while ((k = smtpcode_text_next(s, len, f, &pos, &off, &n)) !=
         SMTPCODE_SPAN_END) {
    size_t i;
    if (k != SMTPCODE_SPAN_LINE && k != SMTPCODE_SPAN_JOIN) {
      *why = "unknown span kind";
      return -1;
    }
    if (spans == 0 && k != SMTPCODE_SPAN_LINE) {
      *why = "the first span does not start a line";
      return -1;
    }
    if (off < (size_t)f->text_off || off + n > (size_t)f->text_off + tlen) {
      *why = "span outside the text";
      return -1;
    }
    if (off < last) {
      *why = "span before the end of the one before";
      return -1;
    }
    if (spans > 0 && text_coded(s, off, n, f, k)) {
      *why = "a span starts with the repeated code";
      return -1;
    }
    if (++spans > (int)tlen + 2) {
      *why = "more spans than bytes";
      return -1;
    }
    if (out) {
      if (spans > 1 && k == SMTPCODE_SPAN_LINE && o < cap) out[o++] = '\n';
      for (i = 0; i < n && o < cap; i++) out[o++] = s[off + i];
    }
    last = off + n;
  }
  if (smtpcode_text_next(s, len, f, &pos, &off, &n) != SMTPCODE_SPAN_END) {
    *why = "a span after the end";
    return -1;
  }
  if (out && o < cap) out[o] = '\0';
  if (outlen) *outlen = o;
  return spans;
}

/*
** The check of the fuzz target (spec/c/fuzz_text.c) and of the replay of
** its corpus (spec/c/test_fuzz_regress.c): find in the bytes, then walk
** the text of the reply and of the one it quotes. Aborts on a broken
** invariant.
*/
#if defined(smtpcode_fuzz_h)
static inline void check_text(const uint8_t *data, size_t size) {
  char *s = fz_dup(data, size);
  smtpcode_found f, in;
  const char *why;
  if (smtpcode_find(s, size, &f, &in) == 0) {
    int k = text_walk(s, size, &f, NULL, 0, NULL, &why);
    if (k < 0) fprintf(stderr, "text: %s\n", why);
    FZ_CHECK(k >= 0);
    /* an empty text gives no span, any other at least one */
    FZ_CHECK((k == 0) == (f.text_len == 0));
    if (in.how != SMTPCODE_HOW_NONE) {
      k = text_walk(s, size, &in, NULL, 0, NULL, &why);
      if (k < 0) fprintf(stderr, "inner text: %s\n", why);
      FZ_CHECK(k >= 0);
    }
  }
  free(s);
}
#endif

#endif
