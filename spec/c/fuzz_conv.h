/*
** fuzz_conv.h: invariants of the conversation entry points (src/stream.c),
** shared by the libFuzzer targets spec/c/fuzz_stream.c and
** spec/c/fuzz_format.c and by spec/c/test_stream.c, which replays their
** seeds (spec/c/corpus/stream/, spec/c/corpus/format/) and findings
** (spec/c/regress/stream/, spec/c/regress/format/) under ASan/UBSan.
*/
#ifndef smtpcode_fuzz_conv_h
#define smtpcode_fuzz_conv_h

#include "fuzz.h"

/* ---------------------------------------------------------------- stream */

#define FZ_MAXREP 4096

/*
** The replies parse reads one after the other in s[0..n): lengths into
** lens (at most FZ_MAXREP), their count into *count; returns the status
** at the tail: SMTPCODE_EINCOMPLETE when the bytes ran out, 1 for a reply
** whose last line has no LF yet (a reader waits for it), else the error.
*/
static inline int fz_ref_replies(const char *s, size_t n,
                                 const smtpcode_opts *o, int *lens,
                                 int *count) {
  size_t pos = 0;
  smtpcode_reply rp;
  *count = 0;
  for (;;) {
    int r;
    if (pos >= n) return SMTPCODE_EINCOMPLETE;
    r = smtpcode_parse_reply(s + pos, n - pos, o, &rp, NULL, 0);
    if (r < 0) return r;
    if (s[pos + (size_t)r - 1] != '\n') return 1;
    if (*count < FZ_MAXREP) lens[*count] = r;
    (*count)++;
    pos += (size_t)r;
  }
}

/*
** Feed s[0..n) to a reader in chunks (step: 0 = all at once, 1 = byte by
** byte, else lengths from a small generator seeded by step) and check
** that it gives exactly the replies of fz_ref_replies, then the same
** error, or waits with what cannot yet be a complete reply; the bytes
** held while it waits never pass max_reply.
*/
static inline void fz_stream_cut(const char *s, size_t n,
                                 const smtpcode_opts *o, unsigned step,
                                 const int *lens, int count, int tail) {
  smtpcode_stream st;
  size_t start = 0, fed = 0;
  size_t maxreply = fz_eff(o->max_reply, SMTPCODE_MAX_REPLY);
  unsigned seed = step * 2654435761u + 1;
  int got = 0, r = 0;
  smtpcode_stream_init(&st, o);
  while (fed < n) {
    size_t k;
    if (step == 0) {
      k = n - fed;
    } else if (step == 1) {
      k = 1;
    } else {
      seed = seed * 1103515245u + 12345u;
      k = 1 + (seed >> 16) % 97;
    }
    fed += k < n - fed ? k : n - fed;
    while ((r = smtpcode_stream_next(&st, s + start, fed - start)) > 0) {
      FZ_CHECK(got < count);
      if (got < FZ_MAXREP) FZ_CHECK(r == lens[got]);
      got++;
      start += (size_t)r;
    }
    if (r < 0) break;
    FZ_CHECK(fed - start <= maxreply);
  }
  FZ_CHECK(got == count);
  if (r < 0) {
    FZ_CHECK(r == tail);
    FZ_CHECK(fz_is_status(r) && r != SMTPCODE_EINCOMPLETE);
    /* sticky until init */
    FZ_CHECK(smtpcode_stream_next(&st, s + start, fed - start) == r);
  } else {
    FZ_CHECK(tail != 0); /* never a complete reply left behind */
  }
}

static inline void check_stream(const uint8_t *data, size_t size) {
  smtpcode_opts o;
  size_t k = fz_take_opts(data, size, &o);
  unsigned step = k < size ? data[k++] : 0;
  size_t n = size - k;
  char *s = fz_dup(data + k, n);
  static int lens[FZ_MAXREP];
  int count = 0;
  int tail = fz_ref_replies(s, n, &o, lens, &count);
  fz_stream_cut(s, n, &o, 0, lens, count, tail);
  fz_stream_cut(s, n, &o, 1, lens, count, tail);
  fz_stream_cut(s, n, &o, step | 2, lens, count, tail);
  fz_sink = count;
  free(s);
}

/* ---------------------------------------------------------------- format */

static const char *const fz_enh[] = {
  NULL, "2.0.0", "4.7.1", "5.1.1", "5.7.26", "4.2.2", "5.999.999", "2.1.5",
  "5.01.1", "5.1", "", "5.1.1 ", "3.1.1", "#5.1.1", "4.4.7", "5.3.4"
};

/*
** Input: 4 option bytes (flags bit 1: utf8; max_line, max_lines,
** max_reply), 2 bytes of reply code (180..699), 1 byte choosing an
** enhanced code (some invalid), then the text.
*/
static inline void check_format(const uint8_t *data, size_t size) {
  smtpcode_opts o, po;
  size_t k = fz_take_opts(data, size, &o);
  int code = 250, r, r2, i;
  const char *enh = NULL;
  size_t elen = 0, n, maxline;
  char *t, *out, *again, *joined;
  smtpcode_reply rp;
  smtpcode_line lines[8];
  if (size >= k + 3) {
    code = 180 + (data[k] | data[k + 1] << 8) % 520;
    enh = fz_enh[data[k + 2] % 16];
    elen = enh ? strlen(enh) : 0;
    k += 3;
  }
  o.flags &= SMTPCODE_O_UTF8 | SMTPCODE_O_LENIENT;
  n = size - k;
  t = fz_dup(data + k, n);
  r = smtpcode_format(code, enh, elen, t, n, &o, NULL, 0);
  if (r < 0) {
    int c = 0, sb = 0, d = 0;
    int badenh = elen > 0 && smtpcode_parse_status(enh, elen, &c, &sb, &d) < 0;
    int badcode = code < 200 || code > 599 || code / 10 % 10 > 5;
    if (badcode || badenh)
      FZ_CHECK(r == SMTPCODE_ESYNTAX);
    else if (elen > 0 && c != code / 100)
      FZ_CHECK(r == SMTPCODE_EINCONSISTENT);
    else
      FZ_CHECK(r == SMTPCODE_ETOOLONG);
    free(t);
    return;
  }
  FZ_CHECK(code >= 200 && code <= 599 && r >= 5);
  out = (char *)malloc((size_t)r + 1);
  FZ_CHECK(out != NULL);
  out[r] = 'Z';
  FZ_CHECK(smtpcode_format(code, enh, elen, t, n, &o, out, (size_t)r) == r);
  FZ_CHECK(out[r] == 'Z');
  /* snprintf-like: a short buffer gets the same first bytes, no more */
  {
    size_t half = (size_t)r / 2;
    char *h = (char *)malloc(half + 1);
    FZ_CHECK(h != NULL);
    h[half] = 'Z';
    FZ_CHECK(smtpcode_format(code, enh, elen, t, n, &o, h, half) == r);
    FZ_CHECK(h[half] == 'Z' && memcmp(h, out, half) == 0);
    free(h);
  }
  /* lines: code, '-' or ' ', CRLF; no other control byte; within max_line */
  maxline = fz_eff(o.max_line, SMTPCODE_FORMAT_LINE);
  {
    size_t a = 0, b;
    for (b = 0; b < (size_t)r; b++) {
      unsigned char c = (unsigned char)out[b];
      if (c == '\n') {
        FZ_CHECK(b > a && out[b - 1] == '\r');
        FZ_CHECK(b - 1 - a <= maxline);
        FZ_CHECK(out[a] - '0' == code / 100 && out[a + 1] - '0' == code / 10 % 10 &&
                 out[a + 2] - '0' == code % 10);
        FZ_CHECK(b - 1 - a == 3 || out[a + 3] == (b + 1 == (size_t)r ? ' ' : '-'));
        a = b + 1;
      } else if (c == '\r') {
        FZ_CHECK(b + 1 < (size_t)r && out[b + 1] == '\n');
      } else {
        FZ_CHECK(c >= 0x20 && c != 0x7f);
        if (c >= 0x80) FZ_CHECK(o.flags & SMTPCODE_O_UTF8);
      }
    }
    FZ_CHECK(a == (size_t)r);
  }
  /* one reply, read back with the same code and enhanced code, strict and
     lenient */
  for (i = 0; i < 2; i++) {
    po = o;
    po.flags = i ? SMTPCODE_O_LENIENT : 0;
    po.max_line = (int)maxline;
    r2 = smtpcode_parse_reply(out, (size_t)r, &po, &rp, lines, 8);
    FZ_CHECK(r2 == r && rp.code == code);
    FZ_CHECK(!(rp.flags & (SMTPCODE_F_NOEOL | SMTPCODE_F_ENH_VARIES |
                           SMTPCODE_F_MISMATCH | SMTPCODE_F_NONSTANDARD)));
    if (elen > 0) {
      FZ_CHECK(rp.cls != 0 && (size_t)rp.enh_len == elen &&
               memcmp(out + rp.enh_off, enh, elen) == 0);
    } else {
      FZ_CHECK(rp.cls == 0);
    }
  }
  /* written again from the lines parse read: the same reply */
  joined = (char *)malloc((size_t)r + 1);
  FZ_CHECK(joined != NULL);
  {
    size_t pos = 0, m = 0;
    smtpcode_line ln;
    po = o;
    po.flags = 0;
    po.max_line = (int)maxline;
    while (pos < (size_t)r) {
      int q = smtpcode_parse_line(out + pos, (size_t)r - pos, &po, &ln);
      FZ_CHECK(q > 0);
      if (pos > 0) joined[m++] = '\n';
      memcpy(joined + m, out + pos + ln.text_off, (size_t)ln.text_len);
      m += (size_t)ln.text_len;
      pos += (size_t)q;
    }
    again = (char *)malloc((size_t)r + 1);
    FZ_CHECK(again != NULL);
    FZ_CHECK(smtpcode_format(code, enh, elen, joined, m, &o, again, (size_t)r) == r);
    FZ_CHECK(memcmp(again, out, (size_t)r) == 0);
    free(again);
  }
  free(joined);
  free(out);
  free(t);
}

#endif
