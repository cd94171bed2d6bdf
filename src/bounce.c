/*
** bounce.c: read a whole bounce message (smtpcode_bounce, src/bounce.h).
**
** 1. The MIME walk: headers, multiparts (delimiters matched exactly, with
**    transport padding and a leading blank tolerated; end of input closes
**    every open part), leaf parts decoded (base64, quoted-printable) into
**    the caller's buffer when they matter: the DSN and feedback parts, the
**    first text part, the returned headers. The returned message itself is
**    never walked (a report inside it is not this report).
** 2. DSN field groups (RFC 3464 2.1): per-message fields, then one group
**    per recipient; a group also starts at a second Final-Recipient.
** 3. Without a DSN part: DSN field lines in the text (a degraded DSN), or
**    the free-text layout of a known system (data/bounce_formats.tsv): the
**    error section between its start and end phrases, recipients as lines
**    that start with an address, their reply the lines that follow.
** 4. Every recipient's diagnostic goes through smtpcode_find and
**    smtpcode_classify; the Status field and the codes in the text are
**    reconciled first (a specific code beats a generic X.0.0 one).
** Work: each multipart level scans its own body once (depth bounded);
** phrase searches are plain and bounded by the phrase length.
*/
#include "bounce.h"

#include <string.h>

#include "bounce_data.h"
#include "mime.h"

#if defined(__SSE2__) && defined(__GNUC__) && !defined(SMTPCODE_NO_SIMD)
#include <emmintrin.h>
#define BOUNCE_SSE2 1
#endif

#define lower(c) ((unsigned char)((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c)))
#define isblank_(c) ((c) == ' ' || (c) == '\t')
#define isdig(c) ((unsigned)((c) - '0') < 10u)

#define MAX_DSN 4
#define MAX_TEXT_SCAN (256 * 1024) /* bytes of the text part searched */
#define RET_MAX (256 * 1024) /* bytes of a returned message decoded */
#define MERGE_MAX 16 /* recipients whose own lines are looked for in a text */
#define SCAN_HEAD 4096 /* bytes where any phrase is looked for */
#define RCPT_AFTER 1024 /* bytes after a section where "RCPT TO:" is looked for */
#define RCPT_ABOVE 512 /* bytes before a section where an address line is looked for */
#define MAX_HTML (64 * 1024) /* bytes of an HTML-only report's part decoded */
#define SCAN_HEAD_DSN 1024 /* the same when a DSN part named recipients */
#define DSN_HEAD 512 /* bytes of a DSN part where its clues are looked for */
#define RECEIVED_HEAD 3 /* Received fields (the newest) looked at */

typedef struct ctx {
  const char *m;
  size_t n;
  char *buf;
  size_t cap, used;
  int max_depth, max_parts, max_header, max_rcpt;
  int parts;
  smtpcode_breport *out;
  smtpcode_brcpt *r;
  int rcap;
  const char *hdr; /* top header block */
  size_t hdrn;
  const char *bnd; /* top boundary */
  size_t bndn;
  const char *dsn[MAX_DSN];
  size_t dsnn[MAX_DSN];
  int ndsn;
  const char *fb, *text, *html, *ret, *xfr, *retall, *htmlcte;
  size_t fbn, textn, htmln, retn, xfrn, retalln, htmlcten;
  int too_long;
  /* the text part is decoded only when it is read (tpending: c->text is
     still as written, of transfer encoding tcte) */
  const char *tcte;
  size_t tcten;
  int tpending;
  /* a quoted-printable text part decoded only as far as its head was
     read: the rest as written (textall decodes it after the head) */
  const char *traw;
  size_t trawn;
  const char *recv[RECEIVED_HEAD]; /* the newest Received fields' values */
  size_t recvn[RECEIVED_HEAD];
  int nrecv;
} ctx;

/* {====================================================== spans */

static smtpcode_span sp(const ctx *c, const char *p, size_t len) {
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

static int samespan(smtpcode_span a, smtpcode_span b) {
  return a.off == b.off && a.len == b.len && a.where == b.where;
}

static const char *at(const ctx *c, smtpcode_span s) {
  return (s.where ? c->buf : c->m) + s.off;
}

static size_t room(const ctx *c) { return c->cap - c->used; }
/* Only called once room() said there is some: buf is then not NULL. */
static char *cur(ctx *c) { return c->buf + c->used; }

/* }====================================================== */

/* {====================================================== MIME walk */

static int ctis(const char *v, size_t n, const char *z) {
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
static void decode(ctx *c, const char *p, size_t n, const char *cte,
                   size_t cten, const char **op, size_t *on) {
  int b64 = cte && ctis(cte, cten, "base64");
  int qp = cte && ctis(cte, cten, "quoted-printable");
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
static size_t hblock(const char *p, size_t n, size_t *body) {
  size_t i = 0;
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
    for (; i + 15 <= last; i += 16) {
      const char *q = p + i;
      __m128i m = _mm_and_si128(
          _mm_and_si128(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)q), dash),
                        _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(q + 1)),
                                       dash)),
          _mm_and_si128(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(q + 2)), f),
                        _mm_cmpeq_epi8(
                            _mm_loadu_si128((const __m128i *)(const void *)(q + 1 + bn)), l)));
      unsigned mask = (unsigned)_mm_movemask_epi8(m);
      while (mask) {
        size_t d = i + (size_t)__builtin_ctz(mask);
        if (memcmp(p + d + 2, b, bn) == 0) return d;
        mask &= mask - 1;
      }
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

/* The body of an entity whose header gave ct and cte. */
static void body(ctx *c, const char *ct, size_t ctn, const char *cte, size_t cten,
                 const char *bp, size_t bn, int depth);

/* Start of the body after a header block that ended at i (its empty
** line, or the end of p). */
static size_t bodystart(const char *p, size_t n, size_t i) {
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
  b = bodystart(p, n, i);
  body(c, ct, ctn, cte, cten, p + b, n - b, depth);
}

static void body(ctx *c, const char *ct, size_t ctn, const char *cte, size_t cten,
                 const char *bp, size_t bn, int depth) {
  size_t tyo = 0, tyl = 0;
  if (ct && ctprefix(ct, ctn, "multipart/")) {
    size_t po, pl;
    if (ctis(ct, ctn, "multipart/report") && mime_param(ct, ctn, "report-type", &po, &pl) &&
        c->out->report_type.len == 0)
      c->out->report_type = sp(c, ct + po, pl);
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
      decode(c, bp, bn, cte, cten, &c->dsn[c->ndsn], &c->dsnn[c->ndsn]);
      c->ndsn++;
    }
  } else if (ct && TY("message/feedback-report")) {
    if (c->fb == NULL) decode(c, bp, bn, cte, cten, &c->fb, &c->fbn);
  } else if (ct && (TY("message/rfc822") || TY("message/global") ||
                    TY("text/rfc822-headers") ||
                    TY("message/global-headers") ||
                    TY("message/partial"))) {
    if (c->ret == NULL) { /* only its header block is read (returned()) */
      size_t lim = bn > RET_MAX ? RET_MAX : bn, b2;
      if (cte && ctis(cte, cten, "quoted-printable")) /* the header, not the body */
        lim = hblock(bp, lim, &b2) + 2;
      decode(c, bp, lim > bn ? bn : lim, cte, cten, &c->ret, &c->retn);
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
static int hget(ctx *c, const char *h, size_t hn, const char *name,
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

/* Copy s[0..n) unfolded into the buffer; span of the copy (or the raw). */
static smtpcode_span unfold_sp(ctx *c, const char *s, size_t n) {
  size_t k;
  if (room(c) < n || room(c) == 0) {
    c->out->flags |= SMTPCODE_BR_NOBUF;
    return sp(c, s, n);
  }
  k = (size_t)smtpcode_unfold(s, n, cur(c), room(c));
  c->used += k;
  return sp(c, cur(c) - k, k);
}

static int isatext(unsigned char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || isdig(ch) ||
         (ch != 0 && strchr("!#$%&'*+/=?^_`{|}~.-", ch) != NULL) || ch >= 0x80;
}

static int isdtext(unsigned char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || isdig(ch) ||
         ch == '.' || ch == '-' || ch == '_' || ch >= 0x80;
}

/* An address at s[i..n): its length, or 0. Local part, '@', a domain with a
** dot inside (or a bracketed IP). */
static size_t addrlen(const char *s, size_t n, size_t i) {
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
static void addrvalue(const char *v, size_t vn, size_t *o, size_t *l) {
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

static int actionof(const char *v, size_t n) {
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
static smtpcode_span statusvalue(ctx *c, const char *v, size_t n) {
  size_t o = 0, l = n, k = 0;
  int a, b, d;
  mime_trim(v, &o, &l);
  while (k < l && (isdig(v[o + k]) || v[o + k] == '.')) k++;
  if (k > 0 && smtpcode_parse_status(v + o, k, &a, &b, &d) >= 0)
    return sp(c, v + o, k);
  return sp(c, NULL, 0);
}

/* }====================================================== */

/* {====================================================== diagnostics */

/*
** The diagnostic of a recipient, unfolded into the buffer, with the
** repeated "550-5.1.1 " prefixes of a multi-line reply left out.
*/
static smtpcode_span diagtext(ctx *c, const char *s, size_t n) {
  char *d;
  size_t o = 0, i = 0, cap = room(c), enl = 0;
  const char *code = NULL, *enh = NULL;
  int linestart = 1;
  if (cap < n || cap == 0) {
    c->out->flags |= SMTPCODE_BR_NOBUF;
    return sp(c, s, n);
  }
  d = cur(c);
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
  }
  while (o > 0 && d[o - 1] == ' ') o--;
  c->used += o;
  return sp(c, d, o);
}

/* The SMTP command a diagnostic names ("in reply to RCPT TO command",
** "after MAIL FROM:", ">>> DATA"): the earliest mention. One pass; only
** positions whose byte starts a phrase are compared. */
static int commandof(const char *s, size_t n) {
  static const struct {
    const char *z;
    unsigned char len, cmd;
  } k[] = {{"rcpt to", 7, SMTPCODE_CMD_RCPT},      {"rcpt command", 12, SMTPCODE_CMD_RCPT},
           {"[rcpt_to]", 9, SMTPCODE_CMD_RCPT},    {"mail from", 9, SMTPCODE_CMD_MAIL},
           {"end of data", 11, SMTPCODE_CMD_DATA}, {"final data", 10, SMTPCODE_CMD_DATA},
           {"data command", 12, SMTPCODE_CMD_DATA}, {"after data", 10, SMTPCODE_CMD_DATA},
           {">>> data", 8, SMTPCODE_CMD_DATA},     {"ehlo", 4, SMTPCODE_CMD_EHLO},
           {"helo", 4, SMTPCODE_CMD_EHLO},         {"connection", 10, SMTPCODE_CMD_CONN}};
  /* the phrases (bits of k) each byte may start */
  static const unsigned short first[256] = {
      ['r'] = 0x007, ['R'] = 0x007, ['['] = 0x004, ['m'] = 0x008, ['M'] = 0x008,
      ['e'] = 0x210, ['E'] = 0x210, ['f'] = 0x020, ['F'] = 0x020, ['d'] = 0x040,
      ['D'] = 0x040, ['a'] = 0x080, ['A'] = 0x080, ['>'] = 0x100, ['h'] = 0x400,
      ['H'] = 0x400, ['c'] = 0x800, ['C'] = 0x800};
  /* ... and those whose second byte each byte may be */
  static const unsigned short second[256] = {
      ['c'] = 0x003, ['C'] = 0x003, ['r'] = 0x004, ['R'] = 0x004, ['a'] = 0x048,
      ['A'] = 0x048, ['n'] = 0x010, ['N'] = 0x010, ['i'] = 0x020, ['I'] = 0x020,
      ['f'] = 0x080, ['F'] = 0x080, ['>'] = 0x100, ['h'] = 0x200, ['H'] = 0x200,
      ['e'] = 0x400, ['E'] = 0x400, ['o'] = 0x800, ['O'] = 0x800};
  size_t i, j, lim = n > 8192 ? 8192 : n;
  for (i = 0; i + 1 < lim; i++) {
    unsigned bits = first[(unsigned char)s[i]] & second[(unsigned char)s[i + 1]];
    if (bits == 0) continue;
    for (j = 0; bits; j++, bits >>= 1)
      if ((bits & 1u) && lim - i >= k[j].len && mime_ieq(s + i, k[j].len, k[j].z))
        return k[j].cmd;
  }
  return SMTPCODE_CMD_NONE;
}

/* The verdict of a recipient: codes reconciled, then classify. */
static void settle(ctx *c, smtpcode_brcpt *r) {
  smtpcode_found f;
  const char *d = r->diagnostic.len ? at(c, r->diagnostic) : "";
  size_t dn = (size_t)r->diagnostic.len;
  int sc = 0, ss = 0, sd = 0, has = 0;
  if (r->status_raw.len &&
      smtpcode_parse_status(at(c, r->status_raw), (size_t)r->status_raw.len, &sc, &ss, &sd) >= 0)
    has = 1;
  smtpcode_found inner;
  const char *fs = d;
  memset(&inner, 0, sizeof inner);
  size_t fn = dn;
  if (r->block.len) { /* a free-text block: found with its line starts */
    fs = at(c, r->block);
    fn = (size_t)r->block.len;
  }
  if (fs == d && r->diag_type.len == 6 && mime_ieq(at(c, r->diag_type), 6, "x-unix")) {
    fn = 0; /* a pipe's exit status (sysexits), not an SMTP reply */
  }
  if (smtpcode_find(fs, fn, &f, &inner) != 0) {
    memset(&f, 0, sizeof f);
    f.code_off = -1;
  } else if (fs != d && f.cls == 0 && dn > 0) {
    /* the unfolded text may show what the lines hid ("550 550 5.1.1") */
    smtpcode_found g;
    if (smtpcode_find(d, dn, &g, NULL) == 0 && g.cls && (g.code == 0 || g.code == f.code)) {
      f.cls = g.cls;
      f.subject = g.subject;
      f.detail = g.detail;
    }
  }
  if (f.how == SMTPCODE_HOW_REPLY && f.cls == 0 && f.code_off >= 0) {
    /* an enhanced code the reply quotes right after its code ("550 '5.7.1") */
    size_t q = (size_t)f.code_off + 3, e;
    int a, b, x;
    while (q < fn && q < (size_t)f.code_off + 6 && strchr(" '\"-#(", fs[q]) && fs[q]) q++;
    for (e = q; e < fn && (isdig(fs[e]) || fs[e] == '.'); e++) {
    }
    while (e > q && fs[e - 1] == '.') e--;
    if (e > q && smtpcode_parse_status(fs + q, e - q, &a, &b, &x) >= 0 && a == f.code / 100) {
      f.cls = a;
      f.subject = b;
      f.detail = x;
    }
  }
  if (f.how == SMTPCODE_HOW_STATUS && f.enh_len > 0 && (size_t)(f.enh_off + f.enh_len) < fn) {
    /* an enhanced code alone first ("5.3.0 - Other mail system problem"):
       a reply code of the same class after it is the remote reply */
    smtpcode_found g;
    size_t from = (size_t)(f.enh_off + f.enh_len);
    if (smtpcode_find(fs + from, fn - from, &g, NULL) == 0 &&
        g.how == SMTPCODE_HOW_REPLY && g.code / 100 == f.cls) {
      f.code = g.code;
      if (g.cls) {
        f.cls = g.cls;
        f.subject = g.subject;
        f.detail = g.detail;
      }
      f.how = SMTPCODE_HOW_REPLY;
    } else {
      /* Amazon SES quotes the remote reply after its own words, the code
         outside the quotes: "5.3.0 - Other mail system problem 550-'...'" */
      size_t q;
      for (q = from; q + 5 < fn; q++)
        if (fs[q] == ' ' && fs[q + 1] == (char)('0' + f.cls) && isdig(fs[q + 2]) &&
            isdig(fs[q + 3]) && (fs[q + 4] == '-' || fs[q + 4] == ' ') && fs[q + 5] == '\'') {
          f.code = (fs[q + 1] - '0') * 100 + (fs[q + 2] - '0') * 10 + (fs[q + 3] - '0');
          f.how = SMTPCODE_HOW_REPLY;
          break;
        }
    }
  }
  if (f.how != SMTPCODE_HOW_NONE && inner.how == SMTPCODE_HOW_REPLY && inner.code &&
      (f.how != SMTPCODE_HOW_REPLY || (f.cls == 4 && f.subject == 4 && f.detail == 7))) {
    /* the remote reply quoted in a wrapper ("5.1.0 - Unknown address error
       550 '5.7.1 ...'", "554 4.4.7 Message expired ... <421 4.4.2 ...>") */
    f = inner;
  }
  if (has) {
    if (f.cls == 0) {
      f.cls = sc;
      f.subject = ss;
      f.detail = sd;
    } else if (f.cls != sc) {
      /* the class the reply code agrees with wins */
      if (!(f.code && f.code / 100 == f.cls)) {
        f.cls = sc;
        f.subject = ss;
        f.detail = sd;
      }
    } else if ((f.detail == 0 && (sd != 0 || (f.subject == 0 && ss != 0))) ||
               (f.subject == 4 && f.detail == 7)) {
      /* the remote reply's own code, unless it is generic (X.Y.0) and the
         field is not */
      f.cls = sc;
      f.subject = ss;
      f.detail = sd;
    }
    if (f.how == SMTPCODE_HOW_NONE) f.how = SMTPCODE_HOW_STATUS;
  }
  if (r->command == SMTPCODE_CMD_NONE) r->command = commandof(d, dn);
  smtpcode_classify(d, dn, &f, &r->v);
  if (r->block.len && f.how == SMTPCODE_HOW_REPLY && f.code) {
    /* the remote reply, without the prose before it */
    size_t k;
    for (k = 0; k + 3 <= dn; k++)
      if (d[k] == (char)('0' + f.code / 100) && d[k + 1] == (char)('0' + f.code / 10 % 10) &&
          d[k + 2] == (char)('0' + f.code % 10) && (k == 0 || !isdig(d[k - 1])) &&
          (k + 3 == dn || !isdig(d[k + 3]))) {
        r->diagnostic.off += (int)k;
        r->diagnostic.len -= (int)k;
        break;
      }
  }
  if (r->v.by == SMTPCODE_BY_NONE && r->v.code == 0 && r->v.cls == 0 && c->out->mta) {
    /* nothing to go by: what a report of this system means, if known */
    int k;
    for (k = 0; k < smtpcode_bf_nrules; k++) {
      const bf_rule *ru = &smtpcode_bf_rules[k];
      if (ru->role == BF_REASON && ru->mta == c->out->mta) {
        int why = smtpcode_reason_of(ru->text, strlen(ru->text));
        if (why > 0) smtpcode_settle(&r->v, why, 0);
        break;
      }
    }
  }
  if (r->action == SMTPCODE_ACT_NONE)
    r->action = f.cls == 2 || (f.cls == 0 && f.code / 100 == 2) ? SMTPCODE_ACT_DELIVERED
                                                               : SMTPCODE_ACT_FAILED;
  switch (r->action) {
  case SMTPCODE_ACT_DELIVERED:
  case SMTPCODE_ACT_RELAYED:
  case SMTPCODE_ACT_EXPANDED:
  case SMTPCODE_ACT_COMPLAINED:
    r->v.reason = SMTPCODE_REASON_NONE;
    r->v.scope = SMTPCODE_SCOPE_NONE;
    r->v.bounce = SMTPCODE_BOUNCE_NONE;
    r->v.retry = SMTPCODE_RETRY_NA;
    break;
  case SMTPCODE_ACT_DELAYED: /* still being retried: never a hard bounce */
    if (r->v.reason == SMTPCODE_REASON_NONE) r->v.reason = SMTPCODE_REASON_UNKNOWN;
    r->v.bounce = SMTPCODE_BOUNCE_SOFT;
    r->v.retry = SMTPCODE_RETRY_YES;
    break;
  default: /* failed: the message did not get through */
    if (r->v.reason == SMTPCODE_REASON_NONE) {
      r->v.reason = SMTPCODE_REASON_UNKNOWN;
      r->v.scope = SMTPCODE_SCOPE_RECIPIENT;
    }
    if (r->v.bounce == SMTPCODE_BOUNCE_NONE) r->v.bounce = SMTPCODE_BOUNCE_SOFT;
    break;
  }
}

/* }====================================================== */

/* {====================================================== recipients */


static smtpcode_brcpt *newrcpt(ctx *c) {
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

/* Case-insensitive equality of a[0..n) and b[0..n), either in any case
** (mime_ieqn wants its second text lowercase). */
static int ieqboth(const char *a, const char *b, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (lower(a[i]) != lower(b[i])) return 0;
  return 1;
}

static int sameaddr(const ctx *c, smtpcode_span a, const char *b, size_t bn) {
  return (size_t)a.len == bn && ieqboth(at(c, a), b, bn);
}

static int known(const ctx *c, const char *a, size_t an) {
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
  if (!(vn - t >= 5 && mime_ieq(v + t, 5, "utf-8"))) return sp(c, a, n);
  for (i = 0; i + 2 < n; i++)
    if (a[i] == '\\' && a[i + 1] == 'x' && a[i + 2] == '{') enc = 1;
  if (!enc || room(c) < 2 * n || room(c) == 0) return sp(c, a, n);
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
  return sp(c, d, o);
}

/* Read DSN fields from p[0..n); returns the recipients added. */
static int dsnfields(ctx *c, const char *p, size_t n) {
  size_t i = 0;
  int added = 0, group = 0; /* group: fields of the current recipient seen */
  smtpcode_brcpt *r = NULL;
  int blank = 1, hasfinal = 0, hasorig = 0, inrcpt = 0;
  while (i < n) {
    size_t e = mime_eol(p, n, i), k = i, nm, nl, v, vl, nx;
    int tl = 0;
    while (k < e && isblank_(p[k])) k++;
    if (k == e) { /* an empty or blank line ends a group */
      blank = 1;
      i = mime_next(p, n, e);
      continue;
    }
    nx = mime_field(p, n, i, 65536, &nm, &nl, &v, &vl, &tl);
    if (nx <= i) {
      i = mime_next(p, n, e);
      continue;
    }
    i = nx;
    if (nl == 0) continue;
#define IS(z) (nl == sizeof(z) - 1 && mime_ieqn(p + nm, z, nl))
    if (IS("reporting-mta")) {
      if (c->out->reporting_mta.len == 0) {
        size_t o, l;
        addrvalue(p + v, vl, &o, &l);
        o = 0;
        while (o < vl && p[v + o] != ';') o++;
        o = o < vl ? o + 1 : 0;
        l = vl - o;
        mime_trim(p + v, &o, &l);
        c->out->reporting_mta = sp(c, p + v + o, l);
      }
      continue;
    }
    if (IS("arrival-date") || IS("received-date")) {
      if (c->out->arrival_date.len == 0) c->out->arrival_date = sp(c, p + v, vl);
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
        r = newrcpt(c);
        added++;
      }
      blank = 0;
      group++;
      if (isfinal) hasfinal = 1;
      if (isorig) hasorig = 1;
      if (r == NULL) continue;
      if (isfinal || isorig) {
        size_t o, l;
        addrvalue(p + v, vl, &o, &l);
        if (isfinal) r->recipient = addrspan(c, p + v, vl, p + v + o, l);
        else r->original = addrspan(c, p + v, vl, p + v + o, l);
      } else if (IS("action")) {
        size_t o = 0, l = vl;
        mime_trim(p + v, &o, &l);
        r->action_raw = sp(c, p + v + o, l);
        r->action = actionof(p + v, vl);
      } else if (IS("status")) {
        r->status_raw = statusvalue(c, p + v, vl);
      } else if (IS("remote-mta")) {
        size_t o = 0, l;
        while (o < vl && p[v + o] != ';') o++;
        o = o < vl ? o + 1 : 0;
        l = vl - o;
        mime_trim(p + v, &o, &l);
        r->remote_mta = sp(c, p + v + o, l);
      } else if (IS("diagnostic-code")) {
        size_t o = 0, l;
        while (o < vl && p[v + o] != ';' && o < 40) o++;
        if (o < vl && p[v + o] == ';') {
          size_t to = 0, tl2 = o;
          mime_trim(p + v, &to, &tl2);
          r->diag_type = sp(c, p + v + to, tl2);
          o++;
        } else
          o = 0;
        l = vl - o;
        r->diagnostic = diagtext(c, p + v + o, l);
      } else if (IS("last-attempt-date")) {
        r->last_attempt = sp(c, p + v, vl);
      } else if (IS("will-retry-until")) {
        r->will_retry = sp(c, p + v, vl);
      } else if (IS("x-actual-recipient")) {
        if (r->recipient.len == 0) {
          size_t o, l;
          addrvalue(p + v, vl, &o, &l);
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
static int fulladdr(const char *s, size_t n) { return n > 0 && addrlen(s, n, 0) == n; }

/* Drop recipients without any address (from index from on). A
** Final-Recipient that was source-routed ("@relay:user@server") or has no
** local part ("@mx.example.org") and is no whole address gives way to a
** whole Original-Recipient. */
static void compact(ctx *c, int from) {
  int i, j = from;
  for (i = from; i < c->out->nrcpt; i++) {
    smtpcode_brcpt *r = &c->r[i];
    if (r->recipient.len == 0 && r->original.len) r->recipient = r->original;
    if (r->recipient.len && r->original.len && !r->recipient.where) {
      const char *a = at(c, r->recipient);
      size_t l = (size_t)r->recipient.len;
      const char *q = a - 1; /* a source route: "@relay:" before the address */
      while (q > c->m && a - q < 256 && isdtext((unsigned char)q[-1]) && q[-1] != '@') q--;
      if ((a[0] == '@' || (a > c->m && a[-1] == ':' && q > c->m && q[-1] == '@')) &&
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
static void xfraddr(ctx *c) {
  int i;
  size_t k = 0;
  if (c->xfr == NULL) return;
  for (i = 0; i < c->out->nrcpt; i++) {
    smtpcode_brcpt *r = &c->r[i];
    size_t l = 0;
    while (k < c->xfrn && (l = addrlen(c->xfr, c->xfrn, k)) == 0) k++;
    if (l == 0) return;
    if (memchr(at(c, r->recipient), '@', (size_t)r->recipient.len) == NULL)
      r->recipient = sp(c, c->xfr + k, l);
    k += l;
  }
}

/* }====================================================== */

/* {====================================================== text reports */

static int rulehit(const bf_rule *ru, const char *s, size_t n) {
  if (ru->len == 0) return 1;
  return mime_wfind(s, n, ru->text, ru->len) >= 0;
}

#define hfold(ch) smtpcode_bf_fold[(unsigned char)(ch)]
/* A byte of a word: a letter, a digit, '-', or part of a UTF-8 sequence. */
#define isword(ch)                                                             \
  ((unsigned)(((unsigned char)(ch) | 32) - 'a') < 26u || isdig(ch) || (ch) == '-' || \
   (unsigned char)(ch) >= 0x80)

/* mime_wat with the hash's folding: z (lowercase, single spaces) at
** s[i..n), a space of z matching any run of blanks and line breaks. Returns
** m on a match, else the index of z where the match failed. */
static size_t wat(const unsigned char *s, size_t n, size_t i, const char *z, size_t m) {
  size_t j = 0, k = i;
  while (j < m) {
    /* the bytes up to the next space of z, then the run of blanks */
    size_t lim = k >= n ? 0 : m - j < n - k ? m - j : n - k, e = 0;
    const unsigned char *zz = (const unsigned char *)z + j, *ss = s + k;
    while (e < lim && zz[e] != ' ' && hfold(ss[e]) == zz[e]) e++;
    j += e;
    k += e;
    if (j == m) return m;
    if (k >= n || z[j] != ' ' || hfold(s[k]) != ' ') return j;
    while (k < n && hfold(s[k]) == ' ') k++;
    j++;
  }
  return m;
}

/* A '-' before s[i], blanks between (a ruler's words). */
static int dashed(const char *s, size_t i) {
  while (i > 0 && isblank_(s[i - 1])) i--;
  return i > 0 && s[i - 1] == '-';
}

/* The rules that matched: at[k] the offset of rule k (-1: none), and the
** matched indexes in file order (few: the loops over matches read them,
** not every rule). */
typedef struct hits {
  long at[BF_MAX_RULES];
  unsigned short k[BF_MAX_RULES];
  int n;
} hits;

static void sethit(hits *h, int r, long off) {
  int j = h->n++;
  h->at[r] = off;
  while (j > 0 && h->k[j - 1] > r) {
    h->k[j] = h->k[j - 1];
    j--;
  }
  h->k[j] = (unsigned short)r;
}

/* Whether rule ru applies to a text of kind where (a header named name). */
static int applies(const bf_rule *ru, int where, const char *name, size_t nl) {
  if (ru->where != where) return 0;
  return where != BW_HEADER || (nl == ru->hlen && mime_ieqn(name, ru->header, nl));
}

/*
** The rules of kind where that match s[0..n) at i (i + 2 < n), among those
** of the hash of its first three bytes; hit offsets are base + i. Returns
** 1 when one matched.
*/
static int hat(const unsigned char *t, size_t n, size_t i, int where, const char *name,
               size_t nl, hits *hs, long base, size_t head) {
  const long *hit = hs->at;
  unsigned h1, h, pr = (unsigned)t[i] << 8 | t[i + 1];
  int x, found = 0, known = 0;
  size_t pj = 0, plen = 0; /* where the entry before failed (plen if it matched) */
  if (!(smtpcode_bf_pair[pr >> 3] & (1u << (pr & 7)))) return 0;
  h1 = hfold(t[i + 1]);
  h = ((hfold(t[i]) * 31 + h1) * 31 + hfold(t[i + 2])) % BF_HASH;
  if (!(smtpcode_bf_bodyhash[h >> 3] & (1u << (h & 7)))) return 0;
  for (x = smtpcode_bf_hashstart[h]; x < smtpcode_bf_hashstart[h + 1]; x++) {
    int r = smtpcode_bf_byhash[x];
    const bf_rule *ru = &smtpcode_bf_rules[r];
    size_t lcp = smtpcode_bf_lcp[x], j;
    /* the entry before (sorted by phrase) tells without comparing: a
       phrase that shares the byte where it failed fails there too, the
       same phrase gives the same answer */
    if (known && lcp > pj) j = pj;
    else if (known && pj == plen && lcp == plen && ru->len == plen) j = plen;
    else if (hit[r] >= 0 || (unsigned char)ru->text[1] != h1 ||
             (i >= head && ru->role != BF_END) || !applies(ru, where, name, nl)) {
      known = 0;
      continue;
    } else if (ru->len > 3 && ru->text[1] != ' ' && ru->text[2] != ' ' && i + 3 < n &&
               hfold(t[i + 3]) != (unsigned char)ru->text[3])
      j = 3; /* the fourth byte differs: a failure at 3 or before */
    else if (ru->sp1 && ru->sp1 + 1u < ru->len && i + ru->sp1 + 1 < n &&
             hfold(t[i + ru->sp1 + 1]) != ' ' &&
             hfold(t[i + ru->sp1 + 1]) != (unsigned char)ru->text[ru->sp1 + 1])
      j = ru->sp1 + 1u; /* one blank, then not the next word: a failure there or before */
    else
      j = wat(t, n, i, ru->text, ru->len);
    known = 1;
    pj = j;
    plen = ru->len;
    if (j == ru->len && hit[r] < 0 && (i < head || ru->role == BF_END) &&
        applies(ru, where, name, nl) && (!ru->dash || dashed((const char *)t, i))) {
      sethit(hs, r, base + (long)i);
      found = 1;
    }
  }
  return found;
}

/*
** The first offset where rule ru matches t[0..n) as hat would find it (the
** hash of the first three bytes its own, the phrase matched, a ruler's dash
** before), or -1. Only the positions of its first byte (either case) are
** looked at: memchr, each pointer moving forward only.
*/
static long firstat(const unsigned char *t, size_t n, const bf_rule *ru) {
  unsigned char c0 = (unsigned char)ru->text[0], c1 = c0;
#ifdef BOUNCE_SSE2
  /* sixteen starts at a time: the first byte in either case and the
     second as the fold reads it (either case; any blank for a space) */
  unsigned char d0 = (unsigned char)ru->text[1], d1 = d0;
  size_t i = 0;
  if (c0 >= 'a' && c0 <= 'z') c1 = (unsigned char)(c0 - 32);
  if (d0 >= 'a' && d0 <= 'z') d1 = (unsigned char)(d0 - 32);
  {
    const __m128i a0 = _mm_set1_epi8((char)c0), a1 = _mm_set1_epi8((char)c1),
                  b0 = _mm_set1_epi8((char)d0), b1 = _mm_set1_epi8((char)d1),
                  ht = _mm_set1_epi8('\t'), lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    for (; i + 17 <= n; i += 16) {
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(t + i)),
              w = _mm_loadu_si128((const __m128i *)(const void *)(t + i + 1));
      __m128i m1 = _mm_or_si128(_mm_cmpeq_epi8(w, b0), _mm_cmpeq_epi8(w, b1));
      unsigned mask;
      if (d0 == ' ')
        m1 = _mm_or_si128(m1, _mm_or_si128(_mm_cmpeq_epi8(w, ht),
                                           _mm_or_si128(_mm_cmpeq_epi8(w, lf),
                                                        _mm_cmpeq_epi8(w, cr))));
      mask = (unsigned)_mm_movemask_epi8(
          _mm_and_si128(_mm_or_si128(_mm_cmpeq_epi8(v, a0), _mm_cmpeq_epi8(v, a1)), m1));
      while (mask) {
        size_t j = i + (size_t)__builtin_ctz(mask);
        unsigned h;
        if (j + 2 >= n) break; /* a phrase's three bytes do not fit */
        h = ((hfold(t[j]) * 31 + hfold(t[j + 1])) * 31 + hfold(t[j + 2])) % BF_HASH;
        if (h == ru->hash && wat(t, n, j, ru->text, ru->len) == ru->len &&
            (!ru->dash || dashed((const char *)t, j)))
          return (long)j;
        mask &= mask - 1;
      }
    }
  }
  for (; i + 2 < n; i++) {
    unsigned h;
    if (t[i] != c0 && t[i] != c1) continue;
    h = ((hfold(t[i]) * 31 + hfold(t[i + 1])) * 31 + hfold(t[i + 2])) % BF_HASH;
    if (h == ru->hash && wat(t, n, i, ru->text, ru->len) == ru->len &&
        (!ru->dash || dashed((const char *)t, i)))
      return (long)i;
  }
  return -1;
#else
  const unsigned char *pl = NULL, *pu = NULL, *none = t + n;
  size_t i = 0;
  if (c0 >= 'a' && c0 <= 'z') c1 = (unsigned char)(c0 - 32);
  while (i + 2 < n) {
    unsigned h;
    if (pl == NULL || pl < t + i) {
      pl = memchr(t + i, c0, n - i);
      if (pl == NULL) pl = none;
    }
    if (c1 == c0) pu = pl;
    else if (pu == NULL || pu < t + i) {
      pu = memchr(t + i, c1, n - i);
      if (pu == NULL) pu = none;
    }
    i = (size_t)((pl < pu ? pl : pu) - t);
    if (i + 2 >= n) break;
    h = ((hfold(t[i]) * 31 + hfold(t[i + 1])) * 31 + hfold(t[i + 2])) % BF_HASH;
    if (h == ru->hash && wat(t, n, i, ru->text, ru->len) == ru->len &&
        (!ru->dash || dashed((const char *)t, i)))
      return (long)i;
    i++;
  }
  return -1;
#endif
}

/* The first index where a[0..an) and z[0..zn) differ (or the shorter
** length): eight bytes at a time where the byte order allows. */
static size_t mismatch(const unsigned char *a, size_t an, const char *z, size_t zn) {
  size_t j = 0, lim = an < zn ? an : zn;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  while (lim - j >= 8) {
    unsigned long long x, y;
    memcpy(&x, a + j, 8);
    memcpy(&y, z + j, 8);
    if (x != y) return j + (size_t)(__builtin_ctzll(x ^ y) >> 3);
    j += 8;
  }
#endif
  while (j < lim && a[j] == (unsigned char)z[j]) j++;
  return j;
}

/*
** hat for the body scan (where BW_BODY, no head limit) at nb[p..m), the
** folded text with blank runs made one space, whose byte p is t[no[p]]:
** the same candidates as hat at t[no[p]] (pair and hash of the raw
** bytes), each phrase compared with the folded bytes at once (what wat
** finds in t: a space of the phrase stands for the run there, one space in
** nb). p + 2 < m.
*/
static void hatnb(const unsigned char *t, size_t n, const unsigned char *nb, size_t m,
                  size_t p, const unsigned short *no, hits *hs, long base) {
  const long *hit = hs->at;
  size_t i = no[p], pj = 0, plen = 0;
  unsigned h1, h, pr = (unsigned)t[i] << 8 | t[i + 1];
  int x, known = 0;
  (void)n;
  if (!(smtpcode_bf_pair[pr >> 3] & (1u << (pr & 7)))) return;
  h1 = hfold(t[i + 1]);
  h = ((hfold(t[i]) * 31 + h1) * 31 + hfold(t[i + 2])) % BF_HASH;
  if (!(smtpcode_bf_bodyhash[h >> 3] & (1u << (h & 7)))) return;
  for (x = smtpcode_bf_hashstart[h]; x < smtpcode_bf_hashstart[h + 1]; x++) {
    int r = smtpcode_bf_byhash[x];
    const bf_rule *ru = &smtpcode_bf_rules[r];
    size_t lcp = smtpcode_bf_lcp[x], j;
    if (known && lcp > pj) j = pj;
    else if (known && pj == plen && lcp == plen && ru->len == plen) j = plen;
    else if (hit[r] >= 0 || (unsigned char)ru->text[1] != h1 || ru->where != BW_BODY) {
      known = 0;
      continue;
    } else
      j = mismatch(nb + p, m - p, ru->text, ru->len);
    known = 1;
    pj = j;
    plen = ru->len;
    if (j == ru->len && hit[r] < 0 && ru->where == BW_BODY &&
        (!ru->dash || dashed((const char *)t, i)))
      sethit(hs, r, base + (long)i);
  }
}

/*
** The body phrases in t[0..n) (n <= WM_TEXT), as hat finds them at every
** start in turn: the text is folded with each run of blanks made one space
** (where a phrase's space matches the run), then read by Wu-Manber over the
** phrases' first smtpcode_bf_wmmin bytes (a window moves on by the shift of
** the three bytes it ends with); only the starts of windows whose shift is
** 0 are handed to hat, at their offsets in t.
*/
#define WM_TEXT 4096
static void wmscan(const unsigned char *t, size_t n, hits *hs, long base) {
  unsigned char nb[WM_TEXT];
  unsigned short no[WM_TEXT]; /* the offset in t of each byte of nb */
  size_t i, m = 0, e, wm = (size_t)smtpcode_bf_wmmin;
  unsigned prev = 0;
  i = 0;
#ifdef BOUNCE_SSE2
  { /* sixteen bytes at a time, folded as smtpcode_bf_fold does (ASCII
       lowercase; HT, LF and CR a space); a block without a blank after a
       blank is stored whole, else its kept bytes one by one */
    const __m128i sp = _mm_set1_epi8(' '), ht = _mm_set1_epi8('\t'),
                  lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'),
                  up0 = _mm_set1_epi8((char)(0x80 - 'A')), up1 = _mm_set1_epi8((char)(0x80 + 26)),
                  x20 = _mm_set1_epi8(0x20), step = _mm_set1_epi16(8),
                  lo = _mm_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7);
    for (; n - i >= 16; i += 16) {
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(t + i));
      __m128i up = _mm_cmplt_epi8(_mm_add_epi8(v, up0), up1);
      __m128i bl = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, ht)),
                                _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));
      __m128i f = _mm_or_si128(_mm_andnot_si128(bl, _mm_add_epi8(v, _mm_and_si128(up, x20))),
                               _mm_and_si128(bl, sp));
      unsigned b = (unsigned)_mm_movemask_epi8(bl), drop = b & (b << 1 | prev);
      prev = b >> 15;
      if (drop == 0) {
        __m128i o0 = _mm_add_epi16(_mm_set1_epi16((short)i), lo);
        _mm_storeu_si128((__m128i *)(void *)(nb + m), f);
        _mm_storeu_si128((__m128i *)(void *)(no + m), o0);
        _mm_storeu_si128((__m128i *)(void *)(no + m + 8), _mm_add_epi16(o0, step));
        m += 16;
      } else {
        unsigned char fb[16];
        unsigned keep = ~drop & 0xffffu;
        _mm_storeu_si128((__m128i *)(void *)fb, f);
        while (keep) {
          unsigned j = (unsigned)__builtin_ctz(keep);
          nb[m] = fb[j];
          no[m++] = (unsigned short)(i + j);
          keep &= keep - 1;
        }
      }
    }
  }
#endif
  for (; i < n; i++) { /* without branches: a blank after a blank is overwritten */
    unsigned f = hfold(t[i]), bl = f == ' ';
    nb[m] = (unsigned char)f;
    no[m] = (unsigned short)i;
    m += 1u - (bl & prev);
    prev = bl;
  }
  for (e = wm - 1; e < m;) {
    unsigned sh = smtpcode_bf_wmshift[(nb[e - 2] * 961u + nb[e - 1] * 31u + nb[e]) % 8192u];
    if (sh) {
      e += sh;
      continue;
    }
    hatnb(t, n, nb, m, e - wm + 1, no, hs, base);
    e++;
  }
}

/* Kinds of text with so few phrases that each is looked for on its own. */
#define FEW_RULES 6

/*
** Match every rule of kind where against s[0..n) in one pass: every step-th
** position i is filtered by the pair at i, i + 1 (smtpcode_bf_stepfilter: a
** phrase may start from i - step + 1 to i), those that pass by the pair and hash of
** the first three bytes of each start (hat). hit[k] gets the first offset
** (+ base). Past head bytes only BF_END rules are wanted, and the scan
** stops at the first.
*/
static void hscan(const char *s, size_t n, int where, const char *name, size_t nl,
                  hits *hs, long base, size_t head) {
  const long *hit = hs->at;
  const unsigned char *t = (const unsigned char *)s, *filter;
  size_t i, step;
  int k, g;
  for (k = 0; k < smtpcode_bf_nshort; k++) { /* phrases under 3 bytes */
    const bf_rule *ru = &smtpcode_bf_rules[smtpcode_bf_short[k]];
    if (ru->where == where && hit[smtpcode_bf_short[k]] < 0 && applies(ru, where, name, nl) &&
        rulehit(ru, s, n))
      sethit(hs, smtpcode_bf_short[k], base);
  }
  if (n < 3) return;
  if (where != BW_HEADER && head == (size_t)-1 &&
      smtpcode_bf_wherestart[where + 1] - smtpcode_bf_wherestart[where] <= FEW_RULES) {
    for (k = smtpcode_bf_wherestart[where]; k < smtpcode_bf_wherestart[where + 1]; k++) {
      int r = smtpcode_bf_bywhere[k];
      long p;
      if (hit[r] < 0 && (p = firstat(t, n, &smtpcode_bf_rules[r])) >= 0) sethit(hs, r, base + p);
    }
    return;
  }
  if (where == BW_BODY && head == (size_t)-1 && n <= WM_TEXT) {
    wmscan(t, n, hs, base);
    return;
  }
  g = where == BW_BODY ? 0 : 1;
  step = (size_t)smtpcode_bf_step[g];
  filter = smtpcode_bf_stepfilter[g];
  for (i = 0; i + 1 < n; i += step) {
    /* most pairs fail the filter: one load, no hashing */
    unsigned pr = (unsigned)t[i] << 8 | t[i + 1];
    size_t at0;
    if (!(filter[pr >> 3] & (1u << (pr & 7)))) continue;
    for (at0 = i >= step ? i - step + 1 : 0; at0 <= i && at0 + 2 < n; at0++)
      if (hat(t, n, at0, where, name, nl, hs, base, head) && at0 >= head) return;
  }
}

/* The first rule of role that matched (file order), or -1. */
static int matchrole(const hits *hs, int role) {
  int j;
  for (j = 0; j < hs->n; j++)
    if (smtpcode_bf_rules[hs->k[j]].role == role) return hs->k[j];
  return -1;
}

/*
** The rules of data/bounce_formats.tsv on the boundary, the DSN parts and
** the text (the header fields were matched while the header was read):
** hit[k] is the first offset of a body phrase in the text, 0 for a
** boundary or DSN rule that matched. The text is read once, every phrase
** in its first SCAN_HEAD bytes (an error section starts near the top),
** past them only up to the first end phrase
** (when a start phrase was seen and no end phrase yet).
*/
/*
** Decode the text part, if not done yet: a quoted-printable one only up to
** a line end that gives more than want bytes (the head the scan reads;
** most reports need no more). The rest is decoded by textall, in place
** after it (the buffer is not written between the two).
*/
static void textnow(ctx *c, size_t want) {
  if (c->tpending) {
    const char *p = c->text;
    size_t n = c->textn;
    c->tpending = 0;
    if (want < n && c->tcte && ctis(c->tcte, c->tcten, "quoted-printable") && room(c) >= n &&
        room(c) > 0) {
      char *d = cur(c);
      size_t cut = 0, o = 0;
      while (cut < n && o <= want) {
        /* a raw byte gives at most one: the end of the line where want
           bytes more may be reached */
        size_t to = cut + (want + 1 - o) < n ? cut + (want + 1 - o) : n;
        to = mime_next(p, n, mime_eol(p, n, to));
        o += mime_qp(p + cut, to - cut, d + o, room(c) - o);
        cut = to;
      }
      c->text = d;
      c->textn = o;
      c->used += o;
      if (cut < n) {
        c->traw = p + cut;
        c->trawn = n - cut;
      }
      return;
    }
    decode(c, p, n, c->tcte, c->tcten, &c->text, &c->textn);
  }
}

/* The whole text part decoded (see textnow). */
static void textall(ctx *c) {
  if (c->traw) {
    if (c->text + c->textn == cur(c)) {
      size_t k = mime_qp(c->traw, c->trawn, cur(c), room(c));
      c->used += k;
      c->textn += k;
    } else if (room(c) >= c->textn + c->trawn) {
      /* not reached (nothing is written after the head before this): the
         part again, whole, after what was written */
      char *d = cur(c);
      memcpy(d, c->text, c->textn);
      c->textn += mime_qp(c->traw, c->trawn, d + c->textn, room(c) - c->textn);
      c->text = d;
      c->used += c->textn;
    }
    c->traw = NULL;
  }
}

static void scanrules(ctx *c, hits *hit, size_t scanhead) {
  int k, started = 0, ended = 0;
  if (c->bnd) hscan(c->bnd, c->bndn, BW_BOUNDARY, NULL, 0, hit, 0, (size_t)-1);
  for (k = 0; k < c->ndsn; k++)
    hscan(c->dsn[k], c->dsnn[k] > DSN_HEAD ? DSN_HEAD : c->dsnn[k], BW_DSN, NULL, 0, hit, 0,
          (size_t)-1);
  /* Received rows only name the writer (detect), and the first detect row
     in file order wins: when one before them already matched, the Received
     fields cannot change the answer and are not read */
  k = matchrole(hit, BF_DETECT);
  if (k < 0 || k > smtpcode_bf_recvfirst) {
    int j;
    for (j = 0; j < c->nrecv; j++)
      hscan(c->recv[j], c->recvn[j], BW_RECEIVED, NULL, 0, hit, 0, (size_t)-1);
  }
  if (c->text == NULL) return;
  if (c->out->nrcpt > 0 && matchrole(hit, BF_DETECT) >= 0) {
    /* a DSN whose writer is known and whose recipients all have their
       diagnostic needs nothing from the text */
    for (k = 0; k < c->out->nrcpt && c->r[k].diagnostic.len > 0 &&
                !(c->r[k].diag_type.len == 6 && mime_ieq(at(c, c->r[k].diag_type), 6, "x-unix"));
         k++) {
    }
    if (k == c->out->nrcpt) {
      /* nor does anything after: the text part is not decoded at all */
      if (c->tpending) {
        c->text = NULL;
        c->textn = 0;
        c->tpending = 0;
      }
      return;
    }
  }
  textnow(c, scanhead);
  {
    size_t n = c->textn > MAX_TEXT_SCAN ? MAX_TEXT_SCAN : c->textn;
    size_t head = n > scanhead ? scanhead : n;
    hscan(c->text, head, BW_BODY, NULL, 0, hit, 0, (size_t)-1);
    if (head == n) return;
    for (k = 0; k < hit->n; k++) {
      const bf_rule *ru = &smtpcode_bf_rules[hit->k[k]];
      if (ru->where == BW_BODY) {
        if (ru->role == BF_START) started = 1;
        else if (ru->role == BF_END) ended = 1;
      }
    }
    if (started && !ended) { /* the rest, overlapping by a phrase's length */
      textall(c);
      n = c->textn > MAX_TEXT_SCAN ? MAX_TEXT_SCAN : c->textn;
      hscan(c->text + head - 256, n - head + 256, BW_BODY, NULL, 0, hit, (long)head - 256, 0);
    }
  }
}


/* A line that starts with an address: "<a@b>:", "a@b", "* a@b", "\"a@b\":". */
static size_t lineaddr(const char *s, size_t e, size_t i, size_t *ao) {
  size_t k = i, l;
  while (k < e && isblank_(s[k])) k++;
  /* Sendmail's "550 <addr>... User unknown" (or "550 5.1.1 <addr>..."): a
     reply code at the start of the line, maybe an enhanced code, then
     <addr> (indented, such a line is a reply quoted under a recipient) */
  if (k == i && k + 5 < e && s[k] >= '2' && s[k] <= '5' && isdig(s[k + 1]) && isdig(s[k + 2]) &&
      s[k + 3] == ' ') {
    size_t q = k + 4;
    if (q < e && s[q] >= '2' && s[q] <= '5' && q + 1 < e && s[q + 1] == '.') {
      while (q < e && (isdig(s[q]) || s[q] == '.')) q++;
      if (q < e && s[q] == ' ') q++;
    }
    if (q < e && s[q] == '<') k = q;
  }
  if (k + 1 < e && (s[k] == '*' || s[k] == '-') && isblank_(s[k + 1])) {
    k += 2;
    while (k < e && isblank_(s[k])) k++;
  }
  if (k < e && (s[k] == '<' || s[k] == '"')) k++;
  l = addrlen(s, e, k);
  if (l == 0) return 0;
  if (k == 0 || s[k - 1] != '<') {
    /* "a@b <c@d>": an address-like display name; the address is the
       bracketed one */
    size_t q = k + l, l2;
    while (q < e && isblank_(s[q])) q++;
    if (q > k + l && q + 1 < e && s[q] == '<' && (l2 = addrlen(s, e, q + 1)) > 0 &&
        q + 1 + l2 < e && s[q + 1 + l2] == '>') {
      k = q + 1;
      l = l2;
    }
  }
  if (k + l < e) {
    char nx = s[k + l];
    if (!(nx == '>' || nx == '"' || nx == ':' || isblank_(nx) || nx == ',' || nx == '(' ||
          nx == '[' || nx == '.'))
      return 0;
  }
  *ao = k;
  return l;
}

/* The first address anywhere in s[0..n) (in <> preferred). */
static size_t anyaddr(const char *s, size_t n, size_t *ao) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (s[i] == '@' && i > 0) {
      size_t b = i, l, q;
      while (b > 0 && i - b < 256 && isatext((unsigned char)s[b - 1])) b--;
      l = addrlen(s, n, b);
      /* not a message or queue id ("SMTP id x@y", "Message-ID: <x@y>") */
      q = b;
      while (q > 0 && (s[q - 1] == '<' || isblank_(s[q - 1]) || s[q - 1] == ':')) q--;
      if (q >= 2 && lower(s[q - 2]) == 'i' && lower(s[q - 1]) == 'd' &&
          (q == 2 || !isword(s[q - 3])))
        l = 0;
      if (l) {
        *ao = b;
        return l;
      }
    }
  }
  return 0;
}

/* The free-text section: [*so, *eo) of the text, and the mta of its start
** rule (only that when !whole: the section is then empty). Returns 0 when
** no start phrase is in the text. */
static int section(ctx *c, const hits *hs, size_t *so, size_t *eo, int *mta, int whole) {
  const char *t = c->text;
  size_t n = c->textn > MAX_TEXT_SCAN ? MAX_TEXT_SCAN : c->textn;
  long best = -1, end = -1;
  int k, bm = 0;
  if (t == NULL) return 0;
  for (k = 0; k < hs->n; k++) {
    const bf_rule *ru = &smtpcode_bf_rules[hs->k[k]];
    long p = hs->at[hs->k[k]];
    if (ru->role != BF_START || ru->where != BW_BODY) continue;
    if (p >= 0 && (best < 0 || p < best || (p == best && bm == 0 && ru->mta))) {
      best = p;
      bm = ru->mta;
    }
  }
  if (best < 0) { /* a report by its subject: the whole text */
    for (k = 0; k < hs->n; k++) {
      const bf_rule *ru = &smtpcode_bf_rules[hs->k[k]];
      if (ru->role == BF_START && ru->where == BW_SUBJECT) {
        best = 0;
        bm = ru->mta;
        break;
      }
    }
    if (best < 0) return 0;
  }
  if (!whole) {
    *so = *eo = (size_t)best;
    *mta = bm;
    return 1;
  }
  /* an end phrase after the start, in the head that was decoded, ends
     the section there; else the whole text is read */
  for (k = 0; k < hs->n && end < 0; k++) {
    const bf_rule *ru = &smtpcode_bf_rules[hs->k[k]];
    if (ru->role == BF_END && ru->where == BW_BODY && hs->at[hs->k[k]] > best) end = 0;
  }
  for (k = 0; k < hs->n && end == 0; k++) {
    const bf_rule *ru = &smtpcode_bf_rules[hs->k[k]];
    if (ru->role == BF_END && ru->where == BW_BODY && hs->at[hs->k[k]] >= 0 &&
        hs->at[hs->k[k]] <= best)
      end = -1;
  }
  if (end < 0) {
    textall(c);
    t = c->text;
    n = c->textn > MAX_TEXT_SCAN ? MAX_TEXT_SCAN : c->textn;
  }
  end = -1;
  for (k = 0; k < hs->n; k++) {
    const bf_rule *ru = &smtpcode_bf_rules[hs->k[k]];
    long p = hs->at[hs->k[k]];
    if (ru->role != BF_END || ru->where != BW_BODY || p < 0) continue;
    if (p <= best) { /* seen before the start: look again after it */
      p = mime_wfind(t + best + 1, n - (size_t)best - 1, ru->text, ru->len);
      if (p < 0) continue;
      p += best + 1;
    }
    if (end < 0 || p < end) end = p;
  }
  /* start at the beginning of the marker's line; end before the end
     phrase's line (a ruler's dashes included) */
  while (best > 0 && t[best - 1] != '\n' && t[best - 1] != '\r') best--;
  while (end > best && t[end - 1] != '\n' && t[end - 1] != '\r') end--;
  *so = (size_t)best;
  *eo = end < 0 ? n : (size_t)end;
  *mta = bm;
  return 1;
}

static void textrcpt(ctx *c, const char *a, size_t an, const char *b, size_t bn,
                     int action) {
  smtpcode_brcpt *r;
  if (known(c, a, an)) return;
  r = newrcpt(c);
  if (r == NULL) return;
  r->recipient = sp(c, a, an);
  r->action = action;
  while (bn > 0 && (*b == '>' || *b == '"' || *b == ':' || *b == ']' || isblank_(*b))) {
    b++;
    bn--;
  }
  { /* the recipient's paragraph (up to an empty line), when it holds a
       reply code: what follows is other matter */
    size_t i = 0, p = bn;
    smtpcode_found g;
    while (i < bn) {
      size_t e = mime_eol(b, bn, i), k = i;
      while (k < e && isblank_(b[k])) k++;
      if (k == e && i > 0) {
        p = i;
        break;
      }
      i = mime_next(b, bn, e);
    }
    if (p < bn && smtpcode_find(b, p, &g, NULL) == 0 && g.how == SMTPCODE_HOW_REPLY) bn = p;
  }
  r->block = sp(c, b, bn);
  r->diagnostic = diagtext(c, b, bn);
}

/* Recipients of the free-text section [so, eo) of the text. */
static int textreport(ctx *c, size_t so, size_t eo, int action) {
  const char *t = c->text;
  size_t i = so, ao = 0, al = 0, bstart = 0, first = so, rs = 0, re = 0;
  const char *v;
  size_t vn;
  int before = c->out->nrcpt, any = 0;
  /* X-Failed-Recipients names them (Exim, Gmail, Google Groups) */
  if (c->xfr) {
    v = c->xfr;
    vn = c->xfrn;
    size_t k = 0;
    smtpcode_span whole = {0, 0, 0}, wblock;
    while (k < vn) {
      size_t l = addrlen(v, vn, k);
      if (l) {
        textrcpt(c, v + k, l, t + so, 0, action);
        k += l;
      } else
        k++;
    }
    if (c->out->nrcpt > before) {
      /* the reply of each: the lines after its own address line (for the
         first MERGE_MAX of them: the work stays linear), else the section,
         unfolded once for all */
      int j;
      wblock = sp(c, t + so, eo - so);
      for (j = before; j < c->out->nrcpt; j++) {
        size_t x = so;
        if (j - before >= MERGE_MAX) x = eo;
        while (x < eo) {
          size_t e = mime_eol(t, eo, x), o2 = 0, l2 = lineaddr(t, e, x, &o2);
          if (l2 && sameaddr(c, c->r[j].recipient, t + o2, l2)) {
            size_t y = mime_next(t, eo, e);
            while (y < eo) {
              size_t e2 = mime_eol(t, eo, y), o3 = 0, l3 = lineaddr(t, e2, y, &o3);
              if (l3 && !(l3 == l2 && ieqboth(t + o3, t + o2, l2))) break;
              y = mime_next(t, eo, e2);
            }
            c->r[j].block = sp(c, t + o2 + l2, y - (o2 + l2));
            c->r[j].diagnostic = diagtext(c, t + o2 + l2, y - (o2 + l2));
            break;
          }
          x = mime_next(t, eo, e);
        }
        if (c->r[j].block.len == 0) {
          if (whole.len == 0) whole = diagtext(c, t + so, eo - so);
          c->r[j].block = wblock;
          c->r[j].diagnostic = whole;
        }
      }
      return 1;
    }
  }
  while (i < eo) {
    size_t e = mime_eol(t, eo, i), o = 0, l = lineaddr(t, e, i, &o);
    {
      /* a Sendmail transcript: ">>> COMMAND" sent, "<<< reply" received */
      size_t k = i;
      while (k < e && isblank_(t[k])) k++;
      if (e - k > 4 && t[k] == '>' && t[k + 1] == '>' && t[k + 2] == '>' && t[k + 3] == ' ')
        rs = 0;
      else if (e - k > 5 && t[k] == '<' && t[k + 1] == '<' && t[k + 2] == '<' && t[k + 3] == ' ' &&
               isdig(t[k + 4])) {
        rs = k + 4;
        re = e;
      }
    }
    if (l && al && l == al && ieqboth(t + o, t + ao, l)) l = 0; /* named again */
    if (l && !any) first = i;
    if (l) {
      size_t k0 = i;
      if (al) textrcpt(c, t + ao, al, t + bstart, i - bstart, action);
      ao = o;
      al = l;
      bstart = o + l;
      any = 1;
      while (k0 < o && isblank_(t[k0])) k0++;
      if (isdig(t[k0])) {
        /* Sendmail's one-line summary "554 <addr>... 550 Host unknown": the
           reply quoted after "... " if any, else the remote reply of the
           transcript just above ("<<< 550 ..."), else the line with its code */
        size_t q = o + l, ke = e;
        if (q + 5 < e && t[q] == '>' && t[q + 1] == '.' && t[q + 2] == '.' && t[q + 3] == '.' &&
            t[q + 4] == ' ' && isdig(t[q + 5]))
          k0 = q + 5;
        else if (rs) {
          k0 = rs;
          ke = re;
        }
        textrcpt(c, t + ao, al, t + k0, ke - k0, action);
        al = 0;
        rs = 0;
      }
    }
    i = mime_next(t, eo, e);
  }
  if (al) textrcpt(c, t + ao, al, t + bstart, eo - bstart, action);
  if (any && first > so) {
    /* one reason for a list of addresses ("Could not be delivered because
       of 550 5.1.1 User unknown. The following recipients were affected:"):
       recipients whose own lines hold no code take the text before them */
    smtpcode_found g;
    smtpcode_span pre = {0, 0, 0}, pblock;
    int j;
    if (smtpcode_find(t + so, first - so, &g, NULL) == 0 && g.how != SMTPCODE_HOW_NONE) {
      /* from the reply on: the lines before it name the message; unfolded
         once, shared */
      pblock = sp(c, t + so + g.start, first - so - (size_t)g.start);
      for (j = before; j < c->out->nrcpt; j++) {
        smtpcode_brcpt *r = &c->r[j];
        smtpcode_found h;
        if (r->block.len && smtpcode_find(at(c, r->block), (size_t)r->block.len, &h, NULL) == 0)
          continue;
        if (pre.len == 0) pre = diagtext(c, t + so + g.start, first - so - (size_t)g.start);
        r->block = pblock;
        r->diagnostic = pre;
      }
    }
  }
  if (!any) {
    /* the envelope stated in the section or in a details block just after
       it ("RCPT TO: a@b"), else the first address of the section */
    size_t lim = c->textn - eo > RCPT_AFTER ? eo + RCPT_AFTER : c->textn, l = 0;
    const char *ap = NULL;
    long p = mime_ifind(t + so, lim - so, "rcpt to:", 8);
    if (p >= 0) {
      size_t k = so + (size_t)p + 8, e = mime_eol(t, lim, k);
      while (k < e && (isblank_(t[k]) || t[k] == '<')) k++;
      l = addrlen(t, e, k);
      ao = k - so;
    }
    if (l == 0) l = anyaddr(t + so, eo - so, &ao);
    if (l) ap = t + so + ao;
    if (l == 0 && so > 0) {
      /* an address line just above the start phrase (m-FILTER's "failed
         to send to:" list, then "-------server message"): the nearest one
         of the RCPT_ABOVE bytes before it */
      size_t b = so > RCPT_ABOVE ? so - RCPT_ABOVE : 0, x;
      while (b > 0 && b < so && t[b - 1] != '\n' && t[b - 1] != '\r') b++; /* a whole line */
      for (x = b; x < so;) {
        size_t e = mime_eol(t, so, x), o3 = 0, l3 = lineaddr(t, e, x, &o3);
        if (l3) {
          l = l3;
          ap = t + o3;
        }
        x = mime_next(t, so, e);
      }
    }
    if (l) textrcpt(c, ap, l, t + so, eo - so, action);
  }
  if (c->out->nrcpt == before && c->ret) {
    /* the returned message's To:, when it names one address */
    if (hget(c, c->ret, c->retn, "to", &v, &vn)) {
      size_t k = 0;
      size_t l = anyaddr(v, vn, &k);
      if (l && anyaddr(v + k + l, vn - k - l, &ao) == 0)
        textrcpt(c, v + k, l, t + so, eo - so, action);
    }
  }
  return c->out->nrcpt > before;
}

/* }====================================================== */

/* {====================================================== SES JSON */

/*
** Amazon SES notifications sent by mail (SNS): a JSON body, maybe escaped
** once more inside the SNS envelope. Keys are found as plain text; a value
** is what follows `":"` (or `\":\"`) up to the next quote. Enough for the
** flat fields of bouncedRecipients, complainedRecipients and delivery.
*/
static int jval(const char *s, size_t n, size_t from, const char *key, size_t *vo, size_t *vl) {
  size_t m = strlen(key), k;
  long p;
  if (from >= n) return 0;
  p = mime_ifind(s + from, n - from, key, m);
  if (p < 0) return 0;
  k = from + (size_t)p + m;
  while (k < n && k < from + (size_t)p + m + 8 && (s[k] == '"' || s[k] == '\\' || s[k] == ':' ||
                                                   isblank_(s[k])))
    k++;
  *vo = k;
  while (k < n && s[k] != '"' && s[k] != ',' && s[k] != '}' && s[k] != ']') k++;
  if (k > *vo && s[k - 1] == '\\') k--;
  *vl = k - *vo;
  return 1;
}

/* Returns 1 when the text is an SES notification (recipients added). */
static int sesjson(ctx *c) {
  const char *t;
  size_t n, vo, vl, ro, rl, k, end;
  long a;
  int action, cx;
  textall(c);
  t = c->text;
  n = c->textn > MAX_TEXT_SCAN ? MAX_TEXT_SCAN : c->textn;
  for (k = 0; k < n && k < 64 && (isblank_(t[k]) || t[k] == '\r' || t[k] == '\n'); k++) {
  }
  if (t == NULL || k >= n || t[k] != '{') return 0; /* a JSON object, or nothing */
  if (!jval(t, n > 4096 ? 4096 : n, 0, "notificationtype", &vo, &vl)) return 0;
  if (mime_ieq(t + vo, vl, "bounce")) {
    a = mime_ifind(t, n, "bouncedrecipients", 17);
    action = SMTPCODE_ACT_FAILED;
    c->out->format = SMTPCODE_BF_DSN;
  } else if (mime_ieq(t + vo, vl, "complaint")) {
    a = mime_ifind(t, n, "complainedrecipients", 20);
    action = SMTPCODE_ACT_COMPLAINED;
    c->out->format = SMTPCODE_BF_ARF;
    if (jval(t, n, 0, "complaintfeedbacktype", &ro, &rl)) c->out->fb_type = sp(c, t + ro, rl);
    if (jval(t, n, 0, "useragent", &ro, &rl)) c->out->fb_user_agent = sp(c, t + ro, rl);
  } else if (mime_ieq(t + vo, vl, "delivery")) {
    a = mime_ifind(t, n, "\"delivery\"", 10);
    if (a < 0) a = mime_ifind(t, n, "delivery\\\":", 11);
    action = SMTPCODE_ACT_DELIVERED;
    c->out->format = SMTPCODE_BF_DSN;
  } else
    return 0;
  if (a < 0) return 1;
  if (action == SMTPCODE_ACT_DELIVERED) { /* "recipients":["a","b"], "smtpResponse" */
    size_t d0 = (size_t)a, r0, dl = 0, doff = 0;
    long q = mime_ifind(t + d0, n - d0, "recipients", 10);
    if (q < 0) return 1;
    r0 = d0 + (size_t)q;
    for (end = r0; end < n && t[end] != ']'; end++) {
    }
    if (jval(t, n, d0, "smtpresponse", &vo, &vl)) {
      doff = vo;
      dl = vl;
    }
    for (k = r0 + 10; k < end; k++) {
      size_t l = addrlen(t, end, k);
      smtpcode_brcpt *r;
      if (l == 0) continue;
      if ((r = newrcpt(c)) != NULL) {
        r->recipient = sp(c, t + k, l);
        r->action = action;
        if (dl) r->diagnostic = diagtext(c, t + doff, dl);
      }
      k += l;
    }
    return 1;
  }
  for (end = (size_t)a; end < n && t[end] != ']'; end++) {
  }
  k = (size_t)a;
  for (cx = 0; cx < 1000; cx++) {
    size_t next, l;
    long q;
    smtpcode_brcpt *r;
    if (!jval(t, end, k, "emailaddress", &ro, &rl)) break;
    q = mime_ifind(t + ro, end - ro, "emailaddress", 12);
    next = q < 0 ? end : ro + (size_t)q;
    l = addrlen(t, ro + rl, ro);
    if (l && (r = newrcpt(c)) != NULL) {
      r->recipient = sp(c, t + ro, l);
      r->action = action;
      if (jval(t, next, ro, "status", &vo, &vl)) r->status_raw = statusvalue(c, t + vo, vl);
      if (jval(t, next, ro, "action", &vo, &vl)) {
        r->action_raw = sp(c, t + vo, vl);
        if (actionof(t + vo, vl)) r->action = actionof(t + vo, vl);
      }
      if (jval(t, next, ro, "diagnosticcode", &vo, &vl)) {
        size_t o = 0;
        while (o < vl && o < 40 && t[vo + o] != ';') o++;
        if (o < vl && t[vo + o] == ';') {
          r->diag_type = sp(c, t + vo, o);
          o++;
        } else
          o = 0;
        r->diagnostic = diagtext(c, t + vo + o, vl - o);
      }
    }
    k = next;
  }
  return 1;
}

/* }====================================================== */

/* {====================================================== ARF */

static void feedback(ctx *c) {
  size_t i = 0;
  const char *p = c->fb;
  size_t n = c->fbn;
  smtpcode_breport *o = c->out;
  while (i < n) {
    size_t e = mime_eol(p, n, i), nm, nl, v, vl, nx;
    int tl = 0;
    if (e == i) {
      i = mime_next(p, n, e);
      continue;
    }
    nx = mime_field(p, n, i, 65536, &nm, &nl, &v, &vl, &tl);
    if (nx <= i) break;
    i = nx;
#define IS(z) (nl == sizeof(z) - 1 && mime_ieqn(p + nm, z, nl))
    if (IS("feedback-type")) o->fb_type = sp(c, p + v, vl);
    else if (IS("user-agent")) o->fb_user_agent = sp(c, p + v, vl);
    else if (IS("version")) o->fb_version = sp(c, p + v, vl);
    else if (IS("source-ip")) o->fb_source_ip = sp(c, p + v, vl);
    else if (IS("original-mail-from")) o->fb_mail_from = sp(c, p + v, vl);
    else if (IS("arrival-date") || IS("received-date")) o->fb_arrival = sp(c, p + v, vl);
    else if (IS("reported-domain")) o->fb_domain = sp(c, p + v, vl);
    else if (IS("reporting-mta")) o->reporting_mta = sp(c, p + v, vl);
    else if (IS("original-rcpt-to")) {
      size_t ao, al;
      smtpcode_brcpt *r;
      if (o->fb_rcpt_to.len == 0) o->fb_rcpt_to = sp(c, p + v, vl);
      addrvalue(p + v, vl, &ao, &al);
      if (al && !known(c, p + v + ao, al) && (r = newrcpt(c)) != NULL) {
        r->recipient = sp(c, p + v + ao, al);
        r->action = SMTPCODE_ACT_COMPLAINED;
      }
    }
#undef IS
  }
  if (o->nrcpt == 0 && c->ret) {
    const char *v;
    size_t vn, k = 0, l;
    if (hget(c, c->ret, c->retn, "to", &v, &vn) && (l = anyaddr(v, vn, &k)) != 0) {
      smtpcode_brcpt *r = newrcpt(c);
      if (r) {
        r->recipient = sp(c, v + k, l);
        r->action = SMTPCODE_ACT_COMPLAINED;
      }
    }
  }
}

/* }====================================================== */

static void returned(ctx *c) {
  smtpcode_breport *o = c->out;
  size_t i = 0;
  if (c->ret == NULL) return;
  for (;;) { /* one pass; the first of each field counts */
    size_t nm, nl, v, vn;
    int tl = 0;
    size_t nx = mime_field(c->ret, c->retn, i, 65536, &nm, &nl, &v, &vn, &tl);
    const char *name = c->ret + nm, *val = c->ret + v;
    if (nx <= i) break;
    i = nx;
    if (nl == 10 && mime_ieqn(name, "message-id", nl) && o->message_id.len == 0)
      o->message_id = unfold_sp(c, val, vn);
    else if (nl == 4 && mime_ieqn(name, "from", nl) && o->from.len == 0)
      o->from = unfold_sp(c, val, vn);
    else if (nl == 2 && mime_ieqn(name, "to", nl) && o->to.len == 0)
      o->to = unfold_sp(c, val, vn);
    else if (nl == 4 && mime_ieqn(name, "date", nl) && o->date.len == 0)
      o->date = unfold_sp(c, val, vn);
    else if (nl == 7 && mime_ieqn(name, "subject", nl) && o->subject.len == 0) {
      if (room(c) >= 2 * vn && room(c) > 0) {
        size_t k = mime_words(val, vn, cur(c), room(c));
        c->used += k;
        o->subject = sp(c, cur(c) - k, k);
      } else
        o->subject = sp(c, val, vn);
    }
    if (o->message_id.len && o->from.len && o->to.len && o->date.len && o->subject.len) {
      /* nothing more to take: the end of the block, line by line */
      size_t b;
      i += hblock(c->ret + i, c->retn - i, &b);
      break;
    }
  }
  c->retn = i; /* the header block */
  o->headers = sp(c, c->ret, c->retn);
}

/* The returned headers of a free-text report: after its end phrase. */
static void textreturned(ctx *c, size_t eo) {
  const char *t = c->text;
  size_t n = c->textn, i = mime_next(t, n, mime_eol(t, n, eo)), b;
  /* skip blank lines and rulers up to the first header field */
  while (i < n) {
    size_t e = mime_eol(t, n, i), k = i;
    while (k < e && (t[k] == '-' || isblank_(t[k]))) k++;
    if (k < e) break;
    i = mime_next(t, n, e);
  }
  if (i < n) {
    size_t nm, nl, v, vl;
    int tl = 0;
    mime_field(t, n, i, 65536, &nm, &nl, &v, &vl, &tl);
    if (nl == 0) return;
    c->ret = t + i;
    c->retn = hblock(t + i, n - i, &b);
  }
}

/* Move a span of a nested read (of the message at in, with the buffer
** from used on) into the outer message's and buffer's terms. */
static void remap(smtpcode_span *s, const char *in, const char *msg, size_t len,
                  const char *buf, size_t used) {
  if (s->len == 0) return;
  if (s->where == 1) {
    s->off += (int)used;
  } else if (in >= msg && in <= msg + len) {
    s->off += (int)(in - msg);
  } else {
    s->off += (int)(in - buf);
    s->where = 1;
  }
}

static int readmsg(const char *msg, size_t len, const smtpcode_bounce_opts *opts, char *buf,
                   size_t cap, smtpcode_breport *out, smtpcode_brcpt *rcpts, int rcap,
                   int nested);

/* A report forwarded inside a message/rfc822 part by a gateway or a
** postmaster (the outer message has no report of its own): read the inner
** message, once. */
static int forwarded(ctx *c, const char *msg, size_t len, const smtpcode_bounce_opts *opts,
                     smtpcode_brcpt *rcpts, int rcap) {
  const char *v, *in = c->retall;
  size_t vn, used = c->used;
  int st, i;
  smtpcode_breport *o = c->out;
  if (in == NULL || !hget(c, c->hdr, c->hdrn, "from", &v, &vn) ||
      (mime_ifind(v, vn, "mailer-daemon", 13) < 0 && mime_ifind(v, vn, "postmaster", 10) < 0))
    return SMTPCODE_ENOTBOUNCE;
  st = readmsg(in, c->retalln, opts, c->buf + used, c->cap - used, o, rcpts, rcap, 1);
  if (st != 0) return st;
  {
    smtpcode_span *os[] = {&o->reporting_mta, &o->arrival_date, &o->report_type, &o->headers,
                           &o->message_id, &o->from, &o->to, &o->subject, &o->date,
                           &o->fb_type, &o->fb_user_agent, &o->fb_version, &o->fb_source_ip,
                           &o->fb_mail_from, &o->fb_rcpt_to, &o->fb_arrival, &o->fb_domain};
    size_t k;
    for (k = 0; k < sizeof os / sizeof os[0]; k++) remap(os[k], in, msg, len, c->buf, used);
  }
  for (i = 0; i < o->nrcpt; i++) {
    smtpcode_brcpt *r = &rcpts[i];
    smtpcode_span *rs[] = {&r->recipient, &r->original, &r->action_raw, &r->status_raw,
                           &r->diagnostic, &r->diag_type, &r->remote_mta, &r->last_attempt,
                           &r->will_retry, &r->block};
    size_t k;
    for (k = 0; k < sizeof rs / sizeof rs[0]; k++) remap(rs[k], in, msg, len, c->buf, used);
  }
  return 0;
}

SMTPCODE_API int smtpcode_bounce_read(const char *msg, size_t len,
                                      const smtpcode_bounce_opts *opts, char *buf,
                                      size_t cap, smtpcode_breport *out,
                                      smtpcode_brcpt *rcpts, int rcap) {
  return readmsg(msg, len, opts, buf, cap, out, rcpts, rcap, 0);
}

static int readmsg(const char *msg, size_t len, const smtpcode_bounce_opts *opts, char *buf,
                   size_t cap, smtpcode_breport *out, smtpcode_brcpt *rcpts, int rcap,
                   int nested) {
  ctx cx, *c = &cx;
  size_t bstart, start = 0, i, max_size = SMTPCODE_BOUNCE_MAX_SIZE;
  int k, delayed, action, mta = 0;
  hits hitset, *hit = &hitset;
  memset(out, 0, sizeof *out);
  memset(c, 0, sizeof *c);
  c->max_depth = SMTPCODE_BOUNCE_MAX_DEPTH;
  c->max_parts = SMTPCODE_BOUNCE_MAX_PARTS;
  c->max_header = SMTPCODE_BOUNCE_MAX_HEADER;
  c->max_rcpt = SMTPCODE_BOUNCE_MAX_RCPTS;
  if (opts) {
    if (opts->max_size > 0) max_size = (size_t)opts->max_size;
    if (opts->max_recipients > 0) c->max_rcpt = opts->max_recipients;
    if (opts->max_depth > 0) c->max_depth = opts->max_depth;
    if (opts->max_parts > 0) c->max_parts = opts->max_parts;
    if (opts->max_header > 0) c->max_header = opts->max_header;
  }
  if (len > max_size || len > SMTPCODE_LIMIT_CEILING) return SMTPCODE_ETOOLONG;
  if (rcap < 0) rcap = 0;
  c->out = out;
  c->r = rcpts;
  c->rcap = rcap;
  c->buf = buf;
  c->cap = buf ? cap : 0;
  /* an mbox "From " line */
  if (len >= 5 && memcmp(msg, "From ", 5) == 0) start = mime_next(msg, len, mime_eol(msg, len, 0));
  c->m = msg;
  c->n = len;
  /* the top header block, read once: at least one field, each within
     max_header; the rules that look at header fields are matched here */
  for (k = 0; k < smtpcode_bf_nrules; k++) hit->at[k] = -1;
  hit->n = 0;
  c->hdr = msg + start;
  {
    int fields = 0, nfields = 0, nrecv = 0;
    const char *ct = NULL, *cte = NULL, *h = c->hdr;
    size_t ctn = 0, cten = 0, hn = len - start;
    /* the lengths of the names rules name (bit 0: one of 64 bytes or more) */
    unsigned long long hdrlens = 0;
    for (k = 0; k < smtpcode_bf_nhdr; k++) {
      unsigned hl = smtpcode_bf_rules[smtpcode_bf_hdr[k]].hlen;
      hdrlens |= 1ull << (hl < 64 ? hl : 0);
    }
    i = 0;
    for (;;) {
      size_t nm, nl, v, vl;
      int tl = 0, where = BW_HEADER;
      size_t nx = mime_field(h, hn, i, (size_t)c->max_header, &nm, &nl, &v, &vl, &tl);
      const char *name = h + nm;
      if (nx <= i) break;
      if (tl) return SMTPCODE_ETOOLONG;
      if (++nfields > SMTPCODE_BOUNCE_MAX_FIELDS) return SMTPCODE_ETOOLONG;
      i = nx;
      if (nl == 0) continue;
      fields++;
      if (nl == 12 && mime_ieqn(name, "content-type", nl)) {
        ct = h + v;
        ctn = vl;
        continue;
      } else if (nl == 25 && mime_ieqn(name, "content-transfer-encoding", nl)) {
        cte = h + v;
        cten = vl;
        continue;
      } else if (nl == 7 && mime_ieqn(name, "subject", nl)) {
        where = BW_SUBJECT;
      } else if (nl == 4 && mime_ieqn(name, "from", nl)) {
        where = BW_FROM;
      } else if (nl == 8 && mime_ieqn(name, "received", nl)) {
        if (++nrecv > RECEIVED_HEAD) continue;
        c->recv[c->nrecv] = h + v; /* read by scanrules when it matters */
        c->recvn[c->nrecv++] = vl;
        continue;
      } else if (nl == 19 && mime_ieqn(name, "x-failed-recipients", nl)) {
        if (c->xfr == NULL) {
          c->xfr = h + v;
          c->xfrn = vl;
        }
      }
      if (where == BW_HEADER) { /* a field that some rule names? */
        if (nl < 64 ? !(hdrlens >> nl & 1u) : !(hdrlens & 1u)) continue;
        for (k = 0; k < smtpcode_bf_nhdr; k++)
          if (applies(&smtpcode_bf_rules[smtpcode_bf_hdr[k]], BW_HEADER, name, nl)) break;
        if (k == smtpcode_bf_nhdr) continue;
      }
      hscan(h + v, vl, where, name, nl, hit, 0, (size_t)-1);
    }
    if (fields == 0) return len - start == 0 ? SMTPCODE_ENOTBOUNCE : SMTPCODE_ESYNTAX;
    c->hdrn = i;
    bstart = bodystart(h, hn, i);
    body(c, ct, ctn, cte, cten, h + bstart, hn - bstart, 0);
  }
  if (c->ret) returned(c);
  if (c->text == NULL && c->html) { /* an HTML-only report: its text, tags and all, */
    c->text = c->html; /* as far as an error section can be */
    c->textn = c->htmln > MAX_HTML ? MAX_HTML : c->htmln;
    c->tcte = c->htmlcte;
    c->tcten = c->htmlcten;
    c->tpending = 1;
  }

  if (c->fb == NULL) {
    int j;
    for (j = 0; j < c->ndsn; j++) dsnfields(c, c->dsn[j], c->dsnn[j]);
    compact(c, 0);
  }
  /* a DSN needs the text only for clues and missing diagnostics */
  scanrules(c, hit, out->nrcpt > 0 ? SCAN_HEAD_DSN : SCAN_HEAD);
  delayed = matchrole(hit, BF_DELAYED) >= 0;
  action = delayed ? SMTPCODE_ACT_DELAYED : SMTPCODE_ACT_FAILED;
  k = matchrole(hit, BF_DETECT);
  if (k >= 0) mta = smtpcode_bf_rules[k].mta;

  if (c->fb) {
    out->format = SMTPCODE_BF_ARF;
    feedback(c);
  } else if (c->ndsn == 0 && sesjson(c)) {
    mta = 0;
    for (k = 1; k < smtpcode_bf_nmtas; k++)
      if (strcmp(smtpcode_bf_mtas[k], "amazonses") == 0) mta = k;
  } else if (c->ndsn == 0 && (k = matchrole(hit, BF_FEEDBACK)) >= 0) {
    /* a complaint in a provider's own layout: the complainant is the
       returned message's recipient, or the sender of an unsubscribe mail */
    const char *v;
    size_t vn, ao = 0, l = 0;
    smtpcode_brcpt *r;
    out->format = SMTPCODE_BF_ARF;
    mta = smtpcode_bf_rules[k].mta;
    if (c->ret && (hget(c, c->ret, c->retn, "x-hmxmroriginalrecipient", &v, &vn) ||
                   hget(c, c->ret, c->retn, "to", &v, &vn)))
      l = anyaddr(v, vn, &ao);
    if (l == 0 && hget(c, c->hdr, c->hdrn, "x-hmxmroriginalrecipient", &v, &vn))
      l = anyaddr(v, vn, &ao);
    if (l == 0 && c->ret == NULL && hget(c, c->hdr, c->hdrn, "from", &v, &vn))
      l = anyaddr(v, vn, &ao);
    if (l && (r = newrcpt(c)) != NULL) {
      r->recipient = sp(c, v + ao, l);
      r->action = SMTPCODE_ACT_COMPLAINED;
    }
  } else {
    if (out->nrcpt > 0 || (out->total > 0)) {
      out->format = SMTPCODE_BF_DSN;
      xfraddr(c);
    } else if (c->text) {
      /* DSN field lines in a text part (boundaries lost, or pasted) */
      size_t head;
      textall(c);
      head = c->textn > SCAN_HEAD ? SCAN_HEAD : c->textn;
      long p = mime_ifind(c->text, head, "final-recipient:", 16);
      if (p >= 0) {
        long q = mime_ifind(c->text, head, "reporting-mta:", 14);
        size_t from = (size_t)(q >= 0 && q < p ? q : p);
        while (from > 0 && c->text[from - 1] != '\n' && c->text[from - 1] != '\r') from--;
        dsnfields(c, c->text + from, c->textn - from);
        compact(c, 0);
        if (out->nrcpt > 0) {
          out->format = SMTPCODE_BF_DSN;
          out->flags |= SMTPCODE_BR_TEXT_DSN;
        }
      }
    }
    {
      size_t so, eo;
      int tm = 0, have = out->format == SMTPCODE_BF_DSN, whole = !have, j2;
      /* a DSN reads the section only for recipients without a diagnostic
         (or with a pipe's status and no reply) */
      for (j2 = 0; j2 < out->nrcpt && j2 < MERGE_MAX && !whole; j2++) {
        smtpcode_brcpt *r = &c->r[j2];
        smtpcode_found g0;
        whole = !(r->diagnostic.len &&
                  (!(r->diag_type.len == 6 && mime_ieq(at(c, r->diag_type), 6, "x-unix")) ||
                   (smtpcode_find(at(c, r->diagnostic), (size_t)r->diagnostic.len, &g0, NULL) ==
                        0 &&
                    g0.how == SMTPCODE_HOW_REPLY)));
      }
      if (section(c, hit, &so, &eo, &tm, whole)) {
        if (tm && !(have && mta)) mta = tm;
        if (!have) {
          /* the original's headers quoted after the section first: its To:
             names the recipient when the section does not */
          int hadret = c->ret != NULL;
          textall(c);
          out->format = SMTPCODE_BF_TEXT;
          if (!hadret) textreturned(c, eo);
          textreport(c, so, eo, action);
          if (!hadret) returned(c);
        } else {
          /* a DSN recipient without a diagnostic takes the text's reply:
             the lines after its address, or the section when it is alone */
          for (j2 = 0; j2 < out->nrcpt && j2 < MERGE_MAX; j2++) {
            smtpcode_brcpt *r = &c->r[j2];
            size_t x = so;
            const char *best = NULL;
            smtpcode_found g0;
            int xunix = r->diag_type.len == 6 && mime_ieq(at(c, r->diag_type), 6, "x-unix");
            /* a diagnostic with a reply, or one of another kind than x-unix, stays */
            if (r->diagnostic.len &&
                (!xunix || (smtpcode_find(at(c, r->diagnostic), (size_t)r->diagnostic.len, &g0,
                                          NULL) == 0 && g0.how == SMTPCODE_HOW_REPLY)))
              continue;
            size_t bestn = 0;
            while (x < eo) { /* its lines; the first that holds a reply code wins */
              size_t e = mime_eol(c->text, eo, x), o2 = 0;
              size_t l2 = lineaddr(c->text, e, x, &o2);
              if (l2 && sameaddr(c, r->recipient, c->text + o2, l2)) {
                smtpcode_found g;
                const char *rest = c->text + o2 + l2;
                size_t restn = e - (o2 + l2), ls = x;
                while (ls < o2 && isblank_(c->text[ls])) ls++;
                if (isdig(c->text[ls])) { /* "550 5.0.0 <addr>... text": the line */
                  rest = c->text + ls;
                  restn = e - ls;
                }
                if (smtpcode_find(rest, restn, &g, NULL) == 0 && g.how == SMTPCODE_HOW_REPLY) {
                  best = rest;
                  bestn = restn;
                  break;
                }
                if (best == NULL) {
                  best = rest;
                  bestn = restn;
                }
              }
              x = mime_next(c->text, eo, e);
            }
            if (best) {
              while (bestn > 0 && (*best == '>' || *best == '.' || *best == ':' || isblank_(*best))) {
                best++;
                bestn--;
              }
              smtpcode_found g1;
              if (r->diagnostic.len == 0)
                r->diagnostic = diagtext(c, best, bestn);
              else if (smtpcode_find(best, bestn, &g1, NULL) == 0 && g1.how == SMTPCODE_HOW_REPLY)
                r->block = sp(c, best, bestn); /* x-unix: the text's reply gives the codes */
            }
            if (r->diagnostic.len == 0 && out->nrcpt == 1 && out->total == 1) {
              /* alone: the whole section speaks of it */
              r->block = sp(c, c->text + so, eo - so);
              r->diagnostic = diagtext(c, c->text + so, eo - so);
            }
          }
        }
      }
    }
    if (out->format == SMTPCODE_BF_NONE) {
      if (out->report_type.len &&
          mime_ieq(at(c, out->report_type), (size_t)out->report_type.len, "delivery-status"))
        out->format = SMTPCODE_BF_DSN;
      else
        return nested ? SMTPCODE_ENOTBOUNCE : forwarded(c, msg, len, opts, rcpts, rcap);
    }
  }
  out->mta = mta;
  for (k = 0; k < out->nrcpt; k++) {
    smtpcode_brcpt *r = &rcpts[k], *p = k > 0 ? &rcpts[k - 1] : NULL;
    if (p && samespan(r->block, p->block) &&
        (r->block.len > 0 || samespan(r->diagnostic, p->diagnostic)) &&
        samespan(r->diag_type, p->diag_type) && r->action == p->action &&
        r->status_raw.len == 0 && p->status_raw.len == 0 && r->command == SMTPCODE_CMD_NONE) {
      /* the same text as the previous recipient (a shared section): the
         same verdict, without reading it again */
      r->v = p->v;
      r->command = p->command;
      r->diagnostic = p->diagnostic;
      continue;
    }
    settle(c, r);
  }
  if (!nested && out->format == SMTPCODE_BF_TEXT && c->retall) {
    /* a text notice with no code at all around a forwarded DSN: the DSN */
    int coded = 0;
    for (k = 0; k < out->nrcpt; k++) coded |= rcpts[k].v.code | rcpts[k].v.cls;
    if (!coded && mime_ifind(c->retall, c->retalln > 4096 ? 4096 : c->retalln,
                             "delivery-status", 15) >= 0 &&
        forwarded(c, msg, len, opts, rcpts, rcap) != 0) /* no: the notice again */
      return readmsg(msg, len, opts, buf, cap, out, rcpts, rcap, 1);
  }
  return 0;
}

/* {====================================================== small API */

SMTPCODE_API int smtpcode_header_next(const char *s, size_t len, int *name_off,
                                      int *name_len, int *val_off,
                                      int *val_len) {
  size_t i = 0;
  for (;;) {
    size_t nm, nl, v, vl, nx;
    int tl = 0;
    if (len > SMTPCODE_LIMIT_CEILING) len = SMTPCODE_LIMIT_CEILING;
    nx = mime_field(s, len, i, len, &nm, &nl, &v, &vl, &tl);
    if (nx <= i) return 0;
    if (nl) {
      *name_off = (int)nm;
      *name_len = (int)nl;
      *val_off = (int)v;
      *val_len = (int)vl;
      return (int)nx;
    }
    i = nx;
  }
}

SMTPCODE_API int smtpcode_unfold(const char *s, size_t len, char *dst,
                                 size_t cap) {
  size_t i = 0, o = 0;
  while (i < len && (isblank_(s[i]) || s[i] == '\r' || s[i] == '\n')) i++;
  while (i < len && o < cap) {
    size_t j = i, k;
    if (s[i] == '\r' || s[i] == '\n') {
      while (o > 0 && isblank_(dst[o - 1])) o--;
      while (i < len && (isblank_(s[i]) || s[i] == '\r' || s[i] == '\n')) i++;
      if (i < len && o < cap) dst[o++] = ' ';
      continue;
    }
    /* the run up to the line end, copied at once */
    while (j < len && s[j] != '\r' && s[j] != '\n') j++;
    k = j - i < cap - o ? j - i : cap - o;
    memcpy(dst + o, s + i, k);
    o += k;
    i += k;
  }
  while (o > 0 && isblank_(dst[o - 1])) o--;
  return (int)o;
}

SMTPCODE_API const char *smtpcode_bformat_name(int format) {
  static const char *const names[] = {NULL, "dsn", "arf", "text"};
  return format >= 1 && format <= 3 ? names[format] : NULL;
}

SMTPCODE_API const char *smtpcode_action_name(int action) {
  static const char *const names[] = {NULL,      "failed",  "delayed",   "delivered",
                                      "relayed", "expanded", "complained"};
  return action >= 1 && action <= 6 ? names[action] : NULL;
}

SMTPCODE_API const char *smtpcode_command_name(int command) {
  static const char *const names[] = {NULL, "CONN", "EHLO", "MAIL", "RCPT", "DATA"};
  return command >= 1 && command <= 5 ? names[command] : NULL;
}

SMTPCODE_API const char *smtpcode_bounce_mta_name(int mta) {
  return mta >= 1 && mta < smtpcode_bf_nmtas ? smtpcode_bf_mtas[mta] : NULL;
}

SMTPCODE_API const char *smtpcode_bounce_status_name(int status) {
  if (status == SMTPCODE_ENOTBOUNCE) return "not_bounce";
  return smtpcode_status_name(status);
}

/* }====================================================== */
