/*
** mojibake.h: repair of double-encoded UTF-8 (src/mojibake.c), internal to
** the C core: classify reads the repaired text.
**
** A double-encoded text is UTF-8 whose bytes were read as Latin-1 or
** Windows-1252 and encoded as UTF-8 again: "é" (C3 A9) becomes "Ã©" (C3 83
** C2 A9), Cyrillic "по" (D0 BF D0 BE) becomes "Ð¿Ð¾". Logs, webhooks and
** forwarded bounces carry such text.
*/
#ifndef smtpcode_mojibake_h
#define smtpcode_mojibake_h

#include <stddef.h>

#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility push(hidden)
#endif

/*
** Bytes of repaired text classify keeps on its stack: a text whose repair
** is longer is read as it is.
*/
#if !defined(SMTPCODE_MAX_REPAIR)
#define SMTPCODE_MAX_REPAIR 8192
#endif

/*
** smtpcode_unmojibake: copy s[0..len) to out[0..cap), replacing each run
** of characters that are the Latin-1 or Windows-1252 reading of the bytes
** of one valid UTF-8 sequence (a lead byte C2..F4 and its continuation
** bytes, no overlong form, no surrogate, nothing past U+10FFFF) by those
** bytes. Everything else is copied as it is, invalid UTF-8 included.
** Returns the bytes written; *used (may be NULL) receives the input bytes
** they stand for: len, unless out filled up first (a sequence is never
** cut). The output is never longer than the input it stands for; one
** pass, no allocation, no read outside s[0..len).
*/
size_t smtpcode_unmojibake(const char *s, size_t len, char *out, size_t cap,
                           size_t *used);

/*
** smtpcode_mojibake_view: the text classify reads. When s[0..n) holds a
** sequence to repair, or a typographic apostrophe U+2019 (written as an
** ASCII apostrophe, as the rules are: "n’existe pas", "wasn’t found"),
** and the whole text so read fits in buf[0..cap), write it there, point *s
** at buf and return its length; otherwise return n, *s unchanged. A text
** without byte C3 followed by 82..B4 (the only way a repaired sequence can
** start) nor E2 80 99 costs two memchr.
*/
int smtpcode_mojibake_view(const char **s, int n, char *buf, int cap);

#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility pop
#endif

#endif
