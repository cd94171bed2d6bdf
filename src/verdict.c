/*
** verdict.c: the public accessors of the generated tables that classify
** reads -- the rules (smtpcode_rule_info), the reasons and scopes by
** number and by name, and a verdict's description, advice and evidence.
** The scan and the choice of a rule are src/classify.c's.
*/
#include "smtpcode.h"

#include "rules_data.h"

/* The rows of smtpcode_rd_reasons for success and intermediate replies,
** beside the reasons (data/reasons.tsv). */
#define RD_SUCCESS 0
#define RD_INTERMEDIATE (SMTPCODE_REASON_COUNT)

SMTPCODE_API int smtpcode_rule_count(void) { return smtpcode_rd_nrules; }

SMTPCODE_API int smtpcode_rule_info(int i, smtpcode_rule *out) {
  const scr_rule *r;
  if (i < 0 || i >= smtpcode_rd_nrules) return SMTPCODE_ENOTFOUND;
  r = &smtpcode_rd_rules[i];
  out->reason = r->reason;
  out->scope = r->scope ? r->scope : smtpcode_rd_reasons[r->reason].scope;
  out->priority = r->prio;
  out->line = r->line;
  out->match = smtpcode_rd_match + ((size_t)r->mhi << 16 | r->match);
  return 0;
}

SMTPCODE_API const char *smtpcode_reason_name(int reason) {
  if (reason < 1 || reason >= SMTPCODE_REASON_COUNT) return NULL;
  return smtpcode_rd_reasons[reason].name;
}

SMTPCODE_API const char *smtpcode_scope_name(int scope) {
  if (scope < 1 || scope > smtpcode_rd_nscopes) return NULL;
  return smtpcode_rd_scopes[scope];
}

SMTPCODE_API const smtpcode_reason_info *smtpcode_reason_get(int reason) {
  if (reason < 1 || reason >= SMTPCODE_REASON_COUNT) return NULL;
  return &smtpcode_rd_reasons[reason];
}

static int sameword(const char *a, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (a[i] != s[i] || a[i] == '\0') return 0;
  return a[n] == '\0';
}

SMTPCODE_API int smtpcode_reason_of(const char *name, size_t n) {
  int i;
  if (name == NULL) return SMTPCODE_ESYNTAX;
  for (i = 1; i < SMTPCODE_REASON_COUNT; i++)
    if (sameword(smtpcode_rd_reasons[i].name, name, n)) return i;
  return SMTPCODE_ESYNTAX;
}

SMTPCODE_API int smtpcode_scope_of(const char *name, size_t n) {
  int i;
  if (name == NULL) return SMTPCODE_ESYNTAX;
  for (i = 1; i <= smtpcode_rd_nscopes; i++)
    if (sameword(smtpcode_rd_scopes[i], name, n)) return i;
  return SMTPCODE_ESYNTAX;
}

SMTPCODE_API int smtpcode_verdict_text(const smtpcode_verdict *v) {
  int row, transient = v->severity == SMTPCODE_SEV_TRANSIENT ||
                       v->retry == SMTPCODE_RETRY_YES;
  if (v->severity == SMTPCODE_SEV_SUCCESS)
    row = RD_SUCCESS;
  else if (v->severity == SMTPCODE_SEV_INTERMEDIATE)
    row = RD_INTERMEDIATE;
  else if (v->reason < 1 || v->reason >= SMTPCODE_REASON_COUNT)
    row = SMTPCODE_REASON_UNKNOWN;
  else
    row = v->reason;
  return row << 1 | transient;
}

SMTPCODE_API const char *smtpcode_verdict_description(
    const smtpcode_verdict *v) {
  return smtpcode_rd_reasons[smtpcode_verdict_text(v) >> 1].description;
}

SMTPCODE_API const char *smtpcode_verdict_advice(const smtpcode_verdict *v) {
  int t = smtpcode_verdict_text(v);
  const scr_reason *r = &smtpcode_rd_reasons[t >> 1];
  return t & 1 ? r->advice_transient : r->advice_permanent;
}

SMTPCODE_API int smtpcode_verdict_by(const smtpcode_verdict *v) {
  if (v->by != SMTPCODE_BY_NONE) return v->by;
  if (v->code) return SMTPCODE_BY_REPLY;
  if (v->cls) return SMTPCODE_BY_ENHANCED;
  return SMTPCODE_BY_NONE;
}

SMTPCODE_API const char *smtpcode_evidence_name(int by) {
  static const char *const names[] = {
    NULL, "rule", "enhanced", "reply", "enhanced_subject", "user"
  };
  if (by < 1 || by > SMTPCODE_BY_USER) return NULL;
  return names[by];
}
