/*
** reply.c: strict and lenient parsing of SMTP reply lines and replies
** (RFC 5321 section 4.2, RFC 2034 section 4, RFC 3463 section 2).
*/
#include "smtpcode.h"

#include <string.h>

#if defined(__GNUC__)
#define SC_INLINE inline __attribute__((always_inline))
#else
#define SC_INLINE inline
#endif

#define isdig(c) ((unsigned)((unsigned char)(c) - '0') < 10u)

static int limit(int v, int dflt) {
  if (v <= 0) return dflt;
  if (v > SMTPCODE_LIMIT_CEILING) return SMTPCODE_LIMIT_CEILING;
  return v;
}

/*
** Read one sub-code of an enhanced status code at s[*i..n): 1 to 3 digits,
** no leading zero (a lone "0" is fine). Advances *i; returns the value, or
** -1 when invalid. Unrolled: this runs for nearly every reply line.
*/
static inline int subcode(const char *s, size_t n, size_t *i) {
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
static inline int enhanced(const char *s, size_t n, int *cls, int *sub,
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
** check. Same answers as enhanced().
*/
static inline int enhanced10(const char *s, int *cls, int *sub, int *det) {
  const unsigned char *u = (const unsigned char *)s;
  unsigned a, b, c, v[2];
  int i = 2, j;
  if (u[1] != '.' || (u[0] != '2' && u[0] != '4' && u[0] != '5')) return 0;
  for (j = 0; j < 2; j++) {
    if ((a = (unsigned)u[i] - '0') > 9) return 0;
    if ((b = (unsigned)u[i + 1] - '0') > 9) {
      v[j] = a;
      i += 1;
    } else if (a == 0) {
      return 0;
    } else if ((c = (unsigned)u[i + 2] - '0') > 9) {
      v[j] = a * 10 + b;
      i += 2;
    } else if (isdig(u[i + 3])) {
      return 0;
    } else {
      v[j] = a * 100 + b * 10 + c;
      i += 3;
    }
    if (j == 0) {
      if (u[i] != '.') return 0;
      i++;
    }
  }
  *cls = u[0] - '0';
  *sub = (int)v[0];
  *det = (int)v[1];
  return i;
}

SMTPCODE_API int smtpcode_parse_status(const char *s, size_t len, int *cls,
                                       int *subject, int *detail) {
  int c, sb, d, k;
  if (s == NULL) return SMTPCODE_ESYNTAX;
  k = enhanced(s, len, &c, &sb, &d);
  if (k == 0 || (size_t)k != len) return SMTPCODE_ESYNTAX;
  *cls = c;
  *subject = sb;
  *detail = d;
  return k;
}

SMTPCODE_API int smtpcode_severity_of(int code) {
  int d = code / 100;
  if (code < 0 || code > 999) return SMTPCODE_SEV_UNKNOWN;
  return (d >= 2 && d <= 5) ? d : SMTPCODE_SEV_UNKNOWN;
}

/*
** The work of smtpcode_parse_line once the options are read. Inlined twice:
** with the defaults as constants (opts NULL, the common call: strict, no
** limit to look up) and with the caller's. Every field of out is written;
** on error out is zeroed but for F_NOEOL in flags and, past the code, the
** code.
*/
static SC_INLINE int parse_line(const char *s, size_t len, int lenient,
                             size_t maxline, smtpcode_line *out) {
  size_t scan = len < maxline + 2 ? len : maxline + 2;
  const char *nl = scan > 0 ? (const char *)memchr(s, '\n', scan) : NULL;
  size_t end, used, t;
  unsigned d0, d1, d2;
  int flags, c = 0, sb = 0, d = 0, k = 0, eo = 0, code = 0;
  int status = SMTPCODE_ESYNTAX;

  if (nl != NULL) {
    end = (size_t)(nl - s);
    used = end + 1;
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
    used = len;
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
  if (d0 != 3u && t < end) {
    size_t e = t;
    int hash = 0, kk;
    if (lenient && s[e] == '#') {
      e++;
      hash = 1;
    }
    kk = end - e >= 10 ? enhanced10(s + e, &c, &sb, &d)
                       : enhanced(s + e, end - e, &c, &sb, &d);
    if (kk > 0) {
      size_t a = e + (size_t)kk;
      int ok = 0;
      if (a == end || s[a] == ' ')
        ok = 1;
      else if (lenient && s[a] == '\t')
        ok = 2;
      if (ok) {
        if (ok == 2 || hash) flags |= SMTPCODE_F_NONSTANDARD;
        if ((unsigned)c != d0) flags |= SMTPCODE_F_MISMATCH;
        eo = (int)e;
        k = kk;
        if (lenient)
          while (a < end && (s[a] == ' ' || s[a] == '\t')) a++;
        else
          while (a < end && s[a] == ' ') a++;
        t = a;
      } else {
        c = sb = d = 0;
      }
    }
  }
  out->code = code;
  out->cls = c;
  out->subject = sb;
  out->detail = d;
  out->flags = flags;
  out->enh_off = eo;
  out->enh_len = k;
  out->text_off = (int)t;
  out->text_len = (int)(end - t);
  out->length = (int)used;
  return (int)used;
fail:
  memset(out, 0, sizeof *out);
  out->code = code;
  out->flags = flags & SMTPCODE_F_NOEOL;
  return status;
}

SMTPCODE_API int smtpcode_parse_line(const char *s, size_t len,
                                     const smtpcode_opts *opts,
                                     smtpcode_line *out) {
  if (s == NULL) {
    memset(out, 0, sizeof *out);
    return SMTPCODE_ESYNTAX;
  }
  if (opts == NULL)
    return parse_line(s, len, 0, (size_t)SMTPCODE_MAX_LINE, out);
  return parse_line(s, len, opts->flags & SMTPCODE_O_LENIENT,
                    (size_t)limit(opts->max_line, SMTPCODE_MAX_LINE), out);
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

SMTPCODE_API int smtpcode_parse_reply(const char *s, size_t len,
                                      const smtpcode_opts *opts,
                                      smtpcode_reply *out,
                                      smtpcode_line *lines, int cap) {
  if (opts == NULL)
    return parse_reply(s, len, 0, (size_t)SMTPCODE_MAX_LINE,
                       SMTPCODE_MAX_LINES, (size_t)SMTPCODE_MAX_REPLY, out,
                       lines, cap);
  return parse_reply(s, len, opts->flags & SMTPCODE_O_LENIENT,
                     (size_t)limit(opts->max_line, SMTPCODE_MAX_LINE),
                     limit(opts->max_lines, SMTPCODE_MAX_LINES),
                     (size_t)limit(opts->max_reply, SMTPCODE_MAX_REPLY), out,
                     lines, cap);
}

SMTPCODE_API const char *smtpcode_status_name(int status) {
  switch (status) {
  case SMTPCODE_OK: return "ok";
  case SMTPCODE_ESYNTAX: return "syntax";
  case SMTPCODE_EINCOMPLETE: return "incomplete";
  case SMTPCODE_EINCONSISTENT: return "inconsistent";
  case SMTPCODE_ETOOLONG: return "too_long";
  case SMTPCODE_ENOTFOUND: return "not_found";
  default: return NULL;
  }
}

SMTPCODE_API const char *smtpcode_severity_name(int severity) {
  switch (severity) {
  case SMTPCODE_SEV_UNKNOWN: return "unknown";
  case SMTPCODE_SEV_SUCCESS: return "success";
  case SMTPCODE_SEV_INTERMEDIATE: return "intermediate";
  case SMTPCODE_SEV_TRANSIENT: return "transient";
  case SMTPCODE_SEV_PERMANENT: return "permanent";
  default: return NULL;
  }
}

SMTPCODE_API const char *smtpcode_version(void) { return SMTPCODE_VERSION; }
