// SPDX-License-Identifier: BSD-2-Clause
/*
 * Writes synthetic captures for the analyzer tests (tests/t_analyze_*.sh
 * compile and run it): known connections at known times, so the test can
 * check what tcptrail-analyze says about them.
 *
 * Usage: t_analyze_gen [--no-end] [--no-table] [--kernel-numbers] [--raw] [--evict] OUT
 *        t_analyze_gen --mutate SEED IN OUT
 *        t_analyze_gen --random SEED OUT
 *
 * --mutate flips a few random bytes inside IN's block payloads and fixes
 * the checksums, so the damage reaches the record decoder and the
 * analyzer instead of stopping at the CRC check. --random writes a valid
 * file of random records (few addresses and ports, so tuples mirror and
 * repeat; random states, times that jump back) for the pairing logic.
 *
 * State numbers are the kernel's plus 100 unless --kernel-numbers: the
 * analyzer must name them from the file's table, not from a built-in list.
 * --evict retires both sockets of connection #1 while open and re-adds
 * them under new ids, as a recorder with a full socket table does.
 *
 * Clock: boot 1000 s = 2024-03-05 12:00:00 UTC; a second anchor at boot
 * 2000 s reads 0.5 s later than the first predicts (a realtime step).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capgen.h"
#include "trail.h"

static struct trail_writer *w;
static int off = 100;		/* added to every kernel state number */
static int evict;

static const char *const names[] = {
	NULL, "TCP_ESTABLISHED", "TCP_SYN_SENT", "TCP_SYN_RECV", "TCP_FIN_WAIT1",
	"TCP_FIN_WAIT2", "TCP_TIME_WAIT", "TCP_CLOSE", "TCP_CLOSE_WAIT", "TCP_LAST_ACK",
	"TCP_LISTEN", "TCP_CLOSING", "TCP_NEW_SYN_RECV",
};

static void check(int err, const char *what)
{
	capgen_check("t_analyze_gen", err, what);
}

#define ip4 capgen_ip4

static uint64_t sock(uint32_t netns, int v6, const char *sa, uint16_t sp, const char *da,
		     uint16_t dp, uint64_t skaddr)
{
	struct trail_sock s = { .netns = netns, .protocol = 6, .sport = sp, .dport = dp,
				.skaddr = skaddr, .cookie = skaddr & 0xffff };
	uint64_t id;

	s.family = v6 ? TRAIL_FAMILY_INET6 : TRAIL_FAMILY_INET;
	if (v6) {	/* only ::1 and :: are used */
		if (!strcmp(sa, "::1"))
			s.saddr[15] = 1;
		if (!strcmp(da, "::1"))
			s.daddr[15] = 1;
	} else {
		ip4(s.saddr, sa);
		ip4(s.daddr, da);
	}
	check(trail_writer__sock(w, &s, &id), "sock");
	return id;
}

static void tuple(uint64_t id, const char *sa, uint16_t sp, const char *da, uint16_t dp)
{
	struct trail_sock s = { .id = id, .family = TRAIL_FAMILY_INET, .sport = sp, .dport = dp };

	ip4(s.saddr, sa);
	ip4(s.daddr, da);
	check(trail_writer__tuple(w, &s), "tuple");
}

static void task(uint32_t slot, uint32_t pid, const char *comm)
{
	struct trail_task t = { .slot = slot, .pid = pid, .tid = pid };

	snprintf(t.comm, sizeof(t.comm), "%s", comm);
	check(trail_writer__task(w, &t), "task");
}

/* state change of socket ID at BASE + T ns, by task slot SLOT (-1: none) */
static void st(uint64_t id, uint64_t t, int slot, int from, int to)
{
	struct trail_state s = {
		.ts_ns = BASE + t, .sock_id = id,
		.task_slot = slot < 0 ? TRAIL_NO_TASK : (uint32_t)slot,
		.oldstate = (uint16_t)(from + off), .newstate = (uint16_t)(to + off),
	};

	check(trail_writer__state(w, &s), "state");
}

static void retire(uint64_t id)
{
	check(trail_writer__retire(w, id), "retire");
}

enum { T_SERVER, T_CLIENT, T_SWAPPER };	/* task slots */

/* A loopback connection CPORT -> 8080 on listener L; CLIENT_FIRST picks
 * the closer. Starts at T0. */
static void loopback(uint64_t t0, uint16_t cport, int client_first)
{
	uint64_t c, s;

	c = sock(1, 0, "127.0.0.1", 0, "127.0.0.1", 8080, 0xc000 + cport);
	st(c, t0, T_CLIENT, CLOSE, SYN_SENT);
	tuple(c, "127.0.0.1", cport, "127.0.0.1", 8080);
	st(c, t0 + US(50), T_SWAPPER, SYN_SENT, ESTABLISHED);
	s = sock(1, 0, "127.0.0.1", 8080, "127.0.0.1", cport, 0x5000 + cport);
	st(s, t0 + US(60), T_CLIENT, LISTEN, SYN_RECV);
	st(s, t0 + US(70), T_CLIENT, SYN_RECV, ESTABLISHED);
	if (evict && cport == 40000 && client_first) {
		retire(c);
		retire(s);
		s = sock(1, 0, "127.0.0.1", 8080, "127.0.0.1", cport, 0x5000 + cport);
		c = sock(1, 0, "127.0.0.1", cport, "127.0.0.1", 8080, 0xc000 + cport);
	}
	if (client_first) {
		st(c, t0 + US(2000), T_CLIENT, ESTABLISHED, FIN_WAIT1);
		st(s, t0 + US(2010), T_CLIENT, ESTABLISHED, CLOSE_WAIT);
		st(c, t0 + US(2020), T_SWAPPER, FIN_WAIT1, FIN_WAIT2);
		st(s, t0 + US(3000), T_SERVER, CLOSE_WAIT, LAST_ACK);
		st(c, t0 + US(3010), T_SERVER, FIN_WAIT2, CLOSE);
		retire(c);
		st(s, t0 + US(3020), T_SERVER, LAST_ACK, CLOSE);
		retire(s);
	} else {
		st(s, t0 + US(2000), T_SERVER, ESTABLISHED, FIN_WAIT1);
		st(c, t0 + US(2010), T_SERVER, ESTABLISHED, CLOSE_WAIT);
		st(s, t0 + US(2020), T_SWAPPER, FIN_WAIT1, FIN_WAIT2);
		st(c, t0 + US(3000), T_CLIENT, CLOSE_WAIT, LAST_ACK);
		st(s, t0 + US(3010), T_CLIENT, FIN_WAIT2, CLOSE);
		retire(s);
		st(c, t0 + US(3020), T_CLIENT, LAST_ACK, CLOSE);
		retire(c);
	}
}

static uint64_t rnd_state;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rnd_state >> 33);
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int mutate(const char *seed, const char *in, const char *out)
{
	static uint8_t buf[1 << 20];
	size_t n, off, len = 0, total = 0, pos;
	FILE *f = fopen(in, "rb");
	uint32_t crc;
	int flips;

	if (!f)
		return 1;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	rnd_state = strtoull(seed, NULL, 10) * 2654435761u + 1;
	for (flips = 1 + rnd() % 4; flips > 0; flips--) {
		/* pick a block by walking from the preamble */
		size_t pick = rnd() % 64, i = 0;

		for (off = 16; off + 12 <= n; off += total, i++) {
			len = le32(buf + off + 4);
			total = 8 + ((len + 3) & ~(size_t)3) + 4;
			if (total > n - off || (i >= pick && len))
				break;
		}
		if (off + 12 > n || total > n - off || !len)
			continue;
		pos = off + 8 + rnd() % len;
		switch (rnd() % 3) {
		case 0: buf[pos] ^= (uint8_t)(1u << (rnd() % 8)); break;
		case 1: buf[pos] = (uint8_t)rnd(); break;
		default: buf[pos] = (rnd() & 1) ? 0xff : 0; break;
		}
		crc = trail_crc32c(0, buf + off, total - 4);
		buf[off + total - 4] = (uint8_t)crc;
		buf[off + total - 3] = (uint8_t)(crc >> 8);
		buf[off + total - 2] = (uint8_t)(crc >> 16);
		buf[off + total - 1] = (uint8_t)(crc >> 24);
	}
	f = fopen(out, "wb");
	if (!f || fwrite(buf, 1, n, f) != n)
		return 1;
	return fclose(f) ? 1 : 0;
}

static int random_capture(const char *seed, const char *out)
{
	struct trail_writer_opts opts = { .compress = (int)(strtoull(seed, NULL, 10) & 1) };
	static const char *const ips[] = { "127.0.0.1", "127.0.0.2", "10.0.0.1", "0.0.0.0" };
	static const uint16_t ports[] = { 0, 80, 8080, 40000, 40001 };
	struct trail_enum_entry tab[12];
	uint64_t live[64], nlive = 0, t = 0, id;
	int i, n, k;

	rnd_state = strtoull(seed, NULL, 10) * 0x9e3779b97f4a7c15ull + 7;
	off = (int)(rnd() % 3) * 50;
	check(trail_writer__open(&w, out, &opts), out);
	for (i = 1; i <= 12; i++) {
		tab[i - 1].value = i + off;
		tab[i - 1].name = names[i];
	}
	if (rnd() % 8)
		check(trail_writer__enum(w, TRAIL_ENUM_TCP_STATE, tab, 12), "enum");
	for (i = 0; i < 8; i++)
		task((uint32_t)i, rnd() % 5, i & 1 ? "a" : "b\x01");
	n = 200 + (int)(rnd() % 2000);
	for (i = 0; i < n; i++) {
		k = (int)(rnd() % 16);
		if (rnd() % 50 == 0) {
			struct trail_clock c = { .boot_ns = rnd() * 1000ull, .real_ns = rnd() * 1000000000ull };

			check(trail_writer__clock(w, &c), "clock");
		}
		if (k < 3 || !nlive) {
			if (nlive == 64)
				continue;
			/* few kernel addresses (cookies): sockets retired open come back */
			id = sock(rnd() % 2, 0, ips[rnd() % 4], ports[rnd() % 5], ips[rnd() % 4],
				  ports[rnd() % 5], rnd() % 40);
			live[nlive++] = id;
		} else if (k < 5) {
			tuple(live[rnd() % nlive], ips[rnd() % 4], ports[rnd() % 5], ips[rnd() % 4],
			      ports[rnd() % 5]);
		} else if (k < 7) {
			uint64_t j = rnd() % nlive;

			retire(live[j]);
			live[j] = live[--nlive];
		} else {
			/* mostly forward, sometimes back or far ahead */
			t += rnd() % 7 == 0 ? -(uint64_t)(rnd() % 100000) :
			     rnd() % 50 == 0 ? S(rnd() % 100) : rnd() % 100000;
			st(live[rnd() % nlive], t, (int)(rnd() % 9) - 1, (int)(rnd() % 14),
			   (int)(rnd() % 14));
		}
	}
	if (rnd() % 2) {
		check(trail_writer__flush(w), "flush");
		trail_writer__abandon(w);
		return 0;
	}
	check(trail_writer__close(w), "close");
	return 0;
}

int main(int argc, char **argv)
{
	struct trail_writer_opts opts = { .compress = 1, .block_bytes = 512 };
	struct trail_enum_entry tab[13];
	struct trail_clock c0 = { .boot_ns = BASE, .real_ns = REAL0, .uncertainty_ns = 500 };
	struct trail_clock c1 = { .boot_ns = S(2000), .real_ns = REAL0 + S(1000) + S(1) / 2 };
	const char *out = NULL;
	int no_end = 0, no_table = 0, i;
	uint64_t l, l6, ln, a, b, x, y, o;

	if (argc == 5 && !strcmp(argv[1], "--mutate"))
		return mutate(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "--random"))
		return random_capture(argv[2], argv[3]);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-end"))
			no_end = 1;
		else if (!strcmp(argv[i], "--no-table"))
			no_table = 1;
		else if (!strcmp(argv[i], "--kernel-numbers"))
			off = 0;
		else if (!strcmp(argv[i], "--evict"))
			evict = 1;
		else if (!strcmp(argv[i], "--raw"))
			opts.compress = 0;
		else
			out = argv[i];
	}
	if (!out) {
		fprintf(stderr, "usage: t_analyze_gen [--no-end] [--no-table] [--kernel-numbers]"
			" [--raw] OUT\n");
		return 2;
	}
	check(trail_writer__open(&w, out, &opts), out);
	check(trail_writer__meta(w, "tool.version", "test-gen"), "meta");
	check(trail_writer__meta(w, "host.name", "genhost"), "meta");
	check(trail_writer__meta(w, "kernel.release", "6.99.0-test"), "meta");
	check(trail_writer__meta(w, "kernel.machine", "x86_64"), "meta");
	check(trail_writer__meta(w, "cmdline", "tcptrail-record -w gen.trail"), "meta");
	check(trail_writer__meta(w, "probe.state", "tp_btf inet_sock_set_state"), "meta");
	check(trail_writer__meta(w, "start.realtime", "2024-03-05T12:00:00Z"), "meta");
	/* a control character must not reach the terminal */
	check(trail_writer__meta(w, "host.name", "gen\x1b[31mhost"), "meta");
	for (i = 1; i <= 12; i++) {
		tab[i - 1].value = i + off;
		tab[i - 1].name = names[i];
	}
	if (!no_table)
		check(trail_writer__enum(w, TRAIL_ENUM_TCP_STATE, tab, 12), "enum");
	check(trail_writer__clock(w, &c0), "clock");

	task(T_SERVER, 100, "server");
	task(T_CLIENT, 200, "client");
	task(T_SWAPPER, 0, "swapper/0");

	/* listener on 127.0.0.1:8080 */
	l = sock(1, 0, "127.0.0.1", 8080, "0.0.0.0", 0, 0x1000);
	st(l, US(100), T_SERVER, CLOSE, LISTEN);

	/* #1 40000, client closes first; #2 overlaps it on 40002, server first */
	loopback(S(1), 40000, 1);
	loopback(S(1) + US(500), 40002, 0);
	/* #3 the same tuple as #1 reused later: a new connection */
	loopback(S(2), 40000, 0);

	/* #4 a remote client (not recorded) to our listener; it closes first */
	x = sock(1, 0, "127.0.0.1", 8080, "192.0.2.9", 5555, 0x7000);
	st(x, S(3), T_SWAPPER, LISTEN, SYN_RECV);
	st(x, S(3) + US(10), T_SWAPPER, SYN_RECV, ESTABLISHED);
	st(x, S(3) + US(900), T_SWAPPER, ESTABLISHED, CLOSE_WAIT);
	st(x, S(3) + US(950), T_SERVER, CLOSE_WAIT, LAST_ACK);
	st(x, S(3) + US(990), T_SWAPPER, LAST_ACK, CLOSE);
	retire(x);

	/* #5 the client aborts (RST): ESTABLISHED -> CLOSE on both */
	a = sock(1, 0, "127.0.0.1", 0, "127.0.0.1", 8080, 0xa000);
	st(a, S(4), T_CLIENT, CLOSE, SYN_SENT);
	tuple(a, "127.0.0.1", 40010, "127.0.0.1", 8080);
	st(a, S(4) + US(40), T_CLIENT, SYN_SENT, ESTABLISHED);
	b = sock(1, 0, "127.0.0.1", 8080, "127.0.0.1", 40010, 0xb000);
	st(b, S(4) + US(45), T_CLIENT, LISTEN, SYN_RECV);
	st(b, S(4) + US(46), T_CLIENT, SYN_RECV, ESTABLISHED);
	st(a, S(4) + US(700), T_CLIENT, ESTABLISHED, CLOSE);
	retire(a);
	st(b, S(4) + US(720), T_CLIENT, ESTABLISHED, CLOSE);
	retire(b);

	/* #6 two network namespaces: 10.1.0.1 (ns 11) -> 10.1.0.2:80 (ns 22) */
	ln = sock(22, 0, "0.0.0.0", 80, "0.0.0.0", 0, 0x2000);
	st(ln, S(5), T_SERVER, CLOSE, LISTEN);
	a = sock(11, 0, "10.1.0.1", 0, "10.1.0.2", 80, 0xa100);
	st(a, S(5) + US(100), T_CLIENT, CLOSE, SYN_SENT);
	tuple(a, "10.1.0.1", 33000, "10.1.0.2", 80);
	b = sock(22, 0, "10.1.0.2", 80, "10.1.0.1", 33000, 0xb100);
	st(b, S(5) + US(150), T_SWAPPER, LISTEN, SYN_RECV);
	st(a, S(5) + US(160), T_SWAPPER, SYN_SENT, ESTABLISHED);
	st(b, S(5) + US(170), T_SWAPPER, SYN_RECV, ESTABLISHED);
	st(a, S(5) + US(300), T_CLIENT, ESTABLISHED, FIN_WAIT1);
	st(b, S(5) + US(310), T_SWAPPER, ESTABLISHED, CLOSE_WAIT);
	st(b, S(5) + US(320), T_SERVER, CLOSE_WAIT, LAST_ACK);
	st(a, S(5) + US(330), T_SWAPPER, FIN_WAIT1, TIME_WAIT);
	st(b, S(5) + US(340), T_SWAPPER, LAST_ACK, CLOSE);
	retire(b);
	st(a, S(5) + US(350), T_SWAPPER, TIME_WAIT, CLOSE);
	retire(a);
	st(ln, S(6), T_SERVER, LISTEN, CLOSE);
	retire(ln);

	/* #7 IPv6 on ::1:8443, listener still open at the end */
	l6 = sock(1, 1, "::", 8443, "::", 0, 0x6000);
	st(l6, S(7), T_SERVER, CLOSE, LISTEN);
	a = sock(1, 1, "::1", 0, "::1", 8443, 0xa600);
	st(a, S(7) + US(10), T_CLIENT, CLOSE, SYN_SENT);
	{
		struct trail_sock s = { .id = a, .family = TRAIL_FAMILY_INET6, .sport = 50000,
					.dport = 8443 };
		s.saddr[15] = s.daddr[15] = 1;
		check(trail_writer__tuple(w, &s), "tuple6");
	}
	b = sock(1, 1, "::1", 8443, "::1", 50000, 0xb600);
	st(b, S(7) + US(20), T_SWAPPER, LISTEN, SYN_RECV);
	st(a, S(7) + US(21), T_SWAPPER, SYN_SENT, ESTABLISHED);
	st(b, S(7) + US(22), T_SWAPPER, SYN_RECV, ESTABLISHED);

	/* #8 open at the end, late: its time uses the second clock anchor */
	o = sock(1, 0, "127.0.0.1", 0, "127.0.0.1", 8080, 0xd000);
	st(o, S(990), T_CLIENT, CLOSE, SYN_SENT);
	tuple(o, "127.0.0.1", 40020, "127.0.0.1", 8080);
	st(o, S(990) + US(30), T_SWAPPER, SYN_SENT, ESTABLISHED);
	y = sock(1, 0, "127.0.0.1", 8080, "127.0.0.1", 40020, 0xe000);
	st(y, S(990) + US(40), T_SWAPPER, LISTEN, SYN_RECV);
	st(y, S(990) + US(50), T_SWAPPER, SYN_RECV, ESTABLISHED);
	(void)l;

	check(trail_writer__clock(w, &c1), "clock");
	{
		uint64_t ring[2] = { 0, 3 };
		struct trail_counter ctr[] = { { "note.socktab_evictions", 1 },
					       { "record.decode_errors", 2 } };
		struct trail_loss loss = { ring, 2, ctr, 2 };

		check(trail_writer__loss(w, &loss), "loss");
	}
	if (no_end) {
		check(trail_writer__flush(w), "flush");
		trail_writer__abandon(w);
		return 0;
	}
	check(trail_writer__close(w), "close");
	return 0;
}
