/*
** registry.c: lookups in the code registry (tables in the generated
** registry_data.c). Binary searches over const tables; no allocation,
** no state.
*/
#include <stddef.h>

#include "registry.h"
#include "smtpcode.h"

/* Largest subject or detail RFC 3463 allows (1 to 3 digits). */
#define MAXPART 999

/* Index of the first reply-sorted row with reply >= code. */
static int lowerreply(const smtpcode_entry *t, int n, int code) {
  int lo = 0, hi = n;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (t[mid].reply < code)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

SMTPCODE_API const smtpcode_entry *smtpcode_reply_info(int code) {
  int i = lowerreply(smtpcode_reg_reply, smtpcode_reg_nreply, code);
  if (i < smtpcode_reg_nreply && smtpcode_reg_reply[i].reply == code)
    return &smtpcode_reg_reply[i];
  return NULL;
}

SMTPCODE_API const smtpcode_entry *smtpcode_reply_alt(int code, int i) {
  int k;
  if (i < 0) return NULL;
  k = lowerreply(smtpcode_reg_reply_alt, smtpcode_reg_nreply_alt, code);
  if (i >= smtpcode_reg_nreply_alt - k) return NULL;
  k += i;
  return smtpcode_reg_reply_alt[k].reply == code ? &smtpcode_reg_reply_alt[k]
                                                 : NULL;
}

SMTPCODE_API const smtpcode_entry *smtpcode_reply_digit(int position,
                                                        int digit) {
  int i;
  if (digit < 0 || digit > 9) return NULL;
  for (i = 0; i < smtpcode_reg_ndigit; i++) { /* 15 rows at most */
    const smtpcode_entry *e = &smtpcode_reg_digit[i];
    if (e->position == position && (e->mask >> digit) & 1) return e;
  }
  return NULL;
}

SMTPCODE_API const smtpcode_entry *smtpcode_class_info(int cls) {
  int i;
  for (i = 0; i < smtpcode_reg_nclass; i++) /* 3 rows */
    if (smtpcode_reg_class[i].cls == cls) return &smtpcode_reg_class[i];
  return NULL;
}

SMTPCODE_API const smtpcode_entry *smtpcode_subject_info(int subject) {
  if (subject < 0 || subject >= smtpcode_reg_nsubject) return NULL;
  return &smtpcode_reg_subject[subject];
}

static const smtpcode_entry *findenh(int subject, int detail) {
  long key = (long)subject * 1000 + detail;
  int lo = 0, hi = smtpcode_reg_nenhanced;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    const smtpcode_entry *e = &smtpcode_reg_enhanced[mid];
    long k = (long)e->subject * 1000 + e->detail;
    if (k == key) return e;
    if (k < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

SMTPCODE_API const smtpcode_entry *smtpcode_enhanced_info(int cls,
                                                          int subject,
                                                          int detail,
                                                          int *fallback) {
  const smtpcode_entry *e;
  int fb = SMTPCODE_FB_NONE;
  if (fallback) *fallback = SMTPCODE_FB_NONE;
  if (!(cls == 0 || cls == 2 || cls == 4 || cls == 5)) return NULL;
  if (subject < 0 || subject > MAXPART || detail < 0 || detail > MAXPART)
    return NULL;
  e = findenh(subject, detail);
  if (e == NULL && smtpcode_subject_info(subject) != NULL) {
    e = findenh(subject, 0);
    fb = SMTPCODE_FB_SUBJECT;
  }
  if (e == NULL && cls != 0) {
    e = smtpcode_class_info(cls);
    fb = SMTPCODE_FB_CLASS;
  }
  if (e != NULL && fallback) *fallback = fb;
  return e;
}

SMTPCODE_API const smtpcode_entry *smtpcode_pair_info(int reply, int cls,
                                                      int subject,
                                                      int detail) {
  int lo = lowerreply(smtpcode_reg_pair, smtpcode_reg_npair, reply);
  for (; lo < smtpcode_reg_npair && smtpcode_reg_pair[lo].reply == reply;
       lo++) { /* a few pairs per reply code */
    const smtpcode_entry *e = &smtpcode_reg_pair[lo];
    if (e->cls == cls && e->subject == subject && e->detail == detail)
      return e;
  }
  return NULL;
}

/* Segment holding key, or NULL. */
static const smtpcode_reg_segment *segment(long key) {
  int lo = 0, hi = smtpcode_reg_nnoteseg;
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    const smtpcode_reg_segment *s = &smtpcode_reg_noteseg[mid];
    if (key < s->lo)
      hi = mid;
    else if (key > s->hi)
      lo = mid + 1;
    else
      return s;
  }
  return NULL;
}

static int addnotes(long key, int cls, const smtpcode_entry **out, int cap,
                    int n) {
  const smtpcode_reg_segment *s = segment(key);
  int i;
  if (s == NULL) return n;
  for (i = 0; i < s->n; i++) {
    const smtpcode_entry *e = &smtpcode_reg_note[smtpcode_reg_noteidx[s->first + i]];
    if (cls > 0 && !((e->mask >> cls) & 1)) continue;
    if (n < cap && out != NULL) out[n] = e;
    n++;
  }
  return n;
}

SMTPCODE_API int smtpcode_notes(int reply, int cls, int subject, int detail,
                                const smtpcode_entry **out, int cap) {
  int n = 0;
  if (reply > 0 && reply < 1000) n = addnotes(reply, 0, out, cap, n);
  if ((cls == 0 || cls == 2 || cls == 4 || cls == 5) && subject >= 0 &&
      subject <= MAXPART && detail >= 0 && detail <= MAXPART)
    n = addnotes(1000 + (long)subject * 1000 + detail, cls, out, cap, n);
  return n;
}

SMTPCODE_API int smtpcode_registry_count(int kind) {
  switch (kind) {
  case SMTPCODE_REG_REPLY: return smtpcode_reg_nreply;
  case SMTPCODE_REG_REPLY_ALT: return smtpcode_reg_nreply_alt;
  case SMTPCODE_REG_DIGIT: return smtpcode_reg_ndigit;
  case SMTPCODE_REG_ENHANCED: return smtpcode_reg_nenhanced;
  case SMTPCODE_REG_CLASS: return smtpcode_reg_nclass;
  case SMTPCODE_REG_SUBJECT: return smtpcode_reg_nsubject;
  case SMTPCODE_REG_PAIR: return smtpcode_reg_npair;
  case SMTPCODE_REG_NOTE: return smtpcode_reg_nnote;
  default: return 0;
  }
}

SMTPCODE_API const smtpcode_entry *smtpcode_registry_at(int kind, int i) {
  const smtpcode_entry *t;
  if (i < 0 || i >= smtpcode_registry_count(kind)) return NULL;
  switch (kind) {
  case SMTPCODE_REG_REPLY: t = smtpcode_reg_reply; break;
  case SMTPCODE_REG_REPLY_ALT: t = smtpcode_reg_reply_alt; break;
  case SMTPCODE_REG_DIGIT: t = smtpcode_reg_digit; break;
  case SMTPCODE_REG_ENHANCED: t = smtpcode_reg_enhanced; break;
  case SMTPCODE_REG_CLASS: t = smtpcode_reg_class; break;
  case SMTPCODE_REG_SUBJECT: t = smtpcode_reg_subject; break;
  case SMTPCODE_REG_PAIR: t = smtpcode_reg_pair; break;
  default: t = smtpcode_reg_note; break;
  }
  return &t[i];
}

SMTPCODE_API const char *smtpcode_standard_name(int standard) {
  switch (standard) {
  case SMTPCODE_STD_STANDARD: return "standard";
  case SMTPCODE_STD_EXTENSION: return "extension";
  case SMTPCODE_STD_EXPERIMENTAL: return "experimental";
  case SMTPCODE_STD_DRAFT: return "draft";
  case SMTPCODE_STD_REGISTRY: return "registry";
  case SMTPCODE_STD_NONSTANDARD: return "non-standard";
  default: return NULL;
  }
}

SMTPCODE_API const char *smtpcode_regkind_name(int kind) {
  switch (kind) {
  case SMTPCODE_REG_REPLY: return "reply";
  case SMTPCODE_REG_REPLY_ALT: return "reply_alt";
  case SMTPCODE_REG_DIGIT: return "digit";
  case SMTPCODE_REG_ENHANCED: return "enhanced";
  case SMTPCODE_REG_CLASS: return "class";
  case SMTPCODE_REG_SUBJECT: return "subject";
  case SMTPCODE_REG_PAIR: return "pair";
  case SMTPCODE_REG_NOTE: return "note";
  default: return NULL;
  }
}

SMTPCODE_API const char *smtpcode_fallback_name(int fallback) {
  switch (fallback) {
  case SMTPCODE_FB_NONE: return "none";
  case SMTPCODE_FB_SUBJECT: return "subject";
  case SMTPCODE_FB_CLASS: return "class";
  default: return NULL;
  }
}
