/*
** stream.c: SMTP conversations. A reply reader that finds where complete
** replies end in a byte stream cut anywhere (RFC 5321 section 4.2, RFC
** 2920 pipelining), and a reply writer that no text can turn into a second
** reply (RFC 5321 section 4.2 and 4.5.3.1.5, RFC 2034, RFC 6531).
*/
#include "smtpcode.h"

#include <string.h>

static size_t lim(int v, int dflt) {
  if (v <= 0) return (size_t)dflt;
  if (v > SMTPCODE_LIMIT_CEILING) return SMTPCODE_LIMIT_CEILING;
  return (size_t)v;
}

/*
** {======================================================
** Reader
** =======================================================
*/

SMTPCODE_API void smtpcode_stream_init(smtpcode_stream *st,
                                       const smtpcode_opts *opts) {
  memset(st, 0, sizeof *st);
  if (opts != NULL) st->opts = *opts;
}

static int stop(smtpcode_stream *st, int status, int line) {
  st->status = status;
  st->nlines = line;
  return status;
}

/*
** Each call searches only the bytes it has not seen (memchr from
** st->scanned) and parses each line once when its LF arrives; a line that
** ends the reply, breaks a rule or passes a limit hands the whole reply to
** smtpcode_parse_reply, so the answer is the parser's own.
*/
SMTPCODE_API int smtpcode_stream_next(smtpcode_stream *st, const char *s,
                                      size_t len) {
  size_t maxline = lim(st->opts.max_line, SMTPCODE_MAX_LINE);
  size_t maxreply = lim(st->opts.max_reply, SMTPCODE_MAX_REPLY);
  int maxlines = (int)lim(st->opts.max_lines, SMTPCODE_MAX_LINES);
  size_t line, pos, scan = len;
  smtpcode_reply rp;
  smtpcode_line ln;
  int r;

  if (st->status < 0) return st->status;
  if (s == NULL) return len == 0 ? 0 : stop(st, SMTPCODE_ESYNTAX, 1);
  line = (size_t)st->line;
  pos = (size_t)st->scanned;
  if (pos > len || line > pos) { /* not the bytes of the last call */
    line = pos = 0;
    st->nlines = 0;
  }
  /* a reply ends within max_reply bytes or not at all: no need to look
     further, however many bytes the caller holds */
  if (scan > maxreply + 1) scan = maxreply + 1;
  while (pos < scan) {
    const char *nl = (const char *)memchr(s + pos, '\n', scan - pos);
    size_t end;
    if (nl == NULL) {
      pos = scan;
      break;
    }
    end = (size_t)(nl - s) + 1;
    r = smtpcode_parse_line(s + line, end - line, &st->opts, &ln);
    if (r < 0 || !(ln.flags & SMTPCODE_F_CONTINUED) ||
        (st->nlines > 0 && ln.code != st->code) || st->nlines + 1 > maxlines ||
        end > maxreply) {
      r = smtpcode_parse_reply(s, end, &st->opts, &rp, NULL, 0);
      if (r > 0) {
        st->line = st->scanned = st->nlines = st->code = 0;
        return r;
      }
      if (r == SMTPCODE_EINCOMPLETE) r = SMTPCODE_ESYNTAX; /* cannot be */
      return stop(st, r, rp.nlines);
    }
    if (st->nlines == 0) st->code = ln.code;
    st->nlines++;
    line = pos = end;
  }
  /* An unended line that can only be too long, or a reply past its size:
     what smtpcode_parse_reply says of it (too_long, or the syntax error
     it meets in the cut line first). */
  if (len - line > maxline + 1 || len > maxreply) {
    r = smtpcode_parse_reply(s, len, &st->opts, &rp, NULL, 0);
    if (r >= 0 || r == SMTPCODE_EINCOMPLETE) r = SMTPCODE_ETOOLONG;
    return stop(st, r, rp.nlines > 0 ? rp.nlines : st->nlines + 1);
  }
  st->line = (int)line; /* both <= len <= max_reply */
  st->scanned = (int)pos;
  return 0;
}

/* }====================================================== */

/*
** {======================================================
** Writer
** =======================================================
*/

typedef struct wr {
  char *out;
  size_t cap, n;
} wr;

static void put(wr *w, const char *p, size_t k) {
  if (w->n < w->cap) {
    size_t room = w->cap - w->n;
    memcpy(w->out + w->n, p, k < room ? k : room);
  }
  w->n += k;
}

/*
** One unit of text at t[i..e): a character as it will be written. Returns
** the input bytes it takes; *olen is its output length and *c its first
** output byte ('?' for a replaced byte). Line breaks never get here.
*/
static size_t unit(const unsigned char *t, size_t i, size_t e, int utf8,
                   size_t *olen, unsigned char *c) {
  unsigned b = t[i];
  *olen = 1;
  if (b >= 0x20 && b < 0x7f) {
    *c = (unsigned char)b;
    return 1;
  }
  if (b == '\t') {
    *c = ' ';
    return 1;
  }
  *c = '?';
  if (utf8 && b >= 0xc2 && b <= 0xf4) {
    size_t k = b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4, j;
    unsigned lo = 0x80, hi = 0xbf;
    if (i + k > e) return 1;
    if (b == 0xe0) lo = 0xa0;      /* no overlong forms */
    else if (b == 0xed) hi = 0x9f; /* no surrogates */
    else if (b == 0xf0) lo = 0x90;
    else if (b == 0xf4) hi = 0x8f; /* nothing past U+10FFFF */
    if (t[i + 1] < lo || t[i + 1] > hi) return 1;
    for (j = 2; j < k; j++)
      if (t[i + j] < 0x80 || t[i + j] > 0xbf) return 1;
    if (b == 0xc2 && t[i + 1] < 0xa0) { /* C1 controls: one '?' */
      return 2;
    }
    *olen = k;
    *c = (unsigned char)b;
    return k;
  }
  return 1;
}

/* Write units t[a..b) as they are written. */
static void puttext(wr *w, const unsigned char *t, size_t a, size_t b,
                    int utf8) {
  while (a < b) {
    size_t olen;
    unsigned char c;
    size_t k = unit(t, a, b, utf8, &olen, &c);
    if (olen == 1)
      put(w, (const char *)&c, 1);
    else
      put(w, (const char *)t + a, olen);
    a += k;
  }
}

/*
** Would a reader (even a lenient one) take the start of this text for an
** enhanced code? Asks the parser, on a copy of the first bytes.
*/
static int looks_enhanced(int code, const unsigned char *t, size_t a,
                          size_t b, int utf8) {
  char buf[16];
  size_t n = 4;
  smtpcode_opts o;
  smtpcode_line ln;
  buf[0] = (char)('0' + code / 100);
  buf[1] = (char)('0' + code / 10 % 10);
  buf[2] = (char)('0' + code % 10);
  buf[3] = ' ';
  while (a < b && n < sizeof buf) {
    size_t olen;
    unsigned char c;
    a += unit(t, a, b, utf8, &olen, &c);
    buf[n++] = (char)c;
  }
  memset(&o, 0, sizeof o);
  o.flags = SMTPCODE_O_LENIENT;
  return smtpcode_parse_line(buf, n, &o, &ln) > 0 && ln.cls != 0;
}

/*
** Where the reply line that starts at t[a] ends: its text is t[a..*cut),
** the next one starts at *resume. Greedy: as many units as fit in width
** bytes; the line is cut at the last run of spaces that fits (the run is
** dropped), or in a word longer than a line, or where a run of spaces
** overflows.
*/
static void wrap(const unsigned char *t, size_t a, size_t e, size_t width,
                 int utf8, size_t *cut, size_t *resume) {
  size_t p = a, used = 0, brk = 0, after = 0;
  int seen = 0; /* a non-space unit since the line start */
  *cut = *resume = e;
  while (p < e) {
    size_t olen;
    unsigned char ch;
    size_t k = unit(t, p, e, utf8, &olen, &ch);
    if (used + olen > width) {
      if (ch == ' ') { /* wrap here, drop the run of spaces */
        *cut = *resume = p;
      } else if (brk > 0) {
        *cut = brk;
        *resume = after;
      } else { /* a word longer than a line */
        *cut = *resume = p;
      }
      while (*resume < e && (t[*resume] == ' ' || t[*resume] == '\t'))
        (*resume)++;
      return;
    }
    if (ch == ' ') {
      if (seen && t[p - 1] != ' ' && t[p - 1] != '\t') brk = p;
      after = p + k;
    } else {
      seen = 1;
    }
    used += olen;
    p += k;
  }
}

SMTPCODE_API int smtpcode_format(int code, const char *enh, size_t enhlen,
                                 const char *text, size_t len,
                                 const smtpcode_opts *opts, char *out,
                                 size_t cap) {
  const unsigned char *t = (const unsigned char *)text;
  size_t maxline = lim(opts ? opts->max_line : 0, SMTPCODE_FORMAT_LINE);
  size_t maxreply = lim(opts ? opts->max_reply : 0, SMTPCODE_MAX_REPLY);
  int maxlines = (int)lim(opts ? opts->max_lines : 0, SMTPCODE_MAX_LINES);
  int utf8 = opts != NULL && (opts->flags & SMTPCODE_O_UTF8);
  size_t prefix, width, i = 0, lastsep = 0;
  char head[4];
  int nlines = 0, c, sb, d, lines_done = 0;
  wr w;

  w.out = out;
  w.cap = out != NULL ? cap : 0;
  w.n = 0;
  if (code < 200 || code > 599 || code / 10 % 10 > 5) return SMTPCODE_ESYNTAX;
  if (enhlen > 0) {
    if (enh == NULL || smtpcode_parse_status(enh, enhlen, &c, &sb, &d) < 0)
      return SMTPCODE_ESYNTAX;
    if (c != code / 100) return SMTPCODE_EINCONSISTENT;
  }
  if (text == NULL && len > 0) return SMTPCODE_ESYNTAX;
  prefix = 4 + (enhlen > 0 ? enhlen + 1 : 0);
  /* 4 bytes of text at least (a UTF-8 character), and without an enhanced
     code one more for the space that defuses a look-alike */
  if (maxline < prefix + (enhlen > 0 ? 0 : 1) + 4) return SMTPCODE_ETOOLONG;
  width = maxline - prefix;
  head[0] = (char)('0' + code / 100);
  head[1] = (char)('0' + code / 10 % 10);
  head[2] = (char)('0' + code % 10);
  head[3] = '-';

  /* one input line [i, e) per pass; e is its end, i moves past the break */
  while (!lines_done) {
    size_t e = i, next, a;
    int first = 1;
    while (e < len && t[e] != '\n' && t[e] != '\r') e++;
    if (e >= len) {
      next = len;
      lines_done = 1;
    } else {
      next = e + 1 + (t[e] == '\r' && e + 1 < len && t[e + 1] == '\n');
    }
    a = i;
    if (enhlen > 0)
      while (a < e && (t[a] == ' ' || t[a] == '\t')) a++;
    /* reply lines of this input line: [a, cut), then on from resume */
    while (first || a < e) {
      size_t cut, resume;
      int defuse = 0;
      wrap(t, a, e, width, utf8, &cut, &resume);
      if (enhlen == 0 && cut > a && code / 100 != 3 &&
          looks_enhanced(code, t, a, cut, utf8)) {
        /* a space before the text: one byte less for it */
        wrap(t, a, e, width - 1, utf8, &cut, &resume);
        defuse = looks_enhanced(code, t, a, cut, utf8);
      }
      if (++nlines > maxlines) return SMTPCODE_ETOOLONG;
      lastsep = w.n + 3;
      put(&w, head, 4);
      if (enhlen > 0) {
        put(&w, enh, enhlen);
        if (cut > a) put(&w, " ", 1);
      } else if (defuse) {
        put(&w, " ", 1);
      }
      puttext(&w, t, a, cut, utf8);
      put(&w, "\r\n", 2);
      if (w.n > maxreply) return SMTPCODE_ETOOLONG;
      first = 0;
      a = resume;
    }
    i = next;
  }
  if (lastsep < w.cap) w.out[lastsep] = ' ';
  /* an empty final text: "250" alone, not "250 " */
  if (enhlen == 0 && w.n == lastsep + 3) {
    if (lastsep < w.cap) w.out[lastsep] = '\r';
    if (lastsep + 1 < w.cap) w.out[lastsep + 1] = '\n';
    w.n = lastsep + 2;
  }
  return (int)w.n;
}

/* }====================================================== */
