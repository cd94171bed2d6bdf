/*
** smtpcode.h: public interface of the smtpcode C core.
**
** Freestanding C99. No Lua header, no allocation, no global state, no
** callbacks. Every input is a span (pointer + length) into the caller's
** buffer; every output is a caller-allocated struct. Offsets reported in
** the output structs are byte offsets from the start of the input span.
** Functions return the number of bytes consumed (>= 0) or a negative
** smtpcode_status. Enums carry explicit values so that a LuaJIT FFI cdef
** can mirror them.
**
** The same declarations (minus the macros) are repeated in the FFI cdef
** of lua/smtpcode/ffi.lua; spec/ffi_layout_spec.lua checks that they agree.
*/
#ifndef smtpcode_h
#define smtpcode_h

#include <stddef.h>

#define SMTPCODE_VERSION "0.1.0"

#if !defined(SMTPCODE_API)
#if defined(__GNUC__)
#define SMTPCODE_API __attribute__((visibility("default")))
#else
#define SMTPCODE_API
#endif
#endif

/*
** Limits. Each one is a default that a caller may lower or raise per call
** through smtpcode_opts; the macros may be overridden at build time.
** RFC 5321 section 4.5.3.1.5 allows 512 octets per reply line; real servers
** exceed it, so the defaults are generous but bounded.
*/
#if !defined(SMTPCODE_MAX_LINE)
#define SMTPCODE_MAX_LINE 8192 /* bytes per line, line ending excluded */
#endif
#if !defined(SMTPCODE_MAX_LINES)
#define SMTPCODE_MAX_LINES 1000 /* lines per reply */
#endif
#if !defined(SMTPCODE_MAX_REPLY)
#define SMTPCODE_MAX_REPLY 65536 /* bytes per reply, line endings included */
#endif
/* Upper bound accepted for any limit (keeps every offset in an int). */
#define SMTPCODE_LIMIT_CEILING 0x3fffffff

/* Negative results. Each has a stable short name (smtpcode_status_name). */
typedef enum smtpcode_status {
  SMTPCODE_OK = 0,
  SMTPCODE_ESYNTAX = -1,       /* "syntax": not a reply line */
  SMTPCODE_EINCOMPLETE = -2,   /* "incomplete": more bytes are needed */
  SMTPCODE_EINCONSISTENT = -3, /* "inconsistent": lines carry different codes */
  SMTPCODE_ETOOLONG = -4,      /* "too_long": a limit was exceeded */
  SMTPCODE_ENOTFOUND = -5      /* "not_found": no code in free text */
} smtpcode_status;

/* Severity, from the first digit of the reply code (RFC 5321 4.2.1). */
typedef enum smtpcode_severity {
  SMTPCODE_SEV_UNKNOWN = 0,
  SMTPCODE_SEV_SUCCESS = 2,
  SMTPCODE_SEV_INTERMEDIATE = 3,
  SMTPCODE_SEV_TRANSIENT = 4,
  SMTPCODE_SEV_PERMANENT = 5
} smtpcode_severity;

/* Bits of smtpcode_line.flags and smtpcode_reply.flags. */
typedef enum smtpcode_flag {
  SMTPCODE_F_CONTINUED = 1,   /* line: "-" separator, more lines follow */
  SMTPCODE_F_MISMATCH = 2,    /* enhanced class differs from the reply class */
  SMTPCODE_F_NONSTANDARD = 4, /* lenient mode accepted something strict rejects */
  SMTPCODE_F_NOEOL = 8,       /* line (or final line) had no line ending */
  SMTPCODE_F_ENH_VARIES = 16  /* reply: lines carry different enhanced codes */
} smtpcode_flag;

/* Bits of smtpcode_opts.flags. */
typedef enum smtpcode_optflag {
  SMTPCODE_O_LENIENT = 1 /* accept 571-style codes, HT separators, "#5.1.0" */
} smtpcode_optflag;

/* Per-call options. A NULL pointer, or 0 in a limit, means the default. */
typedef struct smtpcode_opts {
  int flags;     /* smtpcode_optflag bits */
  int max_line;  /* bytes per line, ending excluded */
  int max_lines; /* lines per reply */
  int max_reply; /* bytes per reply */
} smtpcode_opts;

/* One reply line. */
typedef struct smtpcode_line {
  int code;     /* reply code, e.g. 550 */
  int cls;      /* enhanced class 2, 4 or 5; 0 when the line has none */
  int subject;  /* enhanced subject (when cls != 0) */
  int detail;   /* enhanced detail (when cls != 0) */
  int flags;    /* smtpcode_flag bits */
  int enh_off;  /* enhanced code span ("5.1.1", without any '#') */
  int enh_len;  /* 0 when none */
  int text_off; /* text after the separator and enhanced code */
  int text_len; /* line ending excluded */
  int length;   /* bytes of the line, line ending included */
} smtpcode_line;

/* A whole reply: summary of its lines. */
typedef struct smtpcode_reply {
  int code;     /* reply code shared by every line */
  int cls;      /* enhanced code of the first line that has one; 0 if none */
  int subject;
  int detail;
  int flags;    /* SMTPCODE_F_MISMATCH, _NONSTANDARD, _NOEOL, _ENH_VARIES */
  int enh_off;  /* span of the chosen enhanced code */
  int enh_len;
  int nlines;   /* lines in the reply; on error, the 1-based failing line */
  int length;   /* bytes consumed by the reply */
} smtpcode_reply;

/*
** smtpcode_parse_line: parse the first line of s[0..len).
** The line ends at the first LF (a CR before it is dropped); without an LF
** the whole span is taken as one complete line (what a socket reader that
** strips line endings hands over). Returns the bytes consumed (line ending
** included) or a negative status: SMTPCODE_ESYNTAX when the line is not a
** reply line, SMTPCODE_ETOOLONG past opts->max_line.
** opts may be NULL. out is always written (out->flags has SMTPCODE_F_NOEOL
** when no LF was found, even on error).
*/
SMTPCODE_API int smtpcode_parse_line(const char *s, size_t len,
                                     const smtpcode_opts *opts,
                                     smtpcode_line *out);

/*
** smtpcode_parse_reply: parse one complete reply (one or more lines) at
** the start of s[0..len). Bytes after the reply (a pipelined next reply)
** are left alone. The final line may lack its line ending: without one
** it is complete as it stands ("250" and "250 ok" are replies, "25" is
** SMTPCODE_ESYNTAX); waiting for more bytes is a stream reader's job.
** SMTPCODE_EINCOMPLETE: empty input, or the last line is a continuation.
** Up to cap lines are stored in lines[] (lines may be NULL when cap is 0);
** out->nlines tells how many the reply has. Returns the bytes consumed or
** a negative status; on error out->nlines is the 1-based number of the
** line at fault.
*/
SMTPCODE_API int smtpcode_parse_reply(const char *s, size_t len,
                                      const smtpcode_opts *opts,
                                      smtpcode_reply *out,
                                      smtpcode_line *lines, int cap);

/*
** smtpcode_parse_status: parse a bare enhanced status code that spans
** exactly s[0..len) ("5.7.26"). Returns len, or SMTPCODE_ESYNTAX.
** On success *cls, *subject, *detail are set (pointers must be valid).
*/
SMTPCODE_API int smtpcode_parse_status(const char *s, size_t len, int *cls,
                                       int *subject, int *detail);

/* Severity of a reply code (0 .. 999). */
SMTPCODE_API int smtpcode_severity_of(int code);

/* Stable names. Unknown values give NULL. */
SMTPCODE_API const char *smtpcode_status_name(int status);
SMTPCODE_API const char *smtpcode_severity_name(int severity);

/*
** smtpcode_status_message: the message of a negative status met at line
** (1-based) of a reply, as every binding gives it ("line 2 is not a valid
** reply line"; src/status.c), written like snprintf: at most cap bytes to
** out, NUL-terminated when cap > 0 (out may be NULL when cap is 0).
** Returns the length of the whole message; a status with no message of
** its own gets "error <status> at line <line>". 64 bytes always suffice.
*/
#define SMTPCODE_MESSAGE_MAX 64
SMTPCODE_API int smtpcode_status_message(int status, int line, char *out,
                                         size_t cap);

SMTPCODE_API const char *smtpcode_version(void);

/*
** {======================================================
** Code registry (src/registry.c, tables in src/registry_data.c)
** =======================================================
*/

/*
** The code registry: what every reply code and enhanced status code
** means. Tables are const, generated from the TSV files in data/ by
** data/gen_registry.lua (src/registry_data.c). Every lookup is a binary
** search or a direct index; nothing is allocated. Returned pointers stay
** valid for the life of the program.
*/

/* Where a code comes from (smtpcode_entry.standard). */
typedef enum smtpcode_standard {
  SMTPCODE_STD_UNKNOWN = 0,
  SMTPCODE_STD_STANDARD = 1,     /* "standard": RFC 5321, RFC 3463 */
  SMTPCODE_STD_EXTENSION = 2,    /* "extension": an RFC extension */
  SMTPCODE_STD_EXPERIMENTAL = 3, /* "experimental": an experimental RFC */
  SMTPCODE_STD_DRAFT = 4,        /* "draft": an Internet-Draft */
  SMTPCODE_STD_REGISTRY = 5,     /* "registry": named only in the IANA registry */
  SMTPCODE_STD_NONSTANDARD = 6   /* "non-standard": servers and code lists */
} smtpcode_standard;

/* Tables of the registry (smtpcode_entry.kind). */
typedef enum smtpcode_regkind {
  SMTPCODE_REG_REPLY = 1,     /* "reply": main meaning of a reply code */
  SMTPCODE_REG_REPLY_ALT = 2, /* "reply_alt": meaning in an extension's context */
  SMTPCODE_REG_DIGIT = 3,     /* "digit": meaning of a reply code digit */
  SMTPCODE_REG_ENHANCED = 4,  /* "enhanced": registry entry X.s.d */
  SMTPCODE_REG_CLASS = 5,     /* "class": enhanced class 2, 4, 5 */
  SMTPCODE_REG_SUBJECT = 6,   /* "subject": enhanced subject X.s */
  SMTPCODE_REG_PAIR = 7,      /* "pair": a common (reply, enhanced) pair */
  SMTPCODE_REG_NOTE = 8       /* "note": a provider's own use of a code */
} smtpcode_regkind;

/* How smtpcode_enhanced_info found its answer. */
typedef enum smtpcode_fallback {
  SMTPCODE_FB_NONE = 0,    /* "none": the code itself is registered */
  SMTPCODE_FB_SUBJECT = 1, /* "subject": unknown detail, X.s.0 returned */
  SMTPCODE_FB_CLASS = 2    /* "class": unknown subject, class returned */
} smtpcode_fallback;

/*
** One registry row. Strings are NUL-terminated UTF-8, NULL when the field
** does not apply or is empty; code, title and description are never NULL.
** Integer fields that do not apply are 0 (subject, detail: -1).
*/
typedef struct smtpcode_entry {
  int kind;      /* smtpcode_regkind */
  int standard;  /* smtpcode_standard (0 for digits and notes) */
  int reply;     /* reply code (reply, reply_alt, pair, note on a reply) */
  int cls;       /* enhanced class 2, 4, 5 (class, pair); 0 = any ("X") */
  int subject;   /* enhanced subject (enhanced, subject, pair, note) */
  int detail;    /* enhanced detail; first detail of a note's range */
  int detail_hi; /* last detail of a note's range (= detail otherwise) */
  int position;  /* digit: 1 first, 2 second, 3 third */
  int mask;      /* digit: bit d per digit d; note: bit c per class c */
  const char *code;        /* "550", "X.1.1", "5.XXX.YYY", "550 5.7.0", ... */
  const char *title;       /* short name (note: the provider) */
  const char *description; /* one or two plain sentences */
  const char *references;  /* "RFC 5321 §4.2.3; RFC 3463 §3.2" */
  const char *remarks;     /* caveats, where common usage differs */
  const char *commands;    /* reply: commands it usually answers */
  const char *emitted_by;  /* reply: who sends it (non-standard codes) */
  const char *basic_codes; /* enhanced: registry's associated reply codes */
  const char *class_note;  /* enhanced: classes the registry meant it for */
  const char *control;     /* subject: who can usually fix it */
  const char *provider;    /* note: receiving system */
  const char *example;     /* note: published or observed reply text */
  const char *source;      /* note: where it was published or seen */
} smtpcode_entry;

/* Rows in a table (0 for an unknown kind), and row i (0-based) or NULL. */
SMTPCODE_API int smtpcode_registry_count(int kind);
SMTPCODE_API const smtpcode_entry *smtpcode_registry_at(int kind, int i);

/* Main meaning of a reply code (200..599), or NULL when it has none. */
SMTPCODE_API const smtpcode_entry *smtpcode_reply_info(int code);

/*
** i-th (0-based) further meaning of a reply code in an extension's
** context (e.g. 220 after STARTTLS), or NULL past the last one.
*/
SMTPCODE_API const smtpcode_entry *smtpcode_reply_alt(int code, int i);

/* Meaning of a digit (0..9) at position 1, 2 or 3 of a reply code. */
SMTPCODE_API const smtpcode_entry *smtpcode_reply_digit(int position,
                                                        int digit);

/*
** Registry entry of an enhanced code: cls 2, 4, 5, or 0 for "X";
** subject and detail 0..999. Registry entries are class-independent
** (X.s.d). An unregistered detail gives the subject's X.s.0 entry and
** *fallback = SMTPCODE_FB_SUBJECT; an unknown subject gives the class
** entry and SMTPCODE_FB_CLASS (RFC 3463 §2). NULL when nothing is known
** (bad class, or "X" with an unknown subject). fallback may be NULL.
*/
SMTPCODE_API const smtpcode_entry *smtpcode_enhanced_info(int cls,
                                                          int subject,
                                                          int detail,
                                                          int *fallback);

/* Class (2, 4, 5) and subject (0..7) entries, or NULL. */
SMTPCODE_API const smtpcode_entry *smtpcode_class_info(int cls);
SMTPCODE_API const smtpcode_entry *smtpcode_subject_info(int subject);

/* A common (reply, enhanced) pair such as 550 5.7.0, or NULL. */
SMTPCODE_API const smtpcode_entry *smtpcode_pair_info(int reply, int cls,
                                                      int subject,
                                                      int detail);

/*
** Provider notes that apply to a reply code (reply > 0) and/or an
** enhanced code (cls >= 0; cls 0 = any class). Stores up to cap
** pointers in out (out may be NULL when cap is 0), reply notes first,
** and returns how many notes apply.
*/
SMTPCODE_API int smtpcode_notes(int reply, int cls, int subject, int detail,
                                const smtpcode_entry **out, int cap);

/* Stable names ("non-standard", "reply_alt", "subject"); NULL if unknown. */
SMTPCODE_API const char *smtpcode_standard_name(int standard);
SMTPCODE_API const char *smtpcode_regkind_name(int kind);
SMTPCODE_API const char *smtpcode_fallback_name(int fallback);

/* }====================================================== */

/*
** {======================================================
** Free text: find (src/find.c) and classify (src/classify.c)
** =======================================================
*/

/* Where smtpcode_find found the reply (smtpcode_found.how). */
typedef enum smtpcode_how {
  SMTPCODE_HOW_NONE = 0,
  SMTPCODE_HOW_REPLY = 1,   /* a reply code, maybe with an enhanced code */
  SMTPCODE_HOW_STATUS = 2   /* an enhanced code alone (Status:, dsn=, #5.1.1) */
} smtpcode_how;

/* A reply located in free text. Offsets are from the start of the text. */
typedef struct smtpcode_found {
  int code;     /* reply code, 0 when only an enhanced code was found */
  int cls;      /* enhanced code; cls 0 when none */
  int subject;
  int detail;
  int flags;    /* SMTPCODE_F_MISMATCH, SMTPCODE_F_NONSTANDARD */
  int how;      /* smtpcode_how */
  int start;    /* first byte of what was found (code or enhanced code) */
  int end;      /* one past the last byte of the reply text */
  int code_off; /* reply code span (3 bytes), -1 when none */
  int enh_off;  /* enhanced code span; enh_len 0 when none */
  int enh_len;
  int text_off; /* reply text after the codes */
  int text_len;
  int nlines;   /* wire lines the reply spans (1, or more for "550-...") */
} smtpcode_found;

/*
** Extra bit of smtpcode_found.flags: the only evidence was an enhanced code
** standing bare in prose ("Mail quota exceeded 5.2.2"): low confidence.
*/
typedef enum smtpcode_findflag {
  SMTPCODE_F_BARE = 32
} smtpcode_findflag;

/*
** Only the first SMTPCODE_MAX_TEXT bytes of a text are searched by
** smtpcode_find (every span it reports lies inside them), so the work per
** call is bounded however long the text is. smtpcode_found is not part of
** the FFI cdef of lua/smtpcode/ffi.lua: find has no FFI path.
*/
#if !defined(SMTPCODE_MAX_TEXT)
#define SMTPCODE_MAX_TEXT 65536
#endif

/*
** smtpcode_find details (src/find.c has the full rules):
** - out->start is the first byte found (the reply code, or the enhanced
**   code when how is SMTPCODE_HOW_STATUS); out->end is one past the last
**   byte of the reply text, or of the codes when the text is empty.
** - The text runs from after the codes to the end of the line (of the last
**   line of a "550-..." multi-line reply, nlines > 1: the span then still
**   holds the "550-" prefixes of the later lines), or to the quote, ')',
**   '>' or ']' closing what opened before the code; Postfix's " (in reply
**   to ... command)" and Exchange's trailing "##" are left out.
** - A reply code beats an enhanced code alone: for a Postfix line "dsn=5.1.1,
**   status=bounced (host ... said: 550 5.1.1 ...)" out is the remote reply;
**   dsn= is the answer only when no reply code is present, or when a
**   class 4 dsn=/status= code precedes a quoted 5xx reply (a deferral
**   quoting the remote reply: the deferral is the answer, the reply inner).
** - When the reply has no enhanced code, or a generic X.0.0 one, an
**   enhanced code of the same class later in the same reply is taken
**   ("550 ... (#5.1.1)").
** - SMTPCODE_F_BARE: only a bare enhanced code in prose was found.
** - Pure function of its input: no allocation, no state; at most
**   SMTPCODE_MAX_TEXT bytes are read.
*/
/*
** smtpcode_find: locate the reply code and enhanced status code in free
** text (log lines, exception messages, DSN fields). out receives the
** outermost reply; inner (may be NULL) receives a reply quoted inside it
** ("450 4.1.1 ... said: 550 5.1.1 ..."), how = SMTPCODE_HOW_NONE when
** there is none. Returns 0, or SMTPCODE_ENOTFOUND when the text holds no
** code (out->how is then SMTPCODE_HOW_NONE).
*/
SMTPCODE_API int smtpcode_find(const char *s, size_t len, smtpcode_found *out,
                               smtpcode_found *inner);

/* What smtpcode_text_next gives. */
typedef enum smtpcode_spankind {
  SMTPCODE_SPAN_END = 0,  /* no more text */
  SMTPCODE_SPAN_LINE = 1, /* a span that starts a line of the reply: the
                             first, or one after a line break */
  SMTPCODE_SPAN_JOIN = 2  /* a span that goes on the line of the one
                             before: a repeated code was dropped between */
} smtpcode_spankind;

/*
** smtpcode_text_next: the text of reply f (found by smtpcode_find in
** s[0..len)) without its repeated codes, one span at a time; src/text.c.
** *pos is the caller's cursor: 0 before the first call, then left as the
** call sets it. Each call sets *off and *n to the next span, s[*off ..
** *off + *n), and says what it is (smtpcode_spankind); SMTPCODE_SPAN_END when
** the text is done (also for a text that is empty, or an f whose spans do
** not lie inside s[0..len)). Spans lie inside f's text, in order, never
** overlapping. A reader joins them: a line break (or a space) before a
** SMTPCODE_SPAN_LINE span but the first, nothing before a
** SMTPCODE_SPAN_JOIN one.
** - A multi-line reply (f->nlines > 1) gives one span per line, without
**   the "550-" / "550 " of the later lines and an enhanced code repeated
**   after it.
** - A reply "550-..." whose lines a log joined with spaces ("550-5.2.1 a
**   550-5.2.1 b 550 5.2.1 c") gives "a ", "b ", "c": the code with the
**   reply's own enhanced code (after a blank) is dropped, or without an
**   enhanced code every "550-" and a last "550 ". Other numbers stay.
** - Any other reply gives its text as one span.
** Pure function of its input; each call reads at most the rest of the
** text, and a whole walk reads each byte a bounded number of times.
*/
SMTPCODE_API int smtpcode_text_next(const char *s, size_t len,
                                    const smtpcode_found *f, size_t *pos,
                                    size_t *off, size_t *n);

/*
** ----- classify (src/classify.c, rules in data/rules.tsv) -----
** Text past SMTPCODE_MAX_CLASSIFY bytes is not read by the phrase matcher
** (the verdict then has SMTPCODE_V_TRUNCATED).
*/
#if !defined(SMTPCODE_MAX_CLASSIFY)
#define SMTPCODE_MAX_CLASSIFY 65536
#endif

/* Why a failure happened. 0 (NONE) is the reason of success and 3xx.
** The rows of data/reasons.tsv in order; src/reasons_data.c (generated)
** does not compile when these numbers differ from the TSV's. */
typedef enum smtpcode_reason {
  SMTPCODE_REASON_NONE = 0,
  SMTPCODE_REASON_USER_UNKNOWN = 1,
  SMTPCODE_REASON_MAILBOX_FULL = 2,
  SMTPCODE_REASON_MAILBOX_DISABLED = 3,
  SMTPCODE_REASON_BAD_ADDRESS = 4,
  SMTPCODE_REASON_HOST_UNKNOWN = 5,
  SMTPCODE_REASON_SENDER_REJECTED = 6,
  SMTPCODE_REASON_RELAY_DENIED = 7,
  SMTPCODE_REASON_GREYLISTED = 8,
  SMTPCODE_REASON_RATE_LIMITED = 9,
  SMTPCODE_REASON_BLOCKLISTED = 10,
  SMTPCODE_REASON_SPAM = 11,
  SMTPCODE_REASON_POLICY = 12,
  SMTPCODE_REASON_SENDER_AUTH = 13,
  SMTPCODE_REASON_AUTH_REQUIRED = 14,
  SMTPCODE_REASON_TLS_REQUIRED = 15,
  SMTPCODE_REASON_TOO_LARGE = 16,
  SMTPCODE_REASON_SYNTAX = 17,
  SMTPCODE_REASON_NETWORK = 18,
  SMTPCODE_REASON_EXPIRED = 19,
  SMTPCODE_REASON_LOOP = 20,
  SMTPCODE_REASON_SERVICE_UNAVAILABLE = 21,
  SMTPCODE_REASON_SYSTEM_ERROR = 22,
  SMTPCODE_REASON_UNKNOWN = 23,
  SMTPCODE_REASON_COUNT = 24
} smtpcode_reason;

/* What a failure is about: the rows of data/scopes.tsv in order. */
typedef enum smtpcode_scope {
  SMTPCODE_SCOPE_NONE = 0,
  SMTPCODE_SCOPE_RECIPIENT = 1,
  SMTPCODE_SCOPE_SENDER = 2,
  SMTPCODE_SCOPE_MESSAGE = 3,
  SMTPCODE_SCOPE_DESTINATION = 4, /* block lists, rate limits, greylisting */
  SMTPCODE_SCOPE_SESSION = 5      /* protocol, AUTH, TLS */
} smtpcode_scope;

typedef enum smtpcode_bounce {
  SMTPCODE_BOUNCE_NONE = 0, /* not a failure (nor a code-less text
                               nothing is known of, nor a delay notice) */
  SMTPCODE_BOUNCE_SOFT = 1,
  SMTPCODE_BOUNCE_HARD = 2  /* the address itself is bad */
} smtpcode_bounce;

typedef enum smtpcode_retry {
  SMTPCODE_RETRY_NA = 0, /* not a failure, or cannot tell */
  SMTPCODE_RETRY_NO = 1,
  SMTPCODE_RETRY_YES = 2
} smtpcode_retry;

/* What decided the reason (smtpcode_verdict.by). */
typedef enum smtpcode_evidence {
  SMTPCODE_BY_NONE = 0,
  SMTPCODE_BY_TEXT = 1,     /* a rule of data/rules.tsv; rule = its index */
  SMTPCODE_BY_ENHANCED = 2, /* the enhanced code (exact X.s.d entry) */
  SMTPCODE_BY_REPLY = 3,    /* the reply code */
  SMTPCODE_BY_CLASS = 4,    /* the enhanced code's subject (X.s.*) */
  SMTPCODE_BY_USER = 5      /* a reason given by the caller (user rule) */
} smtpcode_evidence;

/* Bits of smtpcode_verdict.flags. */
typedef enum smtpcode_vflag {
  SMTPCODE_V_MISMATCH = 1,  /* enhanced class differs from the reply class */
  SMTPCODE_V_TRUNCATED = 2, /* text longer than SMTPCODE_MAX_CLASSIFY */
  SMTPCODE_V_RCPTS552 = 4,  /* 552 "too many recipients": transient (RFC
                               5321 4.5.3.1.10) */
  SMTPCODE_V_DELAYED = 8    /* a delay notice ("has been delayed", "will be
                               retried until"): transient, retried, not a
                               bounce (bounce is SMTPCODE_BOUNCE_NONE) */
} smtpcode_vflag;

typedef struct smtpcode_verdict {
  int code;     /* reply code, 0 when none */
  int cls;      /* enhanced code, cls 0 when none */
  int subject;
  int detail;
  int severity; /* smtpcode_severity; SMTPCODE_SEV_UNKNOWN without a code */
  int reason;   /* smtpcode_reason; NONE for 2xx/3xx */
  int bounce;   /* smtpcode_bounce */
  int retry;    /* smtpcode_retry */
  int scope;    /* smtpcode_scope; NONE for 2xx/3xx */
  int by;       /* smtpcode_evidence */
  int rule;     /* index of the deciding rule (by TEXT), else -1 */
  int flags;    /* smtpcode_vflag bits */
} smtpcode_verdict;

/* One text rule, for reporting what decided. */
typedef struct smtpcode_rule {
  int reason;         /* smtpcode_reason */
  int scope;          /* smtpcode_scope the rule gives */
  int priority;       /* higher wins */
  int line;           /* line number in data/rules.tsv */
  const char *match;  /* the phrases as written in data/rules.tsv */
} smtpcode_rule;

/*
** smtpcode_classify: say why s[0..len) failed. f is what smtpcode_find
** found in the same text; when f is NULL the function calls smtpcode_find
** itself. When f has no enhanced code (f->cls 0) and smtpcode_find finds
** one in s with no reply code or with f's reply code (qmail's "550 ...
** (#5.1.1)"), that enhanced code is used with f's reply code, so fields
** split from a reply classify as the whole reply does. The reply code
** decides severity and retry; text rules, then the enhanced code, then the reply code decide the reason (docs/classify.md).
** out is always written. Returns 0. No span of s is kept.
*/
SMTPCODE_API int smtpcode_classify(const char *s, size_t len,
                                   const smtpcode_found *f,
                                   smtpcode_verdict *out);

/*
** smtpcode_settle: give v the reason and scope chosen by the caller (a
** user rule) and recompute bounce and retry; by becomes SMTPCODE_BY_USER.
** scope 0 takes the reason's usual scope. Returns 0, or SMTPCODE_ESYNTAX
** when reason or scope is out of range (v unchanged). No effect on 2xx/3xx.
*/
SMTPCODE_API int smtpcode_settle(smtpcode_verdict *v, int reason, int scope);

/* Number of text rules; smtpcode_rule_info fills out for 0 <= i < count. */
SMTPCODE_API int smtpcode_rule_count(void);
SMTPCODE_API int smtpcode_rule_info(int i, smtpcode_rule *out);

/* Stable names ("user_unknown", "recipient"); NULL for NONE or unknown. */
SMTPCODE_API const char *smtpcode_reason_name(int reason);
SMTPCODE_API const char *smtpcode_scope_name(int scope);
/* Reason from its name (n bytes); SMTPCODE_ESYNTAX when not a name. */
SMTPCODE_API int smtpcode_reason_of(const char *name, size_t n);
SMTPCODE_API int smtpcode_scope_of(const char *name, size_t n);

/*
** Everything the core knows about one reason (data/reasons.tsv): static
** strings; who_nocode and todo_nocode are NULL when the reason has none
** (the transient or permanent texts apply).
*/
typedef struct smtpcode_reason_info {
  const char *name;         /* "user_unknown" */
  int scope;                /* smtpcode_scope when no rule gives one */
  int hard;                 /* 1: a permanent failure is a hard bounce */
  int nocode_retry;         /* 1: a failure without any code is retried */
  const char *label;        /* a few words, for a headline */
  const char *description;  /* what happened */
  const char *advice_transient, *advice_permanent; /* one-line advice */
  const char *who_transient, *todo_transient;  /* who must act, what to */
  const char *who_permanent, *todo_permanent;  /* do, when a retry can or */
  const char *who_nocode, *todo_nocode;        /* cannot work; no code */
} smtpcode_reason_info;

/* The record of reason 1 .. SMTPCODE_REASON_COUNT - 1; NULL otherwise. */
SMTPCODE_API const smtpcode_reason_info *smtpcode_reason_get(int reason);

/*
** Plain-words text for a verdict: what happened, and who must act and
** what to do. Static strings, never NULL for a written verdict.
*/
SMTPCODE_API const char *smtpcode_verdict_description(
    const smtpcode_verdict *v);
SMTPCODE_API const char *smtpcode_verdict_advice(const smtpcode_verdict *v);

/*
** Which of those texts v gets, as one number below SMTPCODE_VERDICT_TEXTS:
** verdicts with the same number get the same description and advice, so
** a binding can keep its strings by it.
*/
#define SMTPCODE_VERDICT_TEXTS (2 * (SMTPCODE_REASON_COUNT + 1))
SMTPCODE_API int smtpcode_verdict_text(const smtpcode_verdict *v);

/*
** What decided v, as shown beside it (the `by` field of classify): v->by,
** or for a verdict no rule or code entry decided (a success, an unknown
** failure) the reply code when there is one, else the enhanced code, else
** SMTPCODE_BY_NONE.
*/
SMTPCODE_API int smtpcode_verdict_by(const smtpcode_verdict *v);
/* "rule", "enhanced", "reply", "enhanced_subject", "user"; NULL for
** SMTPCODE_BY_NONE and out of range. */
SMTPCODE_API const char *smtpcode_evidence_name(int by);

/* }====================================================== */

/*
** {======================================================
** Conversations: a reply reader for byte streams and a reply writer
** (src/stream.c)
** =======================================================
*/

/*
** Extra bit of smtpcode_opts.flags for smtpcode_format: keep well-formed
** UTF-8 in the text (RFC 6531 SMTPUTF8 sessions) instead of replacing
** every byte above 0x7E. Parsing ignores it.
*/
typedef enum smtpcode_fmtflag {
  SMTPCODE_O_UTF8 = 2
} smtpcode_fmtflag;

/* Default max_line of smtpcode_format: 512 octets with CRLF (RFC 5321
   section 4.5.3.1.5). */
#if !defined(SMTPCODE_FORMAT_LINE)
#define SMTPCODE_FORMAT_LINE 510
#endif

/*
** These functions are not in the FFI cdef of lua/smtpcode/ffi.lua: the Lua
** reader and format use the C API on every backend (the replies are made
** by the parse of the backend in use).
**
** State of a reply reader, owned by the caller (no allocation). The bytes
** live in the caller's buffer; the state only says how far they have been
** read, so every byte is looked at once however the stream is cut.
*/
typedef struct smtpcode_stream {
  smtpcode_opts opts; /* flags and limits, as for smtpcode_parse_reply */
  int line;    /* offset of the first byte of the unfinished line */
  int scanned; /* bytes already searched for a line ending */
  int nlines;  /* complete lines of the unfinished reply; on error, the
                  1-based line at fault */
  int code;    /* reply code of its first line */
  int status;  /* 0, or the negative status that stopped the reader */
} smtpcode_stream;

/* Start (or restart) a reader; opts may be NULL (defaults). */
SMTPCODE_API void smtpcode_stream_init(smtpcode_stream *st,
                                       const smtpcode_opts *opts);

/*
** smtpcode_stream_next: s[0..len) are the bytes held, starting at the
** first byte of a reply: the bytes of the previous call with more
** appended. Returns r > 0 when s[0..r) is a complete reply, exactly the one
** smtpcode_parse_reply reads at s (the caller drops those bytes and calls
** again with the rest: the state now refers to s + r); 0 when more bytes
** are needed; or a negative status, which stays until smtpcode_stream_init:
** SMTPCODE_ESYNTAX, SMTPCODE_EINCONSISTENT as smtpcode_parse_reply gives
** them, SMTPCODE_ETOOLONG as soon as the bytes held can no longer become a
** reply within the limits (an unended line longer than max_line + 1 bytes,
** or more than max_reply bytes): the caller never needs to hold more than
** max_reply + 1 bytes. A reply is complete only when its last line has
** its LF: a final line without one may still grow.
*/
SMTPCODE_API int smtpcode_stream_next(smtpcode_stream *st, const char *s,
                                      size_t len);

/*
** smtpcode_format: write the reply (code, enhanced code enh[0..enhlen),
** text[0..len)) as it goes on the wire, CRLF after every line, like
** snprintf: at most cap bytes are written to out (out may be NULL when cap
** is 0) and the return value is the length of the whole reply, or a
** negative status: SMTPCODE_ESYNTAX for a code outside 200-599 (second
** digit 0-5) or an enhanced code that smtpcode_parse_status refuses (enh
** may be NULL when enhlen is 0); SMTPCODE_EINCONSISTENT when its class
** differs from the code's first digit (a 3yz reply has no enhanced code);
** SMTPCODE_ETOOLONG when the reply would exceed opts->max_lines or
** opts->max_reply (defaults as for parsing), or when max_line (default
** SMTPCODE_FORMAT_LINE, the line ending excluded) leaves fewer than 4
** bytes of text per line.
** The text: CRLF, LF and CR end a line (each line becomes reply lines of
** its own); lines are wrapped at runs of spaces (dropped at the wrap; a
** word longer than a line is cut); a TAB becomes a space; every other
** byte outside 0x20-0x7E becomes '?' (with SMTPCODE_O_UTF8 well-formed
** UTF-8 is kept, but not C1 controls). With an enhanced code the leading
** spaces of a line are dropped (a reader skips them); without one, a line
** whose text would read as an enhanced code ("5.1.1 x", "#5.1.1") gets a
** space before it. So smtpcode_parse_reply reads the output back as one
** reply with the same code and enhanced code on every line.
*/
SMTPCODE_API int smtpcode_format(int code, const char *enh, size_t enhlen,
                                 const char *text, size_t len,
                                 const smtpcode_opts *opts, char *out,
                                 size_t cap);

/* }====================================================== */

#endif
