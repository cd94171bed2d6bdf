/*
** replyline.h: reading one reply line, inline: the work of
** smtpcode_parse_line (reply.c) and of the Lua binding's scan (lparse.c),
** which inlines it for the call without options. Part of the C core; the
** one definition of the line grammar (RFC 5321 section 4.2, RFC 2034
** section 4, RFC 3463 section 2).
*/
#ifndef smtpcode_replyline_h
#define smtpcode_replyline_h

#include "smtpcode.h"

#include <string.h>

#if defined(__SSE2__) && defined(__GNUC__) && !defined(SMTPCODE_NO_SIMD)
#include <emmintrin.h>
#define REPLY_SSE2 1
#endif

#if defined(__GNUC__)
#define SC_INLINE inline __attribute__((always_inline))
#else
#define SC_INLINE inline
#endif

#define isdig(c) ((unsigned)((unsigned char)(c) - '0') < 10u)


/*
** The offset of the first LF in s[0..n), or n when there is none. Reply
** lines are short (most under 128 bytes), where a call of memchr costs as
** much as the search: inline, 32 bytes at a time with SSE2 (every x86-64),
** the last 16 read again from the end (no read past s + n); shorter spans
** 8 bytes at a time ("has a zero byte" on the word xor'ed with LF, the
** lowest flag bit the first LF on a little-endian machine) or byte by
** byte. -DSMTPCODE_NO_SIMD, or another machine: memchr, same answers.
*/
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
#define haszero(v) (((v) - ONES) & ~(v) & HIGHS)

#ifdef REPLY_SSE2
/* the bytes of the 16 at p that are LF, as 0xff */
#define LF16(p, lf) \
  _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p)), (lf))
#endif

static SC_INLINE size_t findlf(const char *s, size_t n) {
#ifdef REPLY_SSE2
  size_t i = 0;
  unsigned m;
  if (n >= 16) {
    const __m128i lf = _mm_set1_epi8('\n');
    if (n <= 128) { /* is there an LF at all: 2, 4 or 8 loads, overlapping */
      __m128i x = _mm_or_si128(LF16(s, lf), LF16(s + n - 16, lf));
      if (n > 32) {
        x = _mm_or_si128(x, _mm_or_si128(LF16(s + 16, lf), LF16(s + n - 32, lf)));
        if (n > 64)
          x = _mm_or_si128(
              _mm_or_si128(x, _mm_or_si128(LF16(s + 32, lf), LF16(s + 48, lf))),
              _mm_or_si128(LF16(s + n - 64, lf), LF16(s + n - 48, lf)));
      }
      if (!_mm_movemask_epi8(x)) return n;
      goto sixteen; /* there is: the first, sixteen bytes at a time */
    }
    while (n - i >= 64) {
      __m128i a = _mm_cmpeq_epi8(
          _mm_loadu_si128((const __m128i *)(const void *)(s + i)), lf);
      __m128i b = _mm_cmpeq_epi8(
          _mm_loadu_si128((const __m128i *)(const void *)(s + i + 16)), lf);
      __m128i c = _mm_cmpeq_epi8(
          _mm_loadu_si128((const __m128i *)(const void *)(s + i + 32)), lf);
      __m128i d = _mm_cmpeq_epi8(
          _mm_loadu_si128((const __m128i *)(const void *)(s + i + 48)), lf);
      if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b),
                                         _mm_or_si128(c, d))))
        goto sixteen; /* the LF is in these 64 bytes */
      i += 64;
    }
    if (n - i > 32) {
      __m128i a = _mm_cmpeq_epi8(
          _mm_loadu_si128((const __m128i *)(const void *)(s + i)), lf);
      __m128i b = _mm_cmpeq_epi8(
          _mm_loadu_si128((const __m128i *)(const void *)(s + i + 16)), lf);
      if (!_mm_movemask_epi8(_mm_or_si128(a, b))) i += 32;
    }
  sixteen:
    while (n - i > 16) {
      m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
          _mm_loadu_si128((const __m128i *)(const void *)(s + i)), lf));
      if (m) return i + (size_t)__builtin_ctz(m);
      i += 16;
    }
    /* the last 16 bytes; those before i hold no LF */
    m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
        _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16)), lf));
    return m ? n - 16 + (size_t)__builtin_ctz(m) : n;
  }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (n >= 8) {
    unsigned long long w, z;
    memcpy(&w, s, 8);
    w ^= ONES * '\n';
    if ((z = haszero(w)) != 0) return (size_t)(__builtin_ctzll(z) >> 3);
    memcpy(&w, s + n - 8, 8); /* the last 8 bytes */
    w ^= ONES * '\n';
    if ((z = haszero(w)) != 0)
      return n - 8 + (size_t)(__builtin_ctzll(z) >> 3);
    return n;
  }
#endif
  while (i < n && s[i] != '\n') i++;
  return i;
#else
  const char *p = (const char *)memchr(s, '\n', n);
  return p != NULL ? (size_t)(p - s) : n;
#endif
}

/*
** Read one sub-code of an enhanced status code at s[*i..n): 1 to 3 digits,
** no leading zero (a lone "0" is fine). Advances *i; returns the value, or
** -1 when invalid. Unrolled: this runs for nearly every reply line.
*/
static SC_INLINE int subcode(const char *s, size_t n, size_t *i) {
  size_t k = *i;
  unsigned d0, d1, d2;
  if (k >= n || (d0 = (unsigned)((unsigned char)s[k] - '0')) > 9) return -1;
  if (++k >= n || (d1 = (unsigned)((unsigned char)s[k] - '0')) > 9) {
    *i = k;
    return (int)d0;
  }
  if (d0 == 0) return -1;
  if (++k >= n || (d2 = (unsigned)((unsigned char)s[k] - '0')) > 9) {
    *i = k;
    return (int)(d0 * 10 + d1);
  }
  if (++k < n && isdig(s[k])) return -1;
  *i = k;
  return (int)(d0 * 100 + d1 * 10 + d2);
}

/*
** Match an enhanced status code at s[0..n): class.subject.detail. Returns
** its length, or 0. The caller checks what follows it.
*/
static SC_INLINE int enhanced(const char *s, size_t n, int *cls, int *sub,
                           int *det) {
  size_t i = 2;
  int sb, d;
  if (n < 5 || s[1] != '.' || (s[0] != '2' && s[0] != '4' && s[0] != '5'))
    return 0;
  if ((sb = subcode(s, n, &i)) < 0 || i >= n || s[i] != '.') return 0;
  i++;
  if ((d = subcode(s, n, &i)) < 0) return 0;
  *cls = s[0] - '0';
  *sub = sb;
  *det = d;
  return (int)i;
}

/*
** enhanced() for a span of at least 10 bytes, the common case: the longest
** code ("5.999.999") and the byte after it fit, so no read needs a bounds
** check. Same answers as enhanced(). One position and one value at a
** time: this runs for nearly every reply line.
*/
static SC_INLINE int enhanced10(const char *s, int *cls, int *sub, int *det) {
  const unsigned char *u = (const unsigned char *)s;
  unsigned sb, v, d;
  int k;
  if (u[1] != '.' || (u[0] != '2' && u[0] != '4' && u[0] != '5')) return 0;
  if ((sb = (unsigned)u[2] - '0') > 9) return 0;
  k = 3;
  if ((d = (unsigned)u[3] - '0') <= 9) { /* two or three digits */
    if (sb == 0) return 0;
    sb = sb * 10 + d;
    k = 4;
    if ((d = (unsigned)u[4] - '0') <= 9) {
      if (isdig(u[5])) return 0;
      sb = sb * 10 + d;
      k = 5;
    }
  }
  if (u[k] != '.') return 0;
  if ((v = (unsigned)u[k + 1] - '0') > 9) return 0;
  k += 2;
  if ((d = (unsigned)u[k] - '0') <= 9) {
    if (v == 0) return 0;
    v = v * 10 + d;
    k++;
    if ((d = (unsigned)u[k] - '0') <= 9) {
      if (isdig(u[k + 1])) return 0;
      v = v * 10 + d;
      k++;
    }
  }
  *cls = u[0] - '0';
  *sub = (int)sb;
  *det = (int)v;
  return k;
}


/*
** The work of smtpcode_parse_line once the options are read. Inlined twice:
** with the defaults as constants (opts NULL, the common call: strict, no
** limit to look up) and with the caller's. Every field of out is written;
** on error out is zeroed but for F_NOEOL in flags and, past the code, the
** code.
*/
static SC_INLINE int parse_line(const char *restrict s, size_t len,
                                int lenient, size_t maxline,
                                smtpcode_line *restrict out) {
  size_t scan = len < maxline + 2 ? len : maxline + 2;
  size_t nl = findlf(s, scan);
  size_t end, t;
  unsigned d0, d1, d2;
  int flags, code = 0, kk;
  int status = SMTPCODE_ESYNTAX;

  if (nl < scan) {
    end = nl;
    out->length = (int)(end + 1); /* stored early: one register less */
    flags = 0;
    if (end > 0 && s[end - 1] == '\r') end--;
    if (end > maxline) {
      status = SMTPCODE_ETOOLONG;
      goto fail;
    }
  } else {
    flags = SMTPCODE_F_NOEOL; /* tells smtpcode_parse_reply, even on error */
    if (len > maxline) {
      flags = 0;
      status = SMTPCODE_ETOOLONG;
      goto fail;
    }
    end = len;
    out->length = (int)len;
    if (end > 0 && s[end - 1] == '\r') end--; /* lone trailing CR */
  }
  if (end < 3) goto fail;
  d0 = (unsigned)((unsigned char)s[0] - '0');
  d1 = (unsigned)((unsigned char)s[1] - '0');
  d2 = (unsigned)((unsigned char)s[2] - '0');
  if (d0 - 2u > 3u || d1 > 9u || d2 > 9u) goto fail;
  if (d1 > 5u) {
    if (!lenient) goto fail;
    flags |= SMTPCODE_F_NONSTANDARD;
  }
  code = (int)(d0 * 100u + d1 * 10u + d2); /* kept on a bad separator */
  out->code = code;
  t = 3;
  if (end > 3) {
    if (s[3] == ' ')
      ;
    else if (s[3] == '-')
      flags |= SMTPCODE_F_CONTINUED;
    else if (s[3] == '\t' && lenient)
      flags |= SMTPCODE_F_NONSTANDARD;
    else
      goto fail;
    t = 4;
  }
  /* Enhanced status code at the start of the text; 3yz replies carry none
     (RFC 2034 section 4). */
  kk = 0;
  if (d0 != 3u && t < end) {
    size_t e = t;
    int hash = 0;
    if (lenient && s[e] == '#') {
      e++;
      hash = 1;
    }
    kk = end - e >= 10
             ? enhanced10(s + e, &out->cls, &out->subject, &out->detail)
             : enhanced(s + e, end - e, &out->cls, &out->subject,
                        &out->detail);
    if (kk > 0) {
      size_t a = e + (size_t)kk;
      int ok = 0;
      if (a == end || s[a] == ' ')
        ok = 1;
      else if (lenient && s[a] == '\t')
        ok = 2;
      if (ok) {
        if (ok == 2 || hash) flags |= SMTPCODE_F_NONSTANDARD;
        if ((unsigned)out->cls != d0) flags |= SMTPCODE_F_MISMATCH;
        out->enh_off = (int)e;
        out->enh_len = kk;
        if (lenient)
          while (a < end && (s[a] == ' ' || s[a] == '\t')) a++;
        else if (a < end) /* s[a] is the space that ended the code */
          do a++; while (a < end && s[a] == ' ');
        t = a;
      } else {
        kk = 0;
      }
    }
  }
  if (kk <= 0) { /* enhanced() and enhanced10 write only a code they find */
    out->cls = out->subject = out->detail = 0;
    out->enh_off = out->enh_len = 0;
  }
  out->flags = flags;
  out->text_off = (int)t;
  out->text_len = (int)(end - t);
  return out->length;
fail:
  memset(out, 0, sizeof *out);
  out->code = code;
  out->flags = flags & SMTPCODE_F_NOEOL;
  return status;
}

/* The work of smtpcode_parse_reply once the options are read; inlined
   twice, as parse_line. */
static SC_INLINE int parse_reply(const char *s, size_t len, int lenient,
                                 size_t maxline, int maxlines,
                                 size_t maxreply, smtpcode_reply *out,
                                 smtpcode_line *lines, int cap) {
  size_t pos = 0;
  smtpcode_line ln;
  int n = 0, r;

  memset(out, 0, sizeof *out);
  if (s == NULL) return SMTPCODE_ESYNTAX;
  out->nlines = 1;
  if (len == 0) return SMTPCODE_EINCOMPLETE; /* no line yet */
  /* The first line apart, as the loop below would read it: most replies
     are one line, and without the loop's state around it the line reader
     keeps its values in registers. */
  {
    int cut = len > maxreply;
    r = parse_line(s, cut ? maxreply : len, lenient, maxline, &ln);
    if (cut && (ln.flags & SMTPCODE_F_NOEOL)) return SMTPCODE_ETOOLONG;
    if (r < 0) return r;
    out->code = ln.code;
    if (maxlines < 1) return SMTPCODE_ETOOLONG;
    if (cap > 0 && lines != NULL) lines[0] = ln;
    out->flags = ln.flags & (SMTPCODE_F_MISMATCH | SMTPCODE_F_NONSTANDARD);
    if (ln.cls != 0) {
      out->cls = ln.cls;
      out->subject = ln.subject;
      out->detail = ln.detail;
      out->enh_off = ln.enh_off;
      out->enh_len = ln.enh_len;
    }
    n = 1;
    pos = (size_t)r;
    if (!(ln.flags & SMTPCODE_F_CONTINUED)) {
      out->flags |= ln.flags & SMTPCODE_F_NOEOL;
      out->length = r;
      return r;
    }
    if (ln.flags & SMTPCODE_F_NOEOL || pos >= len) {
      out->nlines = 2;
      return SMTPCODE_EINCOMPLETE;
    }
  }
  for (;;) {
    size_t avail = maxreply - pos, rest = len - pos;
    int cut = rest > avail;
    r = parse_line(s + pos, cut ? avail : rest, lenient, maxline, &ln);
    out->nlines = n + 1;
    /* a line that runs past the reply limit makes the reply too long */
    if (cut && (ln.flags & SMTPCODE_F_NOEOL)) return SMTPCODE_ETOOLONG;
    if (r < 0) return r;
    if (n == 0) {
      out->code = ln.code;
    } else if (ln.code != out->code) {
      return SMTPCODE_EINCONSISTENT;
    }
    if (n >= maxlines) return SMTPCODE_ETOOLONG;
    if (n < cap && lines != NULL) lines[n] = ln;
    out->flags |= ln.flags & (SMTPCODE_F_MISMATCH | SMTPCODE_F_NONSTANDARD);
    if (ln.cls != 0) {
      if (out->cls == 0) {
        out->cls = ln.cls;
        out->subject = ln.subject;
        out->detail = ln.detail;
        out->enh_off = (int)pos + ln.enh_off;
        out->enh_len = ln.enh_len;
      } else if (ln.cls != out->cls || ln.subject != out->subject ||
                 ln.detail != out->detail) {
        out->flags |= SMTPCODE_F_ENH_VARIES;
      }
    }
    n++;
    pos += (size_t)r;
    if (!(ln.flags & SMTPCODE_F_CONTINUED)) {
      out->flags |= ln.flags & SMTPCODE_F_NOEOL;
      break;
    }
    if (ln.flags & SMTPCODE_F_NOEOL || pos >= len) {
      out->nlines = n + 1;
      return SMTPCODE_EINCOMPLETE;
    }
  }
  out->nlines = n;
  out->length = (int)pos;
  return (int)pos;
}

#endif
