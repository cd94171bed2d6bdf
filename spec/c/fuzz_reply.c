/*
** fuzz_reply.c: libFuzzer target for smtpcode_parse_reply:
** a whole reply, strict or lenient, limits from the first 4 bytes.
** Invariants: spec/c/fuzz.h (check_reply). Build and run: spec/c/fuzz.sh.
** needs: smtpcode_parse_reply
*/
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_reply(data, size);
  return 0;
}
