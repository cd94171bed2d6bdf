/*
** bounce_report.c: the readers of what a report says besides its DSN
** fields (src/bounce_int.h). A free-text report of a known system
** (data/bounce_formats.tsv): the error section between its start and end
** phrases, recipients as lines that start with an address, their reply the
** lines that follow. Amazon SES notifications (JSON), ARF feedback reports
** (RFC 5965), and the returned message's header fields.
*/
#include "bounce_int.h"

/* {====================================================== text reports */

/* A line that starts with an address: "<a@b>:", "a@b", "* a@b", "\"a@b\":",
** or an X.400 address that carries it ("c=US;a= ;p=Org;o=Site;dda:SMTP=a@b;",
** Exchange 5.5's Internet Mail Service). */
size_t bounce_lineaddr(const char *s, size_t e, size_t i, size_t *ao) {
  size_t k = i, l;
  while (k < e && isblank_(s[k])) k++;
  if (k + 2 < e && (s[k] == 'c' || s[k] == 'C') && s[k + 1] == '=') {
    long q = mime_ifind(s + k, e - k, "dda:smtp=", 9);
    if (q < 0) return 0;
    k += (size_t)q + 9;
    l = bounce_addrlen(s, e, k);
    if (l == 0 || (k + l < e && s[k + l] != ';' && !isblank_(s[k + l]))) return 0;
    *ao = k;
    return l;
  }
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
  l = bounce_addrlen(s, e, k);
  if (l == 0) return 0;
  if (k == 0 || s[k - 1] != '<') {
    /* "a@b <c@d>": an address-like display name; the address is the
       bracketed one */
    size_t q = k + l, l2;
    while (q < e && isblank_(s[q])) q++;
    if (q > k + l && q + 1 < e && s[q] == '<' && (l2 = bounce_addrlen(s, e, q + 1)) > 0 &&
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
size_t bounce_anyaddr(const char *s, size_t n, size_t *ao) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (s[i] == '@' && i > 0) {
      size_t b = i, l, q;
      while (b > 0 && i - b < 256 && isatext((unsigned char)s[b - 1])) b--;
      l = bounce_addrlen(s, n, b);
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
int bounce_section(ctx *c, const hits *hs, size_t *so, size_t *eo, int *mta, int whole) {
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
    bounce_textall(c);
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
  if (bounce_known(c, a, an)) return;
  r = bounce_newrcpt(c);
  if (r == NULL) return;
  r->recipient = bounce_sp(c, a, an);
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
  r->block = bounce_sp(c, b, bn);
  r->diagnostic = bounce_diagtext(c, b, bn);
}

/* Recipients of the free-text section [so, eo) of the text. */
int bounce_textreport(ctx *c, size_t so, size_t eo, int action) {
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
      size_t l = bounce_addrlen(v, vn, k);
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
      wblock = bounce_sp(c, t + so, eo - so);
      for (j = before; j < c->out->nrcpt; j++) {
        size_t x = so;
        if (j - before >= MERGE_MAX) x = eo;
        while (x < eo) {
          size_t e = mime_eol(t, eo, x), o2 = 0, l2 = bounce_lineaddr(t, e, x, &o2);
          if (l2 && sameaddr(c, c->r[j].recipient, t + o2, l2)) {
            size_t y = mime_next(t, eo, e);
            while (y < eo) {
              size_t e2 = mime_eol(t, eo, y), o3 = 0, l3 = bounce_lineaddr(t, e2, y, &o3);
              if (l3 && !(l3 == l2 && ieqboth(t + o3, t + o2, l2))) break;
              y = mime_next(t, eo, e2);
            }
            c->r[j].block = bounce_sp(c, t + o2 + l2, y - (o2 + l2));
            c->r[j].diagnostic = bounce_diagtext(c, t + o2 + l2, y - (o2 + l2));
            break;
          }
          x = mime_next(t, eo, e);
        }
        if (c->r[j].block.len == 0) {
          if (whole.len == 0) whole = bounce_diagtext(c, t + so, eo - so);
          c->r[j].block = wblock;
          c->r[j].diagnostic = whole;
        }
      }
      return 1;
    }
  }
  while (i < eo) {
    size_t e = mime_eol(t, eo, i), o = 0, l = bounce_lineaddr(t, e, i, &o);
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
      pblock = bounce_sp(c, t + so + g.start, first - so - (size_t)g.start);
      for (j = before; j < c->out->nrcpt; j++) {
        smtpcode_brcpt *r = &c->r[j];
        smtpcode_found h;
        if (r->block.len && smtpcode_find(at(c, r->block), (size_t)r->block.len, &h, NULL) == 0)
          continue;
        if (pre.len == 0) pre = bounce_diagtext(c, t + so + g.start, first - so - (size_t)g.start);
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
      l = bounce_addrlen(t, e, k);
      ao = k - so;
    }
    if (l == 0) l = bounce_anyaddr(t + so, eo - so, &ao);
    if (l) ap = t + so + ao;
    if (l == 0 && so > 0) {
      /* an address line just above the start phrase (m-FILTER's "failed
         to send to:" list, then "-------server message"): the nearest one
         of the RCPT_ABOVE bytes before it */
      size_t b = so > RCPT_ABOVE ? so - RCPT_ABOVE : 0, x;
      while (b > 0 && b < so && t[b - 1] != '\n' && t[b - 1] != '\r') b++; /* a whole line */
      for (x = b; x < so;) {
        size_t e = mime_eol(t, so, x), o3 = 0, l3 = bounce_lineaddr(t, e, x, &o3);
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
    if (bounce_hget(c, c->ret, c->retn, "to", &v, &vn)) {
      size_t k = 0;
      size_t l = bounce_anyaddr(v, vn, &k);
      if (l && bounce_anyaddr(v + k + l, vn - k - l, &ao) == 0)
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
int bounce_sesjson(ctx *c) {
  const char *t;
  size_t n, vo, vl, ro, rl, k, end;
  long a;
  int action, cx;
  bounce_textall(c);
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
    if (jval(t, n, 0, "complaintfeedbacktype", &ro, &rl))
      c->out->fb_type = bounce_sp(c, t + ro, rl);
    if (jval(t, n, 0, "useragent", &ro, &rl)) c->out->fb_user_agent = bounce_sp(c, t + ro, rl);
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
      size_t l = bounce_addrlen(t, end, k);
      smtpcode_brcpt *r;
      if (l == 0) continue;
      if ((r = bounce_newrcpt(c)) != NULL) {
        r->recipient = bounce_sp(c, t + k, l);
        r->action = action;
        if (dl) r->diagnostic = bounce_diagtext(c, t + doff, dl);
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
    l = bounce_addrlen(t, ro + rl, ro);
    if (l && (r = bounce_newrcpt(c)) != NULL) {
      r->recipient = bounce_sp(c, t + ro, l);
      r->action = action;
      if (jval(t, next, ro, "status", &vo, &vl)) r->status_raw = bounce_statusvalue(c, t + vo, vl);
      if (jval(t, next, ro, "action", &vo, &vl)) {
        r->action_raw = bounce_sp(c, t + vo, vl);
        if (bounce_actionof(t + vo, vl)) r->action = bounce_actionof(t + vo, vl);
      }
      if (jval(t, next, ro, "diagnosticcode", &vo, &vl)) {
        size_t o = 0;
        while (o < vl && o < 40 && t[vo + o] != ';') o++;
        if (o < vl && t[vo + o] == ';') {
          r->diag_type = bounce_sp(c, t + vo, o);
          o++;
        } else
          o = 0;
        r->diagnostic = bounce_diagtext(c, t + vo + o, vl - o);
      }
    }
    k = next;
  }
  return 1;
}

/* }====================================================== */

/* {====================================================== ARF */

void bounce_feedback(ctx *c) {
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
    if (IS("feedback-type")) o->fb_type = bounce_sp(c, p + v, vl);
    else if (IS("user-agent")) o->fb_user_agent = bounce_sp(c, p + v, vl);
    else if (IS("version")) o->fb_version = bounce_sp(c, p + v, vl);
    else if (IS("source-ip")) o->fb_source_ip = bounce_sp(c, p + v, vl);
    else if (IS("original-mail-from")) o->fb_mail_from = bounce_sp(c, p + v, vl);
    else if (IS("arrival-date") || IS("received-date")) o->fb_arrival = bounce_sp(c, p + v, vl);
    else if (IS("reported-domain")) o->fb_domain = bounce_sp(c, p + v, vl);
    else if (IS("reporting-mta")) o->reporting_mta = bounce_sp(c, p + v, vl);
    else if (IS("original-rcpt-to")) {
      size_t ao, al;
      smtpcode_brcpt *r;
      if (o->fb_rcpt_to.len == 0) o->fb_rcpt_to = bounce_sp(c, p + v, vl);
      bounce_addrvalue(p + v, vl, &ao, &al);
      if (al && memchr(p + v + ao, '@', al) == NULL) { /* "name <a@b>" (Comcast) */
        ao = 0;
        al = bounce_anyaddr(p + v, vl, &ao);
      }
      if (al && !bounce_known(c, p + v + ao, al) && (r = bounce_newrcpt(c)) != NULL) {
        r->recipient = bounce_sp(c, p + v + ao, al);
        r->action = SMTPCODE_ACT_COMPLAINED;
      }
    }
#undef IS
  }
  if (o->nrcpt == 0 && c->ret) {
    const char *v;
    size_t vn, k = 0, l;
    if (bounce_hget(c, c->ret, c->retn, "to", &v, &vn) && (l = bounce_anyaddr(v, vn, &k)) != 0) {
      smtpcode_brcpt *r = bounce_newrcpt(c);
      if (r) {
        r->recipient = bounce_sp(c, v + k, l);
        r->action = SMTPCODE_ACT_COMPLAINED;
      }
    }
  }
}

/* }====================================================== */

/* {====================================================== returned headers */

void bounce_returned(ctx *c) {
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
      o->message_id = bounce_unfold_sp(c, val, vn);
    else if (nl == 4 && mime_ieqn(name, "from", nl) && o->from.len == 0)
      o->from = bounce_unfold_sp(c, val, vn);
    else if (nl == 2 && mime_ieqn(name, "to", nl) && o->to.len == 0)
      o->to = bounce_unfold_sp(c, val, vn);
    else if (nl == 4 && mime_ieqn(name, "date", nl) && o->date.len == 0)
      o->date = bounce_unfold_sp(c, val, vn);
    else if (nl == 7 && mime_ieqn(name, "subject", nl) && o->subject.len == 0) {
      if (room(c) >= 2 * vn && room(c) > 0) {
        size_t k = mime_words(val, vn, cur(c), room(c));
        c->used += k;
        o->subject = bounce_sp(c, cur(c) - k, k);
      } else
        o->subject = bounce_sp(c, val, vn);
    }
    if (o->message_id.len && o->from.len && o->to.len && o->date.len && o->subject.len) {
      /* nothing more to take: the end of the block, line by line */
      size_t b;
      i += bounce_hblock(c->ret + i, c->retn - i, &b);
      break;
    }
  }
  c->retn = i; /* the header block */
  o->headers = bounce_sp(c, c->ret, c->retn);
}

/* The returned headers of a free-text report: after its end phrase. */
void bounce_textreturned(ctx *c, size_t eo) {
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
    c->retn = bounce_hblock(t + i, n - i, &b);
  }
}

/* }====================================================== */
