#!/usr/bin/env bash
# The whole test run behind `make test` (called by the Makefile after `deps`).
#
# Stages, in order; a failing stage does not stop the others:
#   a  check-gen             generated files match their generators
#   a2 lint                  luacheck and luarocks lint (make lint)
#   a3 clang                 every source through clang -Werror (make check-clang)
#   b  C tests               spec/c/test_*.c + Lua-free src/*.c, ASan+UBSan
#   c  busted                lua5.1 5.2 5.3 5.4 luajit (FFI) luajit (C API)
#   c2 valgrind              the busted suite once under memcheck (lua5.4)
#   c3 docs                  LDoc builds the reference (.ci/docs.sh)
#   d  luarocks make         fresh tree per Lua, then require from it
#   e  smoke tests           nginx + lua module, Rspamd rule
#   f  integration           every executable spec/integration/*.sh
#   g  fuzz                  spec/c/fuzz.sh, only when FUZZ_TIME is set
# Every stage speaks TAP; its results are counted. Full logs are kept in
# build/test-logs/. The last line is "N passed, N failed, N skipped".
#
# Knobs: LUA_VERSIONS (default "5.1 5.2 5.3 5.4 jit"), BUSTED_ARGS,
# SMTPCODE_SKIP="nginx rspamd luarocks ..." (stage names to skip).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
MAKE=${MAKE:-make}
LOGS=build/test-logs
rm -rf "$LOGS"
mkdir -p "$LOGS"

versions=${LUA_VERSIONS:-5.1 5.2 5.3 5.4 jit}
skip_list=" ${SMTPCODE_SKIP:-} "
total_pass=0 total_fail=0 total_skip=0 stage_time=
failed_stages=()
skip_reasons=() # "stage: test - reason", printed above the totals line

luabin() { case $1 in jit) echo luajit ;; *) echo "lua$1" ;; esac; }
skipped() { [[ $skip_list == *" $1 "* ]]; }

# tally NAME LOG RC: count TAP results in LOG, add them to the totals.
# A non-zero RC with no "not ok" line, or fewer results than the plan,
# counts as failures too.
tally() {
  local name=$1 log=$2 rc=$3 ok notok skip plan n extra=0
  ok=$(grep -ciE '^ok [0-9]+' "$log")
  skip=$(grep -ciE '^ok [0-9]+.*#[[:space:]]*skip' "$log")
  notok=$(grep -ciE '^not ok [0-9]+' "$log")
  ok=$((ok - skip))
  plan=$(grep -oE '^1\.\.[0-9]+' "$log" | tail -n 1 | cut -d. -f3)
  n=$((ok + notok + skip))
  if [ -n "$plan" ] && [ "$plan" -gt "$n" ]; then
    extra=$((plan - n))
    echo "#   $name: only $n of $plan planned results were reported"
  fi
  if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ] && [ "$extra" -eq 0 ]; then
    extra=1
    echo "#   $name: exited with status $rc"
  fi
  # Every skip says why ("ok N - name # SKIP reason"); one that does not
  # counts as a failure.
  local line reason
  while IFS= read -r line; do
    reason=$(printf '%s\n' "$line" | sed -E 's/^ok [0-9]+[[:space:]]*-?[[:space:]]*//; s/#[[:space:]]*[Ss][Kk][Ii][Pp]:?[[:space:]]*/ /; s/[[:space:]]+/ /g; s/^ //; s/ $//')
    if [ -z "$(printf '%s\n' "$line" | sed -E 's/.*#[[:space:]]*[Ss][Kk][Ii][Pp]:?[[:space:]]*//')" ]; then
      notok=$((notok + 1)); skip=$((skip - 1))
      echo "#   $name: a skip without a reason: $line"
    else
      skip_reasons+=("$name: $reason")
    fi
  done < <(grep -iE '^ok [0-9]+.*#[[:space:]]*skip' "$log")
  notok=$((notok + extra))
  total_pass=$((total_pass + ok))
  total_fail=$((total_fail + notok))
  total_skip=$((total_skip + skip))
  printf '# %-36s ok %4d   not ok %3d   skip %3d%s\n' "$name" "$ok" "$notok" "$skip" "$stage_time"
  if [ "$notok" -gt 0 ]; then
    failed_stages+=("$name")
    grep -iE '^not ok [0-9]+' "$log" | head -n 20 | sed 's/^/#   /'
    echo "#   --- last lines of $log:"
    tail -n 25 "$log" | sed 's/^/#   | /'
  fi
}

# run_tap NAME CMD...: run CMD, log its output, tally its TAP.
run_tap() {
  local name=$1 log rc
  shift
  log="$LOGS/$(printf '%s' "$name" | tr -c 'A-Za-z0-9._-' '_').log"
  local t0=$SECONDS
  "$@" >"$log" 2>&1 </dev/null
  rc=$?
  stage_time=" $((SECONDS - t0)) s"
  tally "$name" "$log" "$rc"
  stage_time=
}

# one_result NAME RC LOG: a single pass/fail step (e.g. a build).
one_result() {
  local name=$1 rc=$2 log=$3
  if [ "$rc" -eq 0 ]; then
    echo "ok 1 - $name" >>"$log"
  else
    echo "not ok 1 - $name" >>"$log"
  fi
  tally "$name" "$log" 0
}

t_start=$(date +%s)

# ---------------------------------------------------------------- a
echo "== a. check-gen"
run_tap "check-gen" "$MAKE" --no-print-directory check-gen

# luacheck over lua/ spec/ bench/ examples/ bin/ and luarocks lint of the
# rockspecs (`make lint`): no warning
echo "== a2. lint"
if skipped lint; then
  echo "# skipped (SMTPCODE_SKIP)"
else
  log="$LOGS/lint.log"
  "$MAKE" --no-print-directory lint >"$log" 2>&1 </dev/null
  one_result "make lint (luacheck, luarocks lint)" $? "$log"
fi

# the sources through clang with the same -Werror warnings: gcc builds
# everything else, and clang warns where gcc does not (make check-clang)
echo "== a3. clang"
if skipped clang; then
  echo "# skipped (SMTPCODE_SKIP)"
else
  log="$LOGS/clang.log"
  "$MAKE" --no-print-directory check-clang >"$log" 2>&1 </dev/null
  one_result "make check-clang (every source, clang -Werror)" $? "$log"
fi

# ---------------------------------------------------------------- b
echo "== b. C tests (ASan + UBSan)"
ctests=$(ls spec/c/test_*.c 2>/dev/null)
if [ -z "$ctests" ]; then
  echo "# no spec/c/test_*.c yet"
fi
for t in $ctests; do
  name=$(basename "$t" .c)
  log="$LOGS/ctest-build-$name.log"
  if "$MAKE" --no-print-directory "build/ctest/$name" >"$log" 2>&1 </dev/null; then
    ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1} \
      UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
      run_tap "C $name" timeout 600 "build/ctest/$name"
  else
    one_result "C build $name" 1 "$log"
  fi
done

# ---------------------------------------------------------------- c
echo "== c. busted"
built=()
for v in $versions; do
  log="$LOGS/build-$v.log"
  "$MAKE" --no-print-directory "lib-$v" >"$log" 2>&1 </dev/null
  rc=$?
  one_result "build smtpcode.core for $(luabin "$v")" "$rc" "$log"
  [ "$rc" -eq 0 ] && built+=("$v")
done

busted_bin=$(command -v busted || true)
specs=$(ls spec/*_spec.lua 2>/dev/null)
if [ -z "$busted_bin" ]; then
  echo "not ok 1 - busted is installed" >"$LOGS/busted-missing.log"
  tally "busted" "$LOGS/busted-missing.log" 0
elif [ -z "$specs" ]; then
  echo "# no spec/*_spec.lua yet"
else
  for v in "${built[@]}"; do
    lua=$(luabin "$v")
    case $v in jit) task=luajit ;; *) task=lua${v/./} ;; esac
    # shellcheck disable=SC2086
    run_tap "busted $lua" "$lua" "$busted_bin" -r "$task" -o TAP ${BUSTED_ARGS:-}
    if [ "$v" = jit ]; then
      # shellcheck disable=SC2086
      run_tap "busted $lua SMTPCODE_BACKEND=capi" \
        env SMTPCODE_BACKEND=capi "$lua" "$busted_bin" -r "$task" -o TAP ${BUSTED_ARGS:-}
    fi
  done
fi

# ---------------------------------------------------------------- c2
# The whole busted suite once under valgrind memcheck on lua5.4: zero errors.
echo "== c2. valgrind (busted suite, lua5.4)"
if skipped valgrind; then
  echo "# skipped (SMTPCODE_SKIP)"
elif [[ " ${built[*]} " == *" 5.4 "* ]]; then
  run_tap "valgrind busted lua5.4" timeout 1800 bash spec/c/valgrind.sh
fi

# ---------------------------------------------------------------- c3
# The examples of README.md and docs/*.md run in busted
# (spec/docs_examples_spec.lua); here LDoc builds the HTML reference.
echo "== c3. docs (LDoc)"
if skipped docs; then
  echo "# skipped (SMTPCODE_SKIP)"
else
  run_tap "docs: ldoc" bash .ci/docs.sh
fi

# ---------------------------------------------------------------- d
echo "== d. luarocks make"
if skipped luarocks; then
  echo "# skipped (SMTPCODE_SKIP)"
else
  run_tap "luarocks make + require" bash .ci/luarocks.sh
fi

# ---------------------------------------------------------------- e
echo "== e. embedding smoke tests"
if [[ " $versions " != *" jit "* ]]; then
  echo "# skipped: nginx and Rspamd embed LuaJIT, and LUA_VERSIONS has no jit"
elif [[ " ${built[*]} " == *" jit "* ]]; then
  if skipped nginx; then echo "# nginx skipped (SMTPCODE_SKIP)"; else
    run_tap "nginx + lua module" bash .ci/smoke-nginx.sh
  fi
  if skipped rspamd; then echo "# rspamd skipped (SMTPCODE_SKIP)"; else
    run_tap "rspamd rule" bash .ci/smoke-rspamd.sh
  fi
else
  echo "not ok 1 - smoke tests need build/jit/smtpcode/core.so" >"$LOGS/smoke.log"
  tally "smoke tests" "$LOGS/smoke.log" 0
fi

# ---------------------------------------------------------------- f
echo "== f. integration (spec/integration/*.sh)"
found=0
for s in spec/integration/*.sh; do
  if [ ! -f "$s" ] || [ ! -x "$s" ]; then continue; fi
  found=1
  name=$(basename "$s" .sh)
  skipped "$name" && { echo "# $name skipped (SMTPCODE_SKIP)"; continue; }
  run_tap "integration $name" timeout 900 "$s"
done
[ $found -eq 1 ] || echo "# no executable spec/integration/*.sh yet"

# ---------------------------------------------------------------- g
# Short fuzz, only when FUZZ_TIME is set (CI sets it in .ci/run): every
# libFuzzer target of spec/c/fuzz.sh for FUZZ_TIME seconds, counted here so
# that the totals line stays the last line.
if [ -n "${FUZZ_TIME:-}" ] && [ -f spec/c/fuzz.sh ]; then
  echo "== g. fuzz (FUZZ_TIME=$FUZZ_TIME s per target)"
  run_tap "fuzz" bash spec/c/fuzz.sh
  grep -E "^fuzz: " "$LOGS/fuzz.log" | sed 's/^/# /'
fi

# ---------------------------------------------------------------- fin
echo "== done in $(( $(date +%s) - t_start )) s; logs in $LOGS/"
if [ ${#failed_stages[@]} -gt 0 ]; then
  echo "# failing: ${failed_stages[*]}"
fi
if [ ${#skip_reasons[@]} -gt 0 ]; then
  echo "# skipped, and why:"
  printf '#   %s\n' "${skip_reasons[@]}"
fi
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
