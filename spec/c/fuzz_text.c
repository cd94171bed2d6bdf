/*
** fuzz_text.c: libFuzzer target for smtpcode_text_next: the text of what
** smtpcode_find found in hostile bytes (the outer reply and the one it
** quotes), walked span by span. Invariants: spec/c/text_check.h (spans
** inside the text, in order, no repeated code at a span start, the walk
** ends). Build and run: spec/c/fuzz.sh.
** needs: smtpcode_text_next smtpcode_find
*/
#include "fuzz.h"
#include "text_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_text(data, size);
  return 0;
}
