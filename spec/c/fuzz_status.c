/*
** fuzz_status.c: libFuzzer target for smtpcode_parse_status:
** a bare enhanced status code.
** Invariants: spec/c/fuzz.h (check_status). Build and run: spec/c/fuzz.sh.
** needs: smtpcode_parse_status
*/
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_status(data, size);
  return 0;
}
