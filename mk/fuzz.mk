# differential fuzzing of the data plane against the reference model
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_SEED=N]
DIFF_FUZZ := $(BUILD)/tools/diff_fuzz
FUZZ_SECONDS ?= 60
FUZZ_SEED ?=
DIFF_FUZZ_SRCS := tools/fuzz/diff_fuzz.c tests/model/model.c tests/model/model.h \
	tests/model/diff_engine.c $(wildcard tests/lib/*.c) $(wildcard tests/lib/*.h)

$(DIFF_FUZZ): $(DIFF_FUZZ_SRCS) $(BUILD)/corral.skel.h $(BPF_HDRS) $(BUILD)/libcorral.a | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) -Itests/lib -Itests/model $(CFLAGS) $< $(wildcard tests/lib/*.c) \
		-o $@ $(LDFLAGS) $(BUILD)/libcorral.a $(LIBS) -lmicrohttpd -lm -lpthread

TOOL_BINS += $(DIFF_FUZZ)

fuzz: $(DIFF_FUZZ)
	$(DIFF_FUZZ) --seconds $(FUZZ_SECONDS) $(if $(FUZZ_SEED),--seed $(FUZZ_SEED))

.PHONY: fuzz

# tests/bpf/test_diff.c includes the model and the engine
$(BUILD)/tests/bpf/test_diff: tests/model/model.c tests/model/model.h tests/model/diff_engine.c \
	tests/model/regress.c $(wildcard tests/lib/*.c)
