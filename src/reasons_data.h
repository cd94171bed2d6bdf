/*
** reasons_data.h: private declarations of the tables that
** data/gen_reasons.lua writes into src/reasons_data.c from
** data/reasons.tsv and data/scopes.tsv. Not installed.
*/
#ifndef smtpcode_reasons_data_h
#define smtpcode_reasons_data_h

#include "smtpcode.h"

#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility push(hidden)
#endif

typedef smtpcode_reason_info scr_reason;

/* [0] success, [1 .. SMTPCODE_REASON_COUNT - 1] the reasons,
** [SMTPCODE_REASON_COUNT] intermediate */
extern const scr_reason smtpcode_rd_reasons[];
/* [1 .. smtpcode_rd_nscopes] the scope names; [0] is NULL */
extern const char *const smtpcode_rd_scopes[];
extern const int smtpcode_rd_nscopes;

#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility pop
#endif

#endif
