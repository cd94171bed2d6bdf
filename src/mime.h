/*
** mime.h: private MIME primitives of the bounce reader (src/mime.c).
** Not part of the public API: pointers and lengths, no Lua, no allocation.
*/
#ifndef smtpcode_mime_h
#define smtpcode_mime_h

#include <stddef.h>
#include <string.h>

#if defined(__SSE2__) && defined(__GNUC__) && !defined(SMTPCODE_NO_SIMD)
#include <emmintrin.h>
#define MIME_SSE2 1
#endif

/* End of the line starting at i (index of its CR or LF, or n). */
size_t mime_eol(const char *s, size_t n, size_t i);
/* Start of the line after the one ending at e (e from mime_eol). */
size_t mime_next(const char *s, size_t n, size_t e);

/* A word of 8 bytes has a CR or LF byte (the classic "has zero byte" test
** on the word xor'ed with each). */
#define MIME_ONES 0x0101010101010101ull
#define MIME_HIGHS 0x8080808080808080ull
#define mime_haszero(v) (((v) - MIME_ONES) & ~(v) & MIME_HIGHS)

/* mime_eol, inline (mime_field_i reads lines with it). */
static inline size_t mime_eol_i(const char *s, size_t n, size_t i) {
  /* eight bytes at a time: the "has a zero byte" test on the word xor'ed
     with LF and with CR; where it can, the lowest flag bit is the first
     line-end byte (little-endian), else the last word is read byte by byte;
     where SSE2 is (every x86-64), sixteen bytes at a time before that, one
     pointer and one bound per block */
#ifdef MIME_SSE2
  if (i < n && n - i >= 16) {
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    const char *p = s + i, *last = s + n - 16;
    for (;;) {
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
      unsigned mask = (unsigned)_mm_movemask_epi8(
          _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));
      if (mask) return (size_t)(p - s) + (size_t)__builtin_ctz(mask);
      p += 16;
      if (p > last) break;
    }
    i = (size_t)(p - s);
  }
#endif
  while (i < n && n - i >= 8) {
    unsigned long long w, a, b, z;
    memcpy(&w, s + i, 8);
    a = w ^ (MIME_ONES * '\n');
    b = w ^ (MIME_ONES * '\r');
    z = mime_haszero(a) | mime_haszero(b);
    if (z) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      return i + (size_t)(__builtin_ctzll(z) >> 3);
#else
      break;
#endif
    }
    i += 8;
  }
  while (i < n && s[i] != '\n' && s[i] != '\r') i++;
  return i;
}

/* mime_next, inline likewise. */
static inline size_t mime_next_i(const char *s, size_t n, size_t e) {
  if (e < n && s[e] == '\r') e++;
  else if (e < n && s[e] == '\n') return e + 1;
  if (e < n && s[e] == '\n' && e > 0 && s[e - 1] == '\r') e++;
  return e;
}


/* The bytes that end a field name (mime_field_i). */
extern const unsigned char mime_namestop[256];

/* mime_field, inline for the loops over a header block. */
static inline size_t mime_field_i(const char *s, size_t n, size_t i, size_t max, size_t *name,
                                  size_t *name_len, size_t *val, size_t *val_len,
                                  int *too_long) {
  size_t e, j = i, end, v, nx;
  if (i >= n || s[i] == '\r' || s[i] == '\n') { /* empty line: end of the block */
    *name = *val = i;
    *name_len = *val_len = 0;
    return i;
  }
  /* the name first: it stops at a control at the latest, so before the
     line's end, which is then looked for from the value on (only blanks
     and ':' lie between) */
#ifdef MIME_SSE2
  { /* sixteen bytes at a time: a byte of namestop is a control, a space
       (<= ' ', read as max(c, ' ') == ' ') or ':' */
    const __m128i sp = _mm_set1_epi8(' '), colon = _mm_set1_epi8(':');
    while (n - j >= 16) {
      __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + j));
      unsigned mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(
          _mm_cmpeq_epi8(_mm_max_epu8(x, sp), sp), _mm_cmpeq_epi8(x, colon)));
      if (mask) {
        j += (size_t)__builtin_ctz(mask);
        goto named;
      }
      j += 16;
    }
  }
#endif
  while (j < n && !mime_namestop[(unsigned char)s[j]]) j++;
#ifdef MIME_SSE2
named:
#endif
  end = j;
  while (j < n && (s[j] == ' ' || s[j] == '\t')) j++; /* "Name :" */
  if (j < n && s[j] == ':' && end > i) {
    *name_len = end - i;
    j++;
    while (j < n && (s[j] == ' ' || s[j] == '\t')) j++;
    v = j;
    e = mime_eol_i(s, n, j);
  } else {
    *name_len = 0; /* not a field: skipped */
    v = e = mime_eol_i(s, n, j);
  }
  *name = i;
  *val = v;
  /* continuation lines */
  for (;;) {
    nx = mime_next_i(s, n, e);
    if (nx >= n || !(s[nx] == ' ' || s[nx] == '\t')) break;
    e = mime_eol_i(s, n, nx);
  }
  if (e - v > max) { /* the whole field scanned, but reported */
    *val_len = max;
    *too_long = 1;
  } else
    *val_len = e - v;
  return nx;
}

/* Case-insensitive equality of s[0..n) and the NUL-terminated lower z. */
int mime_ieq(const char *s, size_t n, const char *z);
/* Eight bytes ASCII-lowercased at once: A-Z (high bit clear, at least
** 'A' and not above 'Z') get 0x20. */
static inline unsigned long long mime_lower8(unsigned long long x) {
  const unsigned long long ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  unsigned long long h = x & ~highs;
  unsigned long long up = (h + ones * (0x80 - 'A')) & ~(h + ones * (0x80 - 'Z' - 1)) & ~x & highs;
  return x | (up >> 2);
}

/* The same where z is known to be n bytes long (lowercase): eight bytes
** at a time. Inline: callers compare with names of a known length, which
** the compiler then reads as constant words. */
static inline int mime_ieqn(const char *s, const char *z, size_t n) {
  /* 8 to 16 bytes: the first and the last eight (overlapping), 4 to 7:
     the first and the last four; more: eight at a time before that */
  unsigned long long x, y, a, b;
  size_t i = 0;
  if (n >= 8) {
    for (; n - i > 16; i += 8) {
      memcpy(&x, s + i, 8);
      memcpy(&y, z + i, 8);
      if (mime_lower8(x) != y) return 0;
    }
    memcpy(&x, s + i, 8);
    memcpy(&y, z + i, 8);
    memcpy(&a, s + n - 8, 8);
    memcpy(&b, z + n - 8, 8);
    return ((mime_lower8(x) ^ y) | (mime_lower8(a) ^ b)) == 0;
  }
  if (n >= 4) {
    unsigned x4, y4, a4, b4;
    memcpy(&x4, s, 4);
    memcpy(&y4, z, 4);
    memcpy(&a4, s + n - 4, 4);
    memcpy(&b4, z + n - 4, 4);
    return ((mime_lower8(x4) ^ y4) | (mime_lower8(a4) ^ b4)) == 0;
  }
  for (; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (unsigned char)z[i]) return 0;
  }
  return 1;
}
/* Case-insensitive search of the lowercase needle z (length m) in s[0..n):
** offset or -1. Work O(n * m) with m short (markers). */
long mime_ifind(const char *s, size_t n, const char *z, size_t m);

/*
** One header field at s[i..n): returns the offset after it (its last line
** break included), or i when the line at i is empty or past n (end of the
** block). A line without a colon is skipped (*name_len = 0). *too_long is
** set when the field runs past max bytes (it is then cut).
*/
size_t mime_field(const char *s, size_t n, size_t i, size_t max,
                  size_t *name, size_t *name_len, size_t *val,
                  size_t *val_len, int *too_long);

/* The same, where a space of z matches any run of blanks and line breaks
** (phrases wrapped by the generator). Work O(n * m). */
long mime_wfind(const char *s, size_t n, const char *z, size_t m);
/* Whether z (length m, lowercase) matches at s[i..n) in that sense. */
int mime_wat(const char *s, size_t n, size_t i, const char *z, size_t m);

/* Trim blanks (SP, HT, CR, LF) at both ends of [*o, *o + *l). */
void mime_trim(const char *s, size_t *o, size_t *l);

/*
** Content-Type value v[0..n): type/subtype into t (lowercase compared
** by the caller) and the parameter pname (lowercase) into *po, *pl
** (quotes removed). Returns 1 when found.
*/
int mime_param(const char *v, size_t n, const char *pname, size_t *po,
               size_t *pl);

/* Decoders: write at most cap bytes to dst, return the bytes written. */
size_t mime_base64(const char *s, size_t n, char *dst, size_t cap);
size_t mime_qp(const char *s, size_t n, char *dst, size_t cap);
/* RFC 2047 encoded words (UTF-8, US-ASCII, ISO-8859-1 decoded; other
** charsets left as written); whitespace between words dropped. */
size_t mime_words(const char *s, size_t n, char *dst, size_t cap);

#endif
