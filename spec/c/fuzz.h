/*
** fuzz.h: invariant checks shared by the libFuzzer targets (spec/c/fuzz_*.c)
** and the regression replayer (spec/c/test_fuzz_regress.c).
**
** Each check_<target>(data, size) runs one entry point of the C core on
** hostile bytes and abort()s when an invariant breaks, so libFuzzer (or the
** replayer under ASan/UBSan) reports it. Inputs that carry settings take
** them from their first bytes (see take_opts); the rest is the text.
**
** Results go to a volatile sink: clang drops calls whose result is unused.
*/
#ifndef smtpcode_fuzz_h
#define smtpcode_fuzz_h

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/smtpcode.h"
#include "../../src/rules_data.h"

static volatile int fz_sink;

#define FZ_CHECK(cond)                                                    \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "invariant broken at %s:%d: %s\n", __FILE__,       \
              __LINE__, #cond);                                           \
      abort();                                                            \
    }                                                                     \
  } while (0)

/* A span [off, off + len) lies inside [0, size). */
#define FZ_SPAN(off, len, size) \
  FZ_CHECK((off) >= 0 && (len) >= 0 && (size_t)(off) + (size_t)(len) <= (size))

/* The fuzz input copied to an exact-size heap block, so ASan sees any
   read past its end (libFuzzer already does this for data itself). */
static inline char *fz_dup(const uint8_t *p, size_t n) {
  char *s = (char *)malloc(n ? n : 1);
  FZ_CHECK(s != NULL);
  if (n) memcpy(s, p, n);
  return s;
}

/*
** One limit from one byte: 0 = default, 1..63 small values, 64..191
** medium values, 192..251 large values, then the odd ones (negative,
** zero-ish, the ceiling, INT_MAX).
*/
static inline int fz_limit(uint8_t b) {
  if (b == 0) return 0;
  if (b < 64) return b;
  if (b < 192) return (b - 63) * 16;
  if (b < 252) return (b - 191) * 4096;
  switch (b) {
  case 252: return -1;
  case 253: return INT_MIN;
  case 254: return SMTPCODE_LIMIT_CEILING;
  default: return INT_MAX;
  }
}

/*
** Settings from the first 4 input bytes: flags (bit 0 lenient; the other
** bits are passed through, the core must ignore them), max_line,
** max_lines, max_reply. Returns how many bytes were taken.
*/
static inline size_t fz_take_opts(const uint8_t *d, size_t n,
                                  smtpcode_opts *o) {
  memset(o, 0, sizeof *o);
  if (n < 4) return 0;
  o->flags = d[0];
  o->max_line = fz_limit(d[1]);
  o->max_lines = fz_limit(d[2]);
  o->max_reply = fz_limit(d[3]);
  return 4;
}

/* The limit the core applies to a requested value. */
static inline size_t fz_eff(int v, int dflt) {
  if (v <= 0) return (size_t)dflt;
  if (v > SMTPCODE_LIMIT_CEILING) return SMTPCODE_LIMIT_CEILING;
  return (size_t)v;
}

static inline int fz_is_status(int r) {
  return r == SMTPCODE_ESYNTAX || r == SMTPCODE_EINCOMPLETE ||
         r == SMTPCODE_EINCONSISTENT || r == SMTPCODE_ETOOLONG ||
         r == SMTPCODE_ENOTFOUND;
}

static inline int fz_isdig(char c) { return c >= '0' && c <= '9'; }

/* ---------------------------------------------------------------- line */

static inline int fz_same_enh(const smtpcode_line *a, const smtpcode_line *b) {
  return a->cls == b->cls && a->subject == b->subject && a->detail == b->detail;
}

/* Invariants of one successful smtpcode_parse_line result. */
static inline void fz_line_ok(const char *s, size_t n,
                              const smtpcode_opts *o, const smtpcode_line *l,
                              int r) {
  int lenient = o != NULL && (o->flags & SMTPCODE_O_LENIENT);
  size_t maxline = fz_eff(o ? o->max_line : 0, SMTPCODE_MAX_LINE);
  size_t end; /* end of the line content */
  FZ_CHECK(r >= 3 && (size_t)r <= n && l->length == r);
  FZ_CHECK(fz_isdig(s[0]) && fz_isdig(s[1]) && fz_isdig(s[2]));
  FZ_CHECK(l->code == (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
  FZ_CHECK(l->code >= 200 && l->code <= 599);
  if (!lenient) FZ_CHECK(s[1] <= '5' && !(l->flags & SMTPCODE_F_NONSTANDARD));
  FZ_CHECK((l->flags & ~31) == 0);
  /* the line ends at the first LF, or at the end of the input */
  FZ_CHECK(memchr(s, '\n', (size_t)r - 1) == NULL);
  if (l->flags & SMTPCODE_F_NOEOL) {
    FZ_CHECK((size_t)r == n && s[r - 1] != '\n');
  } else {
    FZ_CHECK(s[r - 1] == '\n');
  }
  end = (size_t)r;
  if (s[end - 1] == '\n') end--;
  if (end > 0 && s[end - 1] == '\r') end--;
  FZ_CHECK(end <= maxline);
  /* separator */
  FZ_CHECK(!!(l->flags & SMTPCODE_F_CONTINUED) == (end > 3 && s[3] == '-'));
  /* text: inside the line content, after the code */
  FZ_SPAN(l->text_off, l->text_len, end);
  FZ_CHECK(l->text_off >= 3 && (size_t)(l->text_off + l->text_len) == end);
  /* enhanced code */
  if (l->cls != 0) {
    int c = 0, sb = 0, d = 0;
    FZ_CHECK(l->cls == 2 || l->cls == 4 || l->cls == 5);
    FZ_CHECK(s[0] != '3');
    FZ_CHECK(l->enh_off >= 4 && l->enh_len >= 5);
    FZ_CHECK(l->enh_off + l->enh_len <= l->text_off);
    FZ_CHECK(smtpcode_parse_status(s + l->enh_off, (size_t)l->enh_len, &c,
                                   &sb, &d) == l->enh_len);
    FZ_CHECK(c == l->cls && sb == l->subject && d == l->detail);
    FZ_CHECK(!!(l->flags & SMTPCODE_F_MISMATCH) == (l->cls != s[0] - '0'));
  } else {
    FZ_CHECK(l->enh_len == 0 && l->subject == 0 && l->detail == 0);
    FZ_CHECK(!(l->flags & SMTPCODE_F_MISMATCH));
  }
}

/* Same values in two line results (text_off may differ: lenient skips
   tabs after the enhanced code). */
static inline void fz_line_same(const smtpcode_line *a,
                                const smtpcode_line *b, int text_too) {
  FZ_CHECK(a->code == b->code && a->cls == b->cls &&
           a->subject == b->subject && a->detail == b->detail);
  FZ_CHECK(a->enh_off == b->enh_off && a->enh_len == b->enh_len);
  FZ_CHECK(a->length == b->length);
  FZ_CHECK((a->flags & (SMTPCODE_F_CONTINUED | SMTPCODE_F_NOEOL)) ==
           (b->flags & (SMTPCODE_F_CONTINUED | SMTPCODE_F_NOEOL)));
  if (text_too)
    FZ_CHECK(a->text_off == b->text_off && a->text_len == b->text_len &&
             a->flags == b->flags);
}

static inline void check_line(const uint8_t *data, size_t size) {
  smtpcode_opts o, strict, lenient, wide;
  smtpcode_line l, ls, ll, lw;
  size_t k = fz_take_opts(data, size, &o);
  size_t n = size - k;
  char *s = fz_dup(data + k, n);
  int r = smtpcode_parse_line(s, n, &o, &l);
  fz_sink = r + l.code + l.text_len;
  if (r >= 0) {
    fz_line_ok(s, n, &o, &l, r);
  } else {
    FZ_CHECK(r == SMTPCODE_ESYNTAX || r == SMTPCODE_EINCOMPLETE ||
             r == SMTPCODE_ETOOLONG);
  }
  /* EINCOMPLETE: no line ending yet, and digits complete it. */
  if (r == SMTPCODE_EINCOMPLETE) {
    FZ_CHECK(memchr(s, '\n', n) == NULL && n < 3);
    if (n < 3 && (n == 0 || s[n - 1] != '\r') &&
        fz_eff(o.max_line, SMTPCODE_MAX_LINE) >= 3) {
      char buf[4] = {'0', '0', '0', '\n'};
      smtpcode_line lc;
      memcpy(buf, s, n);
      if (n == 0) buf[0] = '2';
      FZ_CHECK(smtpcode_parse_line(buf, 4, &o, &lc) == 4);
    }
  }
  /* a larger limit never changes a success */
  wide = o;
  wide.max_line = SMTPCODE_LIMIT_CEILING;
  if (r >= 0) {
    FZ_CHECK(smtpcode_parse_line(s, n, &wide, &lw) == r);
    fz_line_same(&l, &lw, 1);
  }
  /* lenient accepts every line strict accepts, with the same values */
  strict = o;
  strict.flags &= ~SMTPCODE_O_LENIENT;
  lenient = o;
  lenient.flags |= SMTPCODE_O_LENIENT;
  r = smtpcode_parse_line(s, n, &strict, &ls);
  if (r >= 0) {
    fz_line_ok(s, n, &strict, &ls, r);
    FZ_CHECK(smtpcode_parse_line(s, n, &lenient, &ll) == r);
    fz_line_ok(s, n, &lenient, &ll, r);
    FZ_CHECK(ll.code == ls.code && ll.length == ls.length);
    FZ_CHECK((ll.flags & (SMTPCODE_F_CONTINUED | SMTPCODE_F_NOEOL)) ==
             (ls.flags & (SMTPCODE_F_CONTINUED | SMTPCODE_F_NOEOL)));
    /* lenient may find an enhanced code strict does not ("#5.1.1", a tab
       after it), never a different one */
    if (ls.cls != 0) {
      FZ_CHECK(fz_same_enh(&ls, &ll) && ll.enh_off == ls.enh_off &&
               ll.enh_len == ls.enh_len);
      FZ_CHECK(ll.text_off >= ls.text_off);
    }
    FZ_CHECK(ll.text_off + ll.text_len == ls.text_off + ls.text_len);
  }
  /* NULL options mean the defaults */
  {
    smtpcode_opts z;
    smtpcode_line a, b;
    memset(&z, 0, sizeof z);
    FZ_CHECK(smtpcode_parse_line(s, n, NULL, &a) ==
             smtpcode_parse_line(s, n, &z, &b));
    FZ_CHECK(memcmp(&a, &b, sizeof a) == 0);
  }
  free(s);
}

/* ---------------------------------------------------------------- reply */

#define FZ_CAP 8

/*
** A successful reply s[0..r): walking it line by line with
** smtpcode_parse_line (what Lua scan does) gives the same code, enhanced
** codes, texts and flags; the stored lines agree; limits hold.
*/
static inline void fz_reply_ok(const char *s, size_t n, const smtpcode_opts *o,
                               const smtpcode_reply *rp,
                               const smtpcode_line *lines, int r) {
  size_t maxreply = fz_eff(o ? o->max_reply : 0, SMTPCODE_MAX_REPLY);
  int maxlines = (int)fz_eff(o ? o->max_lines : 0, SMTPCODE_MAX_LINES);
  size_t pos = 0;
  int i, flags = 0, found = 0;
  smtpcode_line first;
  memset(&first, 0, sizeof first);
  FZ_CHECK(r > 0 && (size_t)r <= n && rp->length == r);
  FZ_CHECK((size_t)r <= maxreply);
  FZ_CHECK(rp->nlines >= 1 && rp->nlines <= maxlines);
  FZ_CHECK(rp->code >= 200 && rp->code <= 599);
  for (i = 0; i < rp->nlines; i++) {
    smtpcode_line a, b;
    int ra, rb;
    size_t le, ce;
    FZ_CHECK(pos < (size_t)r);
    /* the line in the rest of the buffer, and the line alone */
    ra = smtpcode_parse_line(s + pos, n - pos, o, &a);
    FZ_CHECK(ra > 0 && pos + (size_t)ra <= (size_t)r);
    fz_line_ok(s + pos, n - pos, o, &a, ra);
    rb = smtpcode_parse_line(s + pos, (size_t)ra, o, &b);
    FZ_CHECK(rb == ra);
    fz_line_same(&a, &b, 1);
    if (i < FZ_CAP) {
      FZ_CHECK(memcmp(&lines[i], &a, sizeof a) == 0);
    }
    FZ_CHECK(a.code == rp->code);
    FZ_CHECK(!!(a.flags & SMTPCODE_F_CONTINUED) == (i < rp->nlines - 1));
    /* the line without its ending (as read with "*l" and handed to scan)
       gives the same code, enhanced code and text. Not compared: a line
       whose content itself ends in CR ("250 a\r\r\n"): without its LF
       that CR is taken for the line's own CR and dropped (see
       spec/c/regress/reply/text-ends-in-cr*) */
    le = (size_t)ra;
    if (s[pos + le - 1] == '\n') {
      ce = le - 1;
      if (ce > 0 && s[pos + ce - 1] == '\r') ce--;
      if (ce == 0 || s[pos + ce - 1] != '\r') {
        rb = smtpcode_parse_line(s + pos, ce, o, &b);
        FZ_CHECK(rb == (int)ce);
        FZ_CHECK(b.code == a.code && fz_same_enh(&a, &b));
        FZ_CHECK(b.enh_off == a.enh_off && b.enh_len == a.enh_len);
        FZ_CHECK(b.text_off == a.text_off && b.text_len == a.text_len);
      }
    }
    if (a.cls != 0) {
      if (!found) {
        found = 1;
        first = a;
        FZ_CHECK(rp->enh_off == (int)pos + a.enh_off &&
                 rp->enh_len == a.enh_len);
      } else if (!fz_same_enh(&a, &first)) {
        flags |= SMTPCODE_F_ENH_VARIES;
      }
    }
    flags |= a.flags & (SMTPCODE_F_MISMATCH | SMTPCODE_F_NONSTANDARD);
    if (i == rp->nlines - 1) flags |= a.flags & SMTPCODE_F_NOEOL;
    pos += (size_t)ra;
  }
  FZ_CHECK(pos == (size_t)r);
  FZ_CHECK(rp->flags == flags);
  if (found) {
    FZ_CHECK(rp->cls == first.cls && rp->subject == first.subject &&
             rp->detail == first.detail);
    FZ_SPAN(rp->enh_off, rp->enh_len, (size_t)r);
  } else {
    FZ_CHECK(rp->cls == 0 && rp->enh_len == 0);
  }
}

/*
** Every proper prefix of a multi-line reply that ends before its last line
** starts is incomplete or an error, except a cut right after the code of a
** line: a final line without its ending is complete as it stands, so
** "250-a\r\n250" is a reply of two lines with the same code. Cut points:
** all of them for short replies, else a window around each line start.
*/
static inline void fz_reply_prefixes(const char *s, const smtpcode_opts *o,
                                     int r, int lastline) {
  smtpcode_reply p;
  int c, rc;
  for (c = 0; c <= lastline; c++) {
    if (lastline > 600 && c > 8 && c < lastline - 8) {
      /* sample: near every line start and every 64th byte */
      int near = 0, k;
      for (k = 1; k <= 8; k++)
        if (s[c - k] == '\n') near = 1;
      if (!near && c % 64 != 0) continue;
    }
    rc = smtpcode_parse_reply(s, (size_t)c, o, &p, NULL, 0);
    fz_sink = rc;
    if (rc >= 0) {
      int ls = c;
      while (ls > 0 && s[ls - 1] != '\n') ls--;
      if (!(rc == c && c - ls == 3 &&
            p.code == (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0')))
        fprintf(stderr, "prefix of %d bytes (reply %d bytes) parsed as a "
                        "reply of %d bytes, %d lines\n", c, r, rc, p.nlines);
      FZ_CHECK(rc == c && c - ls == 3);
      FZ_CHECK(p.code == (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
    }
  }
}

static inline void check_reply(const uint8_t *data, size_t size) {
  smtpcode_opts o, strict, lenient, wide;
  smtpcode_reply rp, r2;
  smtpcode_line lines[FZ_CAP], lines2[FZ_CAP];
  size_t k = fz_take_opts(data, size, &o);
  size_t n = size - k;
  char *s = fz_dup(data + k, n);
  int r, r0;

  memset(lines, 0, sizeof lines);
  r = smtpcode_parse_reply(s, n, &o, &rp, lines, FZ_CAP);
  fz_sink = r + rp.code + rp.nlines;
  if (r < 0) {
    FZ_CHECK(r == SMTPCODE_ESYNTAX || r == SMTPCODE_EINCOMPLETE ||
             r == SMTPCODE_EINCONSISTENT || r == SMTPCODE_ETOOLONG);
    FZ_CHECK(rp.nlines >= 1);
  } else {
    fz_reply_ok(s, n, &o, &rp, lines, r);
  }
  /* the result does not depend on the room for lines */
  r0 = smtpcode_parse_reply(s, n, &o, &r2, NULL, 0);
  FZ_CHECK(r0 == r && memcmp(&rp, &r2, sizeof rp) == 0);
  r0 = smtpcode_parse_reply(s, n, &o, &r2, lines2, 1);
  FZ_CHECK(r0 == r && memcmp(&rp, &r2, sizeof rp) == 0);
  if (r >= 0) FZ_CHECK(memcmp(&lines[0], &lines2[0], sizeof lines[0]) == 0);
  if (r >= 0 && rp.nlines > 1) {
    /* start of the last line */
    int last = r - 1;
    while (last > 0 && s[last - 1] != '\n') last--;
    fz_reply_prefixes(s, &o, r, last);
  }
  /* larger limits never change a success */
  wide = o;
  wide.max_line = wide.max_lines = wide.max_reply = SMTPCODE_LIMIT_CEILING;
  if (r >= 0) {
    r0 = smtpcode_parse_reply(s, n, &wide, &r2, NULL, 0);
    FZ_CHECK(r0 == r && memcmp(&rp, &r2, sizeof rp) == 0);
  }
  /* lenient accepts every reply strict accepts */
  strict = o;
  strict.flags &= ~SMTPCODE_O_LENIENT;
  lenient = o;
  lenient.flags |= SMTPCODE_O_LENIENT;
  r = smtpcode_parse_reply(s, n, &strict, &rp, NULL, 0);
  if (r >= 0) {
    FZ_CHECK(!(rp.flags & SMTPCODE_F_NONSTANDARD));
    r0 = smtpcode_parse_reply(s, n, &lenient, &r2, NULL, 0);
    FZ_CHECK(r0 == r && r2.code == rp.code && r2.nlines == rp.nlines &&
             r2.length == rp.length);
  }
  free(s);
}

/* ---------------------------------------------------------------- status */

static inline void check_status(const uint8_t *data, size_t size) {
  char *s = fz_dup(data, size);
  int c = -1, sb = -1, d = -1;
  int r = smtpcode_parse_status(s, size, &c, &sb, &d);
  fz_sink = r + c + sb + d;
  if (r >= 0) {
    char buf[64];
    int m;
    FZ_CHECK((size_t)r == size);
    FZ_CHECK(c == 2 || c == 4 || c == 5);
    FZ_CHECK(sb >= 0 && sb <= 999 && d >= 0 && d <= 999);
    /* canonical: printing the numbers gives the input back */
    m = snprintf(buf, sizeof buf, "%d.%d.%d", c, sb, d);
    FZ_CHECK(m > 0 && (size_t)m == size && memcmp(buf, s, size) == 0);
  } else {
    FZ_CHECK(r == SMTPCODE_ESYNTAX);
  }
  /* the same code inside a reply line is found with the same values */
  if (size <= 64) {
    char line[80];
    smtpcode_line l;
    int rl;
    memcpy(line, "550 ", 4);
    memcpy(line + 4, s, size);
    memcpy(line + 4 + size, " x\r\n", 4);
    rl = smtpcode_parse_line(line, size + 8, NULL, &l);
    if (r >= 0) {
      FZ_CHECK(rl == (int)size + 8 && l.cls == c && l.subject == sb &&
               l.detail == d && l.enh_off == 4 && l.enh_len == (int)size);
    } else if (rl >= 0) {
      FZ_CHECK(!(l.cls != 0 && l.enh_off == 4 && l.enh_len == (int)size));
    }
  }
  free(s);
}

/* ---------------------------------------------------------------- find */

/* Invariants of one smtpcode_found against the text s[0..n). */
static inline void fz_found_ok(const char *s, size_t n, const smtpcode_found *f) {
  size_t lim = n < (size_t)SMTPCODE_MAX_TEXT ? n : (size_t)SMTPCODE_MAX_TEXT;
  FZ_CHECK(f->how == SMTPCODE_HOW_REPLY || f->how == SMTPCODE_HOW_STATUS);
  FZ_CHECK((f->flags & ~(SMTPCODE_F_MISMATCH | SMTPCODE_F_NONSTANDARD |
                         SMTPCODE_F_BARE)) == 0);
  FZ_CHECK(f->start >= 0 && f->start <= f->end && (size_t)f->end <= lim);
  FZ_CHECK(f->nlines >= 1);
  if (f->how == SMTPCODE_HOW_REPLY) {
    const char *c;
    FZ_SPAN(f->code_off, 3, lim);
    c = s + f->code_off;
    FZ_CHECK(c[0] >= '2' && c[0] <= '5' && c[1] >= '0' && c[1] <= '5' &&
             fz_isdig(c[2]));
    FZ_CHECK(f->code == (c[0] - '0') * 100 + (c[1] - '0') * 10 + (c[2] - '0'));
    FZ_CHECK(f->start <= f->code_off && f->code_off + 3 <= f->end);
    FZ_CHECK(!(f->flags & SMTPCODE_F_BARE));
  } else {
    FZ_CHECK(f->code == 0 && f->code_off == -1 && f->cls != 0);
  }
  if (f->cls != 0) {
    int c = 0, sb = 0, d = 0;
    FZ_SPAN(f->enh_off, f->enh_len, lim);
    FZ_CHECK(smtpcode_parse_status(s + f->enh_off, (size_t)f->enh_len, &c, &sb,
                                   &d) == f->enh_len);
    FZ_CHECK(c == f->cls && sb == f->subject && d == f->detail);
  } else {
    FZ_CHECK(f->enh_len == 0);
  }
  FZ_CHECK(!!(f->flags & SMTPCODE_F_MISMATCH) ==
           (f->code != 0 && f->cls != 0 && f->cls != f->code / 100));
  FZ_SPAN(f->text_off, f->text_len, lim);
}

static inline int fz_has_digit(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (fz_isdig(s[i])) return 1;
  return 0;
}

static inline void check_find(const uint8_t *data, size_t size) {
  char *s = fz_dup(data, size);
  smtpcode_found out, in, out2;
  smtpcode_line l;
  int r = smtpcode_find(s, size, &out, &in);
  fz_sink = r + out.code + in.code;
  FZ_CHECK(r == 0 || r == SMTPCODE_ENOTFOUND);
  if (r == SMTPCODE_ENOTFOUND) {
    FZ_CHECK(out.how == SMTPCODE_HOW_NONE && in.how == SMTPCODE_HOW_NONE);
  } else {
    fz_found_ok(s, size, &out);
    if (in.how != SMTPCODE_HOW_NONE) {
      fz_found_ok(s, size, &in);
      FZ_CHECK(in.start >= out.start && in.start <= out.end);
    }
  }
  /* inner is optional and changes nothing about out */
  FZ_CHECK(smtpcode_find(s, size, &out2, NULL) == r);
  FZ_CHECK(memcmp(&out, &out2, sizeof out) == 0);
  /* a reply line with an enhanced code and no other digit is found as it
     is (with more digits, a later reply may legitimately win) */
  if (smtpcode_parse_line(s, size, NULL, &l) >= 0 && l.cls != 0 &&
      !fz_has_digit(s + l.enh_off + l.enh_len,
                    size - (size_t)(l.enh_off + l.enh_len))) {
    FZ_CHECK(r == 0 && out.how == SMTPCODE_HOW_REPLY && out.code_off == 0 &&
             out.code == l.code);
  }
  free(s);
}

/* ---------------------------------------------------------------- registry */

static inline void fz_entry_ok(const smtpcode_entry *e, int kind) {
  const char *const *p;
  const char *strs[13];
  size_t total = 0;
  int i;
  FZ_CHECK(e->kind >= SMTPCODE_REG_REPLY && e->kind <= SMTPCODE_REG_NOTE);
  if (kind) FZ_CHECK(e->kind == kind);
  FZ_CHECK(e->code != NULL && e->title != NULL && e->description != NULL);
  FZ_CHECK(smtpcode_regkind_name(e->kind) != NULL);
  if (e->standard) FZ_CHECK(smtpcode_standard_name(e->standard) != NULL);
  strs[0] = e->code; strs[1] = e->title; strs[2] = e->description;
  strs[3] = e->references; strs[4] = e->remarks; strs[5] = e->commands;
  strs[6] = e->emitted_by; strs[7] = e->basic_codes; strs[8] = e->class_note;
  strs[9] = e->control; strs[10] = e->provider; strs[11] = e->example;
  strs[12] = e->source;
  for (i = 0, p = strs; i < 13; i++, p++)
    if (*p) total += strlen(*p); /* NUL-terminated, inside the data */
  fz_sink = (int)total;
}

/* 16-bit little-endian values; mode bit 1 spreads them over the int range */
static inline int fz_int(const uint8_t *d, int mode) {
  long v = (long)(int16_t)(uint16_t)(d[0] | (d[1] << 8));
  if (mode & 2) v *= 65537L;
  return (int)v;
}

static inline void check_registry(const uint8_t *data, size_t size) {
  uint8_t buf[10] = {0};
  const smtpcode_entry *e, *notes[8];
  int a, b, c, d, cap, fb = -1, k, i, nn;
  memcpy(buf, data, size < sizeof buf ? size : sizeof buf);
  a = fz_int(buf + 1, buf[0]);
  b = fz_int(buf + 3, buf[0]);
  c = fz_int(buf + 5, buf[0]);
  d = fz_int(buf + 7, buf[0]);
  cap = buf[9] % 9;

  if ((e = smtpcode_reply_info(a)) != NULL) {
    fz_entry_ok(e, SMTPCODE_REG_REPLY);
    FZ_CHECK(e->reply == a && a >= 200 && a <= 599);
  }
  if ((e = smtpcode_reply_alt(a, b)) != NULL) {
    fz_entry_ok(e, SMTPCODE_REG_REPLY_ALT);
    FZ_CHECK(e->reply == a && b >= 0);
  }
  if ((e = smtpcode_reply_digit(a, b)) != NULL) {
    fz_entry_ok(e, SMTPCODE_REG_DIGIT);
    FZ_CHECK(e->position == a && b >= 0 && b <= 9 && ((e->mask >> b) & 1));
  }
  e = smtpcode_enhanced_info(a, b, c, &fb);
  if (e != NULL) {
    fz_entry_ok(e, 0);
    FZ_CHECK(a == 0 || a == 2 || a == 4 || a == 5);
    FZ_CHECK(smtpcode_fallback_name(fb) != NULL);
    if (fb == SMTPCODE_FB_NONE)
      FZ_CHECK(e->kind == SMTPCODE_REG_ENHANCED && e->subject == b &&
               e->detail == c);
    else if (fb == SMTPCODE_FB_SUBJECT)
      FZ_CHECK(e->subject == b);
    else
      FZ_CHECK(fb == SMTPCODE_FB_CLASS && e->kind == SMTPCODE_REG_CLASS);
    FZ_CHECK(smtpcode_enhanced_info(a, b, c, NULL) == e);
  }
  if ((e = smtpcode_class_info(a)) != NULL) {
    fz_entry_ok(e, SMTPCODE_REG_CLASS);
    FZ_CHECK(e->cls == a);
  }
  if ((e = smtpcode_subject_info(b)) != NULL) {
    fz_entry_ok(e, SMTPCODE_REG_SUBJECT);
    FZ_CHECK(e->subject == b);
  }
  if ((e = smtpcode_pair_info(a, b, c, d)) != NULL) {
    fz_entry_ok(e, SMTPCODE_REG_PAIR);
    FZ_CHECK(e->reply == a && e->cls == b && e->subject == c && e->detail == d);
  }
  memset(notes, 0, sizeof notes);
  nn = smtpcode_notes(a, b, c, d, cap ? notes : NULL, cap);
  FZ_CHECK(nn >= 0);
  FZ_CHECK(smtpcode_notes(a, b, c, d, NULL, 0) == nn);
  for (i = 0; i < 8; i++) {
    if (i < nn && i < cap) {
      FZ_CHECK(notes[i] != NULL);
      fz_entry_ok(notes[i], SMTPCODE_REG_NOTE);
    } else {
      FZ_CHECK(notes[i] == NULL); /* nothing stored past cap */
    }
  }
  k = smtpcode_registry_count(a);
  FZ_CHECK(k >= 0);
  FZ_CHECK((k > 0) == (smtpcode_regkind_name(a) != NULL));
  e = smtpcode_registry_at(a, b);
  FZ_CHECK((e != NULL) == (b >= 0 && b < k));
  if (e != NULL) fz_entry_ok(e, a);
  fz_sink = (smtpcode_standard_name(a) != NULL) + (smtpcode_fallback_name(b) != NULL);
}

/* ---------------------------------------------------------------- classify */

static inline void fz_verdict_ok(const smtpcode_verdict *v) {
  smtpcode_rule ru;
  const char *t;
  FZ_CHECK(v->severity == 0 || (v->severity >= 2 && v->severity <= 5));
  FZ_CHECK(v->reason >= 0 && v->reason < SMTPCODE_REASON_COUNT);
  FZ_CHECK(v->bounce >= 0 && v->bounce <= 2 && v->retry >= 0 && v->retry <= 2);
  FZ_CHECK(v->scope >= 0 && v->scope <= SMTPCODE_SCOPE_SESSION);
  FZ_CHECK(v->by >= 0 && v->by <= SMTPCODE_BY_USER);
  FZ_CHECK((v->flags & ~15) == 0);
  /* a delay notice: transient, retried, no bounce, never "expired" */
  if (v->flags & SMTPCODE_V_DELAYED) {
    FZ_CHECK(v->severity == SMTPCODE_SEV_TRANSIENT &&
             v->retry == SMTPCODE_RETRY_YES &&
             v->bounce == SMTPCODE_BOUNCE_NONE);
    if (v->by != SMTPCODE_BY_USER)
      FZ_CHECK(v->reason != SMTPCODE_REASON_EXPIRED);
  }
  /* a bare word may name the cause of a text without a code only once a
     rule that is more than a bare word holds (bestrule in classify.c);
     spec/benign_spec.lua shows random text never gets a failure that way */
  if (v->severity == SMTPCODE_SEV_SUCCESS ||
      v->severity == SMTPCODE_SEV_INTERMEDIATE)
    FZ_CHECK(v->reason == SMTPCODE_REASON_NONE);
  if (v->by == SMTPCODE_BY_TEXT) {
    FZ_CHECK(v->rule >= 0 && v->rule < smtpcode_rule_count());
    FZ_CHECK(smtpcode_rule_info(v->rule, &ru) == 0 && ru.match != NULL);
    fz_sink = (int)strlen(ru.match);
  } else {
    FZ_CHECK(v->rule == -1);
  }
  if (v->reason != SMTPCODE_REASON_NONE) {
    t = smtpcode_reason_name(v->reason);
    FZ_CHECK(t != NULL && smtpcode_reason_of(t, strlen(t)) == v->reason);
  }
  if (v->scope != SMTPCODE_SCOPE_NONE) {
    t = smtpcode_scope_name(v->scope);
    FZ_CHECK(t != NULL && smtpcode_scope_of(t, strlen(t)) == v->scope);
  }
  t = smtpcode_verdict_description(v);
  FZ_CHECK(t != NULL);
  fz_sink = (int)strlen(t);
  t = smtpcode_verdict_advice(v);
  if (t != NULL) fz_sink = (int)strlen(t);
}

/*
** Input: 1 mode byte, then the text. Mode bit 0: pass smtpcode_find's
** result (else NULL, and classify calls find itself; both must agree).
** Bit 1: pass a made-up smtpcode_found whose code, cls, subject, detail
** are four 16-bit values taken after the mode byte. Bits 2-7: reason and
** scope handed to smtpcode_settle afterwards.
*/
static inline void check_classify(const uint8_t *data, size_t size) {
  uint8_t mode = size ? data[0] : 0;
  size_t k = size ? 1 : 0;
  smtpcode_found f, made;
  smtpcode_verdict v, w, c;
  const smtpcode_found *fp = NULL;
  char *s;
  size_t n;
  int r, rs;

  memset(&made, 0, sizeof made);
  if ((mode & 2) && size >= 9) {
    made.code = fz_int(data + 1, 0);
    made.cls = fz_int(data + 3, 0);
    made.subject = fz_int(data + 5, 0);
    made.detail = fz_int(data + 7, 0);
    made.how = made.code ? SMTPCODE_HOW_REPLY : SMTPCODE_HOW_STATUS;
    made.code_off = made.enh_off = made.text_off = -1;
    k = 9;
  }
  n = size - k;
  s = fz_dup(data + k, n);
  if (mode & 2) {
    fp = &made;
  } else if (mode & 1) {
    smtpcode_find(s, n, &f, NULL);
    fp = &f;
  }
  memset(&v, 0xa5, sizeof v);
  r = smtpcode_classify(s, n, fp, &v);
  fz_sink = r + v.reason;
  FZ_CHECK(r == 0);
  if (mode & 2) {
    /* a made-up input need not be coherent: only ranges are checked */
    FZ_CHECK(v.reason >= 0 && v.reason < SMTPCODE_REASON_COUNT);
    FZ_CHECK(v.scope >= 0 && v.scope <= SMTPCODE_SCOPE_SESSION);
    fz_sink = (int)strlen(smtpcode_verdict_description(&v));
  } else {
    fz_verdict_ok(&v);
    FZ_CHECK(!!(v.flags & SMTPCODE_V_TRUNCATED) ==
             (n > (size_t)SMTPCODE_MAX_CLASSIFY &&
              v.severity != SMTPCODE_SEV_SUCCESS &&
              v.severity != SMTPCODE_SEV_INTERMEDIATE));
    /* NULL means "find it yourself": same verdict either way */
    memset(&w, 0x5a, sizeof w);
    if (mode & 1) {
      FZ_CHECK(smtpcode_classify(s, n, NULL, &w) == 0);
    } else {
      smtpcode_find(s, n, &f, NULL);
      FZ_CHECK(smtpcode_classify(s, n, &f, &w) == 0);
    }
    FZ_CHECK(memcmp(&v, &w, sizeof v) == 0);
    FZ_CHECK(v.code == 0 || (v.code >= 200 && v.code <= 599));
    /* one stream or four (split anywhere): the same verdict */
    memset(&w, 0x5a, sizeof w);
    FZ_CHECK(smtpcode_classify_split(s, n, fp, &w, INT_MAX) == 0);
    FZ_CHECK(memcmp(&v, &w, sizeof v) == 0);
    memset(&w, 0x5a, sizeof w);
    FZ_CHECK(smtpcode_classify_split(s, n, fp, &w, 1 + (int)(n % 61)) == 0);
    FZ_CHECK(memcmp(&v, &w, sizeof v) == 0);
    FZ_CHECK(smtpcode_scan_digest(s, n, INT_MAX) ==
             smtpcode_scan_digest(s, n, 1 + (int)(n % 61)));
  }
  /* settle with a reason and scope from the mode byte (some invalid) */
  c = v;
  rs = smtpcode_settle(&c, (mode >> 2) % 26 - 1, (mode >> 6) % 4 * 2 - 1);
  FZ_CHECK(rs == 0 || rs == SMTPCODE_ESYNTAX);
  if (rs != 0) {
    FZ_CHECK(memcmp(&c, &v, sizeof c) == 0);
  } else if (!(mode & 2)) {
    if (v.severity == SMTPCODE_SEV_SUCCESS ||
        v.severity == SMTPCODE_SEV_INTERMEDIATE) {
      FZ_CHECK(memcmp(&c, &v, sizeof c) == 0);
    } else {
      FZ_CHECK(c.by == SMTPCODE_BY_USER && c.reason == (mode >> 2) % 26 - 1);
      fz_verdict_ok(&c);
    }
  }
  free(s);
}

#endif
