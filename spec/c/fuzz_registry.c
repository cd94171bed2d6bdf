/*
** fuzz_registry.c: libFuzzer target for smtpcode_reply_info, _enhanced_info, _notes, _registry_at ...:
** every registry lookup (what Lua describe and codes use), integers from the input.
** Invariants: spec/c/fuzz.h (check_registry). Build and run: spec/c/fuzz.sh.
** needs: smtpcode_reply_info smtpcode_enhanced_info smtpcode_notes smtpcode_registry_at
*/
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_registry(data, size);
  return 0;
}
