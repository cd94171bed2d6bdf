/*
** fuzz_stream.c: libFuzzer target for smtpcode_stream_next.
** Invariants: spec/c/fuzz_conv.h (check_stream). Build and run: spec/c/fuzz.sh.
** needs: smtpcode_stream_next
*/
#include "fuzz_conv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_stream(data, size);
  return 0;
}
