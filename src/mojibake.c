/*
** mojibake.c: repair double-encoded UTF-8 (see src/mojibake.h).
**
** Each character of the input that is the UTF-8 form of a Latin-1 character
** (U+0080..U+00FF) or of one of the 27 characters Windows-1252 puts at
** 0x80..0x9F stands for one byte. A lead character (its byte C2..F4, always
** written C3 82..C3 B4) followed by as many continuation characters (bytes
** 80..BF) as its byte asks, forming valid UTF-8, is replaced by those
** bytes; 2 or 3 input bytes give 1 output byte, so the output is never
** longer. Other text is copied unchanged. One pass, each input byte read a
** bounded number of times, nothing allocated. classify's view also reads
** U+2019 as an ASCII apostrophe.
*/
#include <string.h>

#include "mojibake.h"

/* Windows-1252 bytes 0x80..0x9F written as U+0152..U+017E (C5 xx): the
** second byte 0x92..0xBE -> the byte, 0 = none. */
static const unsigned char c5[0xBF - 0x92] = {
  [0x92 - 0x92] = 0x8C, [0x93 - 0x92] = 0x9C, [0xA0 - 0x92] = 0x8A,
  [0xA1 - 0x92] = 0x9A, [0xB8 - 0x92] = 0x9F, [0xBD - 0x92] = 0x8E,
  [0xBE - 0x92] = 0x9E
};

/* ... as U+2013..U+203A (E2 80 xx): the third byte 0x93..0xBA -> byte. */
static const unsigned char e280[0xBB - 0x93] = {
  [0x93 - 0x93] = 0x96, [0x94 - 0x93] = 0x97, [0x98 - 0x93] = 0x91,
  [0x99 - 0x93] = 0x92, [0x9A - 0x93] = 0x82, [0x9C - 0x93] = 0x93,
  [0x9D - 0x93] = 0x94, [0x9E - 0x93] = 0x84, [0xA0 - 0x93] = 0x86,
  [0xA1 - 0x93] = 0x87, [0xA2 - 0x93] = 0x95, [0xA6 - 0x93] = 0x85,
  [0xB0 - 0x93] = 0x89, [0xB9 - 0x93] = 0x8B, [0xBA - 0x93] = 0x9B
};

/* The byte the character at s[i] stands for (0x80..0xFF), its width in
** *w; -1 when it stands for none. */
static inline int unit(const unsigned char *s, size_t i, size_t len,
                       size_t *w) {
  unsigned c, d, e;
  if (i + 1 >= len) return -1;
  c = s[i];
  d = s[i + 1];
  if ((d & 0xC0) != 0x80) return -1;
  *w = 2;
  switch (c) {
  case 0xC2:
    return (int)d;
  case 0xC3:
    return (int)d + 0x40;
  case 0xC5:
    return d >= 0x92 && d < 0xBF && c5[d - 0x92] ? c5[d - 0x92] : -1;
  case 0xC6:
    return d == 0x92 ? 0x83 : -1; /* U+0192 */
  case 0xCB:
    return d == 0x86 ? 0x88 : d == 0x9C ? 0x98 : -1; /* U+02C6, U+02DC */
  case 0xE2:
    if (i + 2 >= len) return -1;
    e = s[i + 2];
    *w = 3;
    if (d == 0x80 && e >= 0x93 && e < 0xBB && e280[e - 0x93])
      return e280[e - 0x93];
    if (d == 0x82 && e == 0xAC) return 0x80; /* U+20AC */
    if (d == 0x84 && e == 0xA2) return 0x99; /* U+2122 */
    return -1;
  default:
    return -1;
  }
}

/* Does a repaired sequence start at s[i]? Its bytes go to b, the number
** returned (2..4); the input bytes it takes to *w. 0 when none. */
static int seq(const unsigned char *s, size_t i, size_t len, unsigned char *b,
               size_t *w) {
  size_t at = i, uw = 0;
  int lead, k, j, lo = 0x80, hi = 0xBF;
  if (s[i] != 0xC3) return 0; /* every lead byte C2..F4 is U+00C2..U+00F4 */
  lead = unit(s, at, len, &uw);
  if (lead < 0xC2 || lead > 0xF4) return 0;
  k = lead < 0xE0 ? 1 : lead < 0xF0 ? 2 : 3;
  if (lead == 0xE0) lo = 0xA0;      /* overlong */
  else if (lead == 0xED) hi = 0x9F; /* surrogates */
  else if (lead == 0xF0) lo = 0x90; /* overlong */
  else if (lead == 0xF4) hi = 0x8F; /* past U+10FFFF */
  b[0] = (unsigned char)lead;
  at += uw;
  for (j = 1; j <= k; j++) {
    int c = unit(s, at, len, &uw);
    if (c < lo || c > hi) return 0;
    b[j] = (unsigned char)c;
    at += uw;
    lo = 0x80;
    hi = 0xBF;
  }
  *w = at - i;
  return k + 1;
}

/* The repair; with fold, U+2019 (the typographic apostrophe, as sent or
** repaired) is written as an ASCII apostrophe too. */
static size_t fix(const unsigned char *s, size_t len, unsigned char *out,
                  size_t cap, size_t *used, int fold) {
  unsigned char b[4];
  size_t i = 0, o = 0, w = 0;
  while (i < len) {
    int k;
    if (s[i] < 0x80) { /* ASCII: copied as it is */
      if (o == cap) break;
      out[o++] = s[i++];
      continue;
    }
    /* the common sequences read the Latin-1 way, each continuation
       written C2 80..C2 BF: a 2-byte character (lead C2..DF, written
       C3 82..C3 9F), and a 3-byte one whose lead is not E2 (U+2019 is
       folded below); after E0 the next byte is A0..BF, after ED 80..9F */
    if (s[i] == 0xC3 && i + 3 < len && s[i + 2] == 0xC2 &&
        (s[i + 3] & 0xC0) == 0x80) {
      unsigned d = s[i + 1];
      if (d >= 0x82 && d <= 0x9F) {
        if (cap - o < 2) break;
        out[o] = (unsigned char)(d + 0x40);
        out[o + 1] = s[i + 3];
        o += 2;
        i += 4;
        continue;
      }
      if (d >= 0xA0 && d <= 0xAF && d != 0xA2 && i + 5 < len &&
          s[i + 4] == 0xC2 && (s[i + 5] & 0xC0) == 0x80 &&
          (d != 0xA0 || s[i + 3] >= 0xA0) && (d != 0xAD || s[i + 3] <= 0x9F)) {
        if (cap - o < 3) break;
        out[o] = (unsigned char)(d + 0x40);
        out[o + 1] = s[i + 3];
        out[o + 2] = s[i + 5];
        o += 3;
        i += 6;
        continue;
      }
    }
    k = s[i] == 0xC3 ? seq(s, i, len, b, &w) : 0;
    if (k == 3 && fold && b[0] == 0xE2 && b[1] == 0x80 && b[2] == 0x99) {
      b[0] = '\'';
      k = 1;
    } else if (k == 0 && fold && s[i] == 0xE2 && i + 2 < len &&
               s[i + 1] == 0x80 && s[i + 2] == 0x99) {
      b[0] = '\'';
      k = 1;
      w = 3;
    }
    if (k > 0) {
      int j;
      if ((size_t)k > cap - o) break;
      for (j = 0; j < k; j++) out[o + (size_t)j] = b[j];
      o += (size_t)k;
      i += w;
    } else {
      if (o == cap) break;
      out[o++] = s[i++];
    }
  }
  if (used) *used = i;
  return o;
}

size_t smtpcode_unmojibake(const char *s, size_t len, char *out, size_t cap,
                           size_t *used) {
  return fix((const unsigned char *)s, len, (unsigned char *)out, cap, used,
             0);
}

/* The first byte of s[0..len) that is 0x80 or more, or len: 64 bytes a
** step (SSE2), else 8 (a word); ordinary text is only read this way. */
#if defined(__SSE2__) && !defined(SMTPCODE_NO_SIMD)
#include <emmintrin.h>

#define LOAD(p) _mm_loadu_si128((const __m128i *)(const void *)(p))

static size_t firsthigh(const unsigned char *s, size_t len) {
  size_t i = 0;
  if (len >= 16) {
    for (; i + 64 <= len; i += 64)
      if (_mm_movemask_epi8(_mm_or_si128(
              _mm_or_si128(LOAD(s + i), LOAD(s + i + 16)),
              _mm_or_si128(LOAD(s + i + 32), LOAD(s + i + 48)))))
        break;
    for (; i + 16 <= len; i += 16)
      if (_mm_movemask_epi8(LOAD(s + i))) break;
    if (i + 16 > len) { /* under 16 bytes left: the last 16 (overlaps) */
      if (!_mm_movemask_epi8(LOAD(s + len - 16))) return len;
      i = len - 16;
    }
  }
  for (; i < len && s[i] < 0x80; i++) {
  }
  return i;
}
#undef LOAD
#else
static size_t firsthigh(const unsigned char *s, size_t len) {
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    unsigned long long w;
    memcpy(&w, s + i, 8);
    if (w & 0x8080808080808080ULL) break;
  }
  for (; i < len && s[i] < 0x80; i++) {
  }
  return i;
}
#endif

/* The first byte of s[0..len) where the view changes something, or len. */
static size_t firstfix(const unsigned char *s, size_t len) {
  size_t h = firsthigh(s, len), end = len;
  const unsigned char *p = s + h, *q = s + h;
  unsigned char b[4];
  size_t w;
  if (h == len) return len;
  while ((p = memchr(p, 0xC3, len - (size_t)(p - s))) != NULL) {
    if (p + 1 < s + len && p[1] >= 0x82 && p[1] <= 0xB4 &&
        seq(s, (size_t)(p - s), len, b, &w) > 0) {
      end = (size_t)(p - s);
      break;
    }
    p++;
  }
  while ((q = memchr(q, 0xE2, end - (size_t)(q - s))) != NULL) {
    if (q + 2 < s + len && q[1] == 0x80 && q[2] == 0x99)
      return (size_t)(q - s);
    q++;
  }
  return end;
}

int smtpcode_mojibake_view(const char **sp, int n, char *buf, int cap) {
  const unsigned char *s = (const unsigned char *)*sp;
  size_t start, used, o, len = n > 0 ? (size_t)n : 0;
  start = firstfix(s, len);
  if (start == len || buf == NULL || cap <= 0) return n;
  if (start >= (size_t)cap) return n;
  memcpy(buf, s, start);
  o = start + fix(s + start, len - start, (unsigned char *)buf + start,
                  (size_t)cap - start, &used, 1);
  if (used < len - start) return n;
  *sp = buf;
  return (int)o;
}
