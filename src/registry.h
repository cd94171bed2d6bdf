/*
** registry.h: private declarations shared by registry.c and the generated
** registry_data.c. Not part of the public interface.
*/
#ifndef smtpcode_registry_h
#define smtpcode_registry_h

#include "smtpcode.h"

/* Internal to the library, whatever the compiler flags (a LuaRocks build
** does not pass -fvisibility=hidden): only SMTPCODE_API is exported. */
#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility push(hidden)
#endif

/* A run of note keys [lo, hi] covered by the same notes. Key of a reply
** code r: r; of an enhanced subject s and detail d: 1000 + s * 1000 + d. */
typedef struct smtpcode_reg_segment {
  int lo, hi;    /* keys, inclusive */
  int first, n;  /* notes: smtpcode_reg_noteidx[first .. first + n) */
} smtpcode_reg_segment;

/* Sorted by code. */
extern const smtpcode_entry smtpcode_reg_reply[];
extern const int smtpcode_reg_nreply;
/* Sorted by code, then by order in data/reply.tsv. */
extern const smtpcode_entry smtpcode_reg_reply_alt[];
extern const int smtpcode_reg_nreply_alt;
/* Sorted by position. */
extern const smtpcode_entry smtpcode_reg_digit[];
extern const int smtpcode_reg_ndigit;
/* Sorted by (subject, detail). */
extern const smtpcode_entry smtpcode_reg_enhanced[];
extern const int smtpcode_reg_nenhanced;
/* Sorted by class. */
extern const smtpcode_entry smtpcode_reg_class[];
extern const int smtpcode_reg_nclass;
/* Indexed by subject: entry s is X.s. */
extern const smtpcode_entry smtpcode_reg_subject[];
extern const int smtpcode_reg_nsubject;
/* Sorted by (reply, class, subject, detail). */
extern const smtpcode_entry smtpcode_reg_pair[];
extern const int smtpcode_reg_npair;
/* Sorted by first key. */
extern const smtpcode_entry smtpcode_reg_note[];
extern const int smtpcode_reg_nnote;
/* Disjoint, sorted by lo. */
extern const smtpcode_reg_segment smtpcode_reg_noteseg[];
extern const int smtpcode_reg_nnoteseg;
extern const short smtpcode_reg_noteidx[];

#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility pop
#endif

#endif
