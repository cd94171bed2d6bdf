/*
** fuzz_line.c: libFuzzer target for smtpcode_parse_line:
** one reply line, strict or lenient, limits from the first 4 bytes.
** Invariants: spec/c/fuzz.h (check_line). Build and run: spec/c/fuzz.sh.
** needs: smtpcode_parse_line
*/
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_line(data, size);
  return 0;
}
