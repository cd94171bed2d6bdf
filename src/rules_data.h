/*
** rules_data.h: private declarations of the tables that data/gen_rules.lua
** writes into src/rules_data.c, for src/classify.c. Not installed.
*/
#ifndef smtpcode_rules_data_h
#define smtpcode_rules_data_h

#include <stddef.h>

#include "reasons_data.h" /* smtpcode_rd_reasons, smtpcode_rd_scopes */

/* Internal to the library, whatever the compiler flags (a LuaRocks build
** does not pass -fvisibility=hidden): only SMTPCODE_API is exported. */
#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility push(hidden)
#endif

/*
** The automaton (data/gen_rules.lua explains it); the tables named here
** without a prefix are members of smtpcode_rd_scan. A byte's class is
** cls[byte]. Classes below nlo are low (class 0, a byte in no phrase, and
** the ASCII bytes of phrases), the others high (UTF-8 bytes). bcls[byte]
** is col * k0 for a low class c (col: its column in lo), SCR_HIGH | c for
** a high one. States come in
** three kinds, numbered in this order; state 0 is the root:
**   [0, k0)  dense: a complete row (failure links resolved; class 0 leads
**            to the root) in two parts: low class c at lo[col * k0 + s]
**            (stored by column, so the scan adds bcls[byte] to the state;
**            classes that no dense state tells apart share a column);
**            high class c: with h = hoff[s], hx[h + c - nlo].to when
**            hx[h + c - nlo].chk is h, else the root's, hdef[c - nlo] (a
**            comb of the classes where a high row differs from the root's);
**   [k0, ks) sparse: class chr[s - k0] leads to to[s - k0], any other
**            class to where the row of dense state fb[s - k0] leads (chr
**            255: no such class);
**   [ks, nstates) states that end a phrase: smtpcode_rd_emit[s - ks].
** So the common case, a dense state on a low class, is two compares that
** do not wait for the lookup, one add and one lookup.
*/
/* A class -> state. */
typedef struct scr_edge {
  unsigned char cls;
  unsigned short to;
} scr_edge;

typedef struct scr_emit {
  short out;            /* the phrase that ends here, -1 when none */
  unsigned short dict;  /* next state on the failure chain that ends a
                           phrase, 0 when none */
  unsigned short dense; /* fallback: a dense state */
  unsigned short exc;   /* classes whose next state differs from the */
  unsigned char nexc;   /* fallback's: smtpcode_rd_edges[exc .. + nexc) */
} scr_emit;

/* Phrase flags: 1 word boundary before, 2 after; marker kind in bits 2-3
** (1 recipient, 2 sender, 3 sender-reply); 16 some rule has this phrase;
** 32 a delay notice (@delayed). */
typedef struct scr_phrase {
  unsigned char len; /* at most SCR_MAXDEPTH */
  unsigned char flags;
  unsigned short first; /* rules whose first phrase this is: */
  unsigned short nfirst; /* smtpcode_rd_first[first .. first+nfirst) */
} scr_phrase;

/* Condition kinds: 0 reply code == a; 1 severity class == a; 2 enhanced
** code (a class or 0 for any, b subject, c detail or -1 for any); 3 no
** code at all; 4 no enhanced code. */
typedef struct scr_cond {
  unsigned char kind;
  short a, b, c;
} scr_cond;

typedef struct scr_rule {
  unsigned char reason, scope, prio, who, flags;
  unsigned char nphr, ncond;
  unsigned char mhi;    /* bits 16-23 of the match offset */
  unsigned short phr;   /* smtpcode_rd_rphrases[phr .. phr+nphr) */
  unsigned short cond;  /* smtpcode_rd_conds[cond .. cond+ncond) */
  unsigned short total; /* bytes of all phrases */
  unsigned short line;  /* line in data/rules.tsv */
  unsigned short match; /* the text: smtpcode_rd_match + (mhi << 16 |
                           match) (an offset, so that the table needs no
                           relocation; 18 bytes a rule, no padding) */
} scr_rule;

typedef struct scr_enh {
  short cls, subject, detail; /* cls 0: any class; detail -1: any detail */
  unsigned char reason, strength;
} scr_enh;

typedef struct scr_reply {
  short code;
  unsigned char reason, strength;
} scr_reply;

#define SCR_HIGH (1u << 24) /* a high class in bcls (above every c * k0) */
#define SCR_MAXDEPTH 64 /* the longest phrase; data/gen_rules.lua checks */
/* The scan's tables in one struct (so one base register reaches them),
** generated with their sizes: SCR_K0 (k0), SCR_KS (ks), SCR_NLO (nlo),
** SCR_NCOL (distinct low columns), SCR_LOEND (ncol * k0). */
#include "rules_scan.h"
extern const scr_scan smtpcode_rd_scan;
extern const int smtpcode_rd_ncls;
extern const unsigned smtpcode_rd_nstates;
extern const unsigned char smtpcode_rd_depth[]; /* [nstates] */
extern const scr_emit smtpcode_rd_emit[];      /* [nstates - ks] */
extern const scr_edge smtpcode_rd_edges[];
extern const scr_phrase smtpcode_rd_phrases[];
extern const unsigned short smtpcode_rd_first[];
/* a rule's phrases: the phrase id in bits 0-14; bit 15 set when the phrase
   must lie near the one before it ("a ~ b", src/classify.c near()) */
extern const unsigned short smtpcode_rd_rphrases[];
extern const scr_cond smtpcode_rd_conds[];
extern const scr_rule smtpcode_rd_rules[];
extern const char smtpcode_rd_match[]; /* NUL-ended texts, one pool */
extern const scr_enh smtpcode_rd_enh[];
/* enhanced entries of subject s: [enhsub[s], enhsub[s + 1]), s < nsub */
extern const unsigned char smtpcode_rd_enhsub[];
extern const int smtpcode_rd_nsub;
extern const scr_reply smtpcode_rd_reply[];
/* reply code c: smtpcode_rd_reply[replyidx[c - 200] - 1], none when 0 */
extern const unsigned char smtpcode_rd_replyidx[400];
extern const int smtpcode_rd_nrules;
extern const int smtpcode_rd_nphrases;
extern const int smtpcode_rd_nenh;
extern const int smtpcode_rd_nreply;

/* smtpcode_classify with the scan's split point (src/classify.c): texts
** of split bytes or more are read by four interleaved streams. The tests
** compare splits; everyone else calls smtpcode_classify. */
struct smtpcode_found;
struct smtpcode_verdict;
int smtpcode_classify_split(const char *s, size_t len,
                            const struct smtpcode_found *f,
                            struct smtpcode_verdict *out, int split);
/* A digest of what the scan found in s (phrases, where, markers), for the
** same comparison. */
unsigned long smtpcode_scan_digest(const char *s, size_t len, int split);

#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility pop
#endif

#endif
