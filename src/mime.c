/*
** mime.c: MIME primitives for the bounce reader (RFC 5322 header fields,
** RFC 2045 parameters and transfer encodings, RFC 2047 encoded words).
** Lines may end in CRLF, LF or CR alone. Every function is one forward
** pass over its input with bounded look-ahead; nothing is allocated.
*/
#include "mime.h"

#include <string.h>

#if defined(__SSE2__) && defined(__GNUC__) && !defined(SMTPCODE_NO_SIMD)
#include <emmintrin.h>
#define MIME_SSE2 1
#endif

#define lower(c) ((unsigned char)((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c)))
#define isblank_(c) ((c) == ' ' || (c) == '\t')

/* A word of 8 bytes has a CR or LF byte (the classic "has zero byte" test
** on the word xor'ed with each). */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
#define haszero(v) (((v) - ONES) & ~(v) & HIGHS)

/* mime_eol, inlined where mime.c reads lines itself (mime_field). */
static inline size_t eol(const char *s, size_t n, size_t i) {
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
    a = w ^ (ONES * '\n');
    b = w ^ (ONES * '\r');
    z = haszero(a) | haszero(b);
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

/* mime_next, inlined likewise. */
static inline size_t next(const char *s, size_t n, size_t e) {
  if (e < n && s[e] == '\r') e++;
  else if (e < n && s[e] == '\n') return e + 1;
  if (e < n && s[e] == '\n' && e > 0 && s[e - 1] == '\r') e++;
  return e;
}

size_t mime_eol(const char *s, size_t n, size_t i) { return eol(s, n, i); }

size_t mime_next(const char *s, size_t n, size_t e) { return next(s, n, e); }

/* ASCII lowercase, by table. */
static const unsigned char lowtab[256] = {
#define L4(b) lw(b), lw(b + 1), lw(b + 2), lw(b + 3)
#define L16(b) L4(b), L4(b + 4), L4(b + 8), L4(b + 12)
#define L64(b) L16(b), L16(b + 16), L16(b + 32), L16(b + 48)
#define lw(b) ((unsigned char)((b) >= 'A' && (b) <= 'Z' ? (b) + 32 : (b)))
    L64(0), L64(64), L64(128), L64(192)
#undef lw
#undef L64
#undef L16
#undef L4
};

int mime_ieq(const char *s, size_t n, const char *z) {
  size_t i;
  for (i = 0; i < n; i++)
    if (lowtab[(unsigned char)s[i]] != (unsigned char)z[i] || z[i] == '\0') return 0;
  return z[n] == '\0';
}

long mime_ifind(const char *s, size_t n, const char *z, size_t m) {
  size_t i = 0, j, last;
  unsigned char c0, c1;
  const char *pl = NULL, *pu = NULL, *none;
  if (m == 0) return 0;
  if (m > n) return -1;
  c0 = (unsigned char)z[0];
  c1 = c0 >= 'a' && c0 <= 'z' ? (unsigned char)(c0 - 32) : c0;
  last = n - m;
  none = s + last + 1;
  while (i <= last) {
    /* the next position of the first byte in either case: memchr, each
       pointer moving forward only */
    if (pl == NULL || pl < s + i) {
      pl = memchr(s + i, c0, last - i + 1);
      if (pl == NULL) pl = none;
    }
    if (c1 == c0) pu = pl;
    else if (pu == NULL || pu < s + i) {
      pu = memchr(s + i, c1, last - i + 1);
      if (pu == NULL) pu = none;
    }
    i = (size_t)((pl < pu ? pl : pu) - s);
    if (i > last) return -1;
    for (j = 1; j < m && lower(s[i + j]) == (unsigned char)z[j]; j++) {
    }
    if (j == m) return (long)i;
    i++;
  }
  return -1;
}

int mime_wat(const char *s, size_t n, size_t i, const char *z, size_t m) {
  size_t j, k;
  for (j = 0, k = i; j < m; j++) {
    if (k >= n) return 0;
    if (z[j] == ' ') {
      if (!(isblank_(s[k]) || s[k] == '\r' || s[k] == '\n')) return 0;
      while (k < n && (isblank_(s[k]) || s[k] == '\r' || s[k] == '\n')) k++;
    } else if (lower(s[k]) == (unsigned char)z[j]) {
      k++;
    } else
      return 0;
  }
  return 1;
}

long mime_wfind(const char *s, size_t n, const char *z, size_t m) {
  size_t i;
  unsigned char c0;
  if (m == 0) return 0;
  c0 = (unsigned char)z[0];
  for (i = 0; i < n; i++)
    if (lower(s[i]) == c0 && mime_wat(s, n, i, z, m)) return (long)i;
  return -1;
}

void mime_trim(const char *s, size_t *o, size_t *l) {
  while (*l > 0 && (isblank_(s[*o]) || s[*o] == '\r' || s[*o] == '\n')) {
    (*o)++;
    (*l)--;
  }
  while (*l > 0 && (isblank_(s[*o + *l - 1]) || s[*o + *l - 1] == '\r' ||
                    s[*o + *l - 1] == '\n'))
    (*l)--;
}

/* The bytes that end a field name: ':', blanks, controls. */
static const unsigned char namestop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, [':'] = 1};

size_t mime_field(const char *s, size_t n, size_t i, size_t max,
                  size_t *name, size_t *name_len, size_t *val,
                  size_t *val_len, int *too_long) {
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
  while (j < n && !namestop[(unsigned char)s[j]]) j++;
#ifdef MIME_SSE2
named:
#endif
  end = j;
  while (j < n && isblank_(s[j])) j++; /* "Name :" */
  if (j < n && s[j] == ':' && end > i) {
    *name_len = end - i;
    j++;
    while (j < n && isblank_(s[j])) j++;
    v = j;
    e = eol(s, n, j);
  } else {
    *name_len = 0; /* not a field: skipped */
    v = e = eol(s, n, j);
  }
  *name = i;
  *val = v;
  /* continuation lines */
  for (;;) {
    nx = next(s, n, e);
    if (nx >= n || !isblank_(s[nx])) break;
    e = eol(s, n, nx);
  }
  if (e - v > max) { /* the whole field scanned, but reported */
    *val_len = max;
    *too_long = 1;
  } else
    *val_len = e - v;
  return nx;
}

int mime_param(const char *v, size_t n, const char *pname, size_t *po,
               size_t *pl) {
  size_t i = 0, m = strlen(pname);
  int inq = 0;
  /* skip the type, then each ";" parameter */
  while (i < n) {
    size_t a, b;
    for (;;) { /* to the next ';' outside quotes; a quote's '\\' escapes */
      if (!inq) {
        while (i < n && v[i] != ';' && v[i] != '"') i++;
        if (i >= n || v[i] == ';') break;
        inq = 1;
        i++;
      } else {
        while (i < n && v[i] != '"' && v[i] != '\\') i++;
        if (i >= n) break;
        if (v[i] == '"') inq = 0;
        else if (i + 1 < n) i++;
        i++;
      }
    }
    if (i >= n) return 0;
    i++;
    while (i < n && (isblank_(v[i]) || v[i] == '\r' || v[i] == '\n')) i++;
    a = i;
    while (i < n && v[i] != '=' && v[i] != ';' && !isblank_(v[i])) i++;
    b = i;
    while (i < n && isblank_(v[i])) i++;
    if (i >= n || v[i] != '=') continue;
    i++;
    while (i < n && isblank_(v[i])) i++;
    if (b - a == m && mime_ieq(v + a, m, pname)) {
      if (i < n && v[i] == '"') {
        size_t s0 = ++i;
        while (i < n && v[i] != '"') {
          if (v[i] == '\\' && i + 1 < n) i++;
          i++;
        }
        *po = s0;
        *pl = i - s0;
      } else {
        size_t s0 = i;
        while (i < n && v[i] != ';' && !isblank_(v[i]) && v[i] != '\r' &&
               v[i] != '\n')
          i++;
        *po = s0;
        *pl = i - s0;
      }
      return 1;
    }
    if (i < n && v[i] == '"') {
      i++;
      while (i < n && v[i] != '"') {
        if (v[i] == '\\' && i + 1 < n) i++;
        i++;
      }
      if (i < n) i++;
    }
  }
  return 0;
}

/* The value of a base64 byte: 0..63, B64_PAD for '=', B64_SKIP for a byte
** outside the alphabet (both have the high bit). */
#define B64_PAD 0xfe
#define B64_SKIP 0xff
static const unsigned char b64tab[256] = {
#define B4(b) bv(b), bv(b + 1), bv(b + 2), bv(b + 3)
#define B16(b) B4(b), B4(b + 4), B4(b + 8), B4(b + 12)
#define B64(b) B16(b), B16(b + 16), B16(b + 32), B16(b + 48)
#define bv(c)                                                                      \
  (unsigned char)((c) >= 'A' && (c) <= 'Z' ? (c) - 'A'                             \
   : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                                     \
   : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                                     \
   : (c) == '+'               ? 62                                                 \
   : (c) == '/'               ? 63                                                 \
   : (c) == '='               ? B64_PAD                                            \
                              : B64_SKIP)
    B64(0), B64(64), B64(128), B64(192)
#undef bv
#undef B64
#undef B16
#undef B4
};

size_t mime_base64(const char *s, size_t n, char *dst, size_t cap) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0, o = 0;
  unsigned acc = 0;
  int bits = 0;
  while (i < n) {
    unsigned v;
    /* four bytes of the alphabet at a byte boundary: three bytes at once
       (what the loop below writes for them) */
    while (bits == 0 && n - i >= 4 && cap - o >= 3) {
      unsigned a = b64tab[u[i]], b = b64tab[u[i + 1]], c = b64tab[u[i + 2]],
               d = b64tab[u[i + 3]], x;
      if ((a | b | c | d) & 0x80) break;
      x = a << 18 | b << 12 | c << 6 | d;
      dst[o] = (char)(x >> 16);
      dst[o + 1] = (char)(x >> 8 & 0xff);
      dst[o + 2] = (char)(x & 0xff);
      o += 3;
      i += 4;
    }
    if (i >= n) break;
    v = b64tab[u[i++]];
    if (v == B64_PAD) break;
    if (v == B64_SKIP) continue; /* outside the alphabet: ignored (RFC 2045 6.8) */
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o >= cap) return o;
      dst[o++] = (char)((acc >> bits) & 0xff);
    }
    acc &= 0xffffu;
  }
  return o;
}

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = (unsigned char)lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* The bytes that end a plain run of quoted-printable text. */
static const unsigned char qpstop[256] = {['='] = 1, ['\r'] = 1, ['\n'] = 1};

size_t mime_qp(const char *s, size_t n, char *dst, size_t cap) {
  size_t i = 0, o = 0;
  while (i < n && o < cap) {
    unsigned char c = (unsigned char)s[i];
    if (!qpstop[c]) {
      /* a run of plain bytes up to '=' or a line end, copied at once; the
         blanks that end a line are dropped (decoded "=20" ones are not:
         they end a run) */
      size_t j = i + 1, lim = n - i > cap - o ? i + (cap - o) : n, k;
      while (lim - j >= 8) { /* eight bytes at a time while none stops */
        unsigned long long w, a, b, d;
        memcpy(&w, s + j, 8);
        a = w ^ (ONES * '=');
        b = w ^ (ONES * '\r');
        d = w ^ (ONES * '\n');
        if (haszero(a) | haszero(b) | haszero(d)) break;
        j += 8;
      }
      while (j < lim && !qpstop[(unsigned char)s[j]]) j++;
      k = j;
      if (j == n || s[j] == '\r' || s[j] == '\n')
        while (k > i && isblank_(s[k - 1])) k--;
      memcpy(dst + o, s + i, k - i);
      o += k - i;
      i = j;
      continue;
    }
    if (c == '=') {
      size_t j = i + 1;
      int h, l;
      while (j < n && isblank_(s[j])) j++;
      if (j >= n || s[j] == '\r' || s[j] == '\n') { /* soft line break */
        i = mime_next(s, n, j);
        continue;
      }
      if (i + 2 < n + 0 && (h = hexval((unsigned char)s[i + 1])) >= 0 &&
          (l = hexval((unsigned char)s[i + 2])) >= 0) {
        dst[o++] = (char)(h * 16 + l);
        i += 3;
        continue;
      }
      dst[o++] = '='; /* malformed: kept as written */
      i++;
      continue;
    }
    dst[o++] = (char)c; /* a line end */
    i++;
  }
  return o;
}

/* Copy one decoded word's bytes, converting ISO-8859-1 to UTF-8. */
static size_t putword(const char *w, size_t n, int latin1, char *dst,
                      size_t o, size_t cap) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)w[i];
    if (latin1 && c >= 0x80) {
      if (o + 2 > cap) return o;
      dst[o++] = (char)(0xc0 | (c >> 6));
      dst[o++] = (char)(0x80 | (c & 0x3f));
    } else {
      if (o >= cap) return o;
      dst[o++] = (char)c;
    }
  }
  return o;
}

/*
** One encoded word at s[i..n): "=?charset?B|Q?text?=". On success the
** word is decoded at dst + o and *end is set past it. Returns the new o,
** or (size_t)-1 when s[i..] is no decodable word.
*/
static size_t word(const char *s, size_t n, size_t i, size_t *end, char *dst,
                   size_t o, size_t cap) {
  size_t cs, csl, j = i + 2, t, enc, k, lim = i + 200 < n ? i + 200 : n;
  int latin1;
  char tmp[200];
  size_t tl = 0;
  if (i + 2 > n || s[i] != '=' || s[i + 1] != '?') return (size_t)-1;
  cs = j;
  while (j < lim && s[j] != '?' && s[j] != '*' && (unsigned char)s[j] > ' ')
    j++;
  csl = j - cs;
  while (j < lim && s[j] != '?' && (unsigned char)s[j] > ' ') j++; /* *lang */
  if (j + 3 >= lim || s[j] != '?' || s[j + 2] != '?') return (size_t)-1;
  enc = (size_t)lower(s[j + 1]);
  t = j + 3;
  k = t;
  while (k + 1 < lim && !(s[k] == '?' && s[k + 1] == '=') &&
         (unsigned char)s[k] > ' ')
    k++;
  if (k + 1 >= lim || s[k] != '?' || s[k + 1] != '=') return (size_t)-1;
  if (mime_ieq(s + cs, csl, "utf-8") || mime_ieq(s + cs, csl, "us-ascii"))
    latin1 = 0;
  else if (mime_ieq(s + cs, csl, "iso-8859-1") ||
           mime_ieq(s + cs, csl, "latin1"))
    latin1 = 1;
  else
    return (size_t)-1; /* other charsets: left as written */
  if (enc == 'b') {
    tl = mime_base64(s + t, k - t, tmp, sizeof tmp);
  } else if (enc == 'q') {
    size_t x;
    for (x = t; x < k && tl < sizeof tmp; x++) {
      int h, l;
      if (s[x] == '_') tmp[tl++] = ' ';
      else if (s[x] == '=' && x + 2 < k + 1 &&
               (h = hexval((unsigned char)s[x + 1])) >= 0 &&
               (l = hexval((unsigned char)s[x + 2])) >= 0) {
        tmp[tl++] = (char)(h * 16 + l);
        x += 2;
      } else
        tmp[tl++] = s[x];
    }
  } else
    return (size_t)-1;
  *end = k + 2;
  return putword(tmp, tl, latin1, dst, o, cap);
}

size_t mime_words(const char *s, size_t n, char *dst, size_t cap) {
  size_t i = 0, o = 0;
  int lastword = 0;
  while (i < n && o < cap) {
    if (s[i] == '=' && i + 1 < n && s[i + 1] == '?') {
      size_t end, r = word(s, n, i, &end, dst, o, cap);
      if (r != (size_t)-1) {
        o = r;
        i = end;
        lastword = 1;
        continue;
      }
    }
    if (lastword && (isblank_(s[i]) || s[i] == '\r' || s[i] == '\n')) {
      /* whitespace between two encoded words is dropped (RFC 2047 6.2) */
      size_t j = i, end;
      while (j < n && (isblank_(s[j]) || s[j] == '\r' || s[j] == '\n')) j++;
      if (j < n && word(s, n, j, &end, NULL, 0, 0) != (size_t)-1) {
        i = j;
        continue;
      }
    }
    lastword = 0;
    if (s[i] == '\r' || s[i] == '\n') { /* unfold */
      while (i < n && (s[i] == '\r' || s[i] == '\n')) i++;
      continue;
    }
    dst[o++] = s[i++];
  }
  return o;
}
