// SPDX-License-Identifier: BSD-2-Clause
/* Format library tests: round trip of every record kind with both codecs,
 * a capture cut at every byte offset, random corruption (this program is
 * also built with ASan+UBSan), version and unknown-kind handling, and a
 * full disk in the middle of a recording. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trail.h"

static int failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		failures++; \
		fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
	} \
} while (0)

static char tmpdir[] = "/tmp/tt-format-XXXXXX";

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n ? n : 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static const struct trail_enum_entry states[] = {
	{ 1, "TCP_ESTABLISHED" }, { 2, "TCP_SYN_SENT" }, { 3, "TCP_SYN_RECV" },
	{ 7, "TCP_CLOSE" }, { 10, "TCP_LISTEN" }, { -5, "NEGATIVE_VALUE" },
};

static struct trail_sock sock4(uint16_t sport, uint16_t dport)
{
	struct trail_sock s = { .cookie = 4097, .skaddr = 0xffff888012345678ull,
				.netns = 4026531840u, .family = TRAIL_FAMILY_INET,
				.protocol = 6, .sport = sport, .dport = dport };
	memcpy(s.saddr, "\x7f\x00\x00\x01", 4);
	memcpy(s.daddr, "\x7f\x00\x00\x02", 4);
	return s;
}

/* The reference capture: every record kind, in a known order. */
#define NSTATES 300
static int write_sample(const char *path, int compress, uint32_t block_bytes)
{
	struct trail_writer_opts o = { .compress = compress, .block_bytes = block_bytes };
	struct trail_writer *w;
	struct trail_sock s4 = sock4(40000, 80), s6 = { 0 };
	struct trail_task t = { .slot = 1023, .pid = 4242, .tid = 4243, .comm = "curl" };
	struct trail_clock ck = { 1000, 1700000000123456789ull, 250 };
	uint64_t cpus[3] = { 0, 7, 1 };
	struct trail_counter ctr[] = { { "record.decode_errors", 3 } };
	struct trail_loss loss = { cpus, 3, ctr, 1 };
	uint64_t id4, id6;
	int err;

	err = trail_writer__open(&w, path, &o);
	if (err)
		return err;
	s6.family = TRAIL_FAMILY_INET6;
	s6.protocol = 6;
	s6.sport = 443;
	s6.dport = 65535;
	s6.saddr[15] = 1;
	memset(s6.daddr, 0xfe, 16);
	err = trail_writer__meta(w, "host.name", "box1") ?:
	      trail_writer__meta(w, "cmdline", "tcptrail-record -w 'a b.trail'") ?:
	      trail_writer__enum(w, TRAIL_ENUM_TCP_STATE, states, 6) ?:
	      trail_writer__clock(w, &ck) ?:
	      trail_writer__sock(w, &s4, &id4) ?:
	      trail_writer__sock(w, &s6, &id6) ?:
	      trail_writer__task(w, &t);
	for (int i = 0; !err && i < NSTATES; i++) {
		/* time steps backwards now and then, as ring buffer order does */
		struct trail_state st = { .ts_ns = 5000000000ull + (uint64_t)i * 1000 - (i % 7 == 3 ? 1500 : 0),
					  .sock_id = i % 2 ? id6 : id4,
					  .task_slot = i % 3 ? 1023 : TRAIL_NO_TASK,
					  .oldstate = (uint16_t)(i % 12), .newstate = (uint16_t)(i % 12 + 1) };
		err = trail_writer__state(w, &st);
	}
	if (!err) {
		/* issue 3 records: request sock and link, stack, lifecycle,
		 * resets with and without socket, retransmit, drop */
		static const char *frames[] = { "tcp_v4_send_reset+0x1a4", "tcp_v4_rcv+0x9f0" };
		struct trail_sock rq = sock4(80, 40002);
		struct trail_stack stk = { 7, 2, frames };
		uint64_t idr = 0;

		rq.kind = TRAIL_SOCK_REQUEST;
		err = trail_writer__sock(w, &rq, &idr);
		struct trail_link ln = { idr, id4, TRAIL_LINK_REQ_OF_LISTENER };
		struct trail_life lf = { 6000000000ull, idr, 1023, TRAIL_LIFE_SYN_ARRIVED, 42 };
		struct trail_reset rs = { .ts_ns = 6000000100ull, .sock_id = 0, .task_slot = TRAIL_NO_TASK,
					  .netns = 1, .dir = TRAIL_RST_SENT, .source = TRAIL_RST_SRC_REPLY,
					  .state = TRAIL_NO_STATE, .reason = 2, .stack_id = 7,
					  .seg = { .family = TRAIL_FAMILY_INET, .flags = TRAIL_TCP_ACK,
						   .sport = 2222, .dport = 1112, .seq = 100,
						   .ack = 0xffffffffu, .len = 0 } };
		struct trail_retrans rt = { 6000000200ull, idr, TRAIL_NO_TASK, TRAIL_RETRANS_SYNACK, 12, { 0 } };
		struct trail_drop dr = { .ts_ns = 5999999000ull, .sock_id = id6, .task_slot = 1023,
					 .netns = 2, .reason = TRAIL_NO_REASON,
					 .seg = { .family = TRAIL_FAMILY_INET6, .flags = TRAIL_TCP_SYN,
						  .sport = 1, .dport = 65535, .seq = 7, .len = 1400 } };
		memcpy(rs.seg.saddr, "\x01\x01\x01\x02", 4);
		memcpy(rs.seg.daddr, "\x02\x02\x02\x02", 4);
		dr.seg.daddr[15] = 9;
		err = err ?: trail_writer__link(w, &ln) ?: trail_writer__stack(w, &stk) ?:
		      trail_writer__life(w, &lf) ?: trail_writer__reset(w, &rs) ?:
		      trail_writer__retrans(w, &rt) ?: trail_writer__drop(w, &dr);
		/* refused without side effects: unknown socket, bad segment */
		struct trail_reset bad = rs;
		bad.sock_id = 999;
		if (!err && trail_writer__reset(w, &bad) != -EINVAL)
			err = -EPROTO;
		bad.sock_id = 0;
		bad.seg.family = 5;
		if (!err && trail_writer__reset(w, &bad) != -EINVAL)
			err = -EPROTO;
	}
	if (!err) {
		s4.sport = 40001;
		s4.id = id4;
		err = trail_writer__tuple(w, &s4) ?: trail_writer__retire(w, id4) ?:
		      trail_writer__loss(w, &loss);
	}
	if (err) {
		trail_writer__abandon(w);
		return err;
	}
	return trail_writer__close(w);
}

/* Read everything; verify content when VERIFY. Returns records read. */
static int read_all(struct trail_reader *r, int verify, enum trail_status *st)
{
	struct trail_record rec;
	int n = 0, nstate = 0, rc, kinds = 0;
	uint64_t id4 = 0;

	while ((rc = trail_reader__next(r, &rec)) == 1) {
		n++;
		if (rec.type < 32)
			kinds |= 1 << rec.type;
		if (!verify)
			continue;
		switch (rec.type) {
		case TRAIL_REC_META:
			CHECK(!strcmp(rec.meta.key, "host.name") || !strcmp(rec.meta.key, "cmdline"),
			      "key %s", rec.meta.key);
			if (!strcmp(rec.meta.key, "cmdline"))
				CHECK(!strcmp(rec.meta.value, "tcptrail-record -w 'a b.trail'"), "%s", rec.meta.value);
			break;
		case TRAIL_REC_ENUM:
			CHECK(rec.enumt.count == 6 && !strcmp(rec.enumt.name, TRAIL_ENUM_TCP_STATE), "enum");
			CHECK(rec.enumt.entries[5].value == -5, "negative enum value %lld",
			      (long long)rec.enumt.entries[5].value);
			break;
		case TRAIL_REC_CLOCK:
			CHECK(rec.clock.boot_ns == 1000 && rec.clock.real_ns == 1700000000123456789ull &&
			      rec.clock.uncertainty_ns == 250, "clock");
			break;
		case TRAIL_REC_SOCK:
			if (rec.sock.kind == TRAIL_SOCK_REQUEST) {
				CHECK(rec.sock.sport == 80 && rec.sock.dport == 40002, "request sock");
			} else if (rec.sock.family == TRAIL_FAMILY_INET) {
				id4 = rec.sock.id;
				CHECK(rec.sock.sport == 40000 && rec.sock.dport == 80 && rec.sock.cookie == 4097 &&
				      rec.sock.netns == 4026531840u && !memcmp(rec.sock.daddr, "\x7f\0\0\x02", 4) &&
				      rec.sock.skaddr == 0xffff888012345678ull, "sock4");
			} else {
				CHECK(rec.sock.sport == 443 && rec.sock.dport == 65535 && rec.sock.saddr[15] == 1 &&
				      rec.sock.daddr[0] == 0xfe && rec.sock.daddr[15] == 0xfe, "sock6");
			}
			break;
		case TRAIL_REC_TASK:
			CHECK(rec.task.slot == 1023 && rec.task.pid == 4242 && rec.task.tid == 4243 &&
			      !strcmp(rec.task.comm, "curl"), "task");
			break;
		case TRAIL_REC_STATE: {
			int i = nstate++;
			uint64_t want = 5000000000ull + (uint64_t)i * 1000 - (i % 7 == 3 ? 1500 : 0);
			CHECK(rec.state.ts_ns == want, "state %d ts %llu want %llu", i,
			      (unsigned long long)rec.state.ts_ns, (unsigned long long)want);
			CHECK(rec.state.oldstate == i % 12 && rec.state.newstate == i % 12 + 1, "state %d", i);
			CHECK(rec.state.task_slot == (i % 3 ? 1023u : TRAIL_NO_TASK), "task slot %d", i);
			CHECK(trail_reader__sock(r, rec.state.sock_id) != NULL, "sock of state %d", i);
			break;
		}
		case TRAIL_REC_TUPLE:
			CHECK(rec.sock.id == id4 && rec.sock.sport == 40001 && rec.sock.dport == 80, "tuple");
			break;
		case TRAIL_REC_RETIRE:
			CHECK(rec.retire == id4, "retire");
			CHECK(trail_reader__sock(r, id4) != NULL, "retired socket resolvable during its record");
			break;
		case TRAIL_REC_LOSS:
			CHECK(rec.loss.ncpus == 3 && rec.loss.percpu_ringbuf[1] == 7 && rec.loss.ncounters == 1 &&
			      rec.loss.counters[0].value == 3, "loss");
			break;
		case TRAIL_REC_LINK:
			CHECK(rec.link.other_id == id4 && rec.link.sock_id == id4 + 2 &&
			      rec.link.relation == TRAIL_LINK_REQ_OF_LISTENER, "link");
			CHECK(trail_reader__sock(r, rec.link.sock_id)->kind == TRAIL_SOCK_REQUEST, "request kind");
			break;
		case TRAIL_REC_STACK:
			CHECK(rec.stack.id == 7 && rec.stack.nframes == 2 &&
			      !strcmp(rec.stack.frames[1], "tcp_v4_rcv+0x9f0"), "stack");
			break;
		case TRAIL_REC_LIFE:
			CHECK(rec.life.ts_ns == 6000000000ull && rec.life.event == TRAIL_LIFE_SYN_ARRIVED &&
			      rec.life.value == 42 && rec.life.task_slot == 1023, "life");
			break;
		case TRAIL_REC_RESET: {
			const struct trail_stack *sk = trail_reader__stack(r, rec.reset.stack_id);
			CHECK(rec.reset.ts_ns == 6000000100ull && rec.reset.sock_id == 0 && rec.reset.netns == 1 &&
			      rec.reset.source == TRAIL_RST_SRC_REPLY && rec.reset.reason == 2 &&
			      rec.reset.state == TRAIL_NO_STATE && rec.reset.task_slot == TRAIL_NO_TASK, "reset");
			CHECK(rec.reset.seg.family == TRAIL_FAMILY_INET && rec.reset.seg.sport == 2222 &&
			      rec.reset.seg.dport == 1112 && rec.reset.seg.ack == 0xffffffffu &&
			      !memcmp(rec.reset.seg.saddr, "\x01\x01\x01\x02", 4) &&
			      rec.reset.seg.flags == TRAIL_TCP_ACK, "reset segment");
			CHECK(sk && sk->nframes == 2 && !strcmp(sk->frames[0], "tcp_v4_send_reset+0x1a4"), "reset stack");
			break;
		}
		case TRAIL_REC_RETRANS:
			CHECK(rec.retrans.ts_ns == 6000000200ull && rec.retrans.kind == TRAIL_RETRANS_SYNACK &&
			      rec.retrans.state == 12 && rec.retrans.seg.family == 0, "retrans");
			break;
		case TRAIL_REC_DROP:
			CHECK(rec.drop.ts_ns == 5999999000ull && rec.drop.reason == TRAIL_NO_REASON &&
			      rec.drop.stack_id == 0 && rec.drop.seg.family == TRAIL_FAMILY_INET6 &&
			      rec.drop.seg.daddr[15] == 9 && rec.drop.seg.len == 1400 && rec.drop.netns == 2 &&
			      trail_reader__sock(r, rec.drop.sock_id)->family == TRAIL_FAMILY_INET6, "drop");
			break;
		case TRAIL_REC_END:
			CHECK(rec.end.records == NSTATES + 4 && rec.end.socks == 3, "end %llu %llu",
			      (unsigned long long)rec.end.records, (unsigned long long)rec.end.socks);
			break;
		default:
			CHECK(0, "unexpected record type %d", rec.type);
		}
	}
	CHECK(rc == 0, "next returned %d", rc);
	if (verify) {
		CHECK(nstate == NSTATES, "read %d state records", nstate);
		for (int t = TRAIL_REC_META; t <= TRAIL_REC_DROP; t++)
			if (t != TRAIL_REC_UNKNOWN)
				CHECK(kinds & (1 << t), "no record of type %d", t);
		CHECK(trail_reader__sock(r, id4) == NULL, "retired socket gone");
		CHECK(!strcmp(trail_reader__enum_name(r, TRAIL_ENUM_TCP_STATE, 10) ?: "", "TCP_LISTEN"), "enum name");
	}
	*st = trail_reader__status(r);
	return n;
}

static void test_roundtrip(int compress, uint32_t block_bytes)
{
	char path[256], err[512];
	struct trail_reader *r;
	enum trail_status st;
	struct stat sb;
	int n;

	snprintf(path, sizeof(path), "%s/rt-%d-%u.trail", tmpdir, compress, block_bytes);
	CHECK(write_sample(path, compress, block_bytes) == 0, "write %s", path);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600, "mode %o", sb.st_mode & 0777);
	if (trail_reader__open(&r, path, err, sizeof(err))) {
		CHECK(0, "open: %s", err);
		return;
	}
	n = read_all(r, 1, &st);
	CHECK(st == TRAIL_OK, "status %d: %s", st, trail_reader__message(r));
	CHECK(n > NSTATES, "records %d", n);
	trail_reader__close(r);
}

/* Cut the capture at every byte: never a crash, a clean prefix of the
 * records, and a message naming the offset. */
static void test_truncation(void)
{
	char path[256], err[512];
	size_t len;
	char *buf;
	int full_n, last_n = 0;
	struct trail_reader *r;
	enum trail_status st;

	snprintf(path, sizeof(path), "%s/trunc.trail", tmpdir);
	CHECK(write_sample(path, 1, 64) == 0, "write");	/* small blocks: many boundaries */
	buf = read_file(path, &len);
	CHECK(buf != NULL, "read back");
	if (!buf)
		return;
	CHECK(trail_reader__open_mem(&r, buf, len, err, sizeof(err)) == 0, "open full");
	full_n = read_all(r, 0, &st);
	trail_reader__close(r);

	for (size_t cut = 0; cut < len; cut++) {
		char *copy = malloc(cut ? cut : 1);	/* exact size: ASan sees overreads */
		int n;

		memcpy(copy, buf, cut);
		if (trail_reader__open_mem(&r, copy, cut, err, sizeof(err))) {
			CHECK(cut < 16, "open failed at cut %zu: %s", cut, err);
			CHECK(strstr(err, "offset 0") || strstr(err, "preamble"), "message: %s", err);
			free(copy);
			continue;
		}
		n = read_all(r, 0, &st);
		CHECK(st == TRAIL_TRUNCATED || st == TRAIL_NO_END, "cut %zu: status %d", cut, st);
		if (st == TRAIL_TRUNCATED)
			CHECK(strstr(trail_reader__message(r), "truncated at offset") != NULL, "cut %zu: %s", cut,
			      trail_reader__message(r));
		CHECK(n >= last_n && n < full_n, "cut %zu: %d records (before %d, full %d)", cut, n, last_n, full_n);
		last_n = n;
		trail_reader__close(r);
		free(copy);
	}
	free(buf);
}

/* Random damage: whatever happens, an error or fewer records, never a crash. */
static void test_corruption(unsigned iterations)
{
	char path[256], err[512];
	size_t len;
	char *buf;
	unsigned seed = 12345;
	int corrupt = 0;

	snprintf(path, sizeof(path), "%s/corrupt.trail", tmpdir);
	CHECK(write_sample(path, 1, 512) == 0, "write");
	buf = read_file(path, &len);
	if (!buf)
		return;
	for (unsigned it = 0; it < iterations; it++) {
		char *copy = malloc(len);
		struct trail_reader *r;
		enum trail_status st;
		int flips = 1 + rand_r(&seed) % 4;

		memcpy(copy, buf, len);
		for (int k = 0; k < flips; k++)
			copy[rand_r(&seed) % len] ^= (char)(1 + rand_r(&seed) % 255);
		if (trail_reader__open_mem(&r, copy, len, err, sizeof(err)) == 0) {
			read_all(r, 0, &st);
			corrupt += st == TRAIL_CORRUPT;
			trail_reader__close(r);
		}
		free(copy);
	}
	CHECK(corrupt > (int)iterations / 2, "only %d of %u damaged files reported corrupt", corrupt, iterations);
	free(buf);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}

/* Append a hand-made block to BUF at *len. */
static void add_block(uint8_t *buf, size_t *len, uint32_t type, const uint8_t *payload, uint32_t plen)
{
	uint8_t *b = buf + *len;
	uint32_t padded = (plen + 3) & ~3u;

	put32(b, type);
	put32(b + 4, plen);
	memcpy(b + 8, payload, plen);
	memset(b + 8 + plen, 0, padded - plen);
	put32(b + 8 + padded, trail_crc32c(0, b, 8 + padded));
	*len += 12 + padded;
}

static void test_versions_and_unknown(void)
{
	uint8_t buf[512];
	size_t len = 0;
	char err[512];
	struct trail_reader *r;
	struct trail_record rec;
	enum trail_status st;
	/* raw events: base_ts 100, unknown timed kind 0x9f (dt +5, extra bytes),
	 * unknown untimed 0x7e, then SOCK + STATE with dt +1: ts must be 106. */
	const uint8_t events[] = {
		0, 0 /* raw_len patched */, 100,
		0x9f, 3, 10, 0xaa, 0xbb,
		0x7e, 2, 1, 2,
		0x01, 1 + 1 + 1 + 1 + 1 + 1 + 1 + 8 + 1, 0, 0, 1, 4, 6, 80, 81, 127, 0, 0, 1, 127, 0, 0, 1, 0,
		0x85, 5, 2, 0, 0, 10, 1,
	};
	uint8_t ev[sizeof(events)];
	unsigned major, minor;
	int states = 0, unknown = 0;

	memcpy(buf, "\x89TRL\r\n\x1a\n\x01\x00\x07\x00\0\0\0\0", 16);	/* 1.7: newer minor is fine */
	len = 16;
	add_block(buf, &len, 0x77, (const uint8_t *)"future", 6);	/* optional unknown block */
	memcpy(ev, events, sizeof(ev));
	ev[1] = sizeof(ev) - 2;
	add_block(buf, &len, 4, ev, sizeof(ev));
	CHECK(trail_reader__open_mem(&r, buf, len, err, sizeof(err)) == 0, "open: %s", err);
	trail_reader__version(r, &major, &minor);
	CHECK(major == 1 && minor == 7, "version %u.%u", major, minor);
	while (trail_reader__next(r, &rec) == 1) {
		if (rec.type == TRAIL_REC_UNKNOWN)
			unknown++;
		if (rec.type == TRAIL_REC_STATE) {
			states++;
			CHECK(rec.state.ts_ns == 106, "time across unknown kinds: %llu",
			      (unsigned long long)rec.state.ts_ns);
			CHECK(rec.state.oldstate == 10 && rec.state.newstate == 1, "state values");
		}
	}
	st = trail_reader__status(r);
	CHECK(states == 1 && unknown == 2, "states %d unknown %d", states, unknown);
	CHECK(st == TRAIL_NO_END, "status %d: %s", st, trail_reader__message(r));
	CHECK(strstr(trail_reader__message(r), "without an END") != NULL, "%s", trail_reader__message(r));
	trail_reader__close(r);

	/* a critical unknown block stops reading */
	len = 16;
	add_block(buf, &len, 0x80000099u, (const uint8_t *)"x", 1);
	CHECK(trail_reader__open_mem(&r, buf, len, err, sizeof(err)) == 0, "open");
	read_all(r, 0, &st);
	CHECK(st == TRAIL_CORRUPT && strstr(trail_reader__message(r), "upgrade"), "critical: %s",
	      trail_reader__message(r));
	trail_reader__close(r);

	/* a newer major version is refused with a clear message */
	buf[8] = 2;
	CHECK(trail_reader__open_mem(&r, buf, len, err, sizeof(err)) < 0, "major 2 accepted");
	CHECK(strstr(err, "2.7") && strstr(err, "upgrade"), "message: %s", err);

	/* pcap files get a hint */
	memcpy(buf, "\xd4\xc3\xb2\xa1", 4);
	CHECK(trail_reader__open_mem(&r, buf, len, err, sizeof(err)) < 0 && strstr(err, "pcap"), "%s", err);

	/* a reference to a socket that was never defined */
	const uint8_t bad[] = { 0, 6, 0, 0x85, 3, 0, 5, 0 };
	len = 16;
	memcpy(buf, "\x89TRL\r\n\x1a\n\x01\x00\x00\x00\0\0\0\0", 16);
	add_block(buf, &len, 4, bad, sizeof(bad));
	CHECK(trail_reader__open_mem(&r, buf, len, err, sizeof(err)) == 0, "open");
	read_all(r, 0, &st);
	CHECK(st == TRAIL_CORRUPT && strstr(trail_reader__message(r), "offset 16"), "bad ref: %s",
	      trail_reader__message(r));
	trail_reader__close(r);
}

/* A full disk mid-recording: the writer reports the error, leaves no
 * partial block, and everything written before stays readable. */
static void test_full_disk(void)
{
	char path[256], err[512];
	struct trail_writer_opts o = { .compress = 0, .block_bytes = 256 };
	struct trail_writer *w;
	struct trail_reader *r;
	struct rlimit old, lim;
	struct trail_sock s = sock4(1, 2);
	enum trail_status st;
	uint64_t id, good = 0;
	int rc = 0, i, n;
	struct stat sb;

	snprintf(path, sizeof(path), "%s/full.trail", tmpdir);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 10000;
	CHECK(trail_writer__open(&w, path, &o) == 0, "open");
	setrlimit(RLIMIT_FSIZE, &lim);
	rc = trail_writer__sock(w, &s, &id);
	for (i = 0; !rc && i < 100000; i++) {
		struct trail_state stt = { .ts_ns = (uint64_t)i, .sock_id = id, .task_slot = TRAIL_NO_TASK,
					   .oldstate = 1, .newstate = 2 };
		rc = trail_writer__state(w, &stt);
		if (!rc)
			good = trail_writer__bytes(w);
	}
	CHECK(rc == -EFBIG, "writer error %d after %d records", rc, i);
	CHECK(trail_writer__close(w) < 0, "close after full disk must report the error");
	setrlimit(RLIMIT_FSIZE, &old);
	CHECK(stat(path, &sb) == 0 && (uint64_t)sb.st_size == good, "file %lld bytes, last good block end %llu",
	      (long long)sb.st_size, (unsigned long long)good);
	CHECK(trail_reader__open(&r, path, err, sizeof(err)) == 0, "reopen: %s", err);
	n = read_all(r, 0, &st);
	CHECK(st == TRAIL_NO_END && n > 100, "status %d, %d records", st, n);
	trail_reader__close(r);
}

int main(int argc, char **argv)
{
	unsigned iters = 3000;

	/* seed for the fuzzer: a capture holding every record kind */
	if (argc == 3 && !strcmp(argv[1], "--sample"))
		return write_sample(argv[2], 1, 200) ? 1 : 0;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_roundtrip(1, 0);
	test_roundtrip(0, 0);
	test_roundtrip(1, 40);
	test_roundtrip(0, 40);
	test_truncation();
	test_corruption(iters);
	test_versions_and_unknown();
	test_full_disk();
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd)) {}
	}
	printf("%s: %d failures\n", argv[0], failures);
	return failures ? 1 : 0;
}
