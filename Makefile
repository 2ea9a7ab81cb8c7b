# libopes — one Makefile. Honours CC, CFLAGS, LDFLAGS, PREFIX, LIBDIR, DESTDIR.
#
#   make                 static + shared library and the opes tool (in build/)
#   make check           build and run every test; ends with "N passed, N failed"
#   make check SANITIZE=1   the same under clang ASan+UBSan (in build-san/)
#   make fuzz            libFuzzer harnesses (clang; needs libclang-rt-14-dev)
#   make fuzz-replay     replay every fuzz corpus under ASan+UBSan
#   make bench           benchmarks on ../shared/bench (BENCH_DIR=...)
#   make demo            build and run the README demo
#   make install / uninstall   PREFIX=/usr/local DESTDIR=
#   ZLIB=0|1             force zlib off/on (default: on when zlib.h is found)
#   WERROR=0             do not turn warnings into errors (for packagers)

VERSION_H := include/opes/version.h
MAJOR := $(shell sed -n 's/^\#define OPES_VERSION_MAJOR \([0-9]*\)/\1/p' $(VERSION_H))
MINOR := $(shell sed -n 's/^\#define OPES_VERSION_MINOR \([0-9]*\)/\1/p' $(VERSION_H))
PATCH := $(shell sed -n 's/^\#define OPES_VERSION_PATCH \([0-9]*\)/\1/p' $(VERSION_H))
VERSION := $(MAJOR).$(MINOR).$(PATCH)
# ABI number of the soname: separate from the release, bumped only when the
# ABI breaks. Before 1.0 it is 0 and nothing is promised.
ABI := 0

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=
BENCH_DIR ?= ../shared/bench

SANITIZE ?= 0
WERROR ?= 1
# V=1 shows the full commands
ifeq ($(V),1)
Q :=
else
Q := @
endif

# BUILD: where objects and outputs go (several trees may build side by side).
ifeq ($(SANITIZE),1)
CC := clang
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g
# a sanitized shared object leaves the sanitizer runtime's symbols to the
# executable, so --no-undefined cannot hold for it
NO_UNDEFINED :=
else
NO_UNDEFINED := -Wl,--no-undefined
BUILD ?= build
SANFLAGS :=
endif
B := $(BUILD)

# zlib: optional. auto = use it when <zlib.h> compiles and links.
ZLIB ?= auto
# (inside $(shell ...) GNU make < 4.3 needs "#" written as \#, and 4.3 keeps
# that backslash: take "#" from a variable, which works in both)
HASH := \#
ifeq ($(ZLIB),auto)
ZLIB := $(shell printf '$(HASH)include <zlib.h>\nint main(void){return zlibVersion()==0;}\n' | \
          $(CC) -x c - -o /dev/null -lz >/dev/null 2>&1 && echo 1 || echo 0)
endif
ifeq ($(ZLIB),1)
ZLIB_CFLAGS := -DOPES_HAVE_ZLIB=1
ZLIB_LIBS := -lz
else
ZLIB_CFLAGS := -DOPES_HAVE_ZLIB=0
ZLIB_LIBS :=
endif

# Warnings (STYLE.md 7). Every flag is on; none left out.
WARN := -std=c11 -Wall -Wextra -Wpedantic -Wconversion -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wcast-qual -Wformat=2 -Wundef -Wvla -Wwrite-strings
ifeq ($(WERROR),1)
WARN += -Werror
endif
CFLAGS ?= -O2 -g
ALL_CFLAGS := $(WARN) $(CFLAGS) $(SANFLAGS) -Iinclude $(ZLIB_CFLAGS)
LIB_CFLAGS := $(ALL_CFLAGS) -fPIC -fvisibility=hidden -DOPES_BUILDING

LIB_SRC := $(sort $(wildcard src/*.c))
LIB_OBJ := $(patsubst src/%.c,$(B)/obj/%.o,$(LIB_SRC))
HEADERS := $(sort $(wildcard include/opes/*.h))
TOOL_SRC := $(sort $(wildcard tools/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))
TEST_SUPPORT := $(sort $(wildcard tests/support/*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(FUZZ_SRC))
BENCH_SRC := $(filter-out bench/bench_util.c,$(sort $(wildcard bench/bench_*.c)))

STATIC := $(B)/libopes.a
SHARED_REAL := $(B)/libopes.so.$(ABI).$(MINOR).$(PATCH)
SHARED_SONAME := libopes.so.$(ABI)
TOOL := $(B)/opes

.PHONY: all lib check check-unit check-scripts fuzz fuzz-replay bench demo install uninstall \
        clean deps docs FORCE
all: $(STATIC) $(SHARED_REAL) $(TOOL) $(B)/libopes.pc
lib: $(STATIC) $(SHARED_REAL)

# A build tree remembers its configuration in a stamp that is rewritten
# only when the configuration changes, and everything built depends on it:
# `make check ZLIB=0` after `make check` in the same tree rebuilds instead
# of silently testing the zlib objects again. $(call stamp,FILE,TEXT)
stamp = @mkdir -p $(dir $1); if [ "$$(cat $1 2>/dev/null)" != "$2" ]; then echo "$2" > $1; fi
FORCE:
$(B)/config.stamp: FORCE
	$(call stamp,$@,$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(ZLIB_LIBS))

$(B)/obj/%.o: src/%.c $(HEADERS) $(wildcard src/*.h) $(B)/config.stamp | $(B)/obj
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(LIB_CFLAGS) -Isrc -c $< -o $@

$(B)/obj $(B)/tests $(B)/fuzz $(B)/bench:
	mkdir -p $@

$(STATIC): $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(SHARED_REAL): $(LIB_OBJ) src/libopes.map
	$(CC) -shared $(SANFLAGS) -Wl,-soname,$(SHARED_SONAME) $(NO_UNDEFINED) \
	  -Wl,--version-script=src/libopes.map $(LDFLAGS) -o $@ $(LIB_OBJ) $(ZLIB_LIBS)
	ln -sf libopes.so.$(ABI).$(MINOR).$(PATCH) $(B)/$(SHARED_SONAME)
	ln -sf $(SHARED_SONAME) $(B)/libopes.so

$(TOOL): $(TOOL_SRC) $(STATIC) $(HEADERS)
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(TOOL_SRC) $(STATIC) $(LDFLAGS) $(ZLIB_LIBS)

# The .pc file names the install directories, so it is written anew for each
# install (PREFIX may differ from the one `make all` saw).
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@LIBS_PRIVATE@|$(ZLIB_LIBS)|g' pkgconfig/libopes.pc.in
$(B)/libopes.pc: pkgconfig/libopes.pc.in $(VERSION_H)
	@mkdir -p $(B)
	$(Q)$(PC_SED) > $@

# ---- tests ---------------------------------------------------------------
# Unit tests link the static library, so internals are reachable.
$(B)/tests/%: tests/%.c tests/harness.h $(TEST_SUPPORT) $(STATIC) $(B)/config.stamp | $(B)/tests
	@$(if $(Q),echo "  CCLD    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -Isrc -Itests -DOPES_SRCDIR='"$(CURDIR)"' -o $@ $< $(TEST_SUPPORT) \
	  $(STATIC) $(LDFLAGS) $(ZLIB_LIBS)

# `make check` installs what a fresh machine lacks (pkg-config), builds,
# runs every unit test binary and every script test, and prints the total.
check: deps all $(TEST_BIN)
	@sh tests/run.sh "$(B)" "$(CC)" "$(SANITIZE)" "$(ZLIB)" $(TEST_BIN)

deps:
	@sh tools/deps.sh

# ---- fuzzing ---------------------------------------------------------------
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
              -std=c11 -Iinclude -Isrc $(ZLIB_CFLAGS)
fuzz: $(patsubst %,build-fuzz/fuzz_%,$(FUZZ_NAMES))
build-fuzz/config.stamp: FORCE
	$(call stamp,$@,$(FUZZ_CC) $(FUZZ_FLAGS) $(ZLIB_LIBS))
build-fuzz/fuzz_%: fuzz/fuzz_%.c $(wildcard fuzz/*.h) $(LIB_SRC) $(HEADERS) src/internal.h \
                   build-fuzz/config.stamp
	@mkdir -p build-fuzz
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(LIB_SRC) $(ZLIB_LIBS)

# Replay: each harness linked with fuzz/standalone.c (no libFuzzer runtime
# needed) under ASan+UBSan, run over its corpus.
REPLAY_FLAGS := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer -std=c11 -Iinclude -Isrc $(ZLIB_CFLAGS)
fuzz-replay: $(patsubst %,build-replay/fuzz_%,$(FUZZ_NAMES))
	@sh fuzz/replay.sh build-replay $(FUZZ_NAMES)
build-replay/config.stamp: FORCE
	$(call stamp,$@,$(FUZZ_CC) $(REPLAY_FLAGS) $(ZLIB_LIBS))
build-replay/fuzz_%: fuzz/fuzz_%.c fuzz/standalone.c $(wildcard fuzz/*.h) $(LIB_SRC) $(HEADERS) \
                     $(wildcard src/*.h) \
                     build-replay/config.stamp
	@mkdir -p build-replay
	@$(if $(Q),echo "  REPLAY  $@")
	$(Q)$(FUZZ_CC) $(REPLAY_FLAGS) -o $@ $< fuzz/standalone.c $(LIB_SRC) $(ZLIB_LIBS)

# ---- benchmarks ------------------------------------------------------------
bench: $(STATIC) | $(B)/bench
	@for s in $(BENCH_SRC); do \
	  n=$$(basename $$s .c); \
	  $(CC) -std=c11 -O2 -g -Iinclude -Isrc -o $(B)/bench/$$n $$s bench/bench_util.c $(STATIC) \
	    -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc $(ZLIB_LIBS) || exit 1; \
	  $(B)/bench/$$n "$(BENCH_DIR)" || exit 1; \
	done

# ---- demo ------------------------------------------------------------------
demo: all
	@sh tools/demo.sh $(B)/opes

docs:
	@echo "docs/ is plain Markdown; nothing to build"

# ---- install ---------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(INCLUDEDIR)/opes $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	  $(DESTDIR)$(BINDIR)
	install -m 644 $(HEADERS) $(DESTDIR)$(INCLUDEDIR)/opes/
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED_REAL) $(DESTDIR)$(LIBDIR)/
	ln -sf libopes.so.$(ABI).$(MINOR).$(PATCH) $(DESTDIR)$(LIBDIR)/$(SHARED_SONAME)
	ln -sf $(SHARED_SONAME) $(DESTDIR)$(LIBDIR)/libopes.so
	$(PC_SED) > $(DESTDIR)$(PKGCONFIGDIR)/libopes.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/libopes.pc
	install -m 755 $(TOOL) $(DESTDIR)$(BINDIR)/opes

uninstall:
	rm -f $(patsubst include/opes/%,$(DESTDIR)$(INCLUDEDIR)/opes/%,$(HEADERS))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/opes 2>/dev/null
	rm -f $(DESTDIR)$(LIBDIR)/libopes.a $(DESTDIR)$(LIBDIR)/libopes.so \
	  $(DESTDIR)$(LIBDIR)/$(SHARED_SONAME) $(DESTDIR)$(LIBDIR)/libopes.so.$(ABI).$(MINOR).$(PATCH) \
	  $(DESTDIR)$(PKGCONFIGDIR)/libopes.pc $(DESTDIR)$(BINDIR)/opes

clean:
	rm -rf $(BUILD) build build-san build-fuzz build-replay
