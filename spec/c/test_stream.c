/*
** C tests of the reply reader and writer (src/stream.c), then a replay of
** the seeds and findings of their fuzz targets (spec/c/corpus/stream/,
** spec/c/corpus/format/, spec/c/regress/stream/, spec/c/regress/format/)
** through the same invariants (spec/c/fuzz_conv.h). Inputs of the unit
** tests sit against a guard page. Run from the repository root. TAP.
*/
#if !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE 1
#endif
#include <dirent.h>

#include "fuzz_conv.h"
#include "tap.h"

static int next(smtpcode_stream *st, const char *s) {
  size_t n = strlen(s);
  return smtpcode_stream_next(st, guard(s, n), n);
}

static void test_reader(void) {
  smtpcode_stream st;
  const char *pipe = "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data\r\n";
  smtpcode_stream_init(&st, NULL);
  ok(next(&st, "250-PIPELINING\r\n250 SIZ") == 0, "an unfinished reply waits");
  ok(next(&st, "250-PIPELINING\r\n250 SIZE\r") == 0, "a final line waits for its LF");
  ok(next(&st, "250-PIPELINING\r\n250 SIZE\r\n250 x") == 26,
     "the reply ends at its final line's LF");
  ok(next(&st, "250 x") == 0 && st.line == 0, "the state starts over after it");
  smtpcode_stream_init(&st, NULL);
  ok(next(&st, pipe) == 14 && next(&st, pipe + 14) == 14 &&
         next(&st, pipe + 28) == 14,
     "pipelined replies one after the other");
  smtpcode_stream_init(&st, NULL);
  ok(next(&st, "250-a\r\n251 b\r\n") == SMTPCODE_EINCONSISTENT && st.nlines == 2,
     "inconsistent at line 2");
  ok(next(&st, "250 fine\r\n") == SMTPCODE_EINCONSISTENT, "an error stays");
  smtpcode_stream_init(&st, NULL);
  ok(next(&st, "hello world\r\n") == SMTPCODE_ESYNTAX, "syntax");
  {
    smtpcode_opts o = {0, 16, 3, 40};
    char buf[64];
    memset(buf, 'x', sizeof buf);
    memcpy(buf, "250 ", 4);
    smtpcode_stream_init(&st, &o);
    ok(smtpcode_stream_next(&st, guard(buf, 17), 17) == 0,
       "an unended line of max_line + 1 bytes may still end in CR LF");
    ok(smtpcode_stream_next(&st, guard(buf, 18), 18) == SMTPCODE_ETOOLONG,
       "one more byte: too_long");
    smtpcode_stream_init(&st, &o);
    ok(next(&st, "250-a\r\n250-b\r\n250-c\r\n") == 0 &&
           next(&st, "250-a\r\n250-b\r\n250-c\r\n250 d\r\n") == SMTPCODE_ETOOLONG,
       "a fourth line past max_lines 3: too_long");
    smtpcode_stream_init(&st, &o);
    ok(next(&st, "250-aaaaaaaa\r\n250-bbbbbbbb\r\n250-cc") == 0 &&
           next(&st, "250-aaaaaaaa\r\n250-bbbbbbbb\r\n250-cccccccccccc") ==
               SMTPCODE_ETOOLONG,
       "more than max_reply bytes held: too_long");
  }
  smtpcode_stream_init(&st, NULL);
  ok(smtpcode_stream_next(&st, NULL, 0) == 0, "NULL, 0 waits");
}

static int fmt(int code, const char *enh, const char *text,
               const smtpcode_opts *o, char *out, size_t cap) {
  return smtpcode_format(code, enh, enh ? strlen(enh) : 0, text, strlen(text),
                         o, out, cap);
}

static void test_format(void) {
  char out[2048];
  int n;
  n = fmt(550, "5.1.1", "User unknown", NULL, out, sizeof out);
  ok(n == 24 && memcmp(out, "550 5.1.1 User unknown\r\n", 24) == 0, "one line");
  n = fmt(550, "5.1.1", "a\r\n250 forged\0", NULL, out, sizeof out);
  ok(n > 0 && memcmp(out, "550-5.1.1 a\r\n550 5.1.1 250 forged\r\n", (size_t)n) == 0,
     "CRLF in the text: a line of the same reply");
  n = smtpcode_format(550, NULL, 0, "a\0\r\n", 4, NULL, out, sizeof out);
  ok(n == 13 && memcmp(out, "550-a?\r\n550\r\n", (size_t)n) == 0,
     "NUL replaced, an empty final line is the code alone");
  n = fmt(550, NULL, "5.1.1 x", NULL, out, sizeof out);
  ok(n == 14 && memcmp(out, "550  5.1.1 x\r\n", 14) == 0,
     "a text that reads as an enhanced code gets a space");
  ok(fmt(354, "2.0.0", "x", NULL, out, sizeof out) == SMTPCODE_EINCONSISTENT,
     "3yz with an enhanced code");
  ok(fmt(550, "4.7.1", "x", NULL, out, sizeof out) == SMTPCODE_EINCONSISTENT,
     "class mismatch");
  ok(fmt(560, NULL, "x", NULL, out, sizeof out) == SMTPCODE_ESYNTAX &&
         fmt(600, NULL, "x", NULL, out, sizeof out) == SMTPCODE_ESYNTAX &&
         fmt(550, "5.1", "x", NULL, out, sizeof out) == SMTPCODE_ESYNTAX,
     "invalid codes");
  {
    smtpcode_opts o = {0, 20, 0, 0};
    n = fmt(550, "5.1.1", "aaa bbb ccc ddd eee", &o, out, sizeof out);
    ok(n > 0 && memcmp(out, "550-5.1.1 aaa bbb\r\n550 5.1.1 ccc ddd\r\n550 5.1.1 eee\r\n",
                       (size_t)n) != 0 &&
           memcmp(out, "550-5.1.1 aaa bbb\r\n550-5.1.1 ccc ddd\r\n550 5.1.1 eee\r\n",
                  (size_t)n) == 0,
       "wrapped at spaces, enhanced code on every line");
    o.max_line = 12;
    ok(fmt(550, "5.1.1", "x", &o, out, sizeof out) == SMTPCODE_ETOOLONG,
       "max_line too small for the codes");
  }
  n = fmt(250, NULL, "ok", NULL, NULL, 0);
  ok(n == 8, "NULL out: the length only");
}

static int replay_dir(const char *dir, void (*fn)(const uint8_t *, size_t)) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int count = 0;
  if (d == NULL) return -1;
  while ((e = readdir(d)) != NULL) {
    char path[512];
    FILE *f;
    uint8_t *buf;
    long len;
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    f = fopen(path, "rb");
    if (f == NULL) continue;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (uint8_t *)malloc(len > 0 ? (size_t)len : 1);
    FZ_CHECK(buf != NULL);
    if (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len) len = 0;
    fclose(f);
    printf("# replay %s\n", path);
    fflush(stdout);
    fn(buf, (size_t)(len > 0 ? len : 0));
    free(buf);
    count++;
  }
  closedir(d);
  return count;
}

int main(void) {
  char name[128];
  int n;
  if (guard_init() != 0) return 1;
  test_reader();
  test_format();
  n = replay_dir("spec/c/corpus/stream", check_stream);
  snprintf(name, sizeof name, "fuzz seeds of stream hold (%d inputs)", n);
  ok(n > 0, name);
  n = replay_dir("spec/c/corpus/format", check_format);
  snprintf(name, sizeof name, "fuzz seeds of format hold (%d inputs)", n);
  ok(n > 0, name);
  replay_dir("spec/c/regress/stream", check_stream);
  replay_dir("spec/c/regress/format", check_format);
  return done_testing();
}
