// SPDX-License-Identifier: BSD-2-Clause
/*
 * Writes a large capture for scripts/bench-analyze.sh: loopback
 * connections as the recorder of issue 3 records them (request sock and
 * its child, TIME_WAIT through a timewait sock, close calls), 64 open at
 * a time, until at least EVENTS timed records are written.
 * Usage: bench-gen [--raw] EVENTS OUT
 * Also the bench's lower layers, each timed on its own:
 *   bench-gen --read FILE     the reader alone (CRC, zstd, record decode)
 *   bench-gen --inflate FILE  only the zstd decompression of EVENTS blocks
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "trail.h"
#include "trail_int.h"

enum { EST = 1, SYN_SENT, SYN_RECV, FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE, CLOSE_WAIT,
       LAST_ACK, LISTEN };

static struct trail_writer *w;
static uint64_t nevents;

static void ok(int err)
{
	if (err) {
		fprintf(stderr, "bench-gen: write error %d\n", err);
		exit(1);
	}
}

static uint64_t sock(int kind, uint16_t sp, uint16_t dp, uint64_t n)
{
	struct trail_sock s = { .netns = 1, .family = TRAIL_FAMILY_INET, .protocol = 6,
				.sport = sp, .dport = dp, .kind = (uint8_t)kind,
				.cookie = n, .skaddr = 0xffff888000000000ull + n * 64 };
	uint64_t id;

	s.saddr[0] = s.daddr[0] = 127;
	s.saddr[3] = s.daddr[3] = 1;
	ok(trail_writer__sock(w, &s, &id));
	return id;
}

static void st(uint64_t id, uint64_t t, int a, int b)
{
	struct trail_state s = { .ts_ns = t, .sock_id = id, .task_slot = 0,
				 .oldstate = (uint16_t)a, .newstate = (uint16_t)b };

	ok(trail_writer__state(w, &s));
	nevents++;
}

static void life(uint64_t id, uint64_t t, int ev, uint64_t v)
{
	struct trail_life l = { .ts_ns = t, .sock_id = id, .task_slot = 0, .event = (uint16_t)ev,
				.value = v };

	ok(trail_writer__life(w, &l));
	nevents++;
}

static void lnk(uint64_t a, uint64_t b, int rel)
{
	struct trail_link l = { .sock_id = a, .other_id = b, .relation = (uint8_t)rel };

	ok(trail_writer__link(w, &l));
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int read_only(const char *path)
{
	struct trail_reader *r;
	struct trail_record rec;
	uint64_t n = 0, timed = 0;
	char err[256];
	double t0 = now();

	if (trail_reader__open(&r, path, err, sizeof(err))) {
		fprintf(stderr, "bench-gen: %s\n", err);
		return 1;
	}
	while (trail_reader__next(r, &rec) > 0) {
		n++;
		timed += rec.type >= TRAIL_REC_STATE && rec.type != TRAIL_REC_LOSS &&
			 rec.type != TRAIL_REC_END && rec.type != TRAIL_REC_UNKNOWN &&
			 rec.type != TRAIL_REC_LINK && rec.type != TRAIL_REC_STACK;
	}
	printf("records %llu\ntimed %llu\nseconds %.3f\n", (unsigned long long)n,
	       (unsigned long long)timed, now() - t0);
	trail_reader__close(r);
	return 0;
}

/* Walk the blocks and decompress the zstd ones: what no reader can beat. */
static int inflate_only(const char *path)
{
	FILE *f = fopen(path, "rb");
	ZSTD_DCtx *z = ZSTD_createDCtx();
	uint8_t *buf = NULL, *out = malloc(TRAIL_MAX_BLOCK);
	size_t size = 0, off = TRAIL_PREAMBLE_LEN, n;
	uint64_t raw = 0;
	double t0;

	if (!f || !z || !out)
		return 1;
	fseek(f, 0, SEEK_END);
	size = (size_t)ftell(f);
	rewind(f);
	buf = malloc(size ? size : 1);
	if (!buf || fread(buf, 1, size, f) != size)
		return 1;
	fclose(f);
	t0 = now();
	while (off + TRAIL_BLOCK_HDR <= size) {
		uint32_t type = get_le32(buf + off), len = get_le32(buf + off + 4);
		struct cur c = { buf + off + TRAIL_BLOCK_HDR, buf + off + TRAIL_BLOCK_HDR + len, 0 };

		if (len > TRAIL_MAX_BLOCK || off + TRAIL_BLOCK_HDR + len > size)
			break;
		if (type == BLK_EVENTS && cur_u8(&c) == CODEC_ZSTD) {
			uint64_t want = cur_varint(&c);

			n = ZSTD_decompressDCtx(z, out, TRAIL_MAX_BLOCK, c.p, cur_left(&c));
			if (ZSTD_isError(n) || n != want)
				return 1;
			raw += n;
		}
		off += TRAIL_BLOCK_HDR + ((len + 3) & ~3u) + 4;
	}
	printf("raw_bytes %llu\nseconds %.3f\n", (unsigned long long)raw, now() - t0);
	ZSTD_freeDCtx(z);
	free(buf);
	free(out);
	return 0;
}

int main(int argc, char **argv)
{
	struct trail_writer_opts o = { .compress = 1 };
	struct trail_enum_entry tab[12];
	static const char *const names[] = { "TCP_ESTABLISHED", "TCP_SYN_SENT", "TCP_SYN_RECV",
		"TCP_FIN_WAIT1", "TCP_FIN_WAIT2", "TCP_TIME_WAIT", "TCP_CLOSE", "TCP_CLOSE_WAIT",
		"TCP_LAST_ACK", "TCP_LISTEN", "TCP_CLOSING", "TCP_NEW_SYN_RECV" };
	struct trail_task task = { .slot = 0, .pid = 1, .tid = 1, .comm = "bench" };
	uint64_t want, l, t = 1000000000ull, n = 0, tw[64] = { 0 };
	int i = 1;

	if (argc == 3 && !strcmp(argv[1], "--read"))
		return read_only(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "--inflate"))
		return inflate_only(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "--raw")) {
		o.compress = 0;
		i = 2;
	}
	if (argc - i != 2)
		return 2;
	want = strtoull(argv[i], NULL, 10);
	ok(trail_writer__open(&w, argv[i + 1], &o));
	for (int k = 0; k < 12; k++) {
		tab[k].value = k + 1;
		tab[k].name = names[k];
	}
	ok(trail_writer__enum(w, TRAIL_ENUM_TCP_STATE, tab, 12));
	ok(trail_writer__task(w, &task));
	l = sock(TRAIL_SOCK_FULL, 8080, 0, ++n);
	st(l, t, CLOSE, LISTEN);
	while (nevents < want) {
		uint16_t port = (uint16_t)(10000 + n % 50000);
		uint64_t c, r, s, x;
		unsigned slot = (unsigned)(n % 64);

		t += 1000;
		c = sock(TRAIL_SOCK_FULL, 0, 8080, ++n);
		st(c, t, CLOSE, SYN_SENT);
		{
			struct trail_sock tu = { .id = c, .family = TRAIL_FAMILY_INET, .sport = port,
						 .dport = 8080 };

			tu.saddr[0] = tu.daddr[0] = 127;
			tu.saddr[3] = tu.daddr[3] = 1;
			ok(trail_writer__tuple(w, &tu));
		}
		r = sock(TRAIL_SOCK_REQUEST, 8080, port, ++n);
		lnk(r, l, TRAIL_LINK_REQ_OF_LISTENER);
		life(r, t + 10, TRAIL_LIFE_SYN_ARRIVED, 0);
		st(c, t + 20, SYN_SENT, EST);
		s = sock(TRAIL_SOCK_FULL, 8080, port, ++n);
		lnk(s, r, TRAIL_LINK_CHILD_OF_REQ);
		st(s, t + 30, LISTEN, SYN_RECV);
		st(s, t + 31, SYN_RECV, EST);
		ok(trail_writer__retire(w, r));
		life(c, t + 500, TRAIL_LIFE_CLOSE_CALL, 0);
		st(c, t + 501, EST, FIN_WAIT1);
		st(s, t + 510, EST, CLOSE_WAIT);
		st(c, t + 520, FIN_WAIT1, FIN_WAIT2);
		st(s, t + 600, CLOSE_WAIT, LAST_ACK);
		x = sock(TRAIL_SOCK_TIMEWAIT, port, 8080, ++n);
		lnk(x, c, TRAIL_LINK_TIMEWAIT_OF);
		life(x, t + 610, TRAIL_LIFE_TIMEWAIT_ENTER, TIME_WAIT);
		st(c, t + 611, FIN_WAIT2, CLOSE);
		ok(trail_writer__retire(w, c));
		st(s, t + 620, LAST_ACK, CLOSE);
		ok(trail_writer__retire(w, s));
		/* the timewait sock 64 connections ago ends now: 64 stay open */
		if (tw[slot]) {
			life(tw[slot], t + 700, TRAIL_LIFE_TIMEWAIT_END, 0);
			ok(trail_writer__retire(w, tw[slot]));
		}
		tw[slot] = x;
	}
	return trail_writer__close(w) ? 1 : 0;
}
