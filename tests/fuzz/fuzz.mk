# libFuzzer harnesses of the C core (included by the top-level Makefile).
#   make fuzz-build                   -> build/fuzz/fuzz_<name>, one per tests/fuzz/fuzz_<name>.c
#   make fuzz [FUZZ_SECONDS=600] [FUZZ_TARGETS="parse sign"] [-j2]
#                                     -> each harness for FUZZ_SECONDS over a copy of its seed
#                                        corpus (new inputs in build/fuzz/corpus/<name>, crashes in
#                                        build/fuzz/crashes/<name>/)
# Built with clang -fsanitize=fuzzer,address,undefined against the core sources (not the release
# library). Core objects keep the project's warnings but not -Werror (a clang-only warning in the
# core must not stop fuzzing); the harnesses are held to -Werror.

FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build/fuzz
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))

FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS   = $(C_WARN) -O1 -g $(FUZZ_SAN) -D_POSIX_C_SOURCE=200809L -Icsrc/include -Icsrc/src \
                $(C_PKG_CFLAGS)
FUZZ_CORE_OBJ = $(patsubst csrc/src/%.c,$(FUZZ_BUILD)/obj/%.o,$(C_SRC))
FUZZ_BINS     = $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-build fuzz-check-deps

fuzz-check-deps: c-check-deps
	@command -v $(FUZZ_CC) >/dev/null || { echo "$(FUZZ_CC) is missing: run 'make deps'" >&2; exit 1; }

fuzz-build: fuzz-check-deps $(FUZZ_BINS)

$(FUZZ_BUILD)/obj/%.o: csrc/src/%.c $(C_HDR) | $(FUZZ_BUILD)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-error -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_CORE_OBJ) $(C_HDR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_CORE_OBJ) -o $@ $(C_PKG_LIBS) -lpthread

$(FUZZ_BUILD)/obj:
	mkdir -p $@

# One long run per harness; make -j runs several at once.
fuzz: $(addprefix fuzz-run-,$(FUZZ_TARGETS))

fuzz-run-%: fuzz-check-deps $(FUZZ_BUILD)/fuzz_%
	@mkdir -p $(FUZZ_BUILD)/corpus/$* $(FUZZ_BUILD)/crashes/$*
	$(FUZZ_BUILD)/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -timeout=30 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crashes/$*/ \
	    $(if $(wildcard tests/fuzz/dict/$*.dict),-dict=tests/fuzz/dict/$*.dict) \
	    $(FUZZ_BUILD)/corpus/$* tests/fuzz/corpus/$*
