/*
** find_context.c: the left context of a code candidate of smtpcode_find
** (src/find.c has the rules): whether the bytes before it anchor it (the
** start of the text or a line), vouch for it (':' or ';', an opener, a
** keyword such as "said", "error", "code", "reply", "dsn=") or leave it
** bare. Every look-back is bounded (at most 32 blanks, 16 leading bytes,
** a keyword of 8 letters).
*/
#include "smtpcode.h"

#include "find_int.h"

/* Up to eight lower-case letters packed into one number (K8). */
#define K8(a, b, c, d, e, f, g, h)                                          \
  ((((((((0ULL | (a)) << 8 | (b)) << 8 | (c)) << 8 | (d)) << 8 | (e)) << 8 | \
      (f)) << 8 | (g)) << 8 | (h))

/* Attributes of the keyword whose last letter is at e, 0 if none. */
static int keyword(const unsigned char *s, int e) {
  unsigned long long v = 0;
  int b = e, k;
  while (b >= 0 && e - b < 9 && isalpha_(s[b])) b--;
  if (e - b > 8 || (b >= 0 && isalpha_(s[b]))) return 0; /* too long */
  for (k = b + 1; k <= e; k++) v = v << 8 | (unsigned)(s[k] | 0x20);
  switch (v) {
  case K8(0, 0, 0, 0, 's', 'a', 'i', 'd'):
  case K8('r', 'e', 't', 'u', 'r', 'n', 'e', 'd'):
  case K8(0, 'r', 'e', 'p', 'l', 'i', 'e', 'd'):
  case K8('a', 'n', 's', 'w', 'e', 'r', 'e', 'd'):
    return K_Q | K_R;
  case K8(0, 0, 0, 'e', 'r', 'r', 'o', 'r'):
  case K8(0, 0, 'e', 'r', 'r', 'o', 'r', 's'):
  case K8(0, 0, 0, 0, 'c', 'o', 'd', 'e'):
  case K8(0, 0, 0, 'r', 'e', 'p', 'l', 'y'):
  case K8('r', 'e', 's', 'p', 'o', 'n', 's', 'e'):
  case K8(0, 0, 0, 0, 's', 'm', 't', 'p'):
  case K8(0, 0, 0, 'e', 's', 'm', 't', 'p'):
    return K_R;
  case K8(0, 0, 's', 't', 'a', 't', 'u', 's'):
    return K_R | K_E;
  case K8(0, 0, 0, 0, 's', 't', 'a', 't'):
  case K8(0, 0, 0, 0, 0, 'd', 's', 'n'):
    return K_E;
  case K8(0, 0, 'r', 'e', 'j', 'e', 'c', 't'): /* Sendmail "reject=550 ..." */
    return K_E | K_R;
  case K8(0, 'v', 'e', 'r', 's', 'i', 'o', 'n'):
  case K8(0, 'r', 'e', 'l', 'e', 'a', 's', 'e'):
  case K8(0, 0, 0, 0, 0, 'v', 'e', 'r'):
  case K8(0, 0, 0, 0, 0, 0, 0, 'v'):
  case K8(0, 0, 0, 0, 0, 'r', 'e', 'v'):
    return K_V;
  default:
    return 0;
  }
}

/*
** Like keyword(), and also the last part of a camel-case word
** ("ResponseCode", "smtpError"): only the R attribute counts there.
*/
static int keyword2(const unsigned char *s, int e) {
  int a = keyword(s, e), b, k;
  if (a != 0) return a;
  for (b = e, k = 0; k < 10 && b > 0 && isalpha_(s[b - 1]); k++, b--) {
    if (s[b] >= 'A' && s[b] <= 'Z' && s[b - 1] >= 'a' && s[b - 1] <= 'z')
      return keyword(s + b, e - b) & K_R;
  }
  return 0;
}

/* The opener ending at b, or 0; *ob receives its first byte. */
static int opener(const unsigned char *s, int b, int *ob) {
  int c = s[b];
  *ob = b;
  switch (c) {
  case '(': case '[': case '<': case '{': case '#': case ';': case '=':
  case '\'': case '"': case '`':
    return c;
  default:
    break;
  }
  if (b >= 2 && s[b - 2] == 0xE2 && s[b - 1] == 0x80 &&
      (c == 0x98 || c == 0x9C)) {
    *ob = b - 2;
    return c == 0x98 ? Q_LSQ : Q_LDQ;
  }
  if (b >= 1 && s[b - 1] == 0xC2 && c == 0xAB) {
    *ob = b - 1;
    return Q_LAQ;
  }
  return 0;
}

int find_closer(int op) {
  switch (op) {
  case '(': return ')';
  case '[': return ']';
  case '<': return '>';
  case '\'': case '"': case '`': return op;
  case Q_LSQ: return Q_RSQ;
  case Q_LDQ: return Q_RDQ;
  case Q_LAQ: return Q_RAQ;
  default: return 0;
  }
}


/* Bytes that may stand between a line start and a code at its start. */
static int islead(int c) {
  return isblank_(c) || c == '(' || c == '[' || c == '<' || c == '{' ||
         c == '#' || c == '\'' || c == '"' || c == '`' || c == '>';
}

/* Judge the left context of the token starting at i. */
void find_context(const unsigned char *s, int i, ctx *x) {
  int b = i - 1, ob, op, k, c;
  x->level = L_REJECT;
  x->open = 0;
  x->kw = 0;
  if (b < 0 || iseol(s[b])) {
    x->level = L_ANCHOR;
    return;
  }
  op = opener(s, b, &ob);
  if (op == '=') { /* only dsn=, status=, stat= */
    if (ob > 0 && isalpha_(s[ob - 1])) x->kw = keyword(s, ob - 1);
    if (x->kw & K_E) {
      x->level = L_CTX;
      x->open = '=';
    }
    return;
  }
  if (op != 0) {
    x->open = op;
    x->level = L_CTX;
    b = ob - 1;
    for (k = 0; k < 16 && b >= 0 && islead(s[b]); k++) b--;
    if (b < 0 || iseol(s[b])) {
      x->level = L_ANCHOR;
    } else if (isblank_(s[ob - 1])) { /* "returned '550", "said: (550" */
      for (b = ob - 1, k = 0; k < 16 && b >= 0 && isblank_(s[b]); k++) b--;
      if (b > 0 && s[b] == ':') b--;
      if (b >= 0 && isalpha_(s[b])) x->kw = keyword(s, b);
    }
    return;
  }
  if (s[b] == ':' && b > 0) { /* "RCPT TO:550 ...", "ERROR_CODE :550" */
    c = s[b - 1];
    if (c == '"' && b >= 2 && isalpha_(s[b - 2])) {
      /* a JSON key: "code":550, "status":"..." -- only a key that names a
         reply ("code", "status", "reply", "response", "error", "smtp") */
      x->kw = keyword2(s, b - 2);
      if (x->kw & K_R) x->level = L_CTX;
    } else if (isblank_(c)) {
      x->level = L_CTX;
    } else if (isalpha_(c)) { /* a word with a letter beyond a-f: no IPv6 */
      for (b--, k = 0; k < 16 && b >= 0 && isalpha_(s[b]); k++, b--)
        if ((s[b] | 0x20) > 'f') x->level = L_CTX;
      if (b >= 0 && (isdig(s[b]) || s[b] == ':' || s[b] == '.'))
        x->level = L_REJECT; /* "fe80::abc:550", "host.example:550" */
    }
    return;
  }
  if (s[b] == ',' && (b == 0 || !isdig(s[b - 1]))) {
    /* a CSV field ("...,FAIL,550 5.1.1 ..."): not after a digit, so that
       "1,550,000" stays a number */
    x->level = L_CTX;
    x->open = ',';
    return;
  }
  if (!isblank_(s[b])) return; /* glued to a word, number, '.', ':' ... */
  for (k = 0; k < 32 && b >= 0 && isblank_(s[b]); k++) b--;
  if (b < 0 || iseol(s[b])) {
    x->level = L_ANCHOR;
    return;
  }
  c = s[b];
  if (c == ':' || c == ';') {
    x->level = L_CTX;
    if (c == ':' && b > 0 && isalpha_(s[b - 1])) x->kw = keyword(s, b - 1);
    return;
  }
  op = opener(s, b, &ob);
  if (op != 0 && op != '=') {
    x->level = L_CTX;
    return;
  }
  if (isalpha_(c)) {
    x->kw = keyword2(s, b);
    x->level = (x->kw & (K_Q | K_R)) ? L_CTX : L_BARE;
    return;
  }
  x->level = L_BARE;
}

