// SPDX-License-Identifier: BSD-2-Clause
/*
 * Writes one synthetic capture per anomaly scenario, with the records the
 * recorder of issue 3 writes (request and timewait socks with their links,
 * lifecycle moments, resets with segments and stacks, retransmits, drops),
 * for tests/t_analyze_anomalies.sh. Each scenario is the shape of a real
 * recorded one; when the recorder's namespace scenarios exist, their
 * captures can be checked by the same assertions.
 *
 * Usage: t_analyze_scen --list | t_analyze_scen SCENARIO OUT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t_analyze_scen.h"

struct trail_writer *w;

static void check(int err, const char *what)
{
	capgen_check("t_analyze_scen", err, what);
}

#define ip4 capgen_ip4

uint64_t sock(int kind, const char *sa, uint16_t sp, const char *da, uint16_t dp)
{
	static uint64_t cookie = 100;
	struct trail_sock s = { .netns = 4026531840u, .protocol = 6, .sport = sp, .dport = dp,
				.family = TRAIL_FAMILY_INET, .kind = (uint8_t)kind };
	uint64_t id;

	s.cookie = ++cookie;
	s.skaddr = 0xffff888000000000ull + cookie * 0x100;
	ip4(s.saddr, sa);
	ip4(s.daddr, da);
	check(trail_writer__sock(w, &s, &id), "sock");
	return id;
}

void tuple(uint64_t id, const char *sa, uint16_t sp, const char *da, uint16_t dp)
{
	struct trail_sock s = { .id = id, .family = TRAIL_FAMILY_INET, .sport = sp, .dport = dp };

	ip4(s.saddr, sa);
	ip4(s.daddr, da);
	check(trail_writer__tuple(w, &s), "tuple");
}

void st(uint64_t id, uint64_t t, int slot, int from, int to)
{
	struct trail_state s = { .ts_ns = BASE + t, .sock_id = id,
				 .task_slot = slot < 0 ? TRAIL_NO_TASK : (uint32_t)slot,
				 .oldstate = (uint16_t)from, .newstate = (uint16_t)to };

	check(trail_writer__state(w, &s), "state");
}

void lnk(uint64_t a, uint64_t b, int rel)
{
	struct trail_link l = { .sock_id = a, .other_id = b, .relation = (uint8_t)rel };

	check(trail_writer__link(w, &l), "link");
}

void life(uint64_t id, uint64_t t, int slot, int ev, uint64_t value)
{
	struct trail_life l = { .ts_ns = BASE + t, .sock_id = id, .event = (uint16_t)ev,
				.task_slot = slot < 0 ? TRAIL_NO_TASK : (uint32_t)slot,
				.value = value };

	check(trail_writer__life(w, &l), "life");
}

void retire(uint64_t id)
{
	check(trail_writer__retire(w, id), "retire");
}

struct trail_segment seg(const char *sa, uint16_t sp, const char *da, uint16_t dp,
				uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct trail_segment g = { .family = TRAIL_FAMILY_INET, .flags = flags, .sport = sp,
				   .dport = dp, .seq = seq, .ack = ack };

	ip4(g.saddr, sa);
	ip4(g.daddr, da);
	return g;
}

void stack(uint32_t id, const char *const *frames, uint32_t n)
{
	struct trail_stack s = { .id = id, .nframes = n, .frames = frames };

	check(trail_writer__stack(w, &s), "stack");
}

/* RST sent by SOCK (0: none) from SOURCE with REASON, answering G. */
void rst_sent(uint64_t t, uint64_t sk, int slot, int source, int state, int64_t reason,
		     uint32_t stack_id, struct trail_segment g)
{
	struct trail_reset r = { .ts_ns = BASE + t, .sock_id = sk, .netns = 4026531840u,
				 .task_slot = slot < 0 ? TRAIL_NO_TASK : (uint32_t)slot,
				 .dir = TRAIL_RST_SENT, .source = (uint8_t)source,
				 .state = state < 0 ? TRAIL_NO_STATE : (uint16_t)state,
				 .reason = reason, .stack_id = stack_id, .seg = g };

	check(trail_writer__reset(w, &r), "reset");
}

void rst_recv(uint64_t t, uint64_t sk, int state, struct trail_segment g)
{
	struct trail_reset r = { .ts_ns = BASE + t, .sock_id = sk, .netns = 4026531840u,
				 .task_slot = TRAIL_NO_TASK, .dir = TRAIL_RST_RECEIVED,
				 .state = (uint16_t)state, .reason = TRAIL_NO_REASON, .seg = g };

	check(trail_writer__reset(w, &r), "reset");
}

void retrans(uint64_t t, uint64_t sk, int kind, int state, struct trail_segment g)
{
	struct trail_retrans r = { .ts_ns = BASE + t, .sock_id = sk, .task_slot = TRAIL_NO_TASK,
				   .kind = (uint8_t)kind, .state = (uint16_t)state, .seg = g };

	check(trail_writer__retrans(w, &r), "retrans");
}

void drop(uint64_t t, uint64_t sk, int64_t reason, struct trail_segment g)
{
	struct trail_drop d = { .ts_ns = BASE + t, .sock_id = sk, .netns = 4026531840u,
				.task_slot = TRAIL_NO_TASK, .reason = reason, .seg = g };

	check(trail_writer__drop(w, &d), "drop");
}


static const char *const names[] = {
	NULL, "TCP_ESTABLISHED", "TCP_SYN_SENT", "TCP_SYN_RECV", "TCP_FIN_WAIT1",
	"TCP_FIN_WAIT2", "TCP_TIME_WAIT", "TCP_CLOSE", "TCP_CLOSE_WAIT", "TCP_LAST_ACK",
	"TCP_LISTEN", "TCP_CLOSING", "TCP_NEW_SYN_RECV",
};

/* the recording host's tables, as this kernel (6.18) names them */
static void tables(void)
{
	struct trail_enum_entry tab[12], rst[] = {
		{ 0, "SK_RST_REASON_NOT_SPECIFIED" }, { 1, "SK_RST_REASON_NO_SOCKET" },
		{ 9, "SK_RST_REASON_TCP_TIMEWAIT_SOCKET" },
		{ 11, "SK_RST_REASON_TCP_ABORT_ON_CLOSE" }, { 12, "SK_RST_REASON_TCP_ABORT_ON_LINGER" },
		{ 13, "SK_RST_REASON_TCP_ABORT_ON_MEMORY" }, { 14, "SK_RST_REASON_TCP_STATE" },
		/* a hostile name must come out escaped everywhere */
		{ 77, "SK_RST_<script>alert(\"x\")</script>_\x1b[31m" },
	}, drop[] = {
		{ 2, "SKB_DROP_REASON_NOT_SPECIFIED" }, { 3, "SKB_DROP_REASON_NO_SOCKET" },
		{ 10, "SKB_DROP_REASON_TCP_CSUM" }, { 40, "SKB_DROP_REASON_TCP_LISTEN_OVERFLOW" },
	};
	int i;

	for (i = 1; i <= 12; i++) {
		tab[i - 1].value = i;
		tab[i - 1].name = names[i];
	}
	check(trail_writer__enum(w, TRAIL_ENUM_TCP_STATE, tab, 12), "enum");
	check(trail_writer__enum(w, TRAIL_ENUM_RST_REASON, rst, sizeof(rst) / sizeof(rst[0])), "enum");
	check(trail_writer__enum(w, TRAIL_ENUM_DROP_REASON, drop, sizeof(drop) / sizeof(drop[0])),
	      "enum");
}

static void task(uint32_t slot, uint32_t pid, const char *comm)
{
	struct trail_task t = { .slot = slot, .pid = pid, .tid = pid };

	snprintf(t.comm, sizeof(t.comm), "%s", comm);
	check(trail_writer__task(w, &t), "task");
}

static uint64_t rs;

static uint32_t rnd(void)
{
	rs = rs * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rs >> 33);
}

/* Valid files of random records of every kind: few addresses and ports so
 * tuples mirror, collide and look translated; links between any sockets. */
static void random_records(void)
{
	static const char *const ips[] = { "127.0.0.1", "127.0.0.2", "10.0.0.1" };
	static const uint16_t ports[] = { 0, 80, 1112, 8080, 40000 };
	static const char *const fr[] = { "f\x01<b>&amp;", "tcp_v4_send_reset+0x1" };
	uint64_t live[64], t = S(1), id;
	unsigned nlive = 0, i, n = 300 + rnd() % 2000;

	stack(1, fr, 2);
	for (i = 0; i < n; i++) {
		unsigned k = rnd() % 20;
		const char *a = ips[rnd() % 3], *b = ips[rnd() % 3];
		uint16_t p = ports[rnd() % 5], q = ports[rnd() % 5];

		t += rnd() % 9 == 0 ? -(uint64_t)(rnd() % 100000) : rnd() % (rnd() % 30 ? 100000 : S(20));
		if (k < 3 || !nlive) {
			if (nlive == 64)
				continue;
			live[nlive++] = sock((int)(rnd() % 3), a, p, b, q);
			continue;
		}
		id = live[rnd() % nlive];
		switch (k) {
		case 3: tuple(id, a, p, b, q); break;
		case 4: case 5: {
			unsigned j = rnd() % nlive;

			retire(live[j]);
			live[j] = live[--nlive];
			break;
		}
		case 6: lnk(id, live[rnd() % nlive], 1 + (int)(rnd() % 3)); break;
		case 7: case 8: life(id, t, (int)(rnd() % 4) - 1, 1 + (int)(rnd() % 7), rnd() % 13); break;
		case 9: rst_sent(t, rnd() % 2 ? 0 : id, (int)(rnd() % 4) - 1, (int)(rnd() % 3),
				 (int)(rnd() % 14) - 1, rnd() % 3 ? (int64_t)(rnd() % 16) : TRAIL_NO_REASON,
				 rnd() % 2, seg(a, p, b, q, (uint8_t)rnd(), rnd(), rnd())); break;
		case 10: rst_recv(t, id, (int)(rnd() % 13), seg(a, p, b, q, 4, rnd(), 0)); break;
		case 11: retrans(t, id, 1 + (int)(rnd() % 3), (int)(rnd() % 13),
				 seg(a, p, b, q, 2, rnd(), 0)); break;
		case 12: drop(t, rnd() % 2 ? 0 : id, rnd() % 3 ? 40 : 3, seg(a, p, b, q, 16, 1, 1)); break;
		default: st(id, t, (int)(rnd() % 4) - 1, (int)(rnd() % 14), (int)(rnd() % 14)); break;
		}
	}
}

int main(int argc, char **argv)
{
	struct trail_writer_opts opts = { .compress = 1 };
	struct trail_clock c0 = { .boot_ns = BASE, .real_ns = REAL0, .uncertainty_ns = 500 };
	const struct scenario *sc;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (sc = scenarios; sc->name; sc++)
			printf("%s\n", sc->name);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "--random")) {
		rs = strtoull(argv[2], NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
		static const struct scenario r[] = { { "random", random_records }, { 0 } };

		sc = r;
		argv[2] = argv[3];
		goto write;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: t_analyze_scen --list | t_analyze_scen SCENARIO OUT\n");
		return 2;
	}
	for (sc = scenarios; sc->name && strcmp(sc->name, argv[1]); sc++)
		;
	if (!sc->name) {
		fprintf(stderr, "t_analyze_scen: no scenario '%s'\n", argv[1]);
		return 2;
	}
write:
	check(trail_writer__open(&w, argv[2], &opts), argv[2]);
	check(trail_writer__meta(w, "tool.version", "test-scen"), "meta");
	check(trail_writer__meta(w, "host.name", "scenhost"), "meta");
	check(trail_writer__meta(w, "kernel.release", "6.18.0-test"), "meta");
	tables();
	check(trail_writer__clock(w, &c0), "clock");
	task(T_SERVER, 100, "server");
	task(T_CLIENT, 200, "client");
	task(T_SOFTIRQ, 0, "swapper/0");
	sc->write();
	return trail_writer__close(w) ? 1 : 0;
}
