/*
** mojibake_ref.h: helpers of the mojibake tests (spec/c/test_mojibake.c,
** spec/c/fuzz_mojibake.c): double-encode UTF-8 the way it happens (each
** byte read as Latin-1, or as Windows-1252 with its five undefined bytes
** kept as U+0081...), and check that bytes are valid UTF-8.
*/
#ifndef smtpcode_mojibake_ref_h
#define smtpcode_mojibake_ref_h

#include <stddef.h>
#include <string.h>

/* Windows-1252 0x80..0x9F as UTF-8 (NULL: undefined, kept as C2 xx). */
static const char *const mr_w1252[32] = {
  "\xE2\x82\xAC", NULL, "\xE2\x80\x9A", "\xC6\x92", "\xE2\x80\x9E",
  "\xE2\x80\xA6", "\xE2\x80\xA0", "\xE2\x80\xA1", "\xCB\x86", "\xE2\x80\xB0",
  "\xC5\xA0", "\xE2\x80\xB9", "\xC5\x92", NULL, "\xC5\xBD", NULL, NULL,
  "\xE2\x80\x98", "\xE2\x80\x99", "\xE2\x80\x9C", "\xE2\x80\x9D",
  "\xE2\x80\xA2", "\xE2\x80\x93", "\xE2\x80\x94", "\xCB\x9C", "\xE2\x84\xA2",
  "\xC5\xA1", "\xE2\x80\xBA", "\xC5\x93", NULL, "\xC5\xBE", "\xC5\xB8"
};

/* s[0..n) double-encoded into out (room for 3 * n bytes); w1252 picks
** the reading. Returns the length. */
static inline size_t mr_encode(const unsigned char *s, size_t n,
                               unsigned char *out, int w1252) {
  size_t i, o = 0;
  for (i = 0; i < n; i++) {
    unsigned c = s[i];
    if (c < 0x80) {
      out[o++] = (unsigned char)c;
    } else if (w1252 && c < 0xA0 && mr_w1252[c - 0x80]) {
      const char *u = mr_w1252[c - 0x80];
      size_t k = strlen(u);
      memcpy(out + o, u, k);
      o += k;
    } else {
      out[o++] = (unsigned char)(0xC0 | c >> 6);
      out[o++] = (unsigned char)(0x80 | (c & 0x3F));
    }
  }
  return o;
}

/* Are s[0..n) valid UTF-8 (RFC 3629)? */
static inline int mr_valid(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    size_t k, j;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c < 0xC2 || c > 0xF4) return 0;
    k = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
    for (j = 1; j <= k; j++) {
      if (i + j >= n) return 0;
      if (s[i + j] < lo || s[i + j] > hi) return 0;
      lo = 0x80;
      hi = 0xBF;
    }
    i += k + 1;
  }
  return 1;
}

/* UTF-8 of code point cp into out; returns the length. */
static inline size_t mr_put(unsigned long cp, unsigned char *out) {
  if (cp < 0x80) {
    out[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (unsigned char)(0xC0 | cp >> 6);
    out[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (unsigned char)(0xE0 | cp >> 12);
    out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (unsigned char)(0xF0 | cp >> 18);
  out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
  out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
  out[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

#endif
