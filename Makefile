# smtpcode: build, test and tooling.
#
#   make            build smtpcode.core for every Lua in LUA_VERSIONS
#                   -> build/<v>/smtpcode/core.so   (v = 5.1 5.2 5.3 5.4 jit)
#   make test       install missing Debian packages, then check-gen, C tests
#                   under ASan/UBSan, busted on every Lua (LuaJIT: FFI and C
#                   API backends), luarocks make per Lua, nginx and Rspamd
#                   smoke tests, spec/integration/*.sh; ends with one line
#                   "N passed, N failed, N skipped"
#   make docs       the HTML reference (LDoc: lua/ and docs/*.md) into build/docs/
#   make demo       build for Lua 5.4 and parse examples/replies.txt
#   make bench      Lua parsers vs smtpcode (lua5.4, luajit), C under callgrind;
#                   bench/stream.sh: smtpcode.reader vs a Lua line loop
#   make fuzz       spec/c/fuzz.sh, when present
#   make lint       luacheck + luarocks lint
#   make check-clang  every source through clang -Werror (a user's compiler)
#   make gen        run every data/gen_*.lua into the tree
#   make check-gen  fail when a generated file differs from its generator
#   make install    PREFIX, DESTDIR, LUA_VERSION, LUA_LIBDIR, LUA_SHAREDIR, BINDIR
#   make rock       build and install the release rock (the versioned rockspec)
#                   from a clean copy into a temporary tree, require it
#                   (LUA_VERSION, default 5.4); the .rock lands in build/rock/
#   make print      show the resolved settings
#   make deps       install missing Debian packages (root), or list them
#
# Lua headers, per version v: LUA_INCDIR_<v> (e.g. LUA_INCDIR_5.3=...), then
# LUA_INCDIR (applies to every version built, so pair it with LUA_VERSIONS=..),
# then pkg-config (lua5.x, lua-5.x, lua5x; luajit), then a clear error.
# Modules are linked with -shared only, never -llua.

SHELL := /bin/bash
.DEFAULT_GOAL := all

ifeq ($(origin CC),default)
CC = gcc
endif

LUA_VERSIONS ?= 5.1 5.2 5.3 5.4 jit
ALL_VERSIONS := 5.1 5.2 5.3 5.4 jit

OPT      ?= -O2
WARNINGS := -Wall -Wextra -Werror -pedantic -Wshadow -Wmissing-prototypes \
            -Wstrict-prototypes -Wwrite-strings \
            -Werror=implicit-function-declaration
MOD_CFLAGS = -std=c99 $(OPT) -fPIC $(WARNINGS) -fvisibility=hidden $(CFLAGS)
# The string pointers of the registry tables (smtpcode_entry, a public
# struct) need a relative relocation each: packed (DT_RELR, binutils 2.38,
# glibc 2.36) when the linker can, 24 bytes a pointer otherwise (55 KB).
RELR_LDFLAGS := $(shell $(CC) -shared -Wl,-z,pack-relative-relocs -x c /dev/null \
                  -o /dev/null 2>/dev/null && echo -Wl,-z,pack-relative-relocs)
MOD_LDFLAGS = -shared $(RELR_LDFLAGS) $(LDFLAGS)

# C tests: core sources (everything but the Lua binding) under sanitizers.
SAN_FLAGS    := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=all
CTEST_CFLAGS  = -std=c99 $(SAN_FLAGS) -Wall -Wextra -Werror \
                -Wshadow -Wwrite-strings -Werror=implicit-function-declaration \
                -Isrc $(CFLAGS)

# The Lua binding lives in src/lua/, the only folder that includes lua.h;
# everything directly in src/ is the Lua-free core.
SRCS       = $(sort $(wildcard src/*.c src/lua/*.c))
HDRS       = $(wildcard src/*.h src/lua/*.h)
BINDING    = $(wildcard src/lua/*.c)
CORE_SRCS  = $(filter-out $(BINDING),$(SRCS))
CTESTS     = $(sort $(wildcard spec/c/test_*.c))
CTEST_BINS = $(patsubst spec/c/%.c,build/ctest/%,$(CTESTS))
GENERATORS = $(sort $(wildcard data/gen_*.lua))

ROCKSPEC   = rockspec/smtpcode-scm-1.rockspec
LUA_GEN    ?= lua5.4

# Install layout.
PREFIX       ?= /usr/local
LUA_VERSION  ?= 5.4
LUA_ABI       = $(if $(filter jit,$(LUA_VERSION)),5.1,$(LUA_VERSION))
LUA_LIBDIR   ?= $(PREFIX)/lib/lua/$(LUA_ABI)
LUA_SHAREDIR ?= $(PREFIX)/share/lua/$(LUA_ABI)
BINDIR       ?= $(PREFIX)/bin
INSTALL      ?= install

# ---------------------------------------------------------------- headers
PC_NAMES_5.1 := lua5.1 lua-5.1 lua51
PC_NAMES_5.2 := lua5.2 lua-5.2 lua52
PC_NAMES_5.3 := lua5.3 lua-5.3 lua53
PC_NAMES_5.4 := lua5.4 lua-5.4 lua54
PC_NAMES_jit := luajit
LUA_BIN_5.1  := lua5.1
LUA_BIN_5.2  := lua5.2
LUA_BIN_5.3  := lua5.3
LUA_BIN_5.4  := lua5.4
LUA_BIN_jit  := luajit

lua_incdir = $(or $(LUA_INCDIR_$(1)),$(LUA_INCDIR))
lua_pkgcfg = $(shell for n in $(PC_NAMES_$(1)); do \
               pkg-config --cflags $$n 2>/dev/null && exit 0; done)
# Memoised per version: pkg-config runs at most once per version per make.
lua_cflags = $(or $(LUA_CFLAGS_$(1)),$(eval LUA_CFLAGS_$(1) := $(strip \
               $(if $(call lua_incdir,$(1)),-I$(call lua_incdir,$(1)),$(call lua_pkgcfg,$(1)))))$(LUA_CFLAGS_$(1)))

# Shell snippet: fail with a clear message when no headers were found.
define check_headers
@if [ -n "$(call lua_incdir,$(1))" ]; then \
  test -f "$(call lua_incdir,$(1))/lua.h" || { \
    echo "error: no lua.h in $(call lua_incdir,$(1)) (LUA_INCDIR$(if $(LUA_INCDIR_$(1)),_$(1)))" >&2; exit 1; }; \
elif [ -z "$(call lua_cflags,$(1))" ]; then \
  echo "error: Lua $(1) headers not found: pkg-config knows none of '$(PC_NAMES_$(1))'." >&2; \
  echo "       Install them (make deps) or pass LUA_INCDIR_$(1)=/path/to/include" >&2; \
  echo "       (or LUA_INCDIR=... LUA_VERSIONS=$(1))." >&2; exit 1; \
fi
endef

# A module is linked without -llua, so the linker accepts any undefined
# symbol; reject those that neither Lua nor a versioned libc provides (a
# function declared in src/*.h whose source is missing, for example).
define check_undefined
@undef=$$(nm -D --undefined-only $@.tmp 2>/dev/null | awk '$$1 == "U" && $$2 !~ /@/ && $$2 !~ /^luaL?_/ { print $$2 }'); \
if [ -n "$$undef" ]; then \
  echo "error: $@ has undefined symbols that Lua does not provide:" $$undef >&2; \
  echo "       (a C file missing from src/, or a missing definition)" >&2; \
  rm -f $@.tmp; exit 1; \
fi
endef

# ---------------------------------------------------------------- build
.PHONY: all test demo bench bench-bounce fuzz lint check-clang gen check-gen install uninstall clean docs \
        print deps deps-demo ctest-build rock $(addprefix lib-,$(ALL_VERSIONS))

all: $(foreach v,$(LUA_VERSIONS),build/$(v)/smtpcode/core.so)

define lua_rules
lib-$(1): build/$(1)/smtpcode/core.so

build/$(1)/obj/%.o: src/%.c | build/$(1)/obj/.dir
	$$(call check_headers,$(1))
	@mkdir -p $$(@D)
	$$(CC) $$(MOD_CFLAGS) -Isrc $$(call lua_cflags,$(1)) -MMD -MP -c $$< -o $$@

build/$(1)/smtpcode/core.so: $$(patsubst src/%.c,build/$(1)/obj/%.o,$$(SRCS)) | build/$(1)/smtpcode/.dir
	@test -n "$$(SRCS)" || { echo "error: no C sources in src/" >&2; exit 1; }
	$$(CC) -o $$@.tmp $$^ $$(MOD_LDFLAGS)
	$$(check_undefined)
	@mv -f $$@.tmp $$@

-include $$(wildcard build/$(1)/obj/*.d build/$(1)/obj/lua/*.d)
endef
$(foreach v,$(ALL_VERSIONS),$(eval $(call lua_rules,$(v))))

.PRECIOUS: %/.dir
%/.dir:
	@mkdir -p $(@D) && touch $@

# C test programs: one per spec/c/test_*.c, linked with the Lua-free sources.
ctest-build: $(CTEST_BINS)

build/ctest/%: spec/c/%.c $(CORE_SRCS) $(HDRS) $(wildcard spec/c/*.h) | build/ctest/.dir
	$(CC) $(CTEST_CFLAGS) -o $@ $< $(CORE_SRCS)

# ---------------------------------------------------------------- test
deps:
	@bash .ci/deps.sh test

deps-demo:
	@bash .ci/deps.sh demo

test: deps
	@MAKE="$(MAKE)" bash .ci/test.sh

gen:
	@bash .ci/gen.sh gen $(LUA_GEN) $(GENERATORS)

check-gen:
	@bash .ci/gen.sh check $(LUA_GEN) $(GENERATORS)

fuzz:
	@if [ -f spec/c/fuzz.sh ]; then bash spec/c/fuzz.sh; \
	 else echo "fuzz: no spec/c/fuzz.sh yet, nothing to run"; fi

# ---------------------------------------------------------------- demo, bench
demo: deps-demo
	@$(MAKE) --no-print-directory lib-5.4
	@LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/5.4/?.so;;' \
	  lua5.4 examples/demo.lua examples/replies.txt
	@sh examples/demo-cli.sh lua5.4

BENCH_LUAS ?= 5.4 jit
bench: $(foreach v,$(BENCH_LUAS),build/$(v)/smtpcode/core.so) build/bench/cbench build/bench/cclassify
	@for v in $(BENCH_LUAS); do \
	  case $$v in jit) lua=luajit; backends="ffi capi";; *) lua=lua$$v; backends=capi;; esac; \
	  for b in $$backends; do \
	    echo "== $$lua bench/parse.lua (SMTPCODE_BACKEND=$$b)"; \
	    SMTPCODE_BACKEND=$$b LUA_PATH='lua/?.lua;lua/?/init.lua;bench/?.lua;;' \
	      LUA_CPATH="build/$$v/?.so;;" $$lua bench/parse.lua || exit 1; \
	  done; \
	done
	@for v in $(BENCH_LUAS); do \
	  case $$v in jit) lua=luajit;; *) lua=lua$$v;; esac; \
	  echo "== $$lua bench/classify.lua"; \
	  LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH="build/$$v/?.so;;" $$lua bench/classify.lua || exit 1; \
	done
	@bash bench/stream.sh $(BENCH_LUAS)
	@mkdir -p build/bench/harness && BUILD=$(CURDIR)/build/bench/harness bash bench/cg.sh lua5.4 luajit
	@OPT="$(OPT)" bash .ci/cbench.sh build/bench/cbench
	@if command -v valgrind >/dev/null; then \
	  for fn in bench_find bench_classify; do \
	    valgrind --tool=callgrind --toggle-collect=$$fn --callgrind-out-file=build/bench/cg.$$fn \
	      build/bench/cclassify examples/maillog.txt 1 >build/bench/cclassify.$$fn.txt 2>/dev/null; \
	    ir=$$(awk '/^(summary|totals):/ { print $$2; exit }' build/bench/cg.$$fn); \
	    n=$$(awk '/lines/ { for (i = 1; i <= NF; i++) if ($$i ~ /^[0-9]+$$/) { print $$i; exit } }' build/bench/cclassify.$$fn.txt); \
	    echo "callgrind: $$fn $$ir instructions for $$n lines"; \
	  done; fi
	@$(MAKE) --no-print-directory bench-bounce

# Whole bounce messages: bench/bounce.lua per message on the
# shared corpus next to Sisimai, then the C walk under callgrind.
BOUNCE_CORPUS ?= $(firstword $(wildcard ../shared/corpus/emails /work/shared/corpus/emails))
bench-bounce: $(foreach v,$(BENCH_LUAS),build/$(v)/smtpcode/core.so) build/bench/cbounce
	@for v in $(BENCH_LUAS); do \
	  case $$v in jit) lua=luajit;; *) lua=lua$$v;; esac; \
	  echo "== $$lua bench/bounce.lua"; \
	  LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH="build/$$v/?.so;;" $$lua bench/bounce.lua || exit 1; \
	done
	@if command -v valgrind >/dev/null && [ -n "$(BOUNCE_CORPUS)" ]; then \
	  valgrind --tool=callgrind --toggle-collect=bench_bounce --callgrind-out-file=build/bench/cg.bench_bounce \
	    build/bench/cbounce 1 $(BOUNCE_CORPUS)/maildir/bsd/*.eml >build/bench/cbounce.txt 2>/dev/null; \
	  ir=$$(awk '/^(summary|totals):/ { print $$2; exit }' build/bench/cg.bench_bounce); \
	  echo "callgrind: bench_bounce $$ir instructions for $$(cat build/bench/cbounce.txt)"; \
	  for v in $(BENCH_LUAS); do \
	    case $$v in jit) lua=luajit;; *) lua=lua$$v;; esac; \
	    for r in 1 3; do \
	      LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH="build/$$v/?.so;;" BENCH_CORPUS="$(BOUNCE_CORPUS)" \
	        valgrind --tool=callgrind --callgrind-out-file=build/bench/cg.lbounce.$$r $$lua bench/cgbounce.lua $$r >/dev/null 2>&1; \
	    done; \
	    a=$$(awk '/^(summary|totals):/ { print $$2; exit }' build/bench/cg.lbounce.1); \
	    b=$$(awk '/^(summary|totals):/ { print $$2; exit }' build/bench/cg.lbounce.3); \
	    n=$$(ls $(BOUNCE_CORPUS)/maildir/bsd | wc -l); \
	    echo "callgrind: $$lua bounce() $$(( (b - a) / 2 / n )) instructions per message (C walk and binding)"; \
	  done; fi

build/bench/cbounce: bench/cbounce.c $(CORE_SRCS) $(HDRS) | build/bench/.dir
	$(CC) -std=c99 -D_DEFAULT_SOURCE $(OPT) -g $(WARNINGS) -Isrc -o $@ bench/cbounce.c $(CORE_SRCS)

build/bench/cbench: bench/cbench.c $(CORE_SRCS) $(HDRS) | build/bench/.dir
	$(CC) -std=c99 -D_DEFAULT_SOURCE $(OPT) -g $(WARNINGS) -Isrc -o $@ bench/cbench.c $(CORE_SRCS)

build/bench/cclassify: bench/cclassify.c $(CORE_SRCS) $(HDRS) | build/bench/.dir
	$(CC) -std=c99 -D_DEFAULT_SOURCE $(OPT) -g $(WARNINGS) -Isrc -o $@ bench/cclassify.c $(CORE_SRCS)

# ---------------------------------------------------------------- clang
# Every source through clang with the same warnings (-Werror), the binding
# against each Lua's headers found: a user's build may use clang, and clang
# warns where gcc does not (a constant converted to a narrower type in an
# arm not taken, say). Syntax and warnings only; nothing is written.
CLANG ?= clang
check-clang:
	@command -v $(CLANG) >/dev/null || { echo "check-clang: $(CLANG) not installed"; exit 1; }
	@set -e; for f in $(CORE_SRCS); do \
	  $(CLANG) -std=c99 -D_DEFAULT_SOURCE $(OPT) $(WARNINGS) -Isrc -fsyntax-only $$f; done
	@set -e; $(foreach v,$(LUA_VERSIONS),for f in $(BINDING); do \
	  $(CLANG) -std=c99 $(OPT) $(WARNINGS) -Isrc $(call lua_cflags,$(v)) -fsyntax-only $$f; done; )
	@echo "check-clang: $(words $(SRCS)) sources clean under $(CLANG) (binding: Lua $(LUA_VERSIONS))"

# ---------------------------------------------------------------- lint
LINT_PATHS = $(wildcard lua spec bench examples bin/smtpcode)
lint:
	luacheck --no-color $(LINT_PATHS)
	@set -e; for r in $(wildcard rockspec/*.rockspec); do echo "luarocks lint $$r"; luarocks lint $$r; done

# ---------------------------------------------------------------- install
install: build/$(LUA_VERSION)/smtpcode/core.so
	$(INSTALL) -d $(DESTDIR)$(LUA_LIBDIR)/smtpcode $(DESTDIR)$(LUA_SHAREDIR)
	$(INSTALL) -m 0755 build/$(LUA_VERSION)/smtpcode/core.so $(DESTDIR)$(LUA_LIBDIR)/smtpcode/core.so
	$(INSTALL) -m 0644 lua/smtpcode.lua $(DESTDIR)$(LUA_SHAREDIR)/smtpcode.lua
	@set -e; for f in $(wildcard lua/smtpcode/*.lua); do \
	  $(INSTALL) -d $(DESTDIR)$(LUA_SHAREDIR)/smtpcode; \
	  echo "$(INSTALL) -m 0644 $$f $(DESTDIR)$(LUA_SHAREDIR)/smtpcode/"; \
	  $(INSTALL) -m 0644 $$f $(DESTDIR)$(LUA_SHAREDIR)/smtpcode/; done
	@set -e; if [ -f bin/smtpcode ]; then \
	  $(INSTALL) -d $(DESTDIR)$(BINDIR); \
	  echo "$(INSTALL) -m 0755 bin/smtpcode $(DESTDIR)$(BINDIR)/smtpcode (for $(LUA_BIN_$(LUA_VERSION)))"; \
	  sed '1s|^#!.*|#!/usr/bin/env $(LUA_BIN_$(LUA_VERSION))|' bin/smtpcode >$(DESTDIR)$(BINDIR)/smtpcode; \
	  chmod 0755 $(DESTDIR)$(BINDIR)/smtpcode; fi

rock:
	@bash .ci/rock.sh $(LUA_VERSION)

uninstall:
	rm -f $(DESTDIR)$(LUA_LIBDIR)/smtpcode/core.so $(DESTDIR)$(LUA_SHAREDIR)/smtpcode.lua
	rm -f $(addprefix $(DESTDIR)$(LUA_SHAREDIR)/smtpcode/,$(notdir $(wildcard lua/smtpcode/*.lua)))
	@if [ -f bin/smtpcode ]; then rm -f $(DESTDIR)$(BINDIR)/smtpcode; fi
	-rmdir $(DESTDIR)$(LUA_LIBDIR)/smtpcode $(DESTDIR)$(LUA_SHAREDIR)/smtpcode 2>/dev/null

clean:
	rm -rf build

print:
	@echo "CC           = $(CC)"
	@echo "MOD_CFLAGS   = $(MOD_CFLAGS)"
	@echo "MOD_LDFLAGS  = $(MOD_LDFLAGS)"
	@echo "CTEST_CFLAGS = $(CTEST_CFLAGS)"
	@echo "SRCS         = $(SRCS)"
	@echo "CORE_SRCS    = $(CORE_SRCS)"
	@echo "CTESTS       = $(CTESTS)"
	@echo "GENERATORS   = $(GENERATORS)"
	@echo "LUA_VERSIONS = $(LUA_VERSIONS)"
	@$(foreach v,$(ALL_VERSIONS),echo "LUA_CFLAGS_$(v) = $(or $(call lua_cflags,$(v)),(not found))";)
	@echo "PREFIX       = $(PREFIX)"
	@echo "DESTDIR      = $(DESTDIR)"
	@echo "LUA_VERSION  = $(LUA_VERSION)"
	@echo "LUA_LIBDIR   = $(LUA_LIBDIR)"
	@echo "LUA_SHAREDIR = $(LUA_SHAREDIR)"
	@echo "BINDIR       = $(BINDIR)"
	@echo "ROCKSPEC     = $(ROCKSPEC)"

# ---------------------------------------------------------------- docs
docs:
	@bash .ci/docs.sh
