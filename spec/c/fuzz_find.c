/*
** fuzz_find.c: libFuzzer target for smtpcode_find:
** free text (log lines, exception texts, DSN fields).
** Invariants: spec/c/fuzz.h (check_find). Build and run: spec/c/fuzz.sh.
** needs: smtpcode_find
*/
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_find(data, size);
  return 0;
}
