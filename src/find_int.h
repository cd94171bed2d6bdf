/*
** find_int.h: what the two files of smtpcode_find share (src/find.c, the
** scan and the answer; src/find_context.c, the judgement of the bytes
** before a candidate). Private to the C core: not installed, not part of
** the public API.
*/
#ifndef smtpcode_find_int_h
#define smtpcode_find_int_h

/* Internal to the library, whatever the compiler flags (a LuaRocks build
** does not pass -fvisibility=hidden): only SMTPCODE_API is exported. */
#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility push(hidden)
#endif

#define isdig(c) ((unsigned)((c) - '0') < 10u)

static inline int isalpha_(int c) {
  c |= 0x20;
  return c >= 'a' && c <= 'z';
}

static inline int isalnum_(int c) { return isdig(c) || isalpha_(c); }

static inline int isblank_(int c) { return c == ' ' || c == '\t'; }

static inline int iseol(int c) { return c == '\n' || c == '\r'; }

/* Openers and closers: ASCII bytes, or these for UTF-8 quotes. */
enum {
  Q_LSQ = 0x101, /* U+2018 ‘ */
  Q_RSQ,         /* U+2019 ’ */
  Q_LDQ,         /* U+201C “ */
  Q_RDQ,         /* U+201D ” */
  Q_LAQ,         /* U+00AB « */
  Q_RAQ          /* U+00BB » */
};

/* How much the left context of a candidate vouches for it. */
enum { L_REJECT = 0, L_BARE = 1, L_CTX = 2, L_ANCHOR = 3 };

/* Keyword attributes: Q reports another server's words, R introduces a
   reply code, E may precede '=' ("dsn=5.1.1"), V a version number. */
enum { K_Q = 1, K_R = 2, K_E = 4, K_V = 8 };

typedef struct ctx {
  int level; /* L_* */
  int open;  /* opener right before the token: byte or Q_*, 0 if none */
  int kw;    /* attributes of the keyword before it, 0 if none */
} ctx;

/* Judge the left context of the token starting at s[i]: its level (L_*),
** the opener right before it and the attributes of a keyword before it. */
void find_context(const unsigned char *s, int i, ctx *x);
/* The byte or Q_* that closes the opener op, 0 if none. */
int find_closer(int op);

/* An opening quote: ASCII, or a UTF-8 one. */
static inline int isquote(int op) {
  return op == '\'' || op == '"' || op == '`' || op == Q_LSQ ||
         op == Q_LDQ || op == Q_LAQ;
}

#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility pop
#endif

#endif
