/*
** mime.c: MIME primitives for the bounce reader (RFC 5322 header fields,
** RFC 2045 parameters and transfer encodings, RFC 2047 encoded words).
** Lines may end in CRLF, LF or CR alone. Every function is one forward
** pass over its input with bounded look-ahead; nothing is allocated.
*/
#include "mime.h"

#include <string.h>

#define lower(c) ((unsigned char)((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c)))
#define isblank_(c) ((c) == ' ' || (c) == '\t')

size_t mime_eol(const char *s, size_t n, size_t i) { return mime_eol_i(s, n, i); }

size_t mime_next(const char *s, size_t n, size_t e) { return mime_next_i(s, n, e); }

/* ASCII lowercase, by table. */
static const unsigned char lowtab[256] = {
#define L4(b) lw(b), lw(b + 1), lw(b + 2), lw(b + 3)
#define L16(b) L4(b), L4(b + 4), L4(b + 8), L4(b + 12)
#define L64(b) L16(b), L16(b + 16), L16(b + 32), L16(b + 48)
#define lw(b) ((b) >= 'A' && (b) <= 'Z' ? (b) + 32 : (b))
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
const unsigned char mime_namestop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, [':'] = 1};

size_t mime_field(const char *s, size_t n, size_t i, size_t max,
                  size_t *name, size_t *name_len, size_t *val,
                  size_t *val_len, int *too_long) {
  return mime_field_i(s, n, i, max, name, name_len, val, val_len, too_long);
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
        a = w ^ (MIME_ONES * '=');
        b = w ^ (MIME_ONES * '\r');
        d = w ^ (MIME_ONES * '\n');
        if (mime_haszero(a) | mime_haszero(b) | mime_haszero(d)) break;
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
