/*
** classify.c: say why an SMTP reply failed: reason, scope, bounce, retry.
**
** One pass over the text with the Aho-Corasick automaton generated from
** data/rules.tsv (src/rules_data.c): bytes are folded to lower case and to
** byte classes, no stream's input pointer moves back (long texts are read
** by four interleaved streams, see runs()), nothing is allocated.
** Phrase hits are kept in a small bounded table; then every rule whose
** first phrase was hit is checked (its other phrases in order, or near the
** one before for "a ~ b", at their first and last places; its code
** conditions; who is refused; a bare word needs a code; phrases inside an
** @ignore phrase do not count) and the best one, by weight (prio, agreement
** with the enhanced code, several phrases), is weighed against the
** enhanced code and reply code tables (data/codes-reasons.tsv). A delay
** notice (@delayed) makes the verdict transient, retried, not a bounce.
** Precedence is documented in docs/classify.md and data/rules.tsv.
*/
#include "smtpcode.h"

#include <string.h>

#include "mojibake.h"
#include "rules_data.h"

/* Texts (or blocks) of this many bytes or more are read by four streams. */
#if !defined(SMTPCODE_SPLIT_MIN)
#define SMTPCODE_SPLIT_MIN 64
#endif

/* Distinct phrases remembered per call; later new phrases are ignored. */
#if !defined(SMTPCODE_MAX_HITS)
#define SMTPCODE_MAX_HITS 64
#endif

typedef struct hit {
  int phrase;
  int first; /* start of the first occurrence */
  int last;  /* start of the last occurrence */
  int ctx;   /* who the text was about before the first occurrence: 0, 1
                recipient, 2 sender */
} hit;

typedef struct scan {
  hit hits[SMTPCODE_MAX_HITS];
  int nhits;
  unsigned long long seen; /* bit pid % SEEN_BITS set: a phrase of that
                              residue may be in hits (a hit is looked
                              for only then) */
  int mend[2], mkind[2]; /* the last two markers: [1] is the latest */
  int reply;             /* an @sender-reply phrase was seen: the reply
                            answered MAIL FROM */
  int delayed;           /* an @delayed phrase was seen */
  int ign[4][2];         /* spans [start, end) of @ignore phrases */
  int nign;
  const unsigned char *s; /* the text, n bytes read */
  int n;
} scan;

#define SEEN_BITS 64
#define SEEN(pid) (1ull << ((unsigned)(pid) % SEEN_BITS))

/* "a ~ b" in a rule: b starts at most NEAR_WORDS words (NEAR_BYTES bytes)
** after a ends, in the same sentence. */
#define NEAR_WORDS 5
#define NEAR_BYTES 64

/* Is s[a..b) a short gap inside one sentence: at most NEAR_WORDS words, no
** line end, no '.', ';', '!' or '?' that ends a sentence (followed by a
** blank)? At most NEAR_BYTES bytes are read. */
static int near(const scan *sc, int a, int b) {
  const unsigned char *s = sc->s;
  int i, words = 0, inword = 0;
  if (b < a || b - a > NEAR_BYTES) return 0;
  for (i = a; i < b; i++) {
    int c = s[i];
    if (c == '\n' || c == '\r') return 0;
    if ((c == '.' || c == ';' || c == '!' || c == '?') &&
        (i + 1 >= sc->n || s[i + 1] == ' ' || s[i + 1] == '\t'))
      return 0;
    if (c == ' ' || c == '\t') {
      inword = 0;
    } else if (!inword) {
      inword = 1;
      if (++words > NEAR_WORDS) return 0;
    }
  }
  return 1;
}

/* Length of the continuation prefix of a multi-line reply at s[i..n): the
** reply code (the same three digits), '-' or ' ', an optional enhanced
** code and the blanks after them; 0 when s[i..n) does not start so. */
static int prefixlen(const unsigned char *s, int n, int i, int code) {
  int j = i, k, d;
  if (i + 4 > n || s[i] != '0' + code / 100 || s[i + 1] != '0' + code / 10 % 10 ||
      s[i + 2] != '0' + code % 10 || (s[i + 3] != '-' && s[i + 3] != ' '))
    return 0;
  j = i + 4;
  /* an enhanced code: class digit, '.', 1-3 digits, '.', 1-3 digits */
  k = j;
  if (k + 1 < n && (s[k] == '2' || s[k] == '4' || s[k] == '5') && s[k + 1] == '.') {
    int part;
    k += 2;
    for (part = 0; part < 2; part++) {
      for (d = 0; d < 3 && k < n && (unsigned)(s[k] - '0') < 10u; d++) k++;
      if (d == 0) break;
      if (part == 0) {
        if (k >= n || s[k] != '.') break;
        k++;
      }
    }
    if (part == 2 && (k == n || s[k] == ' ' || s[k] == '\t')) j = k;
  }
  while (j < n && (s[j] == ' ' || s[j] == '\t')) j++;
  return j - i;
}

/* A multi-line reply (Gmail's, Exchange's) repeats its code at the start of
** every line, often in the middle of a sentence ("an unusual rate of\r\n
** 421-4.7.28 unsolicited mail"). The text rules read such a line break and
** the prefix after it as one blank, so a phrase or two near words across
** it hold. Returns the length of the view; *sp is buf when a prefix was
** removed (in place when the text is already in buf: the view is never
** longer), unchanged when there is none or the text does not fit. One
** pass, bounded by n. */
static int joinview(const char **sp, int n, char *buf, int cap, int code) {
  const unsigned char *s = (const unsigned char *)*sp;
  unsigned char *o = (unsigned char *)buf;
  const unsigned char *lf;
  int i, w = 0, started = 0;
  if (code < 200 || code > 599 || buf == NULL || n <= 0) return n;
  /* most texts are one line: start at the first line end (an LF, and the
     CRs before it), found with memchr, or leave at once (a text whose
     lines end in CR alone is read as it is) */
  lf = (const unsigned char *)memchr(s, '\n', (size_t)n);
  if (lf == NULL) return n;
  i = (int)(lf - s);
  while (i > 0 && s[i - 1] == '\r') i--;
  while (i < n) {
    int c = s[i];
    if (c == '\r' || c == '\n') {
      int j = i, p;
      while (j < n && (s[j] == '\r' || s[j] == '\n')) j++;
      p = prefixlen(s, n, j, code);
      if (p > 0) {
        if (!started) {
          if (n > cap) return n;
          if ((const char *)s != buf) memcpy(buf, s, (size_t)i);
          started = 1;
          w = i;
        }
        o[w++] = ' ';
        i = j + p;
        continue;
      }
    }
    if (started) o[w++] = (unsigned char)c;
    i++;
  }
  if (!started) return n;
  *sp = buf;
  return w;
}

#define isalnum_(c) \
  ((unsigned)(((c) | 32) - 'a') < 26u || (unsigned)((c) - '0') < 10u)

static int context(const scan *sc, int start) {
  if (sc->mkind[1] && sc->mend[1] < start) return sc->mkind[1];
  if (sc->mkind[0] && sc->mend[0] < start) return sc->mkind[0];
  return 0;
}

/* Does the value at s[i..n) (blanks skipped) report a failure: "fail",
** "softfail", "hardfail", "permerror", "temperror"? */
static int failvalue(const unsigned char *s, int n, int i) {
  static const char *const words[] = {"fail", "softfail", "hardfail",
                                      "permerror", "temperror"};
  size_t w;
  int k;
  while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
  for (w = 0; w < sizeof words / sizeof words[0]; w++) {
    for (k = 0; words[w][k] != '\0' && i + k < n &&
                (s[i + k] | 32) == words[w][k];
         k++) {
    }
    if (words[w][k] == '\0') return 1;
  }
  return 0;
}

/* Phrase pid ends at byte e (inclusive) of s[0..n). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void record(scan *sc, const unsigned char *s, int n, int pid, int e) {
  const scr_phrase *p = &smtpcode_rd_phrases[pid];
  int start = e - (int)p->len + 1;
  int i, kind, fl = p->flags;
  if ((fl & 1) && start > 0 && isalnum_(s[start - 1])) return;
  if ((fl & 2) && e + 1 < n && isalnum_(s[e + 1])) return;
  /* a key of a key=value field ("starttls=1", "message-id=<...>") is a
     name, not words about a failure, unless the value reports one
     ("spf=fail", "DKIM= permerror") */
  if (e + 1 < n && s[e + 1] == '=' && !failvalue(s, n, e + 2)) return;
  if (fl & 16) { /* a phrase some rule needs */
    i = sc->nhits;
    if (sc->seen & SEEN(pid)) {
      for (i = 0; i < sc->nhits; i++) {
        if (sc->hits[i].phrase == pid) {
          sc->hits[i].last = start;
          break;
        }
      }
    }
    if (i == sc->nhits && sc->nhits < SMTPCODE_MAX_HITS) {
      hit *h = &sc->hits[sc->nhits++];
      h->phrase = pid;
      h->first = h->last = start;
      h->ctx = context(sc, start);
      sc->seen |= SEEN(pid);
    }
  }
  if (fl & 32) sc->delayed = 1;
  if ((fl & 64) && sc->nign < 4) {
    sc->ign[sc->nign][0] = start;
    sc->ign[sc->nign][1] = e + 1;
    sc->nign++;
  }
  kind = fl >> 2 & 3;
  if (kind == 3)
    sc->reply = 1;
  else if (kind) {
    sc->mend[0] = sc->mend[1];
    sc->mkind[0] = sc->mkind[1];
    sc->mend[1] = e;
    sc->mkind[1] = kind;
  }
}

/*
** State st (>= ks) ends phrases: record those ending at byte e that start
** before byte limit. The chain runs from the longest phrase to the
** shortest, so the first that starts at limit or later ends it.
*/
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void emit(scan *sc, const unsigned char *s, int n, unsigned st,
                        int e, int limit) {
  unsigned o = st;
  do {
    const scr_emit *y = &smtpcode_rd_emit[o - SCR_KS];
    if (y->out >= 0) {
      if (e - (int)smtpcode_rd_phrases[y->out].len + 1 >= limit) break;
      record(sc, s, n, y->out, e);
    }
    o = y->dict;
  } while (o != 0);
}

/* Where dense state d leads on high class c (rules_data.h: the comb
** entry of its high row, else the root's). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline unsigned hrow(const scr_scan *T, size_t d, size_t c) {
  size_t h = T->hoff[d];
  const scr_hx *x = &T->hx[h + c - SCR_NLO];
  return x->chk == h ? x->to : T->hdef[c - SCR_NLO];
}

/* Where dense state d leads on class c (rules_data.h: a low class in its
** short row, a high one by hrow()). */
#define DROW(d, e, c)                                                      \
  ((e) < SCR_LOEND ? T->lo[(size_t)(d) + (e)] : hrow(T, (d), (c)))

/* The next state of an ending state st on class c (byte table entry e). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline unsigned emitnext(const scr_scan *T, unsigned st, size_t e,
                                unsigned c) {
  const scr_emit *x = &smtpcode_rd_emit[st - SCR_KS];
  const scr_edge *ed = &smtpcode_rd_edges[x->exc];
  unsigned k;
  for (k = 0; k < x->nexc; k++)
    if (ed[k].cls == c) return ed[k].to;
  return DROW(x->dense, e, c);
}

/*
** One step of the automaton on byte j. Per byte: its class entry e; a
** dense state on a low class (two compares that do not wait for a lookup)
** takes its next state at lo[st + e]; else: a sparse state (one compare,
** then a lookup or a dense lookup), a dense state on a high class (its
** shared high row), or one that ends phrases (ENDS is run for the phrases
** ending at j - 1, then the state's own table).
*/
#define STEP(st, j, ENDS) STEPP(st, s, j, ENDS)

/* The same on byte p[j] (p a stream's own pointer, so that the address is
** one register plus the shared index). */
#define STEPP(st, p, j, ENDS)                                              \
  do {                                                                     \
    size_t b_ = (p)[j], e_ = T->bcls[b_];                                  \
    if ((st) < SCR_K0 && e_ < SCR_LOEND)                                   \
      (st) = T->lo[(st) + e_];                                             \
    else {                                                                 \
      size_t c_ = T->cls[b_], u_ = (st) - SCR_K0;                          \
      if (u_ < SCR_KS - SCR_K0)                                            \
        (st) = c_ == T->chr[u_] ? T->to[u_] : DROW(T->fb[u_], e_, c_);     \
      else if ((st) < SCR_K0)                                              \
        (st) = hrow(T, (st), c_);                                          \
      else {                                                               \
        ENDS;                                                              \
        (st) = emitnext(T, (unsigned)(st), e_, (unsigned)c_);              \
      }                                                                    \
    }                                                                      \
  } while (0)

#define SCAN_LOCALS const scr_scan *T = &smtpcode_rd_scan

#define RECORD(st, j) emit(sc, s, n, (st), (j) - 1, n)

/* One stream over s[i..end) from state st; returns the state after it. */
static unsigned run1(scan *sc, const unsigned char *s, int n, unsigned st,
                     int i, int end) {
  SCAN_LOCALS;
  for (; i + 4 <= end; i += 4) {
    STEP(st, i, RECORD(st, i));
    STEP(st, i + 1, RECORD(st, i + 1));
    STEP(st, i + 2, RECORD(st, i + 2));
    STEP(st, i + 3, RECORD(st, i + 3));
  }
  for (; i < end; i++) STEP(st, i, RECORD(st, i));
  return st;
}

/*
** Four streams over s[b0..b1), interleaved so that the processor works on
** all at once (each byte's lookup waits on the one before it, and that
** wait, not the work, bounds one stream). Stream k reads the k-th quarter,
** starting at m[k]: stream 0 goes on from state s0 and records as it goes;
** streams 1-3 start at the root and keep the states that end phrases (at
** most one per byte) to record later. Then streams 0-2 read on past their
** quarter as long as their text may still hold a phrase begun in it (the
** state's depth says so: at most SCR_MAXDEPTH bytes), keeping those ends
** too. The phrases kept are recorded in the order one stream would have
** seen them: by end, and at the same end the phrase begun earlier (in an
** earlier quarter) first. No stream moves back. Returns the state after
** s[b1 - 1]: that of the first stream still inside a phrase there (its
** text is the longest), or else the last stream's.
*/
#define NSTREAM 4
#define BLOCK 512 /* bytes per block */
#define LISTMAX (BLOCK / NSTREAM + 1 + SCR_MAXDEPTH + 1 + 1) /* + the end */
#define NOEND 0xffffu

typedef struct pend {
  unsigned short st;
  unsigned short e; /* end - b0 + 1: the carried state may end a phrase
                       at b0 - 1 */
} pend;

#define KEEP(k, st_, j)                                                    \
  do {                                                                     \
    ul[k][nl[k]].st = (unsigned short)(st_);                               \
    ul[k][nl[k]].e = (unsigned short)((j) - b0);                           \
    nl[k]++;                                                               \
  } while (0)

#define KEEPP(k, st_, at_)                                                 \
  do {                                                                     \
    ul[k][nl[k]].st = (unsigned short)(st_);                               \
    ul[k][nl[k]].e = (unsigned short)((at_) - base);                       \
    nl[k]++;                                                               \
  } while (0)

static unsigned runs(scan *sc, const unsigned char *s, int n, unsigned s0,
                     int b0, int b1) {
  SCAN_LOCALS;
  pend ul[NSTREAM][LISTMAX];
  int nl[NSTREAM], at[NSTREAM], m[NSTREAM + 1], st[NSTREAM];
  int len = b1 - b0, h = len / NSTREAM, j, k;
  unsigned out;
  /* quarters of h bytes, the last one takes the rest */
  for (k = 0; k < NSTREAM; k++) m[k] = b0 + h * k;
  m[NSTREAM] = b1;
  for (k = 0; k < NSTREAM; k++) nl[k] = at[k] = 0;
  {
    /* The main loop: no calls (a call would take the registers that hold
       the four states), the lists of stream 0 too; one pointer, the
       streams h bytes apart. */
    const unsigned char *p = s + b0, *pe = p + h, *base = s + b0;
    size_t t0 = s0, t1 = 0, t2 = 0, t3 = 0, d = (size_t)h, d3 = d * 3;
    for (; p < pe; p++) {
      STEPP(t0, p, 0, KEEPP(0, t0, p));
      STEPP(t1, p, d, KEEPP(1, t1, p + d));
      STEPP(t2, p, d * 2, KEEPP(2, t2, p + d * 2));
      STEPP(t3, p, d3, KEEPP(3, t3, p + d3));
    }
    s0 = (unsigned)t0;
    st[1] = (int)t1;
    st[2] = (int)t2;
    st[3] = (int)t3;
  }
  {
    size_t s1 = (size_t)st[1], s2 = (size_t)st[2], s3 = (size_t)st[3];
  for (j = m[0] + h; j < m[1]; j++) STEP(s0, j, KEEP(0, s0, j));
  for (j = m[1] + h; j < m[2]; j++) STEP(s1, j, KEEP(1, s1, j));
  for (j = m[2] + h; j < m[3]; j++) STEP(s2, j, KEEP(2, s2, j));
  for (j = m[3] + h; j < m[4]; j++) STEP(s3, j, KEEP(3, s3, j));
  st[0] = (int)s0;
  st[1] = (int)s1;
  st[2] = (int)s2;
  out = (unsigned)s3;
  }
  for (k = NSTREAM - 2; k >= 0; k--) { /* the tails, last first */
    size_t a = (size_t)st[k];
    int i, lim = m[k + 1];
    for (i = lim;; i++) {
      if (i - (int)smtpcode_rd_depth[a] >= lim) break; /* text starts on */
      if (i == b1) { /* still inside a phrase begun in quarter k */
        out = (unsigned)a;
        break;
      }
      STEP(a, i, KEEP(k, a, i));
    }
  }
  /* merge: least end first, then least k; each list ends with an end
     that no entry has */
  for (k = 0; k < NSTREAM; k++) ul[k][nl[k]].e = NOEND;
  for (;;) {
    unsigned be = ul[0][at[0]].e, x;
    int best = 0;
    if ((x = ul[1][at[1]].e) < be) be = x, best = 1;
    if ((x = ul[2][at[2]].e) < be) be = x, best = 2;
    if ((x = ul[3][at[3]].e) < be) be = x, best = 3;
    if (be == NOEND) break;
    emit(sc, s, n, ul[best][at[best]].st, b0 + (int)be - 1, m[best + 1]);
    at[best]++;
  }
  return out;
}

/* One pass over s[0..n): blocks of BLOCK bytes, four streams for a block
** of split bytes or more. */
static void run(scan *sc, const unsigned char *s, int n, int split) {
  unsigned st = 0;
  int b0 = 0;
  while (b0 < n) {
    int b1 = n - b0 > BLOCK ? b0 + BLOCK : n;
    if (b1 - b0 >= split)
      st = runs(sc, s, n, st, b0, b1);
    else
      st = run1(sc, s, n, st, b0, b1);
    b0 = b1;
  }
  if (st >= SCR_KS) emit(sc, s, n, st, n - 1, n);
}

#undef STEP
#undef SCAN_LOCALS
#undef RECORD
#undef KEEP

static const hit *findhit(const scan *sc, int pid) {
  int i;
  if (!(sc->seen & SEEN(pid))) return NULL;
  for (i = 0; i < sc->nhits; i++)
    if (sc->hits[i].phrase == pid) return &sc->hits[i];
  return NULL;
}

static int condok(const scr_rule *r, const smtpcode_verdict *v) {
  int i;
  if (r->ncond == 0) return 1;
  for (i = 0; i < r->ncond; i++) {
    const scr_cond *c = &smtpcode_rd_conds[r->cond + i];
    switch (c->kind) {
    case 0:
      if (v->code == c->a) return 1;
      break;
    case 1:
      if ((v->code ? v->code / 100 : v->cls) == c->a) return 1;
      break;
    case 2:
      if (v->cls && (c->a == 0 || c->a == v->cls) && c->b == v->subject &&
          (c->c < 0 || c->c == v->detail))
        return 1;
      break;
    case 3:
      if (v->code == 0 && v->cls == 0) return 1;
      break;
    default: /* 4: no enhanced code */
      if (v->cls == 0) return 1;
      break;
    }
  }
  return 0;
}

/* Does rule r hold, given that its first phrase was hit at h? *barefail
** becomes 1 when a bare word failed only for want of a code (yet). */
static int ruleok(const scan *sc, const hit *h, const scr_rule *r,
                  const smtpcode_verdict *v, int bare, int *barefail) {
  int k, pos, alt, ctx;
  /* most rules fail for want of their second phrase: look at it first */
  if (r->nphr > 1 &&
      !(sc->seen & SEEN(smtpcode_rd_rphrases[r->phr + 1] & 0x7fffu)))
    return 0;
  ctx = h->ctx ? h->ctx : (sc->reply ? 2 : 0);
  if (r->who == 1 && ctx == 2) return 0;
  if (r->who == 2 && ctx != 2) return 0;
  if (!condok(r, v)) return 0;
  if ((r->flags & 2) && !bare && v->code == 0 && v->cls == 0) {
    *barefail = 1;
    return 0; /* a bare word does not make a failure of a text without a
                 code (it may name the cause once another rule has) */
  }
  pos = h->first + smtpcode_rd_phrases[h->phrase].len;
  alt = h->last + smtpcode_rd_phrases[h->phrase].len;
  for (k = 1; k < r->nphr; k++) {
    unsigned ent = smtpcode_rd_rphrases[r->phr + k];
    int pid = (int)(ent & 0x7fffu);
    const hit *o = findhit(sc, pid);
    int len = smtpcode_rd_phrases[pid].len;
    if (o == NULL) return 0;
    if (ent & 0x8000u) { /* near the previous phrase: its first or last
                            occurrence, then this one's first or last */
      if (near(sc, pos, o->first))
        pos = o->first + len;
      else if (near(sc, pos, o->last))
        pos = o->last + len;
      else if (alt > pos && near(sc, alt, o->last))
        pos = o->last + len;
      else
        return 0;
    } else if (o->first >= pos)
      pos = o->first + len;
    else if (o->last >= pos)
      pos = o->last + len;
    else
      return 0;
    alt = o->last + len;
  }
  return 1;
}

/*
** Specificity: a rule's weight is its prio, plus 3 when its
** reason is the one the exact enhanced code names (the words and the code
** agree), plus 1 when it needs several phrases (more words). BONUS_MAX is
** the most a rule can gain.
*/
#define BONUS_MAX 4

static int weight(int ri, int agree) {
  const scr_rule *r = &smtpcode_rd_rules[ri];
  return r->prio + (agree > 0 && r->reason == agree ? 3 : 0) +
         (r->nphr > 1 ? 1 : 0);
}

/* Does rule a come before rule b (weight, then total length, then line)? */
static int before(int a, int b, int agree) {
  const scr_rule *ra = &smtpcode_rd_rules[a], *rb = &smtpcode_rd_rules[b];
  int wa = weight(a, agree), wb = weight(b, agree);
  if (wa != wb) return wa > wb;
  if (ra->total != rb->total) return ra->total > rb->total;
  return a < b;
}

/* Do all occurrences of hit h lie inside one @ignore phrase? */
static int ignored(const scan *sc, const hit *h) {
  int k, len = smtpcode_rd_phrases[h->phrase].len;
  for (k = 0; k < sc->nign; k++)
    if (h->first >= sc->ign[k][0] && h->last + len <= sc->ign[k][1])
      return 1;
  return 0;
}

/* Index of the best rule that holds, or -1. The rules of a first phrase
** are listed by prio: once a rule's prio plus BONUS_MAX cannot reach the
** best weight, none after it can. agree: the reason of the exact enhanced
** code, 0 when none. best: the best rule so far (-1: none); with bare,
** the best of a pass without bare words (bestrule): only the rules that
** are a bare word can hold now that did not then, so only they are
** checked. A rule is checked (ruleok, the costly part) only when it would
** come before the best one. */
static int bestof(const scan *sc, const smtpcode_verdict *v, int agree,
                  int best, int bare, int *barefail) {
  int i, j, bw = best >= 0 ? weight(best, agree) : -1;
  for (i = 0; i < sc->nhits; i++) {
    const hit *h = &sc->hits[i];
    const scr_phrase *p = &smtpcode_rd_phrases[h->phrase];
    const unsigned short *f = &smtpcode_rd_first[p->first];
    int nf = p->nfirst;
    if (sc->nign && ignored(sc, h)) continue;
    for (j = 0; j < nf; j++) {
      int ri = f[j], w;
      const scr_rule *r = &smtpcode_rd_rules[ri];
      if (r->prio + BONUS_MAX < bw) break;
      if (bare && !(r->flags & 2)) continue;
      if (best >= 0) {
        w = weight(ri, agree);
        if (w < bw || (w == bw && !before(ri, best, agree))) continue;
      }
      if (ruleok(sc, h, r, v, bare, barefail)) {
        best = ri;
        bw = weight(ri, agree);
      }
    }
  }
  return best;
}

/* In a text without a code, bare words take part only once a rule that
** is more than a bare word holds: "rejected ... 14.2 spam points" is spam,
** "spam" alone in a log line is nothing. The second pass can only find a
** bare-word rule that the first checked up to its want of a code (its
** pruning is the first's or stricter), so without one it is not run. */
static int bestrule(const scan *sc, const smtpcode_verdict *v, int agree) {
  int barefail = 0, best = bestof(sc, v, agree, -1, 0, &barefail);
  if (best >= 0 && v->code == 0 && v->cls == 0 && barefail)
    best = bestof(sc, v, agree, best, 1, &barefail);
  return best;
}

/* Enhanced code entry: exact code first, then the subject (X.s.*). The
** entries of a subject are sorted by detail (-1 first), then class (0,
** any class, first). */
static const scr_enh *enhentry(const smtpcode_verdict *v, int *exact) {
  const scr_enh *any = NULL, *sub = NULL, *subany = NULL;
  int i, e;
  *exact = 0;
  if (v->cls == 0 || v->subject < 0 || v->subject >= smtpcode_rd_nsub)
    return NULL;
  i = smtpcode_rd_enhsub[v->subject];
  e = smtpcode_rd_enhsub[v->subject + 1];
  for (; i < e && smtpcode_rd_enh[i].detail < 0; i++) {
    if (smtpcode_rd_enh[i].cls == v->cls) sub = &smtpcode_rd_enh[i];
    if (smtpcode_rd_enh[i].cls == 0) subany = &smtpcode_rd_enh[i];
  }
  for (; i < e && smtpcode_rd_enh[i].detail <= v->detail; i++) {
    if (smtpcode_rd_enh[i].detail != v->detail) continue;
    if (smtpcode_rd_enh[i].cls == v->cls) {
      *exact = 1;
      return &smtpcode_rd_enh[i];
    }
    if (smtpcode_rd_enh[i].cls == 0) any = &smtpcode_rd_enh[i];
  }
  if (any) {
    *exact = 1;
    return any;
  }
  return sub ? sub : subany;
}

static const scr_reply *replyentry(int code) {
  int k;
  if (code < 200 || code > 599) return NULL;
  k = smtpcode_rd_replyidx[code - 200];
  return k ? &smtpcode_rd_reply[k - 1] : NULL;
}

/* Bounce and retry from severity and reason. */
static void settle(smtpcode_verdict *v) {
  int sev = v->severity;
  if (sev == SMTPCODE_SEV_SUCCESS || sev == SMTPCODE_SEV_INTERMEDIATE) {
    v->reason = SMTPCODE_REASON_NONE;
    v->bounce = SMTPCODE_BOUNCE_NONE;
    v->retry = SMTPCODE_RETRY_NA;
    v->scope = SMTPCODE_SCOPE_NONE;
    return;
  }
  if (sev == SMTPCODE_SEV_TRANSIENT)
    v->retry = SMTPCODE_RETRY_YES;
  else if (sev == SMTPCODE_SEV_PERMANENT)
    v->retry = SMTPCODE_RETRY_NO;
  else if (v->reason == SMTPCODE_REASON_UNKNOWN)
    v->retry = SMTPCODE_RETRY_NA;
  else
    v->retry = smtpcode_rd_reasons[v->reason].nocode_retry
                   ? SMTPCODE_RETRY_YES
                   : SMTPCODE_RETRY_NO;
  v->bounce =
      smtpcode_rd_reasons[v->reason].hard && v->retry == SMTPCODE_RETRY_NO
          ? SMTPCODE_BOUNCE_HARD
          : SMTPCODE_BOUNCE_SOFT;
  if (v->flags & SMTPCODE_V_DELAYED) v->bounce = SMTPCODE_BOUNCE_NONE;
  /* no code and nothing known: not a failure anyone reported (a log line,
     a header), so no bounce either */
  if (sev == SMTPCODE_SEV_UNKNOWN && v->reason == SMTPCODE_REASON_UNKNOWN)
    v->bounce = SMTPCODE_BOUNCE_NONE;
  if (v->scope == SMTPCODE_SCOPE_NONE)
    v->scope = smtpcode_rd_reasons[v->reason].scope;
}

SMTPCODE_API int smtpcode_classify(const char *s, size_t len,
                                   const smtpcode_found *f,
                                   smtpcode_verdict *out) {
  return smtpcode_classify_split(s, len, f, out, SMTPCODE_SPLIT_MIN);
}

int smtpcode_classify_split(const char *s, size_t len, const smtpcode_found *f,
                            smtpcode_verdict *out, int split) {
  smtpcode_found ff;
  scan sc;
  int n, ri, exact = 0, agree;
  int tprio = 0, eprio = 0, rprio = 0;
  const scr_enh *e;
  const scr_reply *rp;
  smtpcode_verdict *v = out;
  char fix[SMTPCODE_MAX_REPAIR]; /* the text repaired, when double-encoded */

  if (s == NULL) len = 0;
  if (f == NULL) {
    if (s == NULL || smtpcode_find(s, len, &ff, NULL) < 0) {
      ff.code = ff.cls = ff.subject = ff.detail = ff.flags = 0;
    }
    f = &ff;
  } else if (f->cls == 0 && s != NULL && len > 0 &&
             smtpcode_find(s, len, &ff, NULL) == 0 && ff.cls != 0 &&
             (ff.code == 0 || ff.code == f->code)) {
    /* the caller's fields carry no enhanced code but the text does (qmail's
       "... (#5.1.1)"): take it, as classify of the whole reply would */
    ff.code = f->code;
    f = &ff;
  }
  v->code = f->code;
  v->cls = f->cls;
  v->subject = f->cls ? f->subject : 0;
  v->detail = f->cls ? f->detail : 0;
  v->flags = 0;
  v->reason = SMTPCODE_REASON_UNKNOWN;
  v->scope = SMTPCODE_SCOPE_NONE;
  v->by = SMTPCODE_BY_NONE;
  v->rule = -1;
  if (v->code >= 200 && v->code <= 599)
    v->severity = v->code / 100;
  else if (v->cls)
    v->severity = v->cls;
  else
    v->severity = SMTPCODE_SEV_UNKNOWN;
  if (v->code && v->cls && v->code / 100 != v->cls)
    v->flags |= SMTPCODE_V_MISMATCH;
  if (v->severity == SMTPCODE_SEV_SUCCESS ||
      v->severity == SMTPCODE_SEV_INTERMEDIATE) {
    settle(v);
    return 0;
  }

  n = len > (size_t)SMTPCODE_MAX_CLASSIFY ? SMTPCODE_MAX_CLASSIFY : (int)len;
  if ((size_t)n < len) v->flags |= SMTPCODE_V_TRUNCATED;
  n = smtpcode_mojibake_view(&s, n, fix, (int)sizeof fix);
  /* a reply found on one line (find counts the lines of "550-..." replies)
     has no continuation to join; fields from a caller say nothing (0) */
  if (v->code >= 200 && v->code <= 599 && f->nlines != 1)
    n = joinview(&s, n, fix, (int)sizeof fix, v->code);
  sc.nhits = 0;
  sc.seen = 0;
  sc.mend[0] = sc.mend[1] = -1;
  sc.mkind[0] = sc.mkind[1] = 0;
  sc.reply = 0;
  sc.delayed = 0;
  sc.nign = 0;
  sc.s = (const unsigned char *)s;
  sc.n = n;
  if (n > 0) run(&sc, (const unsigned char *)s, n, split);

  e = enhentry(v, &exact);
  if (e) eprio = e->strength;
  agree = e && exact ? e->reason : 0;
  ri = bestrule(&sc, v, agree);
  if (ri >= 0) tprio = weight(ri, agree);
  rp = v->code ? replyentry(v->code) : NULL;
  if (rp) rprio = rp->strength;

  if (ri >= 0 && tprio >= eprio && tprio >= rprio) {
    const scr_rule *r = &smtpcode_rd_rules[ri];
    v->reason = r->reason;
    v->scope = r->scope;
    v->by = SMTPCODE_BY_TEXT;
    v->rule = ri;
    if ((r->flags & 1) && v->code == 552) {
      v->severity = SMTPCODE_SEV_TRANSIENT;
      v->flags |= SMTPCODE_V_RCPTS552;
    }
  } else if (e && eprio >= rprio) {
    v->reason = e->reason;
    v->by = exact ? SMTPCODE_BY_ENHANCED : SMTPCODE_BY_CLASS;
  } else if (rp) {
    v->reason = rp->reason;
    v->by = SMTPCODE_BY_REPLY;
  }
  /* A delay notice is not a failure yet: transient, retried, no bounce.
     A permanent reply code says delivery has stopped, so it stays. */
  if (sc.delayed && v->severity != SMTPCODE_SEV_PERMANENT) {
    v->severity = SMTPCODE_SEV_TRANSIENT;
    v->flags |= SMTPCODE_V_DELAYED;
    if (v->reason == SMTPCODE_REASON_EXPIRED) {
      /* X.4.7 or "expired" on a delay notice: the time is running, not
         out yet */
      v->reason = SMTPCODE_REASON_UNKNOWN;
      v->by = SMTPCODE_BY_NONE;
      v->rule = -1;
    }
  }
  settle(v);
  return 0;
}

unsigned long smtpcode_scan_digest(const char *s, size_t len, int split) {
  scan sc;
  unsigned long h = 5381;
  int i, n = len > (size_t)SMTPCODE_MAX_CLASSIFY ? SMTPCODE_MAX_CLASSIFY
                                                 : (int)len;
  sc.nhits = 0;
  sc.seen = 0;
  sc.mend[0] = sc.mend[1] = -1;
  sc.mkind[0] = sc.mkind[1] = 0;
  sc.reply = 0;
  sc.delayed = 0;
  sc.nign = 0;
  if (n > 0 && s != NULL) run(&sc, (const unsigned char *)s, n, split);
  for (i = 0; i < sc.nhits; i++) {
    const hit *x = &sc.hits[i];
    h = h * 33 + (unsigned long)x->phrase;
    h = h * 33 + (unsigned long)x->first;
    h = h * 33 + (unsigned long)x->last;
    h = h * 33 + (unsigned long)x->ctx;
  }
  for (i = 0; i < 2; i++)
    h = h * 33 + (unsigned long)(sc.mend[i] + 1) * 4 + (unsigned long)sc.mkind[i];
  h = h * 33 + (unsigned long)sc.reply;
  h = h * 33 + (unsigned long)sc.delayed;
  for (i = 0; i < sc.nign; i++)
    h = h * 33 + (unsigned long)sc.ign[i][0] * 7 + (unsigned long)sc.ign[i][1];
  return h;
}

SMTPCODE_API int smtpcode_settle(smtpcode_verdict *v, int reason, int scope) {
  if (reason < 1 || reason >= SMTPCODE_REASON_COUNT || scope < 0 ||
      scope > smtpcode_rd_nscopes)
    return SMTPCODE_ESYNTAX;
  if (v->severity == SMTPCODE_SEV_SUCCESS ||
      v->severity == SMTPCODE_SEV_INTERMEDIATE)
    return 0;
  if (v->flags & SMTPCODE_V_RCPTS552) { /* the 552 exception was the rule's */
    v->severity = SMTPCODE_SEV_PERMANENT;
    v->flags &= ~SMTPCODE_V_RCPTS552;
  }
  v->reason = reason;
  v->scope = scope;
  v->by = SMTPCODE_BY_USER;
  v->rule = -1;
  settle(v);
  return 0;
}
