# C test programs, built into build/tests/ and run by tests/run.sh, and the
# libFuzzer targets (build/fuzz/, run briefly by tests/t_fuzz.sh and at
# length by `make fuzz`).
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TEST_CFLAGS := -O1 -g $(WARN) -std=gnu11 -D_GNU_SOURCE -Iformat

.PHONY: tests
tests: $(OUT)/tests/test_format $(OUT)/tests/test_format_asan $(OUT)/fuzz/fuzz_reader \
	$(OUT)/tests/ops-inspect $(OUT)/fuzz/fuzz_pcap

$(OUT)/tests/test_format: tests/test_format.c $(OUT)/libtrail.a
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $^ $(LDLIBS_FORMAT) -lpthread

# reads captures and pcaps for the t_ops_* tests (a helper, not a test)
$(OUT)/tests/ops-inspect: tests/ops_inspect.c $(OUT)/libtrail.a
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $^ $(LDLIBS_FORMAT) -lpcap

# the same tests with the format library built under ASan+UBSan
$(OUT)/tests/test_format_asan: tests/test_format.c $(FORMAT_SRCS) $(wildcard format/*.h)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(TEST_CFLAGS) $(SAN) -o $@ tests/test_format.c $(FORMAT_SRCS) $(LDLIBS_FORMAT) -lpthread

$(OUT)/fuzz/fuzz_reader: tests/fuzz_reader.c $(FORMAT_SRCS) $(wildcard format/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) -O1 -g -std=gnu11 -D_GNU_SOURCE -Iformat -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ tests/fuzz_reader.c $(FORMAT_SRCS) $(LDLIBS_FORMAT) -lpthread

# the analyzer's pcap frame decoder (run briefly by tests/t_pcap_damage.sh)
$(OUT)/fuzz/fuzz_pcap: tests/fuzz_pcap.c analyze/pcap_decode.c analyze/pcap.h
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) -O1 -g -std=gnu11 -D_GNU_SOURCE -Iformat -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ tests/fuzz_pcap.c analyze/pcap_decode.c

FUZZ_SECONDS ?= 600
fuzz: $(OUT)/fuzz/fuzz_reader
	$(Q)mkdir -p $(OUT)/fuzz/corpus
	$(Q)cp -n samples/*.trail tests/fuzz-corpus/* $(OUT)/fuzz/corpus/ 2>/dev/null || true
	$(OUT)/fuzz/fuzz_reader -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
		-artifact_prefix=$(OUT)/fuzz/ $(OUT)/fuzz/corpus
