# xtrunk — XDP media relay for SIP trunking.
# make            build the BPF objects, their skeletons, the library and the tools
# make check      run every test (needs root: BPF, network namespaces)
# make bench      run the benchmarks
# make fuzz       run the fuzz targets FUZZ_SECONDS each (default 60), grow tests/fuzz/corpus
# make demo       set up the namespace lab, relay a call's media through XDP, tear down
# make deps       install the Debian packages the build and tests need
# make format     format the sources (kernel style); make format-check verifies
# make man        regenerate doc/xtrunkctl.8 from xtrunkctl's tables (the tests compare)

# SANITIZE=1: AddressSanitizer and UBSan, built apart in build-asan
ifeq ($(SANITIZE),1)
BUILD    ?= build-asan
else
BUILD    ?= build
endif
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
MACHINE  := $(shell uname -m)
BPF_ARCH := $(subst x86_64,x86,$(subst aarch64,arm64,$(MACHINE)))

BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) \
	-I/usr/include/$(MACHINE)-linux-gnu -Ibpf -Wall -Werror
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror \
	-I$(BUILD) -Ibpf -Iuserspace/lib
LDLIBS   := -lxdp -lbpf -lelf -lz
SOFIA_CFLAGS := $(shell pkg-config --cflags sofia-sip-ua 2>/dev/null)
SOFIA_LIBS   := $(shell pkg-config --libs sofia-sip-ua 2>/dev/null)

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

# Quiet by default, like the kernel's build; make V=1 shows the commands.
ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-8s %s\n' $(1) $(2);
endif

BPF_HDRS := $(wildcard bpf/*.h)
LIB_SRCS := $(wildcard userspace/lib/*.c)
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
DAEMON_SRCS := $(wildcard userspace/daemon/*.c)
DAEMON_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(DAEMON_SRCS))
CTL_SRCS := $(wildcard ctl/*.c)
CTL_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CTL_SRCS))
SKELS    := $(BUILD)/xtrunk.skel.h $(BUILD)/bench.skel.h $(BUILD)/traffic.skel.h \
	$(BUILD)/xmit_watch.skel.h

PROGS := $(BUILD)/xtrunkd $(BUILD)/xtrunkctl $(BUILD)/test_unit $(BUILD)/test_sdp $(BUILD)/test_packets $(BUILD)/bench_xdp $(BUILD)/rtpgen $(BUILD)/udp_peer $(BUILD)/bench_flows $(BUILD)/ng_client $(BUILD)/memlat
# what the phones of test_phones.sh heard, by frequency
PROGS += $(BUILD)/tone_meter
# the fuzz corpus replayed by make check (fuzz targets: see make fuzz below)
FUZZ_TARGETS := sdp sip
PROGS += $(FUZZ_TARGETS:%=$(BUILD)/fuzz_replay_%)

.PHONY: all check bench deps demo format format-check clean man fuzz
.SECONDARY:
all: $(PROGS)

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(call say,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call say,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(BUILD)/%.o: %.c $(SKELS) $(wildcard userspace/lib/*.h ctl/*.h tests/*/*.h) bpf/xtrunk_abi.h
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/userspace/daemon/%.o: userspace/daemon/%.c $(SKELS) $(wildcard userspace/lib/*.h userspace/daemon/*.h) bpf/xtrunk_abi.h
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iuserspace/daemon $(SOFIA_CFLAGS) -c $< -o $@

$(BUILD)/xtrunkd: $(DAEMON_OBJS) $(BUILD)/libxtrunk.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SOFIA_LIBS) $(LDLIBS)

$(BUILD)/libxtrunk.a: $(LIB_OBJS)
	$(call say,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/xtrunkctl: $(CTL_OBJS) $(BUILD)/libxtrunk.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test_packets: $(BUILD)/tests/pkt/test_packets.o $(BUILD)/libxtrunk.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# the call state machine is tested without sofia-sip: call_state.c has no dependency
$(BUILD)/tests/unit/%.o: CFLAGS += -Iuserspace/daemon
$(BUILD)/tests/unit/%.o: tests/unit/%.c $(SKELS) $(wildcard userspace/lib/*.h userspace/daemon/*.h tests/unit/*.h) bpf/xtrunk_abi.h
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<
$(BUILD)/test_unit: $(BUILD)/tests/unit/test_lib.o $(BUILD)/tests/unit/test_call_state.o \
		$(BUILD)/tests/unit/test_config.o $(BUILD)/tests/unit/test_helpers.o \
		$(BUILD)/userspace/daemon/call_state.o $(BUILD)/userspace/daemon/config.o \
		$(BUILD)/libxtrunk.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# the SDP rewriter is pure: its tests link it alone, with sofia-sip's SDP parser
$(BUILD)/tests/unit/test_sdp.o: tests/unit/test_sdp.c userspace/daemon/sdp_rewrite.h bpf/xtrunk_abi.h
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iuserspace/daemon $(SOFIA_CFLAGS) -c $< -o $@

$(BUILD)/test_sdp: $(BUILD)/tests/unit/test_sdp.o $(BUILD)/userspace/daemon/sdp_rewrite.o $(BUILD)/libxtrunk.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SOFIA_LIBS) $(LDLIBS)

$(BUILD)/udp_peer: $(BUILD)/tests/e2e/udp_peer.o $(BUILD)/libxtrunk.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tone_meter: $(BUILD)/tests/e2e/tone_meter.o
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ -lm

$(BUILD)/rtpgen: $(BUILD)/tools/rtpgen.o $(BUILD)/libxtrunk.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench_xdp: $(BUILD)/tools/bench_xdp.o $(BUILD)/libxtrunk.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench_flows: $(BUILD)/tools/bench_flows.o $(BUILD)/libxtrunk.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/memlat: $(BUILD)/tools/memlat.o
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/ng_client: $(BUILD)/tools/ng_client.o
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

# Fuzz targets (tests/fuzz/fuzz_*.c): make fuzz runs them under libFuzzer (clang,
# ASan+UBSan) for FUZZ_SECONDS each and merges what they find into tests/fuzz/corpus/;
# make check replays that corpus through the same targets built here (fuzz_replay_*).
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := $(BUILD)/libfuzzer
FUZZ_SAN     := address,undefined
FUZZ_CFLAGS  := -O1 -g -std=gnu11 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,$(FUZZ_SAN) \
	-I$(BUILD) -Ibpf -Iuserspace/lib -Iuserspace/daemon $(SOFIA_CFLAGS)
FUZZ_LIB_SRCS := $(LIB_SRCS) $(filter-out userspace/daemon/xtrunkd.c,$(DAEMON_SRCS))
FUZZ_DAEMON_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(filter-out userspace/daemon/xtrunkd.c,$(DAEMON_SRCS)))

$(BUILD)/tests/fuzz/%.o: tests/fuzz/%.c tests/fuzz/fuzz_common.h $(SKELS) $(wildcard userspace/lib/*.h userspace/daemon/*.h)
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iuserspace/daemon $(SOFIA_CFLAGS) -c $< -o $@

$(BUILD)/fuzz_replay_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o $(FUZZ_DAEMON_OBJS) $(BUILD)/libxtrunk.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SOFIA_LIBS) $(LDLIBS)

# fuzz_sdp fuzzes the pure SDP rewriter: nothing else of the daemon is linked
$(BUILD)/fuzz_replay_sdp: $(BUILD)/tests/fuzz/fuzz_sdp.o $(BUILD)/tests/fuzz/replay.o $(BUILD)/userspace/daemon/sdp_rewrite.o $(BUILD)/libxtrunk.a
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SOFIA_LIBS) $(LDLIBS)

$(FUZZ_BUILD)/%.o: %.c tests/fuzz/fuzz_common.h $(SKELS) $(wildcard userspace/lib/*.h userspace/daemon/*.h) bpf/xtrunk_abi.h
	@mkdir -p $(dir $@)
	$(call say,CLANG,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(FUZZ_LIB_SRCS))
	$(call say,LINK,$@)
	$(Q)$(CLANG) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $^ $(SOFIA_LIBS) $(LDLIBS)

$(FUZZ_BUILD)/fuzz_sdp: $(FUZZ_BUILD)/tests/fuzz/fuzz_sdp.o $(FUZZ_BUILD)/userspace/daemon/sdp_rewrite.o
	$(call say,LINK,$@)
	$(Q)$(CLANG) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $^ $(SOFIA_LIBS)

fuzz: deps
	$(MAKE) $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
	tests/fuzz/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(BUILD):
	@mkdir -p $@

check: deps
	$(MAKE) all
	XT_BUILD=$(abspath $(BUILD)) tests/run.sh

bench:
	tools/deps.sh bench
	$(MAKE) all
	BUILD=$(BUILD) tools/bench.sh

deps:
	tools/deps.sh

# The README's main command: installs what it needs, builds, runs the lab demo.
demo:
	tools/deps.sh
	$(MAKE) all
	tools/lab.sh demo

# The man page is written by xtrunkctl from its command tables; test_ctl.sh
# fails when the committed copy differs.
man: $(BUILD)/xtrunkctl
	$(BUILD)/xtrunkctl help --man > doc/xtrunkctl.8

FORMAT_SRCS = $(shell git ls-files '*.c' '*.h')
format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	clang-format --dry-run -Werror $(FORMAT_SRCS)

clean:
	rm -rf $(BUILD)
