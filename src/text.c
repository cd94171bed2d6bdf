/*
** text.c: the text of a found reply without its repeated codes, as spans
** into the caller's text (smtpcode_text_next).
**
** Part of the smtpcode C core: no allocation, no Lua, no state but the
** caller's position. Every byte of the text is looked at a bounded number
** of times over a whole walk, so the work is linear in the text.
*/
#include "smtpcode.h"

static int isbreak(char c) { return c == '\r' || c == '\n'; }

static int isdig(char c) { return c >= '0' && c <= '9'; }

/*
** After a line break of a multi-line reply: the end of "550-" / "550 " and
** of a repeated enhanced code at p (p itself when the line does not start
** with the reply code).
*/
static size_t lineprefix(const char *s, size_t p, size_t e,
                         const smtpcode_found *f) {
  const char *c = s + f->code_off;
  size_t d;
  if (e - p < 3 || s[p] != c[0] || s[p + 1] != c[1] || s[p + 2] != c[2])
    return p;
  p += 3;
  if (p < e && (s[p] == '-' || s[p] == ' ')) p++;
  if (f->enh_len <= 0) return p;
  d = p;
  while (d < e && (isdig(s[d]) || s[d] == '.')) d++;
  if (d > p && (d == e || s[d] == ' ') && s[p] >= '2' && s[p] <= '5' &&
      p + 1 < e && s[p + 1] == '.') {
    p = d;
    while (p < e && s[p] == ' ') p++;
  }
  return p;
}

/*
** A code repeated inside one line, at a (after a blank): the line of a
** multi-line reply ("550-5.2.1 a") that a log joined to the one before
** with a space. "550-" or "550 " then, when the reply has one, its own
** enhanced code followed by a blank or the end. Returns the end of what
** is dropped (the blanks after it included), or 0 when a is no such code.
** Without an enhanced code, "550 " counts only as the last line: when no
** other repeated code follows on the line.
*/
static size_t candend(const char *s, size_t a, size_t e,
                      const smtpcode_found *f) {
  const char *c = s + f->code_off;
  size_t p, k;
  if (e - a < 4 || s[a] != c[0] || s[a + 1] != c[1] || s[a + 2] != c[2] ||
      (s[a + 3] != '-' && s[a + 3] != ' '))
    return 0;
  p = a + 4;
  if (f->enh_len > 0) {
    size_t n = (size_t)f->enh_len;
    if (e - p < n) return 0;
    for (k = 0; k < n; k++)
      if (s[p + k] != s[f->enh_off + k]) return 0;
    p += n;
    if (p < e && s[p] != ' ') return 0;
  }
  return p;
}

static size_t cand(const char *s, size_t a, size_t e,
                   const smtpcode_found *f) {
  size_t p = candend(s, a, e, f), q;
  if (p == 0) return 0;
  if (f->enh_len <= 0 && s[a + 3] == ' ') {
    /* the last line's "550 ": no repeated code may follow on the line.
       The look ahead stops at the next one, where the walk goes on. */
    for (q = p; q < e && !isbreak(s[q]); q++)
      if (s[q - 1] == ' ' && candend(s, q, e, f)) return 0;
  }
  while (p < e && s[p] == ' ') p++;
  return p;
}

SMTPCODE_API int smtpcode_text_next(const char *s, size_t len,
                                    const smtpcode_found *f, size_t *pos,
                                    size_t *off, size_t *n) {
  size_t t, e, p, q;
  int kind = SMTPCODE_SPAN_LINE, multi, joined;
  *off = *n = 0;
  if (s == NULL || f == NULL || f->text_off < 0 || f->text_len < 0 ||
      (size_t)f->text_off > len ||
      (size_t)f->text_len > len - (size_t)f->text_off ||
      (f->code_off >= 0 && (size_t)f->code_off + 3 > len) ||
      (f->enh_len > 0 && (f->enh_off < 0 || (size_t)f->enh_off > len ||
                          (size_t)f->enh_len > len - (size_t)f->enh_off)))
    return SMTPCODE_SPAN_END;
  t = (size_t)f->text_off;
  e = t + (size_t)f->text_len;
  if (*pos > (size_t)f->text_len) return SMTPCODE_SPAN_END;
  p = t + *pos;
  /* lines are split, and codes dropped, only in a reply with a code */
  multi = f->code_off >= 0 && f->nlines > 1;
  joined = f->code_off >= 0 && f->nlines <= 1 &&
           (size_t)f->code_off + 3 < len && s[f->code_off + 3] == '-';
  if (*pos > 0) {
    if (isbreak(s[p - 1])) {
      if (p == e) { /* an empty last line */
        *off = p;
        *pos = (size_t)f->text_len + 1;
        return SMTPCODE_SPAN_LINE;
      }
      p = lineprefix(s, p, e, f);
    } else {
      if (p == e) return SMTPCODE_SPAN_END;
      kind = SMTPCODE_SPAN_JOIN;
    }
  } else if (p == e) {
    *pos = (size_t)f->text_len + 1;
    return SMTPCODE_SPAN_END;
  }
  for (q = p; q < e; q++) {
    if (multi && isbreak(s[q])) {
      *off = p;
      *n = q - p;
      q += (s[q] == '\r' && q + 1 < e && s[q + 1] == '\n') ? 2 : 1;
      *pos = q - t;
      return kind;
    }
    if (joined && q > t && s[q - 1] == ' ') {
      size_t d = cand(s, q, e, f);
      if (d == 0) continue;
      if (q == p) { /* nothing before it: drop it and go on */
        p = d;
        q = d - 1;
        continue;
      }
      *off = p;
      *n = q - p;
      if (d == e) /* nothing after it: no trailing blank */
        while (*n > 0 && s[p + *n - 1] == ' ') (*n)--;
      *pos = d - t;
      return kind;
    }
  }
  *off = p;
  *n = e - p;
  *pos = (size_t)f->text_len + 1;
  if (*n == 0 && kind == SMTPCODE_SPAN_JOIN) return SMTPCODE_SPAN_END;
  return kind;
}
