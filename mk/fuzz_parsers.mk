# libFuzzer harnesses for corral's userspace parsers (tools/fuzz/fuzz_*.c)
#
#   make fuzz-parsers [FUZZ_PARSER_SECONDS=60] [FUZZ_PARSERS="words cli"]
#
# Each harness and the user/*.c sources (but main.c) are compiled with clang,
# libFuzzer, ASan and UBSan into $(BUILD)/fuzz/ (apart from the gcc build).
# Seeds live in tests/fuzz_corpus/<name>/; runs grow a working corpus in
# $(BUILD)/fuzz/corpus/<name>/ and write crashes to $(BUILD)/fuzz/artifacts/.
# A crash found becomes a file under tests/regress/<name>/ (see
# tests/scripts/fuzz_regress.sh).

FUZZ_DIR        := $(BUILD)/fuzz
FUZZ_NAMES      := words cli batch ctrl_conf proc diag
FUZZ_BINS       := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_NAMES))
# every user/*.c but main.c: the parsers reach into the rest (batch -> syn ...)
FUZZ_USER_OBJS  := $(patsubst user/%.c,$(FUZZ_DIR)/user_%.o,$(filter-out user/main.c,$(wildcard user/*.c)))
FUZZ_SAN        := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# -Wno-sign-compare: clang (unlike gcc) warns inside the system macro NLMSG_OK
FUZZ_CFLAGS     := -O1 -g -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -std=gnu11 \
		   -D_GNU_SOURCE $(FUZZ_SAN)
FUZZ_CPPFLAGS   := -Iuser -I$(BUILD) -Ibpf -DCORRAL_VERSION='"$(VERSION)"'
FUZZ_PARSER_SECONDS ?= 60
FUZZ_PARSERS    ?= $(FUZZ_NAMES)

$(FUZZ_DIR):
	$(Q)mkdir -p $@ $@/artifacts

$(FUZZ_DIR)/user_%.o: user/%.c $(USER_HDRS) $(BPF_HDRS) $(SKELS) | $(FUZZ_DIR)
	$(call msg,FUZZCC,$@)
	$(Q)$(CLANG) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/fuzz_%: tools/fuzz/fuzz_%.c $(FUZZ_USER_OBJS) $(USER_HDRS) $(BPF_HDRS) | $(FUZZ_DIR)
	$(call msg,FUZZLD,$@)
	$(Q)$(CLANG) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_USER_OBJS) \
		-o $@ -lbpf -lelf -lz -ljson-c -lmicrohttpd -lncurses -lm -lpthread

TOOL_BINS += $(FUZZ_BINS)

fuzz-parsers: $(FUZZ_BINS)
	$(Q)set -e; for n in $(FUZZ_PARSERS); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$n; \
		dict=; [ -f tests/fuzz_corpus/$$n.dict ] && dict=-dict=tests/fuzz_corpus/$$n.dict; \
		echo "fuzz-parsers: $$n for $(FUZZ_PARSER_SECONDS) s"; \
		$(FUZZ_DIR)/fuzz_$$n -max_total_time=$(FUZZ_PARSER_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 $$dict \
			-artifact_prefix=$(FUZZ_DIR)/artifacts/$$n- \
			$(FUZZ_DIR)/corpus/$$n tests/fuzz_corpus/$$n; \
	done

.PHONY: fuzz-parsers
