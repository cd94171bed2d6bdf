/*
** severity.h: the severity of a reply code, inline for the hot paths of
** the core and of the Lua binding (smtpcode_severity_of in reply.c is this
** function; the one definition of the rule, RFC 5321 section 4.2.1: the
** first digit, 2 to 5, says success, intermediate, transient or permanent).
*/
#ifndef smtpcode_severity_h
#define smtpcode_severity_h

#include "smtpcode.h"

static inline int smtpcode_severity_inline(int code) {
  int d = code / 100;
  if (code < 0 || code > 999) return SMTPCODE_SEV_UNKNOWN;
  return (d >= 2 && d <= 5) ? d : SMTPCODE_SEV_UNKNOWN;
}

#endif
