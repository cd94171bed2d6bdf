/*
** mime.h: private MIME primitives of the bounce reader (src/mime.c).
** Not part of the public API: pointers and lengths, no Lua, no allocation.
*/
#ifndef smtpcode_mime_h
#define smtpcode_mime_h

#include <stddef.h>
#include <string.h>

/* End of the line starting at i (index of its CR or LF, or n). */
size_t mime_eol(const char *s, size_t n, size_t i);
/* Start of the line after the one ending at e (e from mime_eol). */
size_t mime_next(const char *s, size_t n, size_t e);

/* Case-insensitive equality of s[0..n) and the NUL-terminated lower z. */
int mime_ieq(const char *s, size_t n, const char *z);
/* Eight bytes ASCII-lowercased at once: A-Z (high bit clear, at least
** 'A' and not above 'Z') get 0x20. */
static inline unsigned long long mime_lower8(unsigned long long x) {
  const unsigned long long ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  unsigned long long h = x & ~highs;
  unsigned long long up = (h + ones * (0x80 - 'A')) & ~(h + ones * (0x80 - 'Z' - 1)) & ~x & highs;
  return x | (up >> 2);
}

/* The same where z is known to be n bytes long (lowercase): eight bytes
** at a time. Inline: callers compare with names of a known length, which
** the compiler then reads as constant words. */
static inline int mime_ieqn(const char *s, const char *z, size_t n) {
  /* 8 to 16 bytes: the first and the last eight (overlapping), 4 to 7:
     the first and the last four; more: eight at a time before that */
  unsigned long long x, y, a, b;
  size_t i = 0;
  if (n >= 8) {
    for (; n - i > 16; i += 8) {
      memcpy(&x, s + i, 8);
      memcpy(&y, z + i, 8);
      if (mime_lower8(x) != y) return 0;
    }
    memcpy(&x, s + i, 8);
    memcpy(&y, z + i, 8);
    memcpy(&a, s + n - 8, 8);
    memcpy(&b, z + n - 8, 8);
    return ((mime_lower8(x) ^ y) | (mime_lower8(a) ^ b)) == 0;
  }
  if (n >= 4) {
    unsigned x4, y4, a4, b4;
    memcpy(&x4, s, 4);
    memcpy(&y4, z, 4);
    memcpy(&a4, s + n - 4, 4);
    memcpy(&b4, z + n - 4, 4);
    return ((mime_lower8(x4) ^ y4) | (mime_lower8(a4) ^ b4)) == 0;
  }
  for (; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (unsigned char)z[i]) return 0;
  }
  return 1;
}
/* Case-insensitive search of the lowercase needle z (length m) in s[0..n):
** offset or -1. Work O(n * m) with m short (markers). */
long mime_ifind(const char *s, size_t n, const char *z, size_t m);

/*
** One header field at s[i..n): returns the offset after it (its last line
** break included), or i when the line at i is empty or past n (end of the
** block). A line without a colon is skipped (*name_len = 0). *too_long is
** set when the field runs past max bytes (it is then cut).
*/
size_t mime_field(const char *s, size_t n, size_t i, size_t max,
                  size_t *name, size_t *name_len, size_t *val,
                  size_t *val_len, int *too_long);

/* The same, where a space of z matches any run of blanks and line breaks
** (phrases wrapped by the generator). Work O(n * m). */
long mime_wfind(const char *s, size_t n, const char *z, size_t m);
/* Whether z (length m, lowercase) matches at s[i..n) in that sense. */
int mime_wat(const char *s, size_t n, size_t i, const char *z, size_t m);

/* Trim blanks (SP, HT, CR, LF) at both ends of [*o, *o + *l). */
void mime_trim(const char *s, size_t *o, size_t *l);

/*
** Content-Type value v[0..n): type/subtype into t (lowercase compared
** by the caller) and the parameter pname (lowercase) into *po, *pl
** (quotes removed). Returns 1 when found.
*/
int mime_param(const char *v, size_t n, const char *pname, size_t *po,
               size_t *pl);

/* Decoders: write at most cap bytes to dst, return the bytes written. */
size_t mime_base64(const char *s, size_t n, char *dst, size_t cap);
size_t mime_qp(const char *s, size_t n, char *dst, size_t cap);
/* RFC 2047 encoded words (UTF-8, US-ASCII, ISO-8859-1 decoded; other
** charsets left as written); whitespace between words dropped. */
size_t mime_words(const char *s, size_t n, char *dst, size_t cap);

#endif
