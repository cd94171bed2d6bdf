/*
** bounce.c: read a whole bounce message (smtpcode_bounce, src/bounce.h).
**
** 1. The MIME walk (src/bounce_walk.c): headers, multiparts, leaf parts
**    decoded into the caller's buffer when they matter: the DSN and
**    feedback parts, the first text part, the returned headers.
** 2. DSN field groups (RFC 3464 2.1, src/bounce_walk.c): per-message
**    fields, then one group per recipient.
** 3. Without a DSN part: DSN field lines in the text (a degraded DSN), or
**    the free-text layout of a known system (data/bounce_formats.tsv,
**    src/bounce_scan.c finds its phrases, src/bounce_report.c reads the
**    error section); Amazon SES JSON and ARF feedback (src/bounce_report.c).
** 4. Every recipient's diagnostic goes through smtpcode_find and
**    smtpcode_classify; the Status field and the codes in the text are
**    reconciled first (a specific code beats a generic X.0.0 one): settle,
**    here.
** Work: each multipart level scans its own body once (depth bounded);
** phrase searches are plain and bounded by the phrase length.
*/
#include "bounce_int.h"

/* {====================================================== diagnostics */

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
  size_t i = 0, j, lim = n > 8192 ? 8192 : n;
  unsigned f;
#ifdef BOUNCE_SSE2
  { /* sixteen starts at a time: a byte that may start a phrase and one that
       may be second (ASCII letters by | 0x20, '[' read as '{'), then the
       tables at those starts only */
    const __m128i x20 = _mm_set1_epi8(0x20);
#define EQ(v, ch) _mm_cmpeq_epi8((v), _mm_set1_epi8(ch))
#define OR(a, b) _mm_or_si128((a), (b))
    for (; i + 17 <= lim; i += 16) {
      __m128i v = OR(_mm_loadu_si128((const __m128i *)(const void *)(s + i)), x20),
              w = OR(_mm_loadu_si128((const __m128i *)(const void *)(s + i + 1)), x20);
      __m128i a = OR(OR(OR(EQ(v, 'r'), EQ(v, 'm')), OR(EQ(v, 'e'), EQ(v, 'f'))),
                     OR(OR(EQ(v, 'd'), EQ(v, 'a')), OR(OR(EQ(v, 'h'), EQ(v, 'c')),
                                                       OR(EQ(v, '{'), EQ(v, '>')))));
      __m128i b = OR(OR(OR(EQ(w, 'c'), EQ(w, 'r')), OR(EQ(w, 'a'), EQ(w, 'n'))),
                     OR(OR(EQ(w, 'i'), EQ(w, 'f')), OR(OR(EQ(w, '>'), EQ(w, 'h')),
                                                       OR(EQ(w, 'e'), EQ(w, 'o')))));
      unsigned mask = (unsigned)_mm_movemask_epi8(_mm_and_si128(a, b));
      while (mask) {
        size_t q = i + (size_t)__builtin_ctz(mask);
        unsigned bits = first[(unsigned char)s[q]] & second[(unsigned char)s[q + 1]];
        while (bits) { /* the phrases both bytes allow, in table order */
          j = (size_t)__builtin_ctz(bits);
          if (lim - q >= k[j].len && mime_ieqn(s + q, k[j].z, k[j].len)) return k[j].cmd;
          bits &= bits - 1;
        }
        mask &= mask - 1;
      }
    }
#undef EQ
#undef OR
  }
#endif
  f = i < lim ? first[(unsigned char)s[i]] : 0; /* first[] of s[i] */
  for (; i + 1 < lim; i++) {
    unsigned c1 = (unsigned char)s[i + 1], bits = f & second[c1];
    f = first[c1];
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
  int sc = 0, ss = 0, sd = 0, has = 0, skipped = 0;
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
  if (r->block.len && f.how == SMTPCODE_HOW_REPLY && f.code > 0 && f.code < 400 &&
      f.code_off >= 0 && r->action != SMTPCODE_ACT_DELIVERED &&
      r->action != SMTPCODE_ACT_RELAYED && r->action != SMTPCODE_ACT_EXPANDED) {
    /* a session transcript in a failure notice (MDaemon, SMTP32): the
       greeting and the other positive replies come first; the failure is
       the first 4xx/5xx reply after them (at most 64 replies looked at) */
    smtpcode_found g;
    size_t from = (size_t)f.code_off + 3;
    int guard = 0;
    skipped = 1;
    while (from < fn && guard++ < 64 && smtpcode_find(fs + from, fn - from, &g, NULL) == 0 &&
           g.code_off >= 0) {
      if (g.how == SMTPCODE_HOW_REPLY && g.code >= 400) {
        g.start += (int)from;
        g.end += (int)from;
        g.code_off += (int)from;
        if (g.enh_len) g.enh_off += (int)from;
        g.text_off += (int)from;
        f = g;
        break;
      }
      from += (size_t)g.code_off + 3;
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
  if (skipped && f.how == SMTPCODE_HOW_REPLY && f.code >= 400) {
    /* the transcript before the failing reply says nothing of the failure */
    size_t k;
    for (k = 0; k + 3 <= dn; k++)
      if (d[k] == (char)('0' + f.code / 100) && d[k + 1] == (char)('0' + f.code / 10 % 10) &&
          d[k + 2] == (char)('0' + f.code % 10) && (k == 0 || !isdig(d[k - 1])) &&
          (k + 3 == dn || !isdig(d[k + 3]))) {
        d += k;
        dn -= k;
        r->diagnostic.off += (int)k;
        r->diagnostic.len -= (int)k;
        break;
      }
  }
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

/* {====================================================== one read */

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
  if (in == NULL || !bounce_hget(c, c->hdr, c->hdrn, "from", &v, &vn) ||
      (mime_ifind(v, vn, "mailer-daemon", 13) < 0 && mime_ifind(v, vn, "postmaster", 10) < 0))
    return SMTPCODE_ENOTBOUNCE;
  st = readmsg(in, c->retalln, opts, c->buf + used, c->cap - used, o, rcpts, rcap, 1);
  /* an inner message that is no report, or is malformed ("Message removed"
     in place of the returned message), leaves the outer one what it was:
     no report, not malformed */
  if (st != 0) return SMTPCODE_ENOTBOUNCE;
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
  { /* empty or blank lines before the first field (a message saved from a
       web view or an archive): skipped when a field follows them */
    size_t s = start;
    while (s < len) {
      size_t e = mime_eol(msg, len, s), j = s;
      while (j < e && (msg[j] == ' ' || msg[j] == '\t')) j++;
      if (j < e) break;
      s = mime_next(msg, len, e);
    }
    if (s > start && s < len) start = s;
  }
  c->m = msg;
  c->n = len;
  /* the top header block, read once: at least one field, each within
     max_header; the rules that look at header fields are matched here */
  memset(hit->at, 0xff, sizeof hit->at[0] * (size_t)smtpcode_bf_nrules); /* every at[k] -1 */
  hit->n = 0;
  hit->detect = BF_MAX_RULES;
  c->hdr = msg + start;
  {
    int fields = 0, nfields = 0, nrecv = 0;
    const char *ct = NULL, *cte = NULL, *h = c->hdr;
    size_t ctn = 0, cten = 0, hn = len - start;
    /* the lengths of the names rules name (bit 0: one of 64 bytes or more) */
    const unsigned long long hdrlens = smtpcode_bf_hdrlens;
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
      bounce_hscan(h + v, vl, where, name, nl, hit, 0, (size_t)-1);
    }
    if (fields == 0) return len - start == 0 ? SMTPCODE_ENOTBOUNCE : SMTPCODE_ESYNTAX;
    c->hdrn = i;
    bstart = bounce_bodystart(h, hn, i);
    bounce_body(c, ct, ctn, cte, cten, h + bstart, hn - bstart, 0);
  }
  if (c->ret) bounce_returned(c);
  if (c->text == NULL && c->html) { /* an HTML-only report: its text, tags and all, */
    c->text = c->html; /* as far as an error section can be */
    c->textn = c->htmln > MAX_HTML ? MAX_HTML : c->htmln;
    c->tcte = c->htmlcte;
    c->tcten = c->htmlcten;
    c->tpending = 1;
  }

  if (c->fb == NULL) {
    int j;
    for (j = 0; j < c->ndsn; j++) bounce_dsnfields(c, c->dsn[j], c->dsnn[j]);
    bounce_compact(c, 0);
  }
  /* a DSN needs the text only for clues and missing diagnostics */
  bounce_scanrules(c, hit, out->nrcpt > 0 ? SCAN_HEAD_DSN : SCAN_HEAD);
  delayed = matchrole(hit, BF_DELAYED) >= 0;
  action = delayed ? SMTPCODE_ACT_DELAYED : SMTPCODE_ACT_FAILED;
  k = matchrole(hit, BF_DETECT);
  if (k >= 0) mta = smtpcode_bf_rules[k].mta;

  if (c->fb) {
    out->format = SMTPCODE_BF_ARF;
    bounce_feedback(c);
  } else if (c->ndsn == 0 && bounce_sesjson(c)) {
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
    if (c->ret && (bounce_hget(c, c->ret, c->retn, "x-hmxmroriginalrecipient", &v, &vn) ||
                   bounce_hget(c, c->ret, c->retn, "to", &v, &vn)))
      l = bounce_anyaddr(v, vn, &ao);
    if (l == 0 && bounce_hget(c, c->hdr, c->hdrn, "x-hmxmroriginalrecipient", &v, &vn))
      l = bounce_anyaddr(v, vn, &ao);
    if (l == 0 && c->ret == NULL && bounce_hget(c, c->hdr, c->hdrn, "from", &v, &vn))
      l = bounce_anyaddr(v, vn, &ao);
    if (l && (r = bounce_newrcpt(c)) != NULL) {
      r->recipient = bounce_sp(c, v + ao, l);
      r->action = SMTPCODE_ACT_COMPLAINED;
    }
  } else {
    if (out->nrcpt > 0 || (out->total > 0)) {
      out->format = SMTPCODE_BF_DSN;
      bounce_xfraddr(c);
    } else if (c->text) {
      /* DSN field lines in a text part (boundaries lost, or pasted) */
      size_t head;
      bounce_textall(c);
      head = c->textn > SCAN_HEAD ? SCAN_HEAD : c->textn;
      long p = mime_ifind(c->text, head, "final-recipient:", 16);
      if (p >= 0) {
        long q = mime_ifind(c->text, head, "reporting-mta:", 14);
        size_t from = (size_t)(q >= 0 && q < p ? q : p);
        while (from > 0 && c->text[from - 1] != '\n' && c->text[from - 1] != '\r') from--;
        bounce_dsnfields(c, c->text + from, c->textn - from);
        bounce_compact(c, 0);
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
      if (bounce_section(c, hit, &so, &eo, &tm, whole)) {
        if (tm && !(have && mta)) mta = tm;
        if (!have) {
          /* the original's headers quoted after the section first: its To:
             names the recipient when the section does not */
          int hadret = c->ret != NULL;
          bounce_textall(c);
          out->format = SMTPCODE_BF_TEXT;
          if (!hadret) bounce_textreturned(c, eo);
          bounce_textreport(c, so, eo, action);
          if (!hadret) bounce_returned(c);
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
              size_t l2 = bounce_lineaddr(c->text, e, x, &o2);
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
                r->diagnostic = bounce_diagtext(c, best, bestn);
              else if (smtpcode_find(best, bestn, &g1, NULL) == 0 && g1.how == SMTPCODE_HOW_REPLY)
                r->block = bounce_sp(c, best, bestn); /* x-unix: the text's reply gives the codes */
            }
            if (r->diagnostic.len == 0 && out->nrcpt == 1 && out->total == 1) {
              /* alone: the whole section speaks of it */
              r->block = bounce_sp(c, c->text + so, eo - so);
              r->diagnostic = bounce_diagtext(c, c->text + so, eo - so);
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

/* }====================================================== */

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
    size_t j, k;
    if (s[i] == '\r' || s[i] == '\n') {
      while (o > 0 && isblank_(dst[o - 1])) o--;
      while (i < len && (isblank_(s[i]) || s[i] == '\r' || s[i] == '\n')) i++;
      if (i < len && o < cap) dst[o++] = ' ';
      continue;
    }
    /* the run up to the line end, copied at once */
    j = mime_eol(s, len, i);
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
