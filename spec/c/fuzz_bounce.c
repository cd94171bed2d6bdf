/*
** fuzz_bounce.c: libFuzzer target for smtpcode_bounce_read, the walk of a
** whole bounce message (src/bounce.c, src/mime.c).
** Invariants: spec/c/fuzz_bounce.h (check_bounce). Build and run:
** spec/c/fuzz.sh.
** needs: smtpcode_bounce_read
*/
#include "fuzz_bounce.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_bounce(data, size);
  return 0;
}
