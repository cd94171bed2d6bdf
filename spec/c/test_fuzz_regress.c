/*
** test_fuzz_regress.c: replay the fuzz seed corpus (spec/c/corpus/<t>/)
** and every saved finding (spec/c/regress/<t>/) through the invariant
** checks of the libFuzzer targets (spec/c/fuzz.h). Built by `make test`
** with ASan and UBSan; run from the repository root. Prints TAP.
** A broken invariant aborts with its message after a "# replay <file>"
** line naming the input.
*/
#if !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE 1 /* opendir, readdir */
#endif
#include <dirent.h>
#include <errno.h>

#include "fuzz.h"
#include "text_check.h"
#include "fuzz_mojibake.h"
#include "fuzz_bounce.h"

typedef void (*checkfn)(const uint8_t *, size_t);

static const struct {
  const char *name;
  checkfn fn;
} targets[] = {
  {"line", check_line},
  {"reply", check_reply},
  {"status", check_status},
  {"find", check_find},
  {"registry", check_registry},
  {"classify", check_classify},
  {"text", check_text},
  {"mojibake", check_mojibake},
  {"bounce", check_bounce},
};

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay every file of dir; returns the count, -1 when dir is missing. */
static int replay(const char *dir, checkfn fn) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char *names[4096];
  int n = 0, i;
  if (d == NULL) return errno == ENOENT ? -1 : -2;
  while ((e = readdir(d)) != NULL && n < 4096) {
    if (e->d_name[0] == '.') continue;
    names[n] = (char *)malloc(strlen(e->d_name) + 1);
    FZ_CHECK(names[n] != NULL);
    strcpy(names[n], e->d_name);
    n++;
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof names[0], cmp);
  for (i = 0; i < n; i++) {
    char path[1024];
    FILE *f;
    uint8_t *buf;
    long sz;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    f = fopen(path, "rb");
    FZ_CHECK(f != NULL);
    FZ_CHECK(fseek(f, 0, SEEK_END) == 0);
    sz = ftell(f);
    FZ_CHECK(sz >= 0 && fseek(f, 0, SEEK_SET) == 0);
    buf = (uint8_t *)malloc(sz > 0 ? (size_t)sz : 1);
    FZ_CHECK(buf != NULL && fread(buf, 1, (size_t)sz, f) == (size_t)sz);
    fclose(f);
    printf("# replay %s\n", path);
    fflush(stdout);
    fn(buf, (size_t)sz);
    free(buf);
    free(names[i]);
  }
  return n;
}

int main(void) {
  int t, k = 0;
  int nt = (int)(sizeof targets / sizeof targets[0]);
  printf("1..%d\n", 2 * nt);
  for (t = 0; t < nt; t++) {
    const char *kinds[2] = {"corpus", "regress"};
    int j;
    for (j = 0; j < 2; j++) {
      char dir[256];
      int n;
      snprintf(dir, sizeof dir, "spec/c/%s/%s", kinds[j], targets[t].name);
      n = replay(dir, targets[t].fn);
      k++;
      if (n == -2) {
        printf("not ok %d - %s: cannot open %s\n", k, targets[t].name, dir);
      } else if (n < 0) {
        printf("ok %d - %s: regression inputs # SKIP no %s directory\n", k,
               targets[t].name, dir);
      } else {
        printf("ok %d - %s: %d %s inputs keep every invariant\n", k,
               targets[t].name, n, kinds[j]);
      }
    }
  }
  return 0;
}
