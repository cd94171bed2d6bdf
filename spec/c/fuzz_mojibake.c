/*
** fuzz_mojibake.c: libFuzzer target for the repair of double-encoded UTF-8
** (smtpcode_unmojibake, smtpcode_mojibake_view). Invariants:
** spec/c/fuzz_mojibake.h. Build and run: spec/c/fuzz.sh.
** needs: smtpcode_unmojibake smtpcode_mojibake_view
*/
#include "fuzz_mojibake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_mojibake(data, size);
  return 0;
}
