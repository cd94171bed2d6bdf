/*
** find.c: locate an SMTP reply code (RFC 5321 section 4.2) and an enhanced
** status code (RFC 3463) in free text: MTA log lines, exception messages,
** bounce texts, DSN fields (RFC 3464).
**
** How it works. One forward scan looks at each run of digits whose left
** neighbour is a token boundary:
**   - three digits, first 2-5, second 0-5, is a reply-code candidate;
**   - one digit 2, 4 or 5 followed by ".s.d" (RFC 3463 sub-codes: 1-3
**     digits, no leading zero) is an enhanced-code candidate.
** A candidate is judged by a few bytes around it (bounded look-back and
** look-ahead, no backtracking):
**   - a reply code followed by an enhanced code ("550 5.1.1", "550-5.1.1",
**     "550: 5.7.1", "(550, b'5.1.1", "550 #5.1.0") is always taken;
**   - without one it is taken at the start of the text or of a line (after
**     blanks and opening brackets or quotes), or in a known context: after
**     ':' or ';', an opening quote, '(' , '<', '#', or a word such as
**     "said", "error", "code", "reply", "returned" -- and then it must be a
**     code that servers really send (the list in known()). "[221]" counts
**     only at the start of a line (Exim writes pids as "[456]");
**   - an enhanced code alone counts at the start of a line, after '#'
**     ("(#5.1.1)"), "dsn=", "status=", "Status:" and the contexts above;
**     bare in prose ("quota exceeded 5.2.2") only for classes 4 and 5, and
**     then flagged SMTPCODE_F_BARE.
** A code glued to "WORD:" counts when the word has a letter past 'f'
** ("RCPT TO:550 5.7.26", not IPv6 "cafe:550"); a camel-case word ending
** in a keyword counts too ("ResponseCode 421").
** Tokens glued to letters, digits, '.', '-', '/', ':', '=' (other than
** dsn=/status=), '@' and the like are never codes, so IP addresses
** (192.0.2.1, 5.1.1.1, 11.22.33.44, IPv6), versions (v2.0.1), dates, times,
** four-part numbers (4.16.55.1), ports (":25"), pids ("smtp[1234]"), queue
** ids, errnos ("(-44)"), "delay=1.2", addresses and host names are skipped.
** Text after "://" up to the next blank is a URL and is skipped.
** Codes not preceded by a blank: after Sendmail's "reject="
** ("reject=550 5.1.1 ..."), at the start of a CSV field (after ',' that
** does not follow a digit: "FAIL,550 5.1.1 ...", never "1,550,000"), as
** a JSON number after a key that names a reply ("code":550, "smtpCode":421;
** never "size":250), and
** a 4xx/5xx code a vendor quotes after its own status and a dash ("5.3.0
** - Other mail system problem 550-'5.1.1 ...'": the code, and an enhanced
** code right after the quote, are the reply).
**
** Which one is the answer. The first reply code in the text wins over any
** enhanced code alone (a Postfix "dsn=5.1.1, status=bounced (host ...
** said: 550 5.1.1 ...)" line gives 550 5.1.1: dsn= is used only when the
** line holds no reply). Without a reply code, the first enhanced code in a
** context wins, else the first bare one. The reply then extends to the end
** of its line (a multi-line wire reply "550-...\r\n550 ..." to its last
** line), or to the quote, ')' , '>' or ']' that closes what opened before
** it, and stops before Postfix's " (in reply to ... command)" trailer.
** Inside that span, a further reply code, or an enhanced code that was
** quoted or reported ("said:"), is the inner reply; an enhanced code of the
** same class fills a missing enhanced code ("550 ... (#5.1.1)") or
** replaces a generic X.0.0 one. A positive reply does not quote a
** failure: in a transcript ("220 ... 250 ... 451 4.3.0 Error") or a joined
** multi-line reply whose code changes ("220-laposte 421 4.2.1 ..."), the
** later 4xx/5xx reply is the answer (at most 4 such replacements).
** One exception to "the first reply code wins": a class 4 code after
** "dsn=" or "status=" before a quoted or reported 5xx reply ("dsn=4.1.1,
** status=deferred (host ... said: 550 5.1.1 ...)", Postfix's soft_bounce):
** the sender's own status is the answer and the remote reply the inner one.
**
** Work: one scan of at most SMTPCODE_MAX_TEXT bytes, plus a few scans of
** the chosen reply's span (bounded by the replacement limit); every
** look-around is bounded. The scans read 16 bytes at a time with SSE2
** where the compiler has it (any x86-64), a byte at a time elsewhere or
** with -DSMTPCODE_NO_SIMD (same results): they stop only at parentheses,
** at ':' before '/' and at digit runs that may start a code, and a run is
** judged only when its neighbours allow a code (cheap table tests before
** the look-back of find_context(), src/find_context.c).
*/
#include "smtpcode.h"

#include <string.h>

#include "find_int.h"

/* Index of the lowest set bit of m (m != 0). */
#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#define lowbit(m) __builtin_ctz(m)
#else
#define NOINLINE
static int lowbit(unsigned m) {
  int k = 0;
  while ((m & 1u) == 0) {
    m >>= 1;
    k++;
  }
  return k;
}
#endif

/* Bytes that end a URL. */
static const unsigned char urlend[256] = {
    [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1, ['\''] = 1, ['"'] = 1,
    ['<'] = 1, ['>'] = 1, [')'] = 1, ['`'] = 1};

/* A candidate found by the scan. Offsets are into the text. */
typedef struct cand {
  int how;    /* SMTPCODE_HOW_REPLY or SMTPCODE_HOW_STATUS */
  int level;  /* L_* of its context */
  int code, code_off;
  int cls, sub, det, enh_off, enh_len;
  int flags;  /* SMTPCODE_F_NONSTANDARD, SMTPCODE_F_BARE */
  int cont;   /* reply code followed by '-': more lines may follow */
  int closer; /* byte or Q_* that closes the reply, 0 if none */
  int quoted; /* quoted or reported: an inner reply, not the outer one */
  int after;  /* the scan resumes here (just after the codes) */
  int text;   /* the reply text starts here */
  int depth;  /* '(' open before the candidate (in the scanned range) */
  int eq;     /* an enhanced code alone after "dsn=", "status=" */
} cand;

typedef struct scan {
  const unsigned char *s;
  int n;     /* end of the range scanned (and of every look-ahead) */
  int i;     /* next byte to look at */
  int depth; /* '(' minus ')' since the start of the range, never < 0 */
} scan;

/* One RFC 3463 sub-code at i: 1-3 digits, no leading zero. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int subcode(const unsigned char *s, int n, int i, int *v) {
  int k = 0, val = 0;
  while (i + k < n && k < 4 && isdig(s[i + k])) {
    val = val * 10 + (s[i + k] - '0');
    k++;
  }
  if (k == 0 || k > 3 || (k > 1 && s[i] == '0')) return 0;
  *v = val;
  return k;
}

/*
** An enhanced status code at i whose right neighbour ends the token.
** Returns its length, or 0.
*/
static int enhanced(const unsigned char *s, int n, int i, int *cls, int *sb,
                    int *dt) {
  int k, e, c, c2;
  if (i + 5 > n || (s[i] != '2' && s[i] != '4' && s[i] != '5') ||
      s[i + 1] != '.')
    return 0;
  k = subcode(s, n, i + 2, sb);
  if (k == 0) return 0;
  e = i + 2 + k;
  if (e >= n || s[e] != '.') return 0;
  k = subcode(s, n, e + 1, dt);
  if (k == 0) return 0;
  e += 1 + k;
  if (e < n) {
    c = s[e];
    c2 = e + 1 < n ? s[e + 1] : ' ';
    if (isalnum_(c) || c == '_' || c == '/' || c == '@' || c == '=' ||
        c == '+' || c == '%')
      return 0;
    if ((c == '.' || c == ':' || c == '-' || c == ',') && isalnum_(c2))
      return 0;
  }
  *cls = s[i] - '0';
  return e - i;
}

/* Does the byte at k end a reply code that has no enhanced code? */
static int codeend(const unsigned char *s, int n, int k) {
  int c, c2;
  if (k >= n) return 1;
  c = s[k];
  c2 = k + 1 < n ? s[k + 1] : ' ';
  if (isblank_(c) || iseol(c)) return 1;
  switch (c) {
  case ')': case ']': case ';': case '\'': case '"': case '>': case '`':
    return 1;
  case '.':
    return !isalnum_(c2);
  case ':': case ',': case '-':
    return !isdig(c2);
  case 0xE2: /* closing typographic quote */
    return k + 2 < n && s[k + 1] == 0x80 && (s[k + 2] == 0x99 || s[k + 2] == 0x9D);
  case 0xC2:
    return c2 == 0xBB;
  default:
    return 0;
  }
}

/* Reply codes that servers send (RFC 5321, 3207, 4954, 7504, 8314...). */
static int known(int code) {
  switch (code) {
  case 211: case 214: case 220: case 221: case 235: case 250: case 251:
  case 252: case 253: case 334: case 354: case 421: case 422: case 430:
  case 432: case 450: case 451: case 452: case 453: case 454: case 455:
  case 458: case 459: case 500: case 501: case 502: case 503: case 504:
  case 521: case 523: case 524: case 525: case 530: case 533: case 534:
  case 535: case 538: case 550: case 551: case 552: case 553: case 554:
  case 555: case 556: case 557:
    return 1;
  default:
    return 0;
  }
}

static int skipblanks(const unsigned char *s, int n, int j, int max) {
  int k;
  for (k = 0; k < max && j < n && isblank_(s[j]); k++) j++;
  return j;
}

/*
** The only bytes that may follow a reply code that tryreply() takes:
** what codeend() accepts (a '.' only before no letter or digit), ']' of
** "[221]", and the separators before an enhanced code.
*/
static const unsigned char codeok[256] = {
    [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [')'] = 1, [']'] = 1,
    [';'] = 1, ['\''] = 1, ['"'] = 1, ['>'] = 1, ['`'] = 1, ['.'] = 1,
    [':'] = 1, [','] = 1, ['-'] = 1, [0xE2] = 1, [0xC2] = 1};

/* A reply code at i (three digits, not followed by a digit). */
static int tryreply(const unsigned char *s, int n, int i, cand *c) {
  int k = i + 3, p, q, el = 0, bracket = 0, py = 0, hash = 0;
  ctx x;
  if (s[i] < '2' || s[i] > '5' || s[i + 1] > '5') return 0;
  if (k < n && (!codeok[s[k]] ||
                (s[k] == '.' && k + 1 < n && isalnum_(s[k + 1]))))
    return 0; /* what follows rules it out: no need to judge the context */
  find_context(s, i, &x);
  if (x.level == L_REJECT || (x.open == '=' && !(x.kw & K_R))) return 0;
  memset(c, 0, sizeof *c);
  c->closer = find_closer(x.open);
  if (x.open == '[' && k < n && s[k] == ']') { /* "[221]" */
    k++;
    bracket = 1;
    c->closer = 0;
  }
  /* separator, then maybe an enhanced code */
  p = k;
  if (p < n && s[p] == '-') {
    el = enhanced(s, n, p + 1, &c->cls, &c->sub, &c->det);
    if (el) {
      p++;
      c->cont = 1;
    }
  } else {
    if (p < n && s[p] == ':') {
      p++;
    } else if (p + 1 < n && s[p] == ',' && x.open == '(') { /* (550, b'..') */
      q = skipblanks(s, n, p + 1, 4);
      if (q < n && (s[q] == 'b' || s[q] == 'u')) q++;
      if (q < n && (s[q] == '\'' || s[q] == '"')) {
        c->closer = s[q];
        p = q + 1;
        py = 1;
      }
    }
    q = skipblanks(s, n, p, 8);
    if (py || q > p || (p > k && q == p)) {
      if (q < n && s[q] == '#') {
        hash = 1;
        q++;
      }
      el = enhanced(s, n, q, &c->cls, &c->sub, &c->det);
      if (el)
        p = q;
      else
        hash = 0;
    }
  }
  c->how = SMTPCODE_HOW_REPLY;
  c->level = x.level;
  c->code = (s[i] - '0') * 100 + (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
  c->code_off = i;
  c->quoted = isquote(x.open) || x.open == '<' || (x.kw & K_Q);
  if (el) {
    if (hash) c->flags |= SMTPCODE_F_NONSTANDARD;
    c->enh_off = p;
    c->enh_len = el;
    c->after = p + el;
    c->text = skipblanks(s, n, c->after, n);
    return 1;
  }
  c->cls = c->sub = c->det = 0;
  c->cont = 0;
  if (py) {
    c->after = c->text = p;
    return 1;
  }
  if (!codeend(s, n, k)) return 0;
  if (x.level == L_BARE && !bracket && k + 1 < n && s[k] == '-' &&
      (s[k + 1] == '\'' || s[k + 1] == '"') && s[i] >= '4') {
    /* a vendor's quote of the reply: "5.3.0 - Other mail system problem
       550-'Mailbox unavailable'" */
    c->closer = s[k + 1];
    c->after = k + 2;
    el = enhanced(s, n, k + 2, &c->cls, &c->sub, &c->det);
    if (el) {
      c->enh_off = k + 2;
      c->enh_len = el;
      c->after = k + 2 + el;
    }
    c->text = skipblanks(s, n, c->after, n);
    return 1;
  }
  if (x.level != L_ANCHOR) {
    if (bracket || x.level != L_CTX || !known(c->code)) return 0;
  }
  c->after = k;
  if (k < n && s[k] == '-') {
    c->cont = 1;
    k++;
  } else if (k < n && s[k] == ':') {
    k++;
  }
  c->text = skipblanks(s, n, k, n);
  return 1;
}

/* An enhanced code alone at i. */
static int trystatus(const unsigned char *s, int n, int i, cand *c) {
  int el, cls, sb, dt;
  ctx x;
  el = enhanced(s, n, i, &cls, &sb, &dt);
  if (el == 0) return 0;
  find_context(s, i, &x);
  if (x.level == L_REJECT || (x.kw & K_V)) return 0;
  if (x.level == L_BARE && cls == 2) return 0;
  memset(c, 0, sizeof *c);
  c->how = SMTPCODE_HOW_STATUS;
  c->level = x.level;
  c->code_off = -1;
  c->cls = cls;
  c->sub = sb;
  c->det = dt;
  c->enh_off = i;
  c->enh_len = el;
  if (x.level == L_BARE) c->flags |= SMTPCODE_F_BARE;
  c->eq = x.open == '=';
  c->closer = find_closer(x.open);
  c->quoted = isquote(x.open) || x.open == '<' || (x.kw & K_Q);
  c->after = i + el;
  c->text = skipblanks(s, n, c->after, n);
  if (c->text < n && (s[c->text] == ',' || s[c->text] == ';'))
    c->text = skipblanks(s, n, c->text + 1, n);
  return 1;
}

/* May the byte before a digit run let it be a code? (find_context() rejects
   every other left neighbour): line ends, blanks, openers, ':' and the
   last bytes of the UTF-8 opening quotes. */
static const unsigned char leftok[256] = {
    ['\n'] = 1, ['\r'] = 1, [' '] = 1, ['\t'] = 1, ['('] = 1, ['['] = 1,
    ['<'] = 1, ['{'] = 1, ['#'] = 1, [';'] = 1, ['='] = 1, ['\''] = 1,
    ['"'] = 1, ['`'] = 1, [':'] = 1, [',' ] = 1, [0x98] = 1, [0x9C] = 1,
    [0xAB] = 1};


/*
** The scan's stops in the 16 bytes at p: bit k of the result is set when
** p[k] may matter -- '(' or ')', ':' that may start "://", or the first
** digit of a run, 2-5 as every code's first digit, whose left neighbour
** is no digit or '.' (for p[0], *wd
** says whether p[-1] is a letter, digit or '.') and whose second byte is
** a digit or '.' (a code has three digits, an enhanced code one and a
** '.'). That is a superset: next() checks each stop again. *dg receives
** the digits, *wd whether p[15] is a digit or '.'.
*/
#if defined(__SSE2__) && !defined(SMTPCODE_NO_SIMD)
#include <emmintrin.h>

static unsigned hotmask(const unsigned char *p, unsigned *dg, unsigned *wd) {
  __m128i x, v, f, c, q;
  unsigned dm, fm, am, cm, sm, pm, st;
  x = _mm_loadu_si128((const __m128i *)(const void *)p);
  /* the first digit of a code is 2-5 (tryreply, enhanced) */
  f = _mm_sub_epi8(x, _mm_set1_epi8('2'));
  f = _mm_cmpeq_epi8(_mm_min_epu8(f, _mm_set1_epi8(3)), f);
  c = _mm_cmpeq_epi8(x, _mm_set1_epi8(':'));
  q = _mm_cmpeq_epi8(_mm_and_si128(x, _mm_set1_epi8(-2)),
                     _mm_set1_epi8('('));
  if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(f, c), q)) == 0) {
    /* most blocks of prose: no stop; only p[15] matters for the next */
    *dg = 0;
    *wd = isdig(p[15]) || p[15] == '.';
    return 0;
  }
  v = _mm_sub_epi8(x, _mm_set1_epi8('0'));
  dm = (unsigned)_mm_movemask_epi8(
      _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(9)), v));
  fm = (unsigned)_mm_movemask_epi8(f);
  am = dm | (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')));
  cm = (unsigned)_mm_movemask_epi8(c);
  sm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('/')));
  pm = (unsigned)_mm_movemask_epi8(q);
  st = fm & ~((am << 1) | *wd) & ((am | 0xFFFF0000u) >> 1);
  *dg = dm;
  *wd = am >> 15;
  return st | pm | (cm & ((sm >> 1) | 0x8000u));
}

/*
** The first byte at or after j (below lim) that may end a reply span:
** a line end, '(' or ')', e1 or e2; lim if none. *dg becomes 2 when a
** digit 2-5 (every code's first digit) lies before it.
*/
static int stopat(const unsigned char *s, int j, int lim, int e1, int e2,
                  int *dg) {
  unsigned char tmp[16];
  const unsigned char *p;
  __m128i x, v, m;
  unsigned sm, dm;
  int t;
  for (; j < lim; j += 16) {
    p = s + j;
    if (lim - j < 16) {
      memset(tmp, 0, sizeof tmp);
      memcpy(tmp, p, (size_t)(lim - j));
      p = tmp;
    }
    x = _mm_loadu_si128((const __m128i *)(const void *)p);
    m = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n')),
                     _mm_cmpeq_epi8(x, _mm_set1_epi8('\r')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_and_si128(x, _mm_set1_epi8(-2)),
                                       _mm_set1_epi8('(')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8((char)e1)));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8((char)e2)));
    v = _mm_sub_epi8(x, _mm_set1_epi8('2'));
    dm = (unsigned)_mm_movemask_epi8(
        _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(3)), v));
    sm = (unsigned)_mm_movemask_epi8(m);
    if (sm) {
      t = lowbit(sm);
      if (dm & ((1u << t) - 1u)) *dg = 2;
      return j + t < lim ? j + t : lim;
    }
    if (dm) *dg = 2;
  }
  return lim;
}
/* The first byte at or after i (below n) that ends a URL (urlend), or n. */
static int urlskip(const unsigned char *s, int i, int n) {
  __m128i x, m;
  unsigned u;
  for (; i + 16 <= n; i += 16) {
    x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    m = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')),
                     _mm_cmpeq_epi8(x, _mm_set1_epi8('\t')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('\r')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('\n')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('\'')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('"')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('<')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('>')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8(')')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('`')));
    u = (unsigned)_mm_movemask_epi8(m);
    if (u) return i + lowbit(u);
  }
  while (i < n && !urlend[s[i]]) i++;
  return i;
}
#else
static int urlskip(const unsigned char *s, int i, int n) {
  while (i < n && !urlend[s[i]]) i++;
  return i;
}

/* Bytes the main scan stops at: 1 digit, 2 '(', 3 ')', 4 ':' (URLs). */
static const unsigned char hot[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['('] = 2, [')'] = 3,
    [':'] = 4};

static unsigned hotmask(const unsigned char *p, unsigned *dg, unsigned *wd) {
  unsigned h = 0, d = 0;
  int k, v;
  for (k = 0; k < 16; k++) {
    v = hot[p[k]];
    h |= (unsigned)(v != 0) << k;
    d |= (unsigned)(v == 1) << k;
  }
  *dg = d;
  *wd = 0;
  return h;
}

/* Bytes that may end a reply span (1): line ends, brackets, quotes; and
   digits 2-5 (2), every code's first digit, so that a span without one
   is not searched for codes. */
static const unsigned char spanstop[256] = {
    ['\n'] = 1, ['\r'] = 1, ['('] = 1, [')'] = 1, ['['] = 1, [']'] = 1,
    ['<'] = 1, ['>'] = 1, ['\''] = 1, ['"'] = 1, ['`'] = 1, [0xC2] = 1,
    [0xE2] = 1, ['2'] = 2, ['3'] = 2, ['4'] = 2, ['5'] = 2};

/*
** The first byte at or after j (below lim) that may end a reply span, or
** lim; *dg becomes 2 when a digit 2-5 lies before it. (This stops at every
** bracket and quote; span() passes over those that do not matter.)
*/
static int stopat(const unsigned char *s, int j, int lim, int e1, int e2,
                  int *dg) {
  int m;
  (void)e1;
  (void)e2;
  while (j < lim && ((m = spanstop[s[j]]) & 1) == 0) {
    *dg |= m;
    j++;
  }
  return j;
}
#endif


/* Is the byte before a digit run a letter, digit or '.'? */
#define WORDY(c) (isalnum_(c) || (c) == '.')

/*
** Next candidate in z's range, or 0 at its end. The range is read 16 bytes
** at a time (the last ones from a copy padded with NUL bytes, which are
** not hot): h holds the stops of s[b .. b+16) not yet looked at, d its
** digits.
*/
static int next(scan *z, cand *c) {
  const unsigned char *s = z->s, *p;
  unsigned char tmp[16];
  int n = z->n, i, b = z->i, t, j, len;
  unsigned h, d, wd = b > 0 && WORDY(s[b - 1]);
  for (;;) {
    if (b >= n) {
      z->i = n;
      return 0;
    }
    p = s + b;
    if (n - b < 16) {
      memset(tmp, 0, sizeof tmp);
      memcpy(tmp, p, (size_t)(n - b));
      p = tmp;
    }
    h = hotmask(p, &d, &wd);
    while (h != 0) {
      t = lowbit(h);
      i = b + t;
      if (((d >> t) & 1u) == 0) {
        if (s[i] == '(') {
          z->depth++;
        } else if (s[i] == ')') {
          if (z->depth > 0) z->depth--;
        } else if (i + 2 < n && s[i + 1] == '/' && s[i + 2] == '/') {
          /* "://": skip the URL */
          i += 3;
          i = urlskip(s, i, n);
          break;
        }
        h &= h - 1;
        continue;
      }
      /* a run of digits: its end j */
      len = lowbit(~(d >> t));
      j = i + len;
      if (t + len == 16)
        while (j < n && isdig(s[j])) j++;
      len = j - i;
      if ((i == 0 || leftok[s[i - 1]]) &&
          ((len == 3 && tryreply(s, n, i, c)) ||
           (len == 1 && j < n && s[j] == '.' && trystatus(s, n, i, c)))) {
        c->depth = z->depth;
        z->i = c->after;
        return 1;
      }
      if (j - b >= 16) {
        i = j;
        break;
      }
      h &= ~0u << (j - b);
    }
    if (h != 0) { /* went past the block: go on from i */
      b = i;
      wd = b > 0 && WORDY(s[b - 1]);
    } else {
      b += 16;
    }
  }
}

static const char trailer[] = " (in reply to ";

/*
** End of the reply c within [.., lim): end of its line (of its last line
** when it continues), the byte that closes its opener, or a Postfix
** trailer. *nl receives the number of lines, *dig whether a digit 2-5 may
** lie between c->after and the end.
*/
static int span(const unsigned char *s, int lim, const cand *c, int *nl,
                int *dig) {
  int j = c->text, pd = 0, d = 0, cont = c->cont, cl = c->closer, ch, m;
  int tl = (int)sizeof trailer - 1, dg = 0, e1 = '\n', e2 = '\n';
  *nl = 1;
  /* the bytes that may close it, besides line ends and parentheses */
  switch (cl) {
  case ']': e1 = '['; e2 = ']'; break;
  case '>': e1 = '<'; e2 = '>'; break;
  case '\'': case '"': case '`': e1 = cl; break;
  case Q_RSQ: case Q_RDQ: e1 = 0xE2; break;
  case Q_RAQ: e1 = 0xC2; break;
  default: break;
  }
  if (j < c->after) j = c->after;
  for (; j < lim; j++) {
    j = stopat(s, j, lim, e1, e2, &dg);
    *dig = dg;
    if (j >= lim) break;
    ch = s[j];
    if (iseol(ch)) {
      if (c->how != SMTPCODE_HOW_REPLY || !cont) break;
      dg = 2; /* the next line's code */
      /* "550-...": the next line must carry the same code */
      m = j + 1;
      if (ch == '\r' && m < lim && s[m] == '\n') m++;
      if (m + 3 > lim || s[m] != s[c->code_off] ||
          s[m + 1] != s[c->code_off + 1] || s[m + 2] != s[c->code_off + 2])
        break;
      if (m + 3 < lim && s[m + 3] != '-' && s[m + 3] != ' ' &&
          !iseol(s[m + 3]))
        break;
      cont = m + 3 < lim && s[m + 3] == '-';
      (*nl)++;
      j = m + 2; /* the loop's j++ moves past the code */
      continue;
    }
    if (ch == '(') {
      if (j > c->text && j - 1 + tl <= lim &&
          memcmp(s + j - 1, trailer, (size_t)tl) == 0)
        return j - 1;
      pd++;
    } else if (ch == ')') {
      if (pd > 0)
        pd--;
      else if (cl == ')' || c->depth > 0)
        break;
    } else if (cl == ']' || cl == '>') {
      if (ch == (cl == ']' ? '[' : '<'))
        d++;
      else if (ch == cl && d-- == 0)
        break;
    } else if (cl != 0 && ch == cl) {
      /* a quote; an apostrophe inside a word ("can't") does not close */
      if (!(ch == '\'' && j > 0 && isalpha_(s[j - 1]) && j + 1 < lim &&
            isalpha_(s[j + 1])))
        break;
    } else if ((cl == Q_RSQ || cl == Q_RDQ) && ch == 0xE2 && j + 2 < lim &&
               s[j + 1] == 0x80 && s[j + 2] == (cl == Q_RSQ ? 0x99 : 0x9D)) {
      break;
    } else if (cl == Q_RAQ && ch == 0xC2 && j + 1 < lim && s[j + 1] == 0xBB) {
      break;
    }
  }
  return j;
}

static void empty(smtpcode_found *o) {
  memset(o, 0, sizeof *o);
  o->how = SMTPCODE_HOW_NONE;
  o->code_off = -1;
  o->enh_off = -1;
  o->start = -1;
  o->end = -1;
}

static void setenh(smtpcode_found *o, const cand *c) {
  o->cls = c->cls;
  o->subject = c->sub;
  o->detail = c->det;
  o->enh_off = c->enh_off;
  o->enh_len = c->enh_len;
}

/*
** Fill o with candidate c, whose reply may not run past lim. When in is
** not NULL, a reply inside c's span is stored there, unless it replaces
** c (only when again is not NULL): then finish returns 1, *again holds it
** and o is incomplete. A 4xx/5xx reply that follows a 2xx/3xx one, or a
** continued one ("220-x 421 4.2.1 ...") with another code, without being
** quoted, is not an inner reply: the text is a transcript, or a multi-line
** reply whose codes differ (Postfix then takes the last line), and the
** later reply is the answer. Further 2xx/3xx replies of a transcript are
** passed over.
*/
static int finish(const unsigned char *s, int lim, const cand *c,
                  smtpcode_found *o, smtpcode_found *in, cand *again) {
  int raw, te, nl, codes_end, dig = 2;
  scan z;
  cand d;
  empty(o);
  o->code = c->code;
  o->flags = c->flags;
  o->how = c->how;
  o->code_off = c->code_off;
  o->start = c->how == SMTPCODE_HOW_REPLY ? c->code_off : c->enh_off;
  if (c->cls) setenh(o, c);
  raw = span(s, lim, c, &nl, &dig);
  o->nlines = nl;
  te = raw;
  while (te > c->text && isblank_(s[te - 1])) te--;
  if (te - c->text >= 2 && s[te - 1] == '#' && s[te - 2] == '#') { /* "##" */
    while (te > c->text && s[te - 1] == '#') te--;
    while (te > c->text && isblank_(s[te - 1])) te--;
  }
  o->text_off = c->text < te ? c->text : te;
  o->text_len = te - o->text_off;
  /* other codes inside the reply */
  z.s = s;
  z.n = raw;
  z.i = c->after;
  z.depth = 0;
  while (dig && z.i < z.n && next(&z, &d)) {
    int want = o->cls ? o->cls : o->code / 100;
    int generic = o->cls == 0 || (o->subject == 0 && o->detail == 0);
    int adopt = d.cls == want && generic && !(d.sub == 0 && d.det == 0 && o->cls);
    if (d.how == SMTPCODE_HOW_REPLY && d.code == c->code && c->cont) {
      if (adopt) setenh(o, &d); /* a further line of "550-5.0.0 ..." */
      continue;
    }
    if (d.how == SMTPCODE_HOW_REPLY && again != NULL &&
        c->how == SMTPCODE_HOW_REPLY && c->code < 400 && d.code >= 400) { /* "354 ... but got code \"554\" ..." */
      *again = d;
      return 1;
    }
    if (d.how == SMTPCODE_HOW_REPLY && !d.quoted && again != NULL &&
        c->how == SMTPCODE_HOW_REPLY && (c->code < 400 || c->cont) &&
        d.code != c->code) {
      if (d.code >= 400) {
        *again = d;
        return 1;
      }
      if (c->code < 400) continue; /* a transcript: 220 ... 250 ... */
    }
    if (d.how == SMTPCODE_HOW_REPLY || d.quoted) {
      if (in != NULL) finish(s, raw, &d, in, NULL, NULL);
      break;
    }
    if (adopt) setenh(o, &d);
  }
  codes_end = c->after;
  if (o->code_off >= 0 && codes_end < o->code_off + 3)
    codes_end = o->code_off + 3;
  o->end = o->text_len > 0 ? o->text_off + o->text_len : codes_end;
  if (o->code && o->cls && o->cls != o->code / 100)
    o->flags |= SMTPCODE_F_MISMATCH;
  return 0;
}

/* finish the answer c; a bounded number of replacements keeps it linear */
static void answer(const unsigned char *s, int n, cand *c, smtpcode_found *o,
                   smtpcode_found *in) {
  cand d;
  int k;
  /* in NULL: the caller wants no inner reply; finish skips reading it */
  for (k = 0; k < 4 && finish(s, n, c, o, in, &d); k++) {
    *c = d;
    if (in != NULL) empty(in);
  }
  if (k == 4) finish(s, n, c, o, in, NULL); /* the 4th replacement stays */
}

SMTPCODE_API int smtpcode_find(const char *str, size_t len,
                               smtpcode_found *out, smtpcode_found *inner) {
  const unsigned char *s = (const unsigned char *)str;
  int n = len > (size_t)SMTPCODE_MAX_TEXT ? SMTPCODE_MAX_TEXT : (int)len;
  int have = 0, defer = 0;
  scan z;
  cand c, best, dsn;
  memset(&best, 0, sizeof best);
  memset(&dsn, 0, sizeof dsn);
  empty(out);
  if (inner != NULL) empty(inner);
  if (s == NULL) return SMTPCODE_ENOTFOUND;
  z.s = s;
  z.n = n;
  z.i = 0;
  z.depth = 0;
  while (next(&z, &c)) {
    if (c.how == SMTPCODE_HOW_REPLY && defer && c.quoted && c.code >= 500) {
      /* "dsn=4.1.1, status=deferred (host ... said: 550 5.1.1 ...)": the
         sender's own status says the failure is transient (Postfix's
         soft_bounce, a deferral quoting the remote reply): the outer one
         wins and the remote reply is the inner one */
      answer(s, n, &dsn, out, inner);
      return 0;
    }
    if (c.how == SMTPCODE_HOW_REPLY) {
      cand d, first;
      int want, k = 0;
      answer(s, n, &c, out, inner);
      if (out->cls || out->text_len > 0) return 0;
      /* A bare code with nothing of its own is often what a client
         expected, or a code quoted before the reply it names: 'Expected
         response code "250" but got code "550", with message "550 5.7.1
         ..."'. Look a few replies further: for a failure after a bare
         positive code, or for the same code with its text. */
      want = out->code;
      while (k < 4 && next(&z, &d)) {
        if (d.how != SMTPCODE_HOW_REPLY) continue;
        if (want < 400 ? d.code < 400 : d.code != want) continue;
        if (k++ == 0) first = d;
        if (inner != NULL) empty(inner);
        answer(s, n, &d, out, inner);
        if (out->cls || out->text_len > 0) return 0;
      }
      if (inner != NULL) empty(inner);
      answer(s, n, want < 400 && k > 0 ? &first : &c, out, inner);
      return 0;
    }
    if (c.eq && c.cls == 4 && !defer) {
      dsn = c;
      defer = 1;
    }
    if (!have || (best.level == L_BARE && c.level > L_BARE)) {
      best = c;
      have = 1;
    }
  }
  if (!have) return SMTPCODE_ENOTFOUND;
  answer(s, n, &best, out, inner);
  return 0;
}
