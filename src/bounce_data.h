/*
** bounce_data.h: the free-text report layouts of data/bounce_formats.tsv,
** as compiled by data/gen_bounce.lua into src/bounce_data.c. Private to
** the bounce reader (src/bounce*.c, src/bounce_int.h).
*/
#ifndef smtpcode_bounce_data_h
#define smtpcode_bounce_data_h

enum {
  BF_DETECT = 1, BF_START = 2, BF_END = 3, BF_DELAYED = 4, BF_REASON = 5, BF_FEEDBACK = 6,
  BF_CHALLENGE = 7
};
enum {
  BW_BODY = 1, BW_SUBJECT = 2, BW_FROM = 3, BW_RECEIVED = 4,
  BW_BOUNDARY = 5, BW_DSN = 6, BW_HEADER = 7, BW_MTA = 8
};

/*
** Hash of the first three bytes of a phrase of 3 bytes or more (ASCII lowercased; HT, CR
** and LF read as a space): ((c0 * 31 + c1) * 31 + c2) % BF_HASH. A text is
** scanned once; only positions whose hash bit is set in the text's kind of
** smtpcode_bf_kindhash are compared with the phrases of that hash.
*/
#define BF_HASH 4096
#define BF_MAX_RULES 512

typedef struct bf_rule {
  unsigned char mta;   /* index into smtpcode_bf_mtas; 0 = any ("*") */
  unsigned char role;  /* BF_* */
  unsigned char where; /* BW_* */
  unsigned char hlen;  /* length of header (BW_HEADER) */
  unsigned char dash;  /* a ruler: a '-' (then blanks) must come before */
  unsigned short len;  /* length of text */
  unsigned short hash; /* len >= 3: hash of the first three bytes */
  const char *header;  /* lowercase field name (BW_HEADER), else "" */
  const char *text;    /* lowercase ASCII phrase (may be empty) */
  unsigned char sp1;   /* index of the first space of text (0: none) */
} bf_rule;

extern const bf_rule smtpcode_bf_rules[];
extern const int smtpcode_bf_nrules;
/* the index of the first received row (all are detect rows), or nrules */
extern const int smtpcode_bf_recvfirst;
/* bit h of kindhash[w] is set when a phrase of kind w (BW_*) has hash h */
extern const unsigned char smtpcode_bf_kindhash[BW_MTA + 1][BF_HASH / 8];
/* rules by hash (len >= 3): byhash[hashstart[h] .. hashstart[h + 1] - 1] */
extern const unsigned short smtpcode_bf_byhash[];
extern const unsigned short smtpcode_bf_hashstart[BF_HASH + 1];
/* byhash is sorted by phrase within a hash: lcp[x] is the length of the
   prefix entry x shares with entry x - 1 of the same hash (0 for the first) */
extern const unsigned char smtpcode_bf_lcp[];
extern const unsigned char smtpcode_bf_fold[256]; /* the folding of the hash */
/* rules whose phrase is under 3 bytes (matched apart from the hash) */
extern const unsigned short smtpcode_bf_short[];
extern const int smtpcode_bf_nshort;
/* bit w set when one of them is of kind w (BW_*) */
extern const unsigned smtpcode_bf_shortkinds;
/* a filter before the hash: bit (x << 8 | y) set when raw bytes x, y fold
   to the first two bytes of a hashed phrase */
extern const unsigned char smtpcode_bf_pair[65536 / 8];
/* the scan reads every step-th position ([0]: the body, [1]: the other
   texts): bit (x << 8 | y) of stepfilter is set when raw bytes x, y may be
   the bytes d, d + 1 (d < step) of a hashed phrase of that kind */
extern const int smtpcode_bf_step[2];
extern const unsigned char smtpcode_bf_stepfilter[2][65536 / 8];
/* the hashed rules of kind w, in file order: bywhere[wherestart[w] ..
   wherestart[w + 1] - 1] (wherestart[0] = wherestart[1] = 0) */
extern const unsigned short smtpcode_bf_bywhere[];
extern const unsigned short smtpcode_bf_wherestart[BW_MTA + 2];
/* the scan of a body, subject or From text (kind g = BW_BODY - 1,
   BW_SUBJECT - 1, BW_FROM - 1) with blank runs made one space: Wu-Manber
   over the first wmmin[g] bytes of the kind's phrases; wmshift[g][h] is how
   far a window ending with bytes a, b, c may move on, h the top 13 bits of
   the low 32 of (a + b * 256 + c * 65536) * 2654435761 */
#define BF_WM_KINDS 3
extern const int smtpcode_bf_wmmin[BF_WM_KINDS];
extern const unsigned char smtpcode_bf_wmshift[BF_WM_KINDS][8192];
/* rules that look at a named header field (BW_HEADER) */
extern const unsigned short smtpcode_bf_hdr[];
extern const int smtpcode_bf_nhdr;
/* bit l set when one of them names a field of l bytes (bit 0: 64 or more) */
extern const unsigned long long smtpcode_bf_hdrlens;
extern const char *const smtpcode_bf_mtas[]; /* [0] = NULL */
extern const int smtpcode_bf_nmtas;

#endif
