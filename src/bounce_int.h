/*
** bounce_int.h: what the files of the bounce reader share: the state of
** one read (ctx), the matched phrases (hits), small helpers, and the
** functions each file gives the others. Private to the C core: not
** installed, not part of the public API (src/bounce.h is).
**
**   bounce.c         the entry point: one read in order, each recipient's
**                    verdict (settle), the small API
**   bounce_walk.c    the MIME walk, header fields, DSN field groups
**   bounce_scan.c    the phrase scanner of data/bounce_formats.tsv
**   bounce_report.c  free-text reports, Amazon SES JSON, ARF feedback,
**                    the returned message's headers
*/
#ifndef smtpcode_bounce_int_h
#define smtpcode_bounce_int_h

#include <string.h>

#include "bounce.h"
#include "bounce_data.h"
#include "mime.h"

#if defined(__SSE2__) && defined(__GNUC__) && !defined(SMTPCODE_NO_SIMD)
#include <emmintrin.h>
#define BOUNCE_SSE2 1
#endif

/* Internal to the library, whatever the compiler flags (a LuaRocks build
** does not pass -fvisibility=hidden): only SMTPCODE_API is exported. */
#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility push(hidden)
#endif

#define lower(c) ((unsigned char)((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c)))
#define isblank_(c) ((c) == ' ' || (c) == '\t')
#define isdig(c) ((unsigned)((c) - '0') < 10u)
#define hfold(ch) smtpcode_bf_fold[(unsigned char)(ch)]
/* A byte of a word: a letter, a digit, '-', or part of a UTF-8 sequence. */
#define isword(ch)                                                             \
  ((unsigned)(((unsigned char)(ch) | 32) - 'a') < 26u || isdig(ch) || (ch) == '-' || \
   (unsigned char)(ch) >= 0x80)

#define MAX_DSN 4
#define MAX_TEXT_SCAN (256 * 1024) /* bytes of the text part searched */
#define RET_MAX (256 * 1024) /* bytes of a returned message decoded */
#define MERGE_MAX 16 /* recipients whose own lines are looked for in a text */
#define SCAN_HEAD 4096 /* bytes where any phrase is looked for */
#define RCPT_AFTER 1024 /* bytes after a section where "RCPT TO:" is looked for */
#define RCPT_ABOVE 512 /* bytes before a section where an address line is looked for */
#define MAX_HTML (64 * 1024) /* bytes of an HTML-only report's part decoded */
#define SCAN_HEAD_DSN 1024 /* the same when a DSN part named recipients */
#define DSN_HEAD 512 /* bytes of a DSN part where its clues are looked for */
#define RECEIVED_HEAD 3 /* Received fields (the newest) looked at */

typedef struct ctx {
  const char *m;
  size_t n;
  char *buf;
  size_t cap, used;
  int max_depth, max_parts, max_header, max_rcpt;
  int parts;
  smtpcode_breport *out;
  smtpcode_brcpt *r;
  int rcap;
  const char *hdr; /* top header block */
  size_t hdrn;
  const char *bnd; /* top boundary */
  size_t bndn;
  const char *dsn[MAX_DSN];
  size_t dsnn[MAX_DSN];
  int ndsn;
  const char *fb, *text, *html, *ret, *xfr, *retall, *htmlcte;
  size_t fbn, textn, htmln, retn, xfrn, retalln, htmlcten;
  int too_long;
  /* the text part is decoded only when it is read (tpending: c->text is
     still as written, of transfer encoding tcte) */
  const char *tcte;
  size_t tcten;
  int tpending;
  /* a quoted-printable text part decoded only as far as its head was
     read: the rest as written (textall decodes it after the head) */
  const char *traw;
  size_t trawn;
  const char *recv[RECEIVED_HEAD]; /* the newest Received fields' values */
  size_t recvn[RECEIVED_HEAD];
  int nrecv;
} ctx;

/* The rules that matched: at[k] the offset of rule k (-1: none), and the
** matched indexes in file order (few: the loops over matches read them,
** not every rule). */
typedef struct hits {
  long at[BF_MAX_RULES];
  unsigned short k[BF_MAX_RULES];
  int n;
  /* the first detect row (file order) that matched, BF_MAX_RULES before
     one did: only it names the writer (matchrole), so a detect row after
     it is not looked for */
  int detect;
} hits;

/* {====================================================== spans */

/* The span of p[0..len), in the message or in the buffer (bounce_walk.c:
** out of line, which keeps the registers of the walk's loops free). */
smtpcode_span bounce_sp(const ctx *c, const char *p, size_t len);

static inline int samespan(smtpcode_span a, smtpcode_span b) {
  return a.off == b.off && a.len == b.len && a.where == b.where;
}

static inline const char *at(const ctx *c, smtpcode_span s) {
  return (s.where ? c->buf : c->m) + s.off;
}

static inline size_t room(const ctx *c) { return c->cap - c->used; }
/* Only called once room() said there is some: buf is then not NULL. */
static inline char *cur(ctx *c) { return c->buf + c->used; }

/* }====================================================== */

/* {====================================================== small helpers */

/* The bytes of an address, by table (bounce_walk.c): bit 1 a byte of a
** local part (atext and '.'), bit 2 of a domain (letters, digits, '.',
** '-', '_'); bytes from 0x80 on are both (UTF-8). */
extern const unsigned char bounce_addrbyte[256];
static inline int isatext(unsigned char ch) { return bounce_addrbyte[ch] & 1; }
static inline int isdtext(unsigned char ch) { return bounce_addrbyte[ch] & 2; }

/* Case-insensitive equality of a[0..n) and b[0..n), either in any case
** (mime_ieqn wants its second text lowercase). */
static inline int ieqboth(const char *a, const char *b, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (lower(a[i]) != lower(b[i])) return 0;
  return 1;
}

static inline int sameaddr(const ctx *c, smtpcode_span a, const char *b, size_t bn) {
  return (size_t)a.len == bn && ieqboth(at(c, a), b, bn);
}

/* Whether rule ru applies to a text of kind where (a header named name). */
static inline int applies(const bf_rule *ru, int where, const char *name, size_t nl) {
  if (ru->where != where) return 0;
  return where != BW_HEADER || (nl == ru->hlen && mime_ieqn(name, ru->header, nl));
}

/* The first rule of role that matched (file order), or -1. */
static inline int matchrole(const hits *hs, int role) {
  int j;
  for (j = 0; j < hs->n; j++)
    if (smtpcode_bf_rules[hs->k[j]].role == role) return hs->k[j];
  return -1;
}

/* }====================================================== */

/* {====================================================== bounce_walk.c */

/* Whether the type of a Content-Type (or encoding) value v[0..n), up to
** ';', is z (lowercase). */
int bounce_ctis(const char *v, size_t n, const char *z);
/* Decode a leaf body by its transfer encoding into the buffer (as written
** when it has none, or when the buffer is short). */
void bounce_decode(ctx *c, const char *p, size_t n, const char *cte, size_t cten,
                   const char **op, size_t *on);
/* Length of the header block at p (up to and excluding the empty line),
** and the start of the body. */
size_t bounce_hblock(const char *p, size_t n, size_t *body);
/* Start of the body after a header block that ended at i. */
size_t bounce_bodystart(const char *p, size_t n, size_t i);
/* The body of an entity whose header gave ct and cte: walked, and the
** parts that matter kept in c. */
void bounce_body(ctx *c, const char *ct, size_t ctn, const char *cte, size_t cten,
                 const char *bp, size_t bn, int depth);
/* The first field `name` (lowercase) of a header block. */
int bounce_hget(ctx *c, const char *h, size_t hn, const char *name, const char **v,
                size_t *vn);
/* s[0..n) unfolded: in place when it is one line (blanks around it left
** out), else copied into the buffer (as written when the buffer is full). */
smtpcode_span bounce_unfold_sp(ctx *c, const char *s, size_t n);
/* An address at s[i..n): its length, or 0. */
size_t bounce_addrlen(const char *s, size_t n, size_t i);
/* The address of a typed value ("rfc822; <a@b>"). */
void bounce_addrvalue(const char *v, size_t vn, size_t *o, size_t *l);
/* SMTPCODE_ACT_* of an Action value. */
int bounce_actionof(const char *v, size_t n);
/* The d.d.d of a Status value. */
smtpcode_span bounce_statusvalue(ctx *c, const char *v, size_t n);
/* A diagnostic unfolded into the buffer, repeated reply codes left out. */
smtpcode_span bounce_diagtext(ctx *c, const char *s, size_t n);
/* A new recipient (zeroed), or NULL past the limits. */
smtpcode_brcpt *bounce_newrcpt(ctx *c);
/* Whether a recipient with the address a[0..an) is already known. */
int bounce_known(const ctx *c, const char *a, size_t an);
/* DSN field groups of p[0..n); returns the recipients added. */
int bounce_dsnfields(ctx *c, const char *p, size_t n);
/* Recipients without an address dropped (from index from on). */
void bounce_compact(ctx *c, int from);
/* X-Failed-Recipients' addresses for DSN recipients that are none. */
void bounce_xfraddr(ctx *c);

/* }====================================================== */

/* {====================================================== bounce_scan.c */

/* Every rule of kind where against s[0..n): hs gets the first offset of
** each (+ base); past head bytes only end phrases, up to the first. */
void bounce_hscan(const char *s, size_t n, int where, const char *name, size_t nl,
                  hits *hs, long base, size_t head);
/* The whole text part decoded (after a head decoded by the scan). */
void bounce_textall(ctx *c);
/* The rules on the boundary, the DSN parts, the Received fields and the
** text (scanhead: the bytes of the text where any phrase is looked for). */
void bounce_scanrules(ctx *c, hits *hit, size_t scanhead);

/* }====================================================== */

/* {====================================================== bounce_report.c */

/* A line s[i..e) that starts with an address: its length and *ao, or 0. */
size_t bounce_lineaddr(const char *s, size_t e, size_t i, size_t *ao);
/* The first address anywhere in s[0..n), or 0. */
size_t bounce_anyaddr(const char *s, size_t n, size_t *ao);
/* The free-text section [*so, *eo) of the text and the mta of its start
** phrase; 0 when there is none. */
int bounce_section(ctx *c, const hits *hs, size_t *so, size_t *eo, int *mta, int whole);
/* Recipients of the free-text section [so, eo); 1 when any was added. */
int bounce_textreport(ctx *c, size_t so, size_t eo, int action);
/* 1 when the text is an Amazon SES notification (recipients added). */
int bounce_sesjson(ctx *c);
/* The fields of an ARF feedback report, its complainants as recipients. */
void bounce_feedback(ctx *c);
/* The returned message's header fields into the report. */
void bounce_returned(ctx *c);
/* The returned headers of a free-text report, after its section. */
void bounce_textreturned(ctx *c, size_t eo);

/* }====================================================== */

#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility pop
#endif

#endif
