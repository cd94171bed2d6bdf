/*
** bounce_walk.c: the structure of a bounce message (src/bounce_int.h):
** the MIME walk (multiparts, delimiters matched exactly, with transport
** padding and a leading blank tolerated; end of input closes every open
** part), leaf parts decoded (base64, quoted-printable) into the caller's
** buffer when they matter: the DSN and feedback parts, the first text part,
** the returned headers. The returned message itself is never walked (a
** report inside it is not this report). Then the fields of a header block
** and the DSN field groups (RFC 3464 2.1): per-message fields, then one
** group per recipient; a group also starts at a second Final-Recipient.
** Work: each multipart level scans its own body once (depth bounded).
*/
#include "bounce_int.h"

/* {====================================================== spans */

/* The span of p[0..len), in the message or in the buffer (the empty span
** for NULL or 0). */
smtpcode_span bounce_sp(const ctx *c, const char *p, size_t len) {
  smtpcode_span s;
  s.off = 0;
  s.len = 0;
  s.where = 0;
  if (p == NULL || len == 0) return s;
  if (p >= c->m && p <= c->m + c->n) {
    s.off = (int)(p - c->m);
  } else {
    s.off = (int)(p - c->buf);
    s.where = 1;
  }
  s.len = (int)len;
  return s;
}

/* }====================================================== */

/* {====================================================== MIME walk */

int bounce_ctis(const char *v, size_t n, const char *z) {
  size_t o = 0, l, k = 0;
  while (k < n && v[k] != ';') k++;
  l = k;
  mime_trim(v, &o, &l);
  return mime_ieq(v + o, l, z);
}

static int ctprefix(const char *v, size_t n, const char *z) {
  size_t m = strlen(z), o = 0;
  while (o < n && isblank_(v[o])) o++;
  return n - o >= m && mime_ieq(v + o, m, z);
}

/* Decode a leaf body by its transfer encoding into the buffer. */
void bounce_decode(ctx *c, const char *p, size_t n, const char *cte,
                   size_t cten, const char **op, size_t *on) {
  int b64 = cte && bounce_ctis(cte, cten, "base64");
  int qp = cte && bounce_ctis(cte, cten, "quoted-printable");
  *op = p;
  *on = n;
  if (!b64 && !qp) return;
  if (room(c) < n || room(c) == 0) {
    c->out->flags |= SMTPCODE_BR_NOBUF;
    return;
  }
  *op = cur(c);
  *on = b64 ? mime_base64(p, n, cur(c), room(c)) : mime_qp(p, n, cur(c), room(c));
  c->used += *on;
}

/* Length of the header block at p (up to and excluding the empty line),
** and the start of the body. */
size_t bounce_hblock(const char *p, size_t n, size_t *body) {
  size_t i = 0;
#ifdef BOUNCE_SSE2
  /* an empty line starts at a CR or LF that starts a line: one after an LF,
     a CR after a CR (a CR alone ends its line); sixteen bytes at a time,
     each beside the byte before it */
  if (n > 0 && p[0] != '\r' && p[0] != '\n') {
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    for (i = 1; n - i >= 16; i += 16) {
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i)),
              w = _mm_loadu_si128((const __m128i *)(const void *)(p + i - 1));
      __m128i wlf = _mm_cmpeq_epi8(w, lf);
      unsigned mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(
          _mm_and_si128(_mm_cmpeq_epi8(v, cr), _mm_or_si128(wlf, _mm_cmpeq_epi8(w, cr))),
          _mm_and_si128(_mm_cmpeq_epi8(v, lf), wlf)));
      if (mask) {
        i += (size_t)__builtin_ctz(mask);
        *body = mime_next(p, n, i);
        return i;
      }
    }
    for (; i < n; i++)
      if ((p[i] == '\r' && (p[i - 1] == '\n' || p[i - 1] == '\r')) ||
          (p[i] == '\n' && p[i - 1] == '\n')) {
        *body = mime_next(p, n, i);
        return i;
      }
    *body = n;
    return n;
  }
#endif
  while (i < n) {
    size_t e = mime_eol(p, n, i);
    if (e == i) {
      *body = mime_next(p, n, e);
      return i;
    }
    i = mime_next(p, n, e);
  }
  *body = n;
  return n;
}

static void entity(ctx *c, const char *p, size_t n, int depth);

static int isdelim(const char *p, size_t n, size_t i, size_t e,
                   const char *b, size_t bn, int *close) {
  while (i < e && isblank_(p[i])) i++;
  if (e - i < bn + 2 || p[i] != '-' || p[i + 1] != '-' ||
      memcmp(p + i + 2, b, bn) != 0)
    return 0;
  i += bn + 2;
  *close = 0;
  if (i + 1 < e + 0 && p[i] == '-' && p[i + 1] == '-') {
    *close = 1;
    i += 2;
  } else if (i + 1 == e && p[i] == '-') {
    return 0;
  }
  while (i < e && isblank_(p[i])) i++;
  (void)n;
  return i == e;
}

/* The first d >= i where "--" and the boundary b stand in p (d + bn + 2 <=
** n), or n. With SSE2 sixteen starts at a time are filtered by the two
** dashes and the boundary's first and last bytes, else by memchr of '-'. */
static size_t nextdelim(const char *p, size_t n, size_t i, const char *b, size_t bn) {
  size_t last;
  if (n < bn + 2 || i > n - bn - 2) return n;
  last = n - bn - 2;
#ifdef BOUNCE_SSE2
  {
    const __m128i dash = _mm_set1_epi8('-'), f = _mm_set1_epi8(b[0]),
                  l = _mm_set1_epi8(b[bn - 1]);
    if (i + 63 <= last) { /* sixty-four starts a turn, then sixteen */
      const char *q = p + i, *qe = p + last - 63;
      for (;;) {
        unsigned long long m0 =
            (unsigned long long)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
                _mm_loadu_si128((const __m128i *)(const void *)q), dash)) |
            (unsigned long long)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
                _mm_loadu_si128((const __m128i *)(const void *)(q + 16)), dash))
                << 16 |
            (unsigned long long)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
                _mm_loadu_si128((const __m128i *)(const void *)(q + 32)), dash))
                << 32 |
            (unsigned long long)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
                _mm_loadu_si128((const __m128i *)(const void *)(q + 48)), dash))
                << 48;
        unsigned long long mask = m0 & (m0 >> 1 | (unsigned long long)(q[64] == '-') << 63);
        while (mask) { /* the boundary's first and last bytes, then the whole */
          size_t d = (size_t)(q - p) + (size_t)__builtin_ctzll(mask);
          if (p[d + 2] == b[0] && p[d + 1 + bn] == b[bn - 1] && memcmp(p + d + 2, b, bn) == 0)
            return d;
          mask &= mask - 1;
        }
        q += 64;
        if (q > qe) break;
      }
      i = (size_t)(q - p);
    }
    if (i + 15 <= last) {
      const char *q = p + i, *qe = p + last - 15;
      for (;;) {
        /* the dashes first (most blocks have no two in a row), the
           boundary's bytes only where two are */
        unsigned m0 = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)q), dash));
        unsigned mask = m0 & (m0 >> 1 | (unsigned)(q[16] == '-') << 15);
        if (mask)
          mask &= (unsigned)_mm_movemask_epi8(_mm_and_si128(
              _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(q + 2)), f),
              _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(q + 1 + bn)), l)));
        while (mask) {
          size_t d = (size_t)(q - p) + (size_t)__builtin_ctz(mask);
          if (memcmp(p + d + 2, b, bn) == 0) return d;
          mask &= mask - 1;
        }
        q += 16;
        if (q > qe) break;
      }
      i = (size_t)(q - p);
    }
  }
  for (; i <= last; i++)
    if (p[i] == '-' && p[i + 1] == '-' && memcmp(p + i + 2, b, bn) == 0) return i;
#else
  while (i <= last) {
    const char *q = memchr(p + i, '-', last - i + 1);
    if (q == NULL) break;
    i = (size_t)(q - p);
    if (p[i + 1] == '-' && memcmp(p + i + 2, b, bn) == 0) return i;
    i++;
  }
#endif
  return n;
}

/* Walk a multipart body; returns 0 when no delimiter was found. Only
** "--boundary" occurrences are looked at (memchr for '-'), then checked to
** stand alone on their line. */
static int multipart(ctx *c, const char *p, size_t n, const char *b,
                     size_t bn, int depth) {
  size_t i = 0, start = 0;
  int open = 0, seen = 0;
  while (i + bn + 2 <= n) {
    size_t d = nextdelim(p, n, i, b, bn), ls, e;
    int close;
    if (d >= n) break;
    i = d + 1;
    ls = d; /* the line start: only blanks before the delimiter */
    while (ls > 0 && isblank_(p[ls - 1])) ls--;
    if (ls > 0 && p[ls - 1] != '\n' && p[ls - 1] != '\r') continue;
    e = mime_eol(p, n, d);
    if (!isdelim(p, n, ls, e, b, bn, &close)) continue;
    if (open) {
      size_t end = ls;
      if (end > start && p[end - 1] == '\n') end--;
      if (end > start && p[end - 1] == '\r') end--;
      if (c->parts++ < c->max_parts) entity(c, p + start, end - start, depth + 1);
      else c->out->flags |= SMTPCODE_BR_PARTS;
    }
    seen = 1;
    if (close) return 1;
    open = 1;
    start = mime_next(p, n, e);
    i = start;
  }
  if (open) {
    c->out->flags |= SMTPCODE_BR_NO_CLOSE;
    if (c->parts++ < c->max_parts) entity(c, p + start, n - start, depth + 1);
    else c->out->flags |= SMTPCODE_BR_PARTS;
  }
  return seen;
}

/* Start of the body after a header block that ended at i (its empty
** line, or the end of p). */
size_t bounce_bodystart(const char *p, size_t n, size_t i) {
  return i < n ? mime_next(p, n, mime_eol(p, n, i)) : n;
}

static void entity(ctx *c, const char *p, size_t n, int depth) {
  size_t i = 0;
  const char *ct = NULL, *cte = NULL;
  size_t ctn = 0, cten = 0, b;
  for (;;) {
    size_t nm, nl, v, vl;
    int tl = 0;
    size_t nx = mime_field(p, n, i, (size_t)c->max_header, &nm, &nl, &v, &vl, &tl);
    if (nx <= i) break;
    if (nl == 12 && mime_ieqn(p + nm, "content-type", nl)) {
      ct = p + v;
      ctn = vl;
    } else if (nl == 25 && mime_ieqn(p + nm, "content-transfer-encoding", nl)) {
      cte = p + v;
      cten = vl;
    }
    i = nx;
  }
  b = bounce_bodystart(p, n, i);
  bounce_body(c, ct, ctn, cte, cten, p + b, n - b, depth);
}

void bounce_body(ctx *c, const char *ct, size_t ctn, const char *cte, size_t cten,
                 const char *bp, size_t bn, int depth) {
  size_t tyo = 0, tyl = 0;
  if (ct && ctprefix(ct, ctn, "multipart/")) {
    size_t po, pl;
    if (bounce_ctis(ct, ctn, "multipart/report") && mime_param(ct, ctn, "report-type", &po, &pl) &&
        c->out->report_type.len == 0)
      c->out->report_type = bounce_sp(c, ct + po, pl);
    if (mime_param(ct, ctn, "boundary", &po, &pl) && pl > 0 && pl <= 200) {
      if (c->bnd == NULL) {
        c->bnd = ct + po;
        c->bndn = pl;
      }
      if (depth >= c->max_depth) {
        c->out->flags |= SMTPCODE_BR_PARTS;
        return;
      }
      if (multipart(c, bp, bn, ct + po, pl, depth)) return;
    }
    /* no delimiter at all: the body is read as text below */
    if (c->text == NULL) {
      c->text = bp;
      c->textn = bn;
    }
    return;
  }
  /* the type, once: up to ';', blanks trimmed */
  if (ct) {
    size_t k = 0;
    while (k < ctn && ct[k] != ';') k++;
    tyl = k;
    mime_trim(ct, &tyo, &tyl);
  }
#define TY(z) (tyl == sizeof(z) - 1 && mime_ieqn(ct + tyo, z, tyl))
  if (ct && (TY("message/delivery-status") ||
             TY("message/global-delivery-status"))) {
    if (c->ndsn < MAX_DSN) {
      bounce_decode(c, bp, bn, cte, cten, &c->dsn[c->ndsn], &c->dsnn[c->ndsn]);
      c->ndsn++;
    }
  } else if (ct && TY("message/feedback-report")) {
    if (c->fb == NULL) bounce_decode(c, bp, bn, cte, cten, &c->fb, &c->fbn);
  } else if (ct && (TY("message/rfc822") || TY("message/global") ||
                    TY("text/rfc822-headers") ||
                    TY("message/global-headers") ||
                    TY("message/partial"))) {
    if (c->ret == NULL) { /* only its header block is read (bounce_returned) */
      size_t lim = bn > RET_MAX ? RET_MAX : bn, b2;
      if (cte && bounce_ctis(cte, cten, "quoted-printable")) /* the header, not the body */
        lim = bounce_hblock(bp, lim, &b2) + 2;
      bounce_decode(c, bp, lim > bn ? bn : lim, cte, cten, &c->ret, &c->retn);
      c->retall = c->ret;
      c->retalln = c->retn;
    }
  } else if (ct == NULL || TY("text/plain") || ctprefix(ct, ctn, "text/plain")) {
    if (c->text == NULL) { /* decoded when read (textnow) */
      c->text = bp;
      c->textn = bn;
      c->tcte = cte;
      c->tcten = cten;
      c->tpending = 1;
    }
  } else if (TY("text/html")) {
    if (c->html == NULL) { /* decoded only when no text/plain part exists */
      c->html = bp;
      c->htmln = bn;
      c->htmlcte = cte;
      c->htmlcten = cten;
    }
  }
#undef TY
}

/* }====================================================== */

/* {====================================================== fields */

/* Find the first field `name` (lowercase) of a header block. */
int bounce_hget(ctx *c, const char *h, size_t hn, const char *name,
                const char **v, size_t *vn) {
  size_t i = 0, ln = strlen(name);
  while (i < hn) {
    size_t nm, nl, vo, vl;
    int tl = 0;
    size_t nx = mime_field(h, hn, i, (size_t)c->max_header, &nm, &nl, &vo, &vl, &tl);
    if (nx <= i) break;
    if (nl == ln && mime_ieqn(h + nm, name, nl)) {
      *v = h + vo;
      *vn = vl;
      return 1;
    }
    i = nx;
  }
  return 0;
}

/* s[0..n) unfolded: one line in place, trimmed; else a copy in the buffer
** (the raw value when the buffer is short). */
smtpcode_span bounce_unfold_sp(ctx *c, const char *s, size_t n) {
  size_t k;
  if (room(c) < n || room(c) == 0) {
    c->out->flags |= SMTPCODE_BR_NOBUF;
    return bounce_sp(c, s, n);
  }
  if (mime_eol(s, n, 0) == n) { /* one line: what unfolding gives, in place */
    size_t o = 0;
    while (o < n && isblank_(s[o])) o++;
    while (n > o && isblank_(s[n - 1])) n--;
    return bounce_sp(c, s + o, n - o);
  }
  k = (size_t)smtpcode_unfold(s, n, cur(c), room(c));
  c->used += k;
  return bounce_sp(c, cur(c) - k, k);
}

#define ADDR_A(b)                                                                 \
  (((b) >= 'a' && (b) <= 'z') || ((b) >= 'A' && (b) <= 'Z') || ((b) >= '0' && (b) <= '9') || \
   (b) == '!' || (b) == '#' || (b) == '$' || (b) == '%' || (b) == '&' || (b) == '\'' ||      \
   (b) == '*' || (b) == '+' || (b) == '/' || (b) == '=' || (b) == '?' || (b) == '^' ||        \
   (b) == '_' || (b) == '`' || (b) == '{' || (b) == '|' || (b) == '}' || (b) == '~' ||        \
   (b) == '.' || (b) == '-' || (b) >= 0x80)
#define ADDR_D(b)                                                                 \
  (((b) >= 'a' && (b) <= 'z') || ((b) >= 'A' && (b) <= 'Z') || ((b) >= '0' && (b) <= '9') || \
   (b) == '.' || (b) == '-' || (b) == '_' || (b) >= 0x80)
#define AB(b) (ADDR_A(b) | ADDR_D(b) << 1)
#define AB4(b) AB(b), AB(b + 1), AB(b + 2), AB(b + 3)
#define AB16(b) AB4(b), AB4(b + 4), AB4(b + 8), AB4(b + 12)
#define AB64(b) AB16(b), AB16(b + 16), AB16(b + 32), AB16(b + 48)
const unsigned char bounce_addrbyte[256] = {AB64(0), AB64(64), AB64(128), AB64(192)};
#undef AB64
#undef AB16
#undef AB4
#undef AB
#undef ADDR_D
#undef ADDR_A

/* An address at s[i..n): its length, or 0. Local part, '@', a domain with a
** dot inside (or a bracketed IP). */
size_t bounce_addrlen(const char *s, size_t n, size_t i) {
  size_t j = i, at0;
  int dot = 0;
  while (j < n && j - i < 256 && isatext((unsigned char)s[j]) && s[j] != '@') j++;
  if (j == i || j >= n || s[j] != '@') return 0;
  at0 = ++j;
  if (j < n && s[j] == '[') {
    while (j < n && j - at0 < 64 && s[j] != ']') j++;
    return j < n && s[j] == ']' ? j + 1 - i : 0;
  }
  while (j < n && j - at0 < 255 && isdtext((unsigned char)s[j])) {
    if (s[j] == '.' && j > at0 && j + 1 < n && isdtext((unsigned char)s[j + 1])) dot = 1;
    j++;
  }
  while (j > at0 && (s[j - 1] == '.' || s[j - 1] == '-')) j--;
  return dot && j > at0 ? j - i : 0;
}

/* The address of a typed value ("rfc822; <a@b>"): type removed, brackets
** and blanks trimmed. */
void bounce_addrvalue(const char *v, size_t vn, size_t *o, size_t *l) {
  size_t k = 0;
  while (k < vn && v[k] != ';') k++;
  if (k < vn) k++;
  else k = 0;
  *o = k;
  *l = vn - k;
  mime_trim(v, o, l);
  if (*l >= 2 && v[*o] == '<') {
    size_t e = 1;
    while (e < *l && v[*o + e] != '>') e++;
    (*o)++;
    *l = e - 1;
  }
  mime_trim(v, o, l);
  while (*l > 0 && v[*o + *l - 1] == '>') (*l)--; /* "a@b>" without its '<' */
  if (*l > 1 && v[*o] == '@') { /* a source route "@relay:a@b" */
    size_t e = 0;
    while (e < *l && v[*o + e] != ':') e++;
    if (e < *l) {
      *o += e + 1;
      *l -= e + 1;
    }
  }
  /* a trailing comment or text after a blank */
  {
    size_t e = 0;
    while (e < *l && !isblank_(v[*o + e])) e++;
    if (e > 0) *l = e;
  }
}

int bounce_actionof(const char *v, size_t n) {
  size_t o = 0, l = n, k = 0;
  mime_trim(v, &o, &l);
  while (k < l && (v[o + k] >= 'A' || v[o + k] == '-') && !isblank_(v[o + k]) &&
         v[o + k] != '(' && v[o + k] != ';')
    k++;
  if (mime_ieq(v + o, k, "failed") || mime_ieq(v + o, k, "expired") ||
      mime_ieq(v + o, k, "undeliverable") || mime_ieq(v + o, k, "failure"))
    return SMTPCODE_ACT_FAILED;
  if (mime_ieq(v + o, k, "delayed")) return SMTPCODE_ACT_DELAYED;
  if (mime_ieq(v + o, k, "delivered") || mime_ieq(v + o, k, "deliverable"))
    return SMTPCODE_ACT_DELIVERED;
  if (mime_ieq(v + o, k, "relayed")) return SMTPCODE_ACT_RELAYED;
  if (mime_ieq(v + o, k, "expanded")) return SMTPCODE_ACT_EXPANDED;
  return SMTPCODE_ACT_NONE;
}

/* The d.d.d of a Status value (comment and blanks around dropped). */
smtpcode_span bounce_statusvalue(ctx *c, const char *v, size_t n) {
  size_t o = 0, l = n, k = 0;
  int a, b, d;
  mime_trim(v, &o, &l);
  while (k < l && (isdig(v[o + k]) || v[o + k] == '.')) k++;
  if (k > 0 && smtpcode_parse_status(v + o, k, &a, &b, &d) >= 0)
    return bounce_sp(c, v + o, k);
  return bounce_sp(c, NULL, 0);
}

/* }====================================================== */

/* {====================================================== diagnostics */

/*
** The diagnostic of a recipient, unfolded into the buffer, with the
** repeated "550-5.1.1 " prefixes of a multi-line reply left out.
*/
smtpcode_span bounce_diagtext(ctx *c, const char *s, size_t n) {
  char *d;
  size_t o = 0, i = 0, cap = room(c), enl = 0;
  const char *code = NULL, *enh = NULL;
  int linestart = 1;
#ifdef BOUNCE_SSE2
  int simd;
#endif
  if (cap < n || cap == 0) {
    c->out->flags |= SMTPCODE_BR_NOBUF;
    return bounce_sp(c, s, n);
  }
  d = cur(c);
#ifdef BOUNCE_SSE2
  /* words are copied sixteen bytes at a time where the text does not lie
     in the free part of the buffer written here */
  simd = s + n <= d || s >= d + cap;
#endif
  while (i < n && (isblank_(s[i]) || s[i] == '\r' || s[i] == '\n')) i++;
  while (i < n) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '\r' || ch == '\n' || isblank_(ch)) {
      int brk = 0;
      while (i < n && (isblank_(s[i]) || s[i] == '\r' || s[i] == '\n')) {
        if (s[i] == '\r' || s[i] == '\n') brk = 1;
        i++;
      }
      if (i < n) d[o++] = ' ';
      linestart = brk ? 1 : 2;
      continue;
    }
    if (linestart && i + 4 <= n && isdig(s[i]) && isdig(s[i + 1]) && isdig(s[i + 2]) &&
        (s[i + 3] == '-' || s[i + 3] == ' ') && s[i] >= '2' && s[i] <= '5') {
      if (code == NULL) {
        size_t j = i + 4;
        code = s + i;
        memcpy(d + o, s + i, 3);
        o += 3;
        d[o++] = ' ';
        /* the code written twice ("554 554 5.7.0 ..."), as Gmail quotes */
        if (j + 4 <= n && memcmp(s + j, code, 3) == 0 && s[j + 3] == ' ') j += 4;
        i = j;
        enh = s + j;
        while (j < n && (isdig(s[j]) || s[j] == '.')) j++;
        enl = (size_t)(s + j - enh);
        linestart = 0;
        continue;
      }
      if (code && memcmp(s + i, code, 3) == 0 &&
          (s[i + 3] == '-' || linestart == 1 ||
           (enl > 0 && i + 4 + enl <= n && memcmp(s + i + 4, enh, enl) == 0))) {
        size_t j = i + 4;
        if (enl > 0 && j + enl <= n && memcmp(s + j, enh, enl) == 0 &&
            (j + enl == n || s[j + enl] == ' ')) {
          j += enl;
          while (j < n && s[j] == ' ') j++;
        }
        i = j;
        linestart = 0;
        continue;
      }
    }
    linestart = 0;
    d[o++] = (char)ch;
    i++;
    /* the rest of the word, as the loop would copy it (a byte over ' ' is
       never a blank or a line end, and no code starts inside a word) */
#ifdef BOUNCE_SSE2
    if (simd) { /* o <= i: the output never outgrows the input read */
      /* and the words after it: a lone ' ' before a byte over ' ' that
         starts no reply code ('2' to '5') is what the loop writes for it,
         so it is copied as it stands; any other byte up to ' ' stops */
      const __m128i sp = _mm_set1_epi8(' ');
      while (n - i >= 17 && cap - o >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, sp), sp));
        unsigned k = 16;
        _mm_storeu_si128((__m128i *)(void *)(d + o), v); /* bytes past the stop: free */
        while (mask) {
          unsigned q = (unsigned)__builtin_ctz(mask);
          unsigned char nx = (unsigned char)s[i + q + 1];
          if (s[i + q] != ' ' || nx <= ' ' || (nx >= '2' && nx <= '5')) {
            k = q;
            break;
          }
          mask &= mask - 1;
        }
        i += k;
        o += k;
        if (k < 16) break;
      }
    }
#endif
    while (i < n && (unsigned char)s[i] > ' ') d[o++] = s[i++];
  }
  while (o > 0 && d[o - 1] == ' ') o--;
  c->used += o;
  return bounce_sp(c, d, o);
}

/* }====================================================== */

/* {====================================================== recipients */


smtpcode_brcpt *bounce_newrcpt(ctx *c) {
  smtpcode_brcpt *r;
  c->out->total++;
  if (c->out->nrcpt < c->rcap && c->out->nrcpt < c->max_rcpt) {
    r = &c->r[c->out->nrcpt++];
  } else {
    c->out->flags |= SMTPCODE_BR_MORE_RCPTS;
    return NULL;
  }
  memset(r, 0, sizeof *r);
  return r;
}

int bounce_known(const ctx *c, const char *a, size_t an) {
  int i;
  for (i = 0; i < c->out->nrcpt; i++)
    if (sameaddr(c, c->r[i].recipient, a, an)) return 1;
  return 0;
}

static int hexdig(unsigned char ch) {
  if (isdig(ch)) return ch - '0';
  ch = lower(ch);
  return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/*
** An address of a DSN field. With the "utf-8" address type (RFC 6533
** section 3), "\\x{HEX}" escapes are decoded to UTF-8; as written otherwise
** (xtext "+HH" is left alone: "user+12@" is a plus address).
*/
static smtpcode_span addrspan(ctx *c, const char *v, size_t vn, const char *a, size_t n) {
  size_t i, o = 0, t = 0;
  char *d;
  int enc = 0;
  while (t < vn && isblank_(v[t])) t++;
  if (!(vn - t >= 5 && mime_ieq(v + t, 5, "utf-8"))) return bounce_sp(c, a, n);
  for (i = 0; i + 2 < n; i++)
    if (a[i] == '\\' && a[i + 1] == 'x' && a[i + 2] == '{') enc = 1;
  if (!enc || room(c) < 2 * n || room(c) == 0) return bounce_sp(c, a, n);
  d = cur(c);
  for (i = 0; i < n;) {
    if (a[i] == '\\' && i + 3 < n && a[i + 1] == 'x' && a[i + 2] == '{') {
      size_t j = i + 3;
      unsigned long cp = 0;
      while (j < n && j < i + 10 && hexdig((unsigned char)a[j]) >= 0)
        cp = cp * 16 + (unsigned long)hexdig((unsigned char)a[j++]);
      if (j < n && a[j] == '}' && j > i + 3 && cp <= 0x10ffff) {
        if (cp < 0x80) d[o++] = (char)cp;
        else if (cp < 0x800) {
          d[o++] = (char)(0xc0 | (cp >> 6));
          d[o++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
          d[o++] = (char)(0xe0 | (cp >> 12));
          d[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
          d[o++] = (char)(0x80 | (cp & 0x3f));
        } else {
          d[o++] = (char)(0xf0 | (cp >> 18));
          d[o++] = (char)(0x80 | ((cp >> 12) & 0x3f));
          d[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
          d[o++] = (char)(0x80 | (cp & 0x3f));
        }
        i = j + 1;
        continue;
      }
    }
    d[o++] = a[i++];
  }
  c->used += o;
  return bounce_sp(c, d, o);
}

/* Read DSN fields from p[0..n); returns the recipients added. */
int bounce_dsnfields(ctx *c, const char *p, size_t n) {
  size_t i = 0;
  int added = 0, group = 0; /* group: fields of the current recipient seen */
  smtpcode_brcpt *r = NULL;
  int blank = 1, hasfinal = 0, hasorig = 0, inrcpt = 0;
  while (i < n) {
    size_t k = i, nm, nl, v, vl, nx;
    int tl = 0;
    while (k < n && isblank_(p[k])) k++;
    if (k == n || p[k] == '\r' || p[k] == '\n') { /* an empty or blank line ends a group */
      blank = 1;
      i = mime_next(p, n, k);
      continue;
    }
    nx = mime_field(p, n, i, 65536, &nm, &nl, &v, &vl, &tl);
    if (nx <= i) {
      i = mime_next(p, n, mime_eol(p, n, i));
      continue;
    }
    i = nx;
    if (nl == 0) continue;
#define IS(z) (nl == sizeof(z) - 1 && mime_ieqn(p + nm, z, nl))
    if (IS("reporting-mta")) {
      if (c->out->reporting_mta.len == 0) {
        size_t o = 0, l;
        while (o < vl && p[v + o] != ';') o++;
        o = o < vl ? o + 1 : 0;
        l = vl - o;
        mime_trim(p + v, &o, &l);
        c->out->reporting_mta = bounce_sp(c, p + v + o, l);
      }
      continue;
    }
    if (IS("arrival-date") || IS("received-date")) {
      if (c->out->arrival_date.len == 0) c->out->arrival_date = bounce_sp(c, p + v, vl);
      continue;
    }
    {
      int isfinal = IS("final-recipient"), isorig = IS("original-recipient");
      int rfield = isfinal || isorig || IS("action") || IS("status") || IS("remote-mta") ||
                   IS("diagnostic-code") || IS("last-attempt-date") || IS("will-retry-until") ||
                   IS("x-actual-recipient");
      if (!rfield) continue;
      if (!inrcpt || (blank && group) || (isfinal && hasfinal) ||
          (isorig && hasorig && hasfinal)) {
        inrcpt = 1;
        group = 0;
        hasfinal = hasorig = 0;
        r = bounce_newrcpt(c);
        added++;
      }
      blank = 0;
      group++;
      if (isfinal) hasfinal = 1;
      if (isorig) hasorig = 1;
      if (r == NULL) continue;
      if (isfinal || isorig) {
        size_t o, l;
        bounce_addrvalue(p + v, vl, &o, &l);
        if (isfinal) r->recipient = addrspan(c, p + v, vl, p + v + o, l);
        else r->original = addrspan(c, p + v, vl, p + v + o, l);
      } else if (IS("action")) {
        size_t o = 0, l = vl;
        mime_trim(p + v, &o, &l);
        r->action_raw = bounce_sp(c, p + v + o, l);
        r->action = bounce_actionof(p + v, vl);
      } else if (IS("status")) {
        r->status_raw = bounce_statusvalue(c, p + v, vl);
      } else if (IS("remote-mta")) {
        size_t o = 0, l;
        while (o < vl && p[v + o] != ';') o++;
        o = o < vl ? o + 1 : 0;
        l = vl - o;
        mime_trim(p + v, &o, &l);
        r->remote_mta = bounce_sp(c, p + v + o, l);
      } else if (IS("diagnostic-code")) {
        size_t o = 0, l;
        while (o < vl && p[v + o] != ';' && o < 40) o++;
        if (o < vl && p[v + o] == ';') {
          size_t to = 0, tl2 = o;
          mime_trim(p + v, &to, &tl2);
          r->diag_type = bounce_sp(c, p + v + to, tl2);
          o++;
        } else
          o = 0;
        l = vl - o;
        r->diagnostic = bounce_diagtext(c, p + v + o, l);
      } else if (IS("last-attempt-date")) {
        r->last_attempt = bounce_sp(c, p + v, vl);
      } else if (IS("will-retry-until")) {
        r->will_retry = bounce_sp(c, p + v, vl);
      } else if (IS("x-actual-recipient")) {
        if (r->recipient.len == 0) {
          size_t o, l;
          bounce_addrvalue(p + v, vl, &o, &l);
          r->recipient = addrspan(c, p + v, vl, p + v + o, l);
        }
      }
#undef IS
    }
  }
  return added;
}

/* Whether s[0..n) is one whole address (a local part, '@', a domain with a
** dot or a bracketed IP). */
static int fulladdr(const char *s, size_t n) { return n > 0 && bounce_addrlen(s, n, 0) == n; }

/* Drop recipients without any address (from index from on). A
** Final-Recipient that was source-routed ("@relay:user@server"), has no
** local part ("@mx.example.org") or no '@' at all (another address type:
** an X.400 gateway's "x400; /S=user/OU=dept/...") and is no whole address
** gives way to a whole Original-Recipient. */
void bounce_compact(ctx *c, int from) {
  int i, j = from;
  for (i = from; i < c->out->nrcpt; i++) {
    smtpcode_brcpt *r = &c->r[i];
    if (r->recipient.len == 0 && r->original.len) r->recipient = r->original;
    if (r->recipient.len && r->original.len && !r->recipient.where) {
      const char *a = at(c, r->recipient);
      size_t l = (size_t)r->recipient.len;
      const char *q = a - 1; /* a source route: "@relay:" before the address */
      while (q > c->m && a - q < 256 && isdtext((unsigned char)q[-1]) && q[-1] != '@') q--;
      if ((a[0] == '@' || (a > c->m && a[-1] == ':' && q > c->m && q[-1] == '@') ||
           memchr(a, '@', l) == NULL) &&
          !fulladdr(a, l) &&
          fulladdr(at(c, r->original), (size_t)r->original.len))
        r->recipient = r->original;
    }
    if (r->recipient.len == 0) {
      c->out->total--;
      continue;
    }
    if (j != i) c->r[j] = *r;
    j++;
  }
  c->out->nrcpt = j;
}

/* A DSN recipient that is no address (Exim writes the file or pipe it
** delivered to) takes the address X-Failed-Recipients gives in its place. */
void bounce_xfraddr(ctx *c) {
  int i;
  size_t k = 0;
  if (c->xfr == NULL) return;
  for (i = 0; i < c->out->nrcpt; i++) {
    smtpcode_brcpt *r = &c->r[i];
    size_t l = 0;
    while (k < c->xfrn && (l = bounce_addrlen(c->xfr, c->xfrn, k)) == 0) k++;
    if (l == 0) return;
    if (memchr(at(c, r->recipient), '@', (size_t)r->recipient.len) == NULL)
      r->recipient = bounce_sp(c, c->xfr + k, l);
    k += l;
  }
}

/* }====================================================== */
