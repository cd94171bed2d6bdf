/*
** bounce_scan.c: the phrases of data/bounce_formats.tsv (compiled into
** src/bounce_data.c) looked for in the parts of a bounce message: the
** header fields, the boundary, the DSN parts, the newest Received fields
** and the text. A text is read once for all the phrases of its kind: pairs
** of bytes filtered by bitmaps, then the phrases of the hash of a start's
** first three bytes compared (hat); a short body text is folded and read
** by Wu-Manber (wmscan); kinds with a few phrases look for each on its own
** (firstat). Work: linear in the text, each comparison bounded by the
** phrase length.
*/
#include "bounce_int.h"

/* {====================================================== phrase scanner */

static int rulehit(const bf_rule *ru, const char *s, size_t n) {
  if (ru->len == 0) return 1;
  return mime_wfind(s, n, ru->text, ru->len) >= 0;
}


/* mime_wat with the hash's folding: z (lowercase, single spaces) at
** s[i..n), a space of z matching any run of blanks and line breaks. Returns
** m on a match, else the index of z where the match failed. */
static size_t wat(const unsigned char *s, size_t n, size_t i, const char *z, size_t m) {
  size_t j = 0, k = i;
  while (j < m) {
    /* the bytes up to the next space of z, then the run of blanks */
    size_t lim = k >= n ? 0 : m - j < n - k ? m - j : n - k, e = 0;
    const unsigned char *zz = (const unsigned char *)z + j, *ss = s + k;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* eight bytes at a time up to a space of z: where z's byte is no
       blank (a phrase holds none but the space), the fold of a byte equals
       it exactly when its ASCII lowercase does */
    while (lim - e >= 8) {
      const unsigned long long lo7 = 0x7f7f7f7f7f7f7f7full, hi = 0x8080808080808080ull;
      unsigned long long x, y, d, sp, stop;
      memcpy(&x, ss + e, 8);
      memcpy(&y, zz + e, 8);
      d = mime_lower8(x) ^ y;
      sp = y ^ 0x2020202020202020ull;
      /* the high bit of each byte that differs, and of each space of z */
      stop = (((d & lo7) + lo7) | d) & hi;
      stop |= ~(((sp & lo7) + lo7) | sp) & hi;
      if (stop) {
        e += (size_t)(__builtin_ctzll(stop) >> 3);
        break;
      }
      e += 8;
    }
#endif
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

static void sethit(hits *h, int r, long off) {
  int j = h->n++;
  h->at[r] = off;
  if (smtpcode_bf_rules[r].role == BF_DETECT && r < h->detect) h->detect = r;
  while (j > 0 && h->k[j - 1] > r) {
    h->k[j] = h->k[j - 1];
    j--;
  }
  h->k[j] = (unsigned short)r;
}

/*
** The hash bucket of the phrases of kind where that may start at t[i]
** (i + 2 < the text's length), or -1 when the byte pair or the hash rules
** them all out; *h1 the second byte folded. Shared by hat and hatnb.
*/
static inline int bucket(const unsigned char *t, size_t i, int where, unsigned *h1) {
  unsigned h, pr = (unsigned)t[i] << 8 | t[i + 1];
  if (!(smtpcode_bf_pair[pr >> 3] & (1u << (pr & 7)))) return -1;
  *h1 = hfold(t[i + 1]);
  h = ((hfold(t[i]) * 31 + *h1) * 31 + hfold(t[i + 2])) % BF_HASH;
  if (!(smtpcode_bf_kindhash[where][h >> 3] & (1u << (h & 7)))) return -1;
  return (int)h;
}

/*
** The rules of kind where that match s[0..n) at i (i + 2 < n), among those
** of the hash of its first three bytes; hit offsets are base + i. Returns
** 1 when one matched.
*/
static int hat(const unsigned char *t, size_t n, size_t i, int where, const char *name,
               size_t nl, hits *hs, long base, size_t head) {
  const long *hit = hs->at;
  unsigned h1 = 0;
  int h = bucket(t, i, where, &h1), x, found = 0, known = 0;
  size_t pj = 0, plen = 0; /* where the entry before failed (plen if it matched) */
  if (h < 0) return 0;
  for (x = smtpcode_bf_hashstart[h]; x < smtpcode_bf_hashstart[h + 1]; x++) {
    int r = smtpcode_bf_byhash[x];
    const bf_rule *ru = &smtpcode_bf_rules[r];
    size_t lcp = smtpcode_bf_lcp[x], j;
    if (ru->where != where) { /* another kind's phrase: passed over first */
      known = 0;
      continue;
    }
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
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(t + i)), w, m1;
      /* the first byte first: the second is looked at only where it is */
      unsigned mask = (unsigned)_mm_movemask_epi8(
          _mm_or_si128(_mm_cmpeq_epi8(v, a0), _mm_cmpeq_epi8(v, a1)));
      if (mask == 0) continue;
      w = _mm_loadu_si128((const __m128i *)(const void *)(t + i + 1));
      m1 = _mm_or_si128(_mm_cmpeq_epi8(w, b0), _mm_cmpeq_epi8(w, b1));
      if (d0 == ' ')
        m1 = _mm_or_si128(m1, _mm_or_si128(_mm_cmpeq_epi8(w, ht),
                                           _mm_or_si128(_mm_cmpeq_epi8(w, lf),
                                                        _mm_cmpeq_epi8(w, cr))));
      mask &= (unsigned)_mm_movemask_epi8(m1);
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
** hat for the scan of a body, subject or From text (no head limit) at nb[p..m), the
** folded text with blank runs made one space, whose byte p is t[no[p]]:
** the same candidates as hat at t[no[p]] (pair and hash of the raw
** bytes), each phrase compared with the folded bytes at once (what wat
** finds in t: a space of the phrase stands for the run there, one space in
** nb). p + 2 < m.
*/
static void hatnb(const unsigned char *t, size_t n, const unsigned char *nb, size_t m,
                  size_t p, const unsigned short *no, int where, hits *hs, long base) {
  const long *hit = hs->at;
  size_t i = no[p], pj = 0, plen = 0;
  unsigned h1 = 0;
  int h = bucket(t, i, where, &h1), x, known = 0;
  (void)n;
  if (h < 0) return;
  for (x = smtpcode_bf_hashstart[h]; x < smtpcode_bf_hashstart[h + 1]; x++) {
    int r = smtpcode_bf_byhash[x];
    const bf_rule *ru = &smtpcode_bf_rules[r];
    size_t lcp = smtpcode_bf_lcp[x], j;
    if (ru->where != where) { /* another kind's phrase: passed over first */
      known = 0;
      continue;
    }
    if (known && lcp > pj) j = pj;
    else if (known && pj == plen && lcp == plen && ru->len == plen) j = plen;
    else if (hit[r] >= 0 || (unsigned char)ru->text[1] != h1) {
      known = 0;
      continue;
    } else
      j = mismatch(nb + p, m - p, ru->text, ru->len);
    known = 1;
    pj = j;
    plen = ru->len;
    if (j == ru->len && hit[r] < 0 &&
        (!ru->dash || dashed((const char *)t, i)))
      sethit(hs, r, base + (long)i);
  }
}

/*
** The phrases of kind where (BW_BODY, BW_SUBJECT or BW_FROM) in t[0..n)
** (n <= WM_TEXT), as hat finds them at every
** start in turn: the text is folded with each run of blanks made one space
** (where a phrase's space matches the run), then read by Wu-Manber over the
** kind's phrases' first smtpcode_bf_wmmin bytes (a window moves on by the shift of
** the three bytes it ends with); only the starts of windows whose shift is
** 0 are handed to hat, at their offsets in t.
*/
#define WM_TEXT 4096
static void wmscan(const unsigned char *t, size_t n, int where, hits *hs, long base) {
  /* a block is stored whole before a dropped byte is taken out: 16 more */
  unsigned char nb[WM_TEXT + 16];
  unsigned short no[WM_TEXT + 16]; /* the offset in t of each byte of nb */
  const unsigned char *shift = smtpcode_bf_wmshift[where - BW_BODY];
  size_t i, m = 0, e, wm = (size_t)smtpcode_bf_wmmin[where - BW_BODY];
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
      if ((drop & (drop - 1)) == 0) { /* none, or one (a CRLF line end) */
        __m128i o0 = _mm_add_epi16(_mm_set1_epi16((short)i), lo);
        _mm_storeu_si128((__m128i *)(void *)(nb + m), f);
        _mm_storeu_si128((__m128i *)(void *)(no + m), o0);
        _mm_storeu_si128((__m128i *)(void *)(no + m + 8), _mm_add_epi16(o0, step));
        if (drop) { /* the bytes after the dropped one j, moved down one */
          unsigned char fb[32];
          unsigned j = (unsigned)__builtin_ctz(drop);
          __m128i o1 = _mm_add_epi16(o0, _mm_set1_epi16((short)(j + 1)));
          _mm_storeu_si128((__m128i *)(void *)fb, f);
          memset(fb + 16, 0, 16);
          _mm_storeu_si128((__m128i *)(void *)(nb + m + j),
                           _mm_loadu_si128((const __m128i *)(const void *)(fb + j + 1)));
          _mm_storeu_si128((__m128i *)(void *)(no + m + j), o1);
          _mm_storeu_si128((__m128i *)(void *)(no + m + j + 8), _mm_add_epi16(o1, step));
          m += 15;
        } else
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
    /* the three bytes ending at e as one number (a load where the byte
       order allows: nb has room past m, the fourth byte is masked off) */
    unsigned long x;
    unsigned sh;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    unsigned w4;
    memcpy(&w4, nb + e - 2, 4);
    x = w4 & 0xffffffu;
#else
    x = (unsigned long)nb[e - 2] | (unsigned long)nb[e - 1] << 8 | (unsigned long)nb[e] << 16;
#endif
    sh = shift[(x * 2654435761u & 0xffffffffu) >> 19];
    if (sh) {
      e += sh;
      continue;
    }
    hatnb(t, n, nb, m, e - wm + 1, no, where, hs, base);
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
void bounce_hscan(const char *s, size_t n, int where, const char *name, size_t nl,
                  hits *hs, long base, size_t head) {
  const long *hit = hs->at;
  const unsigned char *t = (const unsigned char *)s, *filter;
  size_t i, step;
  int k, g;
  for (k = smtpcode_bf_shortkinds >> where & 1u ? 0 : smtpcode_bf_nshort; k < smtpcode_bf_nshort;
       k++) { /* phrases under 3 bytes, where the kind has some */
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
      const bf_rule *ru = &smtpcode_bf_rules[r];
      long p;
      if (hit[r] >= 0 || (ru->role == BF_DETECT && r > hs->detect)) continue;
      if ((p = firstat(t, n, ru)) >= 0) sethit(hs, r, base + p);
    }
    return;
  }
  if (where >= BW_BODY && where < BW_BODY + BF_WM_KINDS && head == (size_t)-1 && n <= WM_TEXT) {
    wmscan(t, n, where, hs, base);
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

/* }====================================================== */

/* {====================================================== the text, scanned */

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
    if (want < n && c->tcte && bounce_ctis(c->tcte, c->tcten, "quoted-printable") && room(c) >= n &&
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
    bounce_decode(c, p, n, c->tcte, c->tcten, &c->text, &c->textn);
  }
}

/* The whole text part decoded (see textnow). */
void bounce_textall(ctx *c) {
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

/*
** The rules of data/bounce_formats.tsv on the boundary, the DSN parts and
** the text (the header fields were matched while the header was read):
** hit[k] is the first offset of a body phrase in the text, 0 for a
** boundary or DSN rule that matched. The text is read once, every phrase
** in its first SCAN_HEAD bytes (an error section starts near the top),
** past them only up to the first end phrase
** (when a start phrase was seen and no end phrase yet).
*/
void bounce_scanrules(ctx *c, hits *hit, size_t scanhead) {
  int k, started = 0, ended = 0;
  if (c->bnd) bounce_hscan(c->bnd, c->bndn, BW_BOUNDARY, NULL, 0, hit, 0, (size_t)-1);
  for (k = 0; k < c->ndsn; k++)
    bounce_hscan(c->dsn[k], c->dsnn[k] > DSN_HEAD ? DSN_HEAD : c->dsnn[k], BW_DSN, NULL, 0, hit, 0,
          (size_t)-1);
  /* Received rows only name the writer (detect), and the first detect row
     in file order wins: when one before them already matched, the Received
     fields cannot change the answer and are not read */
  k = matchrole(hit, BF_DETECT);
  if (k < 0 || k > smtpcode_bf_recvfirst) {
    int j;
    for (j = 0; j < c->nrecv; j++)
      bounce_hscan(c->recv[j], c->recvn[j], BW_RECEIVED, NULL, 0, hit, 0, (size_t)-1);
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
    bounce_hscan(c->text, head, BW_BODY, NULL, 0, hit, 0, (size_t)-1);
    if (head == n) return;
    for (k = 0; k < hit->n; k++) {
      const bf_rule *ru = &smtpcode_bf_rules[hit->k[k]];
      if (ru->where == BW_BODY) {
        if (ru->role == BF_START) started = 1;
        else if (ru->role == BF_END) ended = 1;
      }
    }
    if (started && !ended) { /* the rest, overlapping by a phrase's length */
      bounce_textall(c);
      n = c->textn > MAX_TEXT_SCAN ? MAX_TEXT_SCAN : c->textn;
      bounce_hscan(c->text + head - 256, n - head + 256, BW_BODY, NULL, 0, hit, (long)head - 256,
                   0);
    }
  }
}

/* }====================================================== */
