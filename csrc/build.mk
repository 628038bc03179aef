# Build rules of the C core (included by the top-level Makefile).
#   make lib                         -> build/libtcfaceid.a, build/tcf-sign
#   make c-tests BUILD=build/asan C_VARIANT=asan   -> the unit-test runner for one variant
# Variants: release (default: -O2), debug (-O0, allocation-failure injection; used under
# valgrind), asan (AddressSanitizer + UndefinedBehaviorSanitizer, allocation-failure injection),
# tsan (ThreadSanitizer, for the thread tests: tests/c/test_c_core.py).

CC        ?= cc
C_VARIANT ?= release
BUILD     ?= build
C_PKGS    := libcurl jansson libcrypto

C_WARN := -std=c11 -Wall -Wextra -Wshadow -Wconversion -Wstrict-prototypes -Wmissing-prototypes \
          -Wformat=2 -Wvla -Werror
C_OPT_release := -O2 -g
C_OPT_debug   := -O0 -g -DTCF_ALLOC_FAILURE_INJECTION
C_OPT_asan    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
                 -DTCF_ALLOC_FAILURE_INJECTION
C_LDOPT_asan  := -fsanitize=address,undefined
C_OPT_tsan    := -O1 -g -fno-omit-frame-pointer -fsanitize=thread
C_LDOPT_tsan  := -fsanitize=thread

C_PKG_CFLAGS = $(shell pkg-config --cflags $(C_PKGS))
C_PKG_LIBS   = $(shell pkg-config --libs $(C_PKGS))
C_CFLAGS     = $(C_WARN) $(C_OPT_$(C_VARIANT)) -D_POSIX_C_SOURCE=200809L -fvisibility=hidden -fPIC \
               -Icsrc/include -Icsrc/src $(C_PKG_CFLAGS) $(CFLAGS)
C_LDLIBS     = $(C_LDOPT_$(C_VARIANT)) $(C_PKG_LIBS) -lpthread $(LDFLAGS)

C_SRC  := $(sort $(wildcard csrc/src/*.c))
C_OBJ  := $(patsubst csrc/src/%.c,$(BUILD)/obj/%.o,$(C_SRC))
C_HDR  := csrc/include/tcfaceid.h $(wildcard csrc/src/*.h)
T_SRC  := $(sort $(wildcard tests/c/*.c))
T_OBJ  := $(patsubst tests/c/%.c,$(BUILD)/tobj/%.o,$(T_SRC))

.PHONY: lib c-tests c-check-deps

c-check-deps:
	@pkg-config --exists $(C_PKGS) || { echo "missing C libraries ($(C_PKGS)): run 'make deps'" >&2; exit 1; }

lib: c-check-deps $(BUILD)/libtcfaceid.a $(BUILD)/tcf-sign $(BUILD)/tcf-call $(BUILD)/tcf-encrypt

c-tests: c-check-deps $(BUILD)/test_core $(BUILD)/tcf-sign $(BUILD)/tcf-call

$(BUILD)/obj/%.o: csrc/src/%.c $(C_HDR) | $(BUILD)/obj
	$(CC) $(C_CFLAGS) -c $< -o $@

$(BUILD)/tobj/%.o: tests/c/%.c $(wildcard tests/c/*.h) $(C_HDR) | $(BUILD)/tobj
	$(CC) $(C_CFLAGS) -Wno-missing-prototypes -Itests/c -c $< -o $@

$(BUILD)/libtcfaceid.a: $(C_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/tcf-sign: csrc/tools/tcf-sign.c $(BUILD)/libtcfaceid.a
	$(CC) $(C_CFLAGS) $< -o $@ $(BUILD)/libtcfaceid.a $(C_LDLIBS)

$(BUILD)/tcf-call: csrc/tools/tcf-call.c $(BUILD)/libtcfaceid.a
	$(CC) $(C_CFLAGS) $< -o $@ $(BUILD)/libtcfaceid.a $(C_LDLIBS)

$(BUILD)/tcf-encrypt: csrc/tools/tcf-encrypt.c $(BUILD)/libtcfaceid.a
	$(CC) $(C_CFLAGS) $< -o $@ $(BUILD)/libtcfaceid.a $(C_LDLIBS)

$(BUILD)/test_core: $(T_OBJ) $(BUILD)/libtcfaceid.a
	$(CC) $(C_CFLAGS) $(T_OBJ) -o $@ $(BUILD)/libtcfaceid.a $(C_LDLIBS)

$(BUILD)/obj $(BUILD)/tobj:
	mkdir -p $@
