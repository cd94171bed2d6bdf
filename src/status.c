/*
** status.c: the message of each negative status, for every binding.
**
** Part of the smtpcode C core: no allocation, no Lua, the caller's buffer.
*/
#include "smtpcode.h"

/* Append the bytes of p to out[0..cap) at *n (counting past cap). */
static void put(char *out, size_t cap, size_t *n, const char *p) {
  for (; *p; p++, (*n)++)
    if (*n < cap) out[*n] = *p;
}

static void putint(char *out, size_t cap, size_t *n, int v) {
  char d[12];
  int k = 0;
  unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
  do {
    d[k++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) d[k++] = '-';
  while (k > 0) {
    if (*n < cap) out[*n] = d[k - 1];
    (*n)++;
    k--;
  }
}

/*
** The message as template: '#' stands for the line number, '%' for the
** status.
*/
static const char *tmpl(int status) {
  switch (status) {
  case SMTPCODE_ESYNTAX: return "line # is not a valid reply line";
  case SMTPCODE_EINCOMPLETE: return "reply is incomplete at line #";
  case SMTPCODE_EINCONSISTENT:
    return "line # has a different reply code than line 1";
  case SMTPCODE_ETOOLONG: return "reply exceeds a size limit at line #";
  default: return "error % at line #";
  }
}

SMTPCODE_API int smtpcode_status_message(int status, int line, char *out,
                                         size_t cap) {
  const char *p = tmpl(status);
  size_t n = 0;
  char one[2] = {0, 0};
  for (; *p; p++) {
    if (*p == '#')
      putint(out, cap, &n, line);
    else if (*p == '%')
      putint(out, cap, &n, status);
    else {
      one[0] = *p;
      put(out, cap, &n, one);
    }
  }
  if (cap > 0) out[n < cap ? n : cap - 1] = '\0';
  return (int)n;
}
