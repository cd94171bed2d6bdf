/*
** xorshift.h: the C tests' reproducible pseudo-random numbers (Marsaglia's
** xorshift64, upper half). A test defines XORSHIFT_SEED before including
** it; the same seed gives the same inputs on every run.
*/
#ifndef smtpcode_test_xorshift_h
#define smtpcode_test_xorshift_h

static unsigned long long rng = XORSHIFT_SEED;
static unsigned rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng >> 32);
}

#endif
