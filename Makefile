# corral - host traffic shaper on eBPF
#
#   make deps      install the Debian packages the build, tests and benchmarks need
#   make           build everything into build/
#   make check     run every test (ends with "N passed, N failed");
#                  SANITIZE=1 BUILD=build-san: the same under ASan and UBSan
#   make fuzz      open-ended differential and parser fuzzing (FUZZ_SECONDS)
#   make demo      lab demo: a service under flood, without and with corral
#   make bench     benchmarks, written to docs/benchmarks.md
#   make install   PREFIX=/usr/local DESTDIR= (binary, man page, systemd unit in
#                  UNITDIR=$(PREFIX)/lib/systemd/system)
#   make clean
#
# V=1 shows full commands. VMLINUX_H=path uses a given vmlinux.h.

.DELETE_ON_ERROR:
.SECONDARY:
.DEFAULT_GOAL := all

BUILD     ?= build
VERSION   := $(shell cat VERSION)
PREFIX    ?= /usr/local
DESTDIR   ?=
UNITDIR   ?= $(PREFIX)/lib/systemd/system
CLANG     ?= clang
CC        ?= cc
BPFTOOL   ?= bpftool
ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

SANITIZE ?=
ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
endif

CFLAGS    ?= -O2 -g
CFLAGS    += -Wall -Wextra -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE $(SAN_FLAGS)
CPPFLAGS  += -I$(BUILD) -Ibpf -Iuser
LDFLAGS   += $(SAN_FLAGS)
LIBS      := -lbpf -lelf -lz -ljson-c
BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Wextra \
	-Wno-unused-parameter -Wno-missing-field-initializers -I$(BUILD) -Ibpf

VMLINUX_H ?=
BPF_HDRS  := $(wildcard bpf/*.h)

# ---- BPF -------------------------------------------------------------------
BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

$(BUILD):
	$(Q)mkdir -p $@ $@/user $@/tests/unit $@/tests/bpf $@/tools

$(BUILD)/vmlinux.h: | $(BUILD)
ifeq ($(VMLINUX_H),)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@
else
	$(call msg,CP,$@)
	$(Q)cp $(VMLINUX_H) $@
endif

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .bpf,,$(basename $(notdir $<)))_bpf > $@

# ---- userspace ----------------------------------------------------------------
USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
LIB_OBJS  := $(filter-out $(BUILD)/user/main.o,$(USER_OBJS))
USER_HDRS := $(wildcard user/*.h) $(wildcard tests/lib/*.h)

$(BUILD)/user/%.o: user/%.c $(USER_HDRS) $(BPF_HDRS) $(SKELS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# the version string is used in cli.c only
CPPFLAGS  += -DCORRAL_VERSION='"$(VERSION)"'
$(BUILD)/user/cli.o: VERSION

$(BUILD)/libcorral.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/corral: $(BUILD)/user/main.o $(BUILD)/libcorral.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LIBS) -lmicrohttpd -lm -lncurses

# ---- tests -----------------------------------------------------------------------
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
BPFT_BINS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(BPFT_SRCS))
TLIB_SRCS := $(wildcard tests/lib/*.c)

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libcorral.a $(USER_HDRS) $(BPF_HDRS) $(SKELS) | $(BUILD)
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CPPFLAGS) -Itests/lib $(CFLAGS) $< $(TLIB_SRCS) -o $@ $(LDFLAGS) $(BUILD)/libcorral.a -lcmocka $(LIBS) -lmicrohttpd -lm -lpthread

$(BUILD)/tests/bpf/%: tests/bpf/%.c $(BUILD)/libcorral.a $(USER_HDRS) $(BPF_HDRS) $(SKELS) | $(BUILD)
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CPPFLAGS) -Itests/lib $(CFLAGS) $< $(TLIB_SRCS) -o $@ $(LDFLAGS) $(BUILD)/libcorral.a $(LIBS) -lmicrohttpd -lm -lpthread

# ---- docs ---------------------------------------------------------------------------
MAN_SRCS := $(wildcard docs/*.scd)
MANS     := $(patsubst docs/%.scd,$(BUILD)/man/%,$(MAN_SRCS))

$(BUILD)/man/%: docs/%.scd | $(BUILD)
	$(Q)mkdir -p $(BUILD)/man
	$(call msg,MAN,$@)
	$(Q)scdoc < $< > $@

# tool fragments (tools/*) add to TOOL_BINS
TOOL_BINS :=
include $(wildcard mk/*.mk)

# ---- top-level targets ------------------------------------------------------------
all: $(BUILD)/corral $(SKELS) $(MANS) $(TOOL_BINS) $(UNIT_BINS) $(BPFT_BINS)

tests: $(UNIT_BINS) $(BPFT_BINS)

check: all
	$(Q)tests/run-all.sh

# make fuzz: the differential data-plane fuzzer and every parser harness
fuzz: fuzz-parsers

deps:
	tools/deps.sh

demo: deps
	$(MAKE) all
	tools/demo.sh

bench: all
	tools/bench/run.sh $(BENCH)

install: all
	install -D -m 0755 $(BUILD)/corral $(DESTDIR)$(PREFIX)/sbin/corral
	$(if $(MANS),install -D -m 0644 $(MANS) -t $(DESTDIR)$(PREFIX)/share/man/man8/)
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' tools/systemd/corral.service.in \
		> $(DESTDIR)$(UNITDIR)/corral.service

clean:
	rm -rf $(BUILD)

.PHONY: all tests check deps demo bench install clean fuzz
