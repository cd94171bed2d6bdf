/*
** fuzz_format.c: libFuzzer target for smtpcode_format.
** Invariants: spec/c/fuzz_conv.h (check_format). Build and run: spec/c/fuzz.sh.
** needs: smtpcode_format
*/
#include "fuzz_conv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_format(data, size);
  return 0;
}
