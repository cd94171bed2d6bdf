/*
** reply.c: strict and lenient parsing of SMTP reply lines and replies
** (RFC 5321 section 4.2, RFC 2034 section 4, RFC 3463 section 2).
*/
#include "smtpcode.h"

#include <string.h>

#include "replyline.h"
#include "severity.h"

static int limit(int v, int dflt) {
  if (v <= 0) return dflt;
  if (v > SMTPCODE_LIMIT_CEILING) return SMTPCODE_LIMIT_CEILING;
  return v;
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
  return smtpcode_severity_inline(code);
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
