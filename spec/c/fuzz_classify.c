/*
** fuzz_classify.c: libFuzzer target for smtpcode_classify and
** smtpcode_settle: free text, with or without smtpcode_find's result.
** Invariants: spec/c/fuzz.h (check_classify). Build and run: spec/c/fuzz.sh.
** needs: smtpcode_classify smtpcode_settle smtpcode_find smtpcode_classify_split smtpcode_scan_digest
*/
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_classify(data, size);
  return 0;
}
