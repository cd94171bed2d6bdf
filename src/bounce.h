/*
** bounce.h: whole bounce messages (src/mime.c, src/bounce.c).
**
** smtpcode_bounce_read reads one raw RFC 5322 message: a delivery status
** notification (RFC 3464, RFC 6533 global types), a feedback report
** (RFC 5965) or the free-text report of a known mail system (the layouts
** of data/bounce_formats.tsv, compiled into src/bounce_data.c). It walks
** the MIME structure, decodes base64 and quoted-printable parts into the
** caller's buffer, reads the DSN field groups and the returned headers,
** and gives every recipient the smtpcode_find / smtpcode_classify verdict
** of its diagnostic.
**
** Same house rules as smtpcode.h: no allocation, no state, no callbacks.
** Every string it reports is a span: an offset and length into either the
** message (where 0) or the caller's buffer (where 1), which holds decoded
** parts and unfolded fields. Spans stay valid as long as both do.
*/
#ifndef smtpcode_bounce_h
#define smtpcode_bounce_h

#include "smtpcode.h"

/* Limits (overridable at build time; per call through the opts). */
#if !defined(SMTPCODE_BOUNCE_MAX_SIZE)
#define SMTPCODE_BOUNCE_MAX_SIZE (10 * 1024 * 1024) /* bytes of a message */
#endif
#if !defined(SMTPCODE_BOUNCE_MAX_RCPTS)
#define SMTPCODE_BOUNCE_MAX_RCPTS 1000 /* recipients reported */
#endif
#if !defined(SMTPCODE_BOUNCE_MAX_DEPTH)
#define SMTPCODE_BOUNCE_MAX_DEPTH 16 /* MIME nesting walked */
#endif
#if !defined(SMTPCODE_BOUNCE_MAX_PARTS)
#define SMTPCODE_BOUNCE_MAX_PARTS 500 /* MIME parts walked */
#endif
#if !defined(SMTPCODE_BOUNCE_MAX_HEADER)
#define SMTPCODE_BOUNCE_MAX_HEADER 65536 /* bytes of one header field */
#endif
#if !defined(SMTPCODE_BOUNCE_MAX_FIELDS)
#define SMTPCODE_BOUNCE_MAX_FIELDS 2000 /* fields of one header block */
#endif

/* Negative result of smtpcode_bounce_read besides SMTPCODE_ESYNTAX and
** SMTPCODE_ETOOLONG: the message is no delivery or feedback report. */
typedef enum smtpcode_bounce_status {
  SMTPCODE_ENOTBOUNCE = -6 /* "not_bounce" */
} smtpcode_bounce_status;

typedef enum smtpcode_bformat {
  SMTPCODE_BF_NONE = 0,
  SMTPCODE_BF_DSN = 1,  /* "dsn": RFC 3464 / RFC 6533 */
  SMTPCODE_BF_ARF = 2,  /* "arf": RFC 5965 feedback report */
  SMTPCODE_BF_TEXT = 3  /* "text": a free-text non-delivery report */
} smtpcode_bformat;

typedef enum smtpcode_action {
  SMTPCODE_ACT_NONE = 0,
  SMTPCODE_ACT_FAILED = 1,    /* "failed" */
  SMTPCODE_ACT_DELAYED = 2,   /* "delayed" */
  SMTPCODE_ACT_DELIVERED = 3, /* "delivered" */
  SMTPCODE_ACT_RELAYED = 4,   /* "relayed" */
  SMTPCODE_ACT_EXPANDED = 5,  /* "expanded" */
  SMTPCODE_ACT_COMPLAINED = 6 /* "complained": an ARF complaint */
} smtpcode_action;

typedef enum smtpcode_command {
  SMTPCODE_CMD_NONE = 0,
  SMTPCODE_CMD_CONN = 1, /* "CONN": the greeting or the connection */
  SMTPCODE_CMD_EHLO = 2, /* "EHLO" (HELO too) */
  SMTPCODE_CMD_MAIL = 3, /* "MAIL" */
  SMTPCODE_CMD_RCPT = 4, /* "RCPT" */
  SMTPCODE_CMD_DATA = 5  /* "DATA" (end of DATA too) */
} smtpcode_command;

/* Bits of smtpcode_breport.flags. */
typedef enum smtpcode_bflag {
  SMTPCODE_BR_MORE_RCPTS = 1, /* more recipients than max_recipients */
  SMTPCODE_BR_PARTS = 2,      /* depth or part limit reached: walk cut */
  SMTPCODE_BR_NO_CLOSE = 4,   /* a multipart lacked its close delimiter */
  SMTPCODE_BR_NOBUF = 8,      /* the buffer was too small: some raw text */
  SMTPCODE_BR_TEXT_DSN = 16   /* DSN fields read from a text part */
} smtpcode_bflag;

typedef struct smtpcode_span {
  int off;   /* byte offset into the message (where 0) or buffer (1) */
  int len;   /* 0 when absent */
  int where; /* 0: the message; 1: the caller's buffer */
} smtpcode_span;

typedef struct smtpcode_bounce_opts {
  int max_size;       /* bytes of the message (0: default) */
  int max_recipients; /* recipients stored; more set SMTPCODE_BR_MORE_RCPTS */
  int max_depth;      /* MIME nesting */
  int max_parts;      /* MIME parts */
  int max_header;     /* bytes of one top-level header field */
} smtpcode_bounce_opts;

typedef struct smtpcode_brcpt {
  smtpcode_span recipient;  /* final recipient, address only */
  smtpcode_span original;   /* original recipient, address only */
  smtpcode_span action_raw; /* Action as written */
  smtpcode_span status_raw; /* Status field as written (code only) */
  smtpcode_span diagnostic; /* the reply, unfolded, prefixes not repeated */
  smtpcode_span diag_type;  /* "smtp", "X-Postfix", ... */
  smtpcode_span remote_mta;
  smtpcode_span last_attempt;
  smtpcode_span will_retry;
  smtpcode_span block;      /* free-text report: the lines of this recipient */
  int action;  /* smtpcode_action */
  int command; /* smtpcode_command */
  smtpcode_verdict v; /* classify of the diagnostic, with the chosen codes;
                         v.code is the reply code, v.cls.. the status */
} smtpcode_brcpt;

typedef struct smtpcode_breport {
  int format; /* smtpcode_bformat */
  int mta;    /* index into smtpcode_bounce_mta_name, 0 when unknown */
  int flags;  /* smtpcode_bflag bits */
  int nrcpt;  /* recipients stored in the caller's array */
  int total;  /* recipients found (more than nrcpt when cut) */
  smtpcode_span reporting_mta, arrival_date, report_type;
  /* the returned message: its header block, and a few of its fields */
  smtpcode_span headers, message_id, from, to, subject, date;
  /* ARF: message/feedback-report fields */
  smtpcode_span fb_type, fb_user_agent, fb_version, fb_source_ip,
      fb_mail_from, fb_rcpt_to, fb_arrival, fb_domain;
} smtpcode_breport;

/*
** smtpcode_bounce_read: read the message msg[0..len). buf[0..cap) is scratch
** the caller owns (decoded parts, unfolded fields); 2 * len + 4096 bytes
** are always enough, less degrades gracefully (SMTPCODE_BR_NOBUF).
** Up to rcap recipients are stored in rcpts. Returns 0, or
** SMTPCODE_ENOTBOUNCE (no report), SMTPCODE_ESYNTAX (no header section),
** SMTPCODE_ETOOLONG (over max_size or max_header). out is always written.
** Work is linear in len (times the bounded depth); nothing is allocated.
*/
SMTPCODE_API int smtpcode_bounce_read(const char *msg, size_t len,
                                 const smtpcode_bounce_opts *opts, char *buf,
                                 size_t cap, smtpcode_breport *out,
                                 smtpcode_brcpt *rcpts, int rcap);

/*
** smtpcode_header_next: the next field of a header block s[0..len):
** name and value spans (value raw: folded, leading blanks removed).
** Returns the bytes consumed (> 0), or 0 at the end of the block (an
** empty line, or the end of s). Lines that are not fields are skipped.
*/
SMTPCODE_API int smtpcode_header_next(const char *s, size_t len, int *name_off,
                                      int *name_len, int *val_off,
                                      int *val_len);

/*
** smtpcode_unfold: copy s[0..len) to dst (at most cap bytes) with every
** line break and the blanks around it made one space, ends trimmed.
** Returns the bytes written.
*/
SMTPCODE_API int smtpcode_unfold(const char *s, size_t len, char *dst,
                                 size_t cap);

/* Stable names; NULL when unknown. */
SMTPCODE_API const char *smtpcode_bformat_name(int format);
SMTPCODE_API const char *smtpcode_action_name(int action);
SMTPCODE_API const char *smtpcode_command_name(int command);
SMTPCODE_API const char *smtpcode_bounce_mta_name(int mta);
SMTPCODE_API const char *smtpcode_bounce_status_name(int status);

#endif
