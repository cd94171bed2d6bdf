/*
** mime.h: private MIME primitives of the bounce reader (src/mime.c).
** Not part of the public API: pointers and lengths, no Lua, no allocation.
*/
#ifndef smtpcode_mime_h
#define smtpcode_mime_h

#include <stddef.h>

/* End of the line starting at i (index of its CR or LF, or n). */
size_t mime_eol(const char *s, size_t n, size_t i);
/* Start of the line after the one ending at e (e from mime_eol). */
size_t mime_next(const char *s, size_t n, size_t e);

/* Case-insensitive equality of s[0..n) and the NUL-terminated lower z. */
int mime_ieq(const char *s, size_t n, const char *z);
/* The same where z is known to be n bytes long (lowercase): eight bytes
** at a time. */
int mime_ieqn(const char *s, const char *z, size_t n);
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
