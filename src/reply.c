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
