# tcptrail build. `make` builds both programs; `make analyze` builds only the
# analyzer (C compiler, zstd, sqlite3, libpcap: no libbpf, clang or BTF).
# V=1 shows the commands.

VERSION := 0.1.0
OUT := build
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DESTDIR ?=

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/; s/ppc64le/powerpc/; s/mips.*/mips/; s/riscv64/riscv/; s/s390x/s390/')

WARN := -Wall -Wextra -Werror -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
ALL_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -DTCPTRAIL_VERSION='"$(VERSION)"' -Iformat -Ibpf -I$(OUT)
LDLIBS_FORMAT := -lzstd

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

FORMAT_SRCS := $(sort $(wildcard format/*.c))
RECORD_SRCS := $(sort $(wildcard record/*.c))
ANALYZE_SRCS := $(sort $(wildcard analyze/*.c))
FORMAT_OBJS := $(FORMAT_SRCS:%.c=$(OUT)/%.o)
RECORD_OBJS := $(RECORD_SRCS:%.c=$(OUT)/%.o)
ANALYZE_OBJS := $(ANALYZE_SRCS:%.c=$(OUT)/%.o)

.PHONY: all record analyze test demo deps fuzz install clean bench
.DELETE_ON_ERROR:

all: record analyze

record: $(OUT)/tcptrail-record $(OUT)/tcptrail-loadgen
analyze: $(OUT)/tcptrail-analyze

$(OUT)/libtrail.a: $(FORMAT_OBJS)
	$(call msg,AR,$@)
	$(Q)ar rcs $@ $^

$(OUT)/%.o: %.c $(wildcard format/*.h) | $(OUT)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# ---- kernel side ----
$(OUT)/vmlinux.h: | $(OUT)
	$(call msg,BTF,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUT)/tcptrail.bpf.o: bpf/tcptrail.bpf.c bpf/tcptrail.h $(wildcard bpf/*.h) $(OUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUT) -Ibpf \
		-idirafter /usr/include/$(shell $(CC) -dumpmachine) -idirafter /usr/include \
		-Wall -Werror -c $< -o $@

$(OUT)/tcptrail.skel.h: $(OUT)/tcptrail.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name tcptrail_bpf > $@

$(RECORD_OBJS): $(OUT)/tcptrail.skel.h bpf/tcptrail.h $(wildcard record/*.h)

$(OUT)/tcptrail-record: $(RECORD_OBJS) $(OUT)/libtrail.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lbpf -lelf -lz -lpcap -lpthread $(LDLIBS_FORMAT)

$(ANALYZE_OBJS): $(wildcard analyze/*.h)

$(OUT)/tcptrail-analyze: $(ANALYZE_OBJS) $(OUT)/libtrail.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_FORMAT) -lpcap -lm

# connection-storm / scenario traffic generator used by demo, tests, benchmarks
$(OUT)/tcptrail-loadgen: scripts/loadgen.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< -lpthread

$(OUT):
	$(Q)mkdir -p $@

# ---- tests ----
include tests/tests.mk

# Both entry points install missing Debian packages first, so they work on a
# fresh machine.
deps:
	$(Q)scripts/install-deps.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all tests
	$(Q)tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

# connection-storm benchmark of the recorder (root; not a test)
bench: deps
	$(Q)$(MAKE) --no-print-directory record
	$(Q)scripts/bench-record.sh

install: all
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(OUT)/tcptrail-record $(OUT)/tcptrail-analyze $(DESTDIR)$(BINDIR)/

clean:
	rm -rf $(OUT)
