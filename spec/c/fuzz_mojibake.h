/*
** fuzz_mojibake.h: the invariants of the repair of double-encoded UTF-8
** (src/mojibake.c), for spec/c/fuzz_mojibake.c and the replayer
** spec/c/test_fuzz_regress.c.
**
** Input: 1 mode byte, then the text. Bit 0 picks the reading of the
** round trip (Latin-1 or Windows-1252); bits 1-7 a small output room.
**   - the output is never longer than the input it stands for, and with
**     room for the whole input all of it is read;
**   - a text without byte C3 comes back unchanged;
**   - valid UTF-8 in, valid UTF-8 out;
**   - round trip: the text made valid UTF-8 (invalid bytes as '?') and
**     double-encoded comes back exactly: nothing is repaired that does not
**     round-trip, nothing that does is missed;
**   - with little room: a prefix of the whole repair, never a cut sequence;
**   - classify's view: a length no longer than the text, the text itself
**     when it does not change it, else what the repair (and the apostrophe)
**     gives;
**   - ASan: no read past the end of the text (an exact-size copy).
*/
#ifndef smtpcode_fuzz_mojibake_h
#define smtpcode_fuzz_mojibake_h

#include "fuzz.h"
#include "mojibake_ref.h"
#include "../../src/mojibake.h"

/* Does s[0..n) hold E2 80 99 (U+2019)? */
static inline int fm_apostrophe(const char *s, size_t n) {
  size_t i;
  for (i = 0; i + 2 < n; i++)
    if ((unsigned char)s[i] == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
        (unsigned char)s[i + 2] == 0x99)
      return 1;
  return 0;
}

static inline void check_mojibake(const uint8_t *data, size_t size) {
  uint8_t mode = size ? data[0] : 0;
  size_t n = size ? size - 1 : 0, o, used, i, m, o2, used2;
  size_t room = (size_t)(mode >> 1);
  char *s = fz_dup(data + (size ? 1 : 0), n), *out, *part, *vbuf;
  unsigned char *u, *d;
  const char *view;
  int vn, hasc3 = memchr(s, 0xC3, n) != NULL;

  out = (char *)malloc(n + 1);
  part = (char *)malloc(room + 1);
  vbuf = (char *)malloc(n + 1);
  u = (unsigned char *)malloc(n + 1);
  d = (unsigned char *)malloc(3 * n + 1);
  FZ_CHECK(out && part && vbuf && u && d);

  o = smtpcode_unmojibake(s, n, out, n, &used);
  FZ_CHECK(used == n && o <= n);
  if (!hasc3) FZ_CHECK(o == n && memcmp(out, s, n) == 0);
  if (mr_valid((const unsigned char *)s, n))
    FZ_CHECK(mr_valid((const unsigned char *)out, o));

  /* a small room: a prefix of the whole repair, standing for used2 bytes */
  o2 = smtpcode_unmojibake(s, n, part, room, &used2);
  FZ_CHECK(o2 <= room && o2 <= used2 && used2 <= n);
  FZ_CHECK(memcmp(part, out, o2) == 0);
  if (used2 < n) FZ_CHECK(o2 + 4 > room); /* stopped only for want of room */

  /* the round trip */
  for (i = 0; i < n;) {
    size_t k = 1;
    unsigned c = (unsigned char)s[i];
    if (c >= 0x80) {
      k = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
          : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
      if (k == 0 || i + k > n || !mr_valid((const unsigned char *)s + i, k))
        k = 0;
    }
    if (k == 0) {
      u[i] = '?';
      i++;
    } else {
      memcpy(u + i, s + i, k);
      i += k;
    }
  }
  FZ_CHECK(mr_valid(u, n));
  m = mr_encode(u, n, d, mode & 1);
  {
    char *dd = fz_dup(d, m), *back = (char *)malloc(m + 1);
    FZ_CHECK(back != NULL);
    o2 = smtpcode_unmojibake(dd, m, back, m, &used2);
    FZ_CHECK(used2 == m && o2 == n && memcmp(back, u, n) == 0);
    free(back);
    free(dd);
  }

  /* classify's view */
  view = s;
  vn = smtpcode_mojibake_view(&view, (int)n, vbuf, (int)n);
  FZ_CHECK(vn >= 0 && (size_t)vn <= n);
  if (view == s) {
    FZ_CHECK((size_t)vn == n);
  } else {
    FZ_CHECK(view == vbuf);
    /* without apostrophes to fold, the view is the repair itself */
    if (!fm_apostrophe(s, n) && !fm_apostrophe(out, o))
      FZ_CHECK((size_t)vn == o && memcmp(vbuf, out, o) == 0);
    else
      FZ_CHECK((size_t)vn <= o);
  }
  fz_sink = (int)(o + o2 + (size_t)vn);

  free(d);
  free(u);
  free(vbuf);
  free(part);
  free(out);
  free(s);
}

#endif
