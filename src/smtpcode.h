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
** of lua/smtpcode.lua; spec/ffi_layout_spec.lua checks that they agree.
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
** are left alone. The final line may lack its line ending, but a final
** line that has not yet shown the byte after its code ("250", "25", "")
** is SMTPCODE_EINCOMPLETE: it could still turn into a continuation line.
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

SMTPCODE_API const char *smtpcode_version(void);

/* ===== registry (issue 3): declarations below this line ===== */

/* ===== find / classify (issue 4): declarations below this line ===== */

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
} smtpcode_found;

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

#endif
