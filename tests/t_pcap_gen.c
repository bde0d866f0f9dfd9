// SPDX-License-Identifier: BSD-2-Clause
/*
 * Test helper for tests/t_pcap_damage.sh (built with ASan+UBSan there):
 *   t_pcap_gen selftest             the frame decoder on every link type, on
 *                                   every truncation and on random damage
 *   t_pcap_gen write TRAIL PCAP DLT a capture of one loopback connection and
 *                                   its packets (DLT 113: each seen twice)
 *   t_pcap_gen mutate SEED IN OUT   a copy of pcap IN cut or with bytes changed
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

#include "../analyze/pcap.h"
#include "trail.h"

#define BOOT0 1000000000000ull
#define REAL0 1700000000000000000ull

static int failures;

#define CHECK(c, ...) do { if (!(c)) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); failures++; } } while (0)

/* A TCP segment in an IPv4 or IPv6 header with a link header for DLT. */
static size_t frame(int dlt, int v6, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t plen,
		    uint8_t pkttype, uint8_t *out)
{
	uint8_t ip[60] = { 0 }, *t;
	size_t o = 0, il = v6 ? 40 : 20;

	switch (dlt) {
	case DLT_LINUX_SLL:
		memset(out, 0, 16);
		out[1] = pkttype;
		out[14] = v6 ? 0x86 : 0x08;
		out[15] = v6 ? 0xdd : 0x00;
		o = 16;
		break;
	case DLT_LINUX_SLL2:
		memset(out, 0, 20);
		out[0] = v6 ? 0x86 : 0x08;
		out[1] = v6 ? 0xdd : 0x00;
		out[10] = pkttype;
		o = 20;
		break;
	case DLT_EN10MB:	/* with one VLAN tag */
		memset(out, 0, 18);
		out[12] = 0x81;
		out[16] = v6 ? 0x86 : 0x08;
		out[17] = v6 ? 0xdd : 0x00;
		o = 18;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		memset(out, 0, 4);
		out[dlt == DLT_NULL ? 0 : 3] = v6 ? 10 : 2;
		o = 4;
		break;
	default:
		break;
	}
	if (v6) {
		ip[0] = 0x60;
		ip[4] = (uint8_t)((20 + plen) >> 8);
		ip[5] = (uint8_t)(20 + plen);
		ip[6] = 6;
		ip[23] = 1;
		ip[39] = 1;
	} else {
		ip[0] = 0x45;
		ip[2] = (uint8_t)((40 + plen) >> 8);
		ip[3] = (uint8_t)(40 + plen);
		ip[4] = (uint8_t)(seq >> 8);	/* an identification per segment */
		ip[5] = (uint8_t)(seq + flags);
		ip[9] = 6;
		ip[12] = 127;
		ip[15] = 1;
		ip[16] = 127;
		ip[19] = 1;
	}
	memcpy(out + o, ip, il);
	t = out + o + il;
	memset(t, 0, 20);
	t[0] = 40000 >> 8;
	t[1] = 40000 & 0xff;
	t[2] = 5000 >> 8;
	t[3] = 5000 & 0xff;
	t[4] = (uint8_t)(seq >> 24);
	t[5] = (uint8_t)(seq >> 16);
	t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[8] = (uint8_t)(ack >> 24);
	t[9] = (uint8_t)(ack >> 16);
	t[10] = (uint8_t)(ack >> 8);
	t[11] = (uint8_t)ack;
	t[12] = 5 << 4;
	t[13] = flags;
	return o + il + 20;	/* headers only, as tcptrail-record writes them */
}

static void selftest(void)
{
	static const int dlts[] = { DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_EN10MB, DLT_RAW, DLT_NULL,
				    DLT_LOOP, DLT_IPV4, DLT_IPV6 };
	uint8_t buf[128];
	size_t i, n, cut;
	int v6, r, k;

	srand(1);
	for (i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
		for (v6 = 0; v6 < 2; v6++) {
			struct ana_pkt pk;
			const char *why;

			if ((dlts[i] == DLT_IPV4 && v6) || (dlts[i] == DLT_IPV6 && !v6))
				continue;
			n = frame(dlts[i], v6, TRAIL_TCP_PSH | TRAIL_TCP_ACK, 1000, 2000, 300, 4, buf);
			r = ana_pcap__decode(dlts[i], buf, (uint32_t)n, &pk, &why);
			CHECK(r == 0, "dlt %d v6 %d: %d %s", dlts[i], v6, r, why);
			CHECK(pk.seg.sport == 40000 && pk.seg.dport == 5000 && pk.seg.seq == 1000 &&
			      pk.seg.ack == 2000 && pk.seg.len == 300 &&
			      pk.seg.family == (v6 ? TRAIL_FAMILY_INET6 : TRAIL_FAMILY_INET),
			      "dlt %d v6 %d: decoded wrong", dlts[i], v6);
			/* every cut, in a buffer of exactly that size (ASan sees overreads) */
			for (cut = 0; cut < n; cut++) {
				uint8_t *p = malloc(cut ? cut : 1);

				memcpy(p, buf, cut);
				r = ana_pcap__decode(dlts[i], p, (uint32_t)cut, &pk, &why);
				CHECK(r != 0, "dlt %d cut %zu decoded as a segment", dlts[i], cut);
				CHECK(r != -EBADMSG || *why, "dlt %d cut %zu: no reason", dlts[i], cut);
				free(p);
			}
			/* random damage: never a crash */
			for (k = 0; k < 20000; k++) {
				uint8_t *p = malloc(n);
				int j;

				memcpy(p, buf, n);
				for (j = 0; j < 1 + rand() % 4; j++)
					p[rand() % n] = (uint8_t)rand();
				ana_pcap__decode(dlts[i], p, (uint32_t)(rand() % (n + 1)), &pk, &why);
				free(p);
			}
		}
	}
	/* a TCP header longer than the IP total length says */
	n = frame(DLT_RAW, 0, TRAIL_TCP_ACK, 1, 1, 0, 0, buf);
	buf[3] = 30;
	{
		struct ana_pkt pk;
		const char *why;

		CHECK(ana_pcap__decode(DLT_RAW, buf, (uint32_t)n, &pk, &why) == -EBADMSG,
		      "IP length under the TCP header accepted");
	}
}

static int write_pcap(const char *path, int dlt)
{
	static const struct { uint64_t dt; uint8_t fl; uint32_t seq, ack; int rev; } seg[] = {
		{ 1500, TRAIL_TCP_SYN, 100, 0, 0 },
		{ 3000, TRAIL_TCP_SYN | TRAIL_TCP_ACK, 900, 101, 1 },
		{ 4000, TRAIL_TCP_ACK, 101, 901, 0 },
		{ 10000, TRAIL_TCP_FIN | TRAIL_TCP_ACK, 101, 901, 0 },
		{ 11000, TRAIL_TCP_ACK, 901, 102, 1 },
		{ 12000, TRAIL_TCP_FIN | TRAIL_TCP_ACK, 901, 102, 1 },
		{ 13000, TRAIL_TCP_ACK, 102, 902, 0 },
	};
	pcap_t *pd = pcap_open_dead_with_tstamp_precision(dlt, 262144, PCAP_TSTAMP_PRECISION_NANO);
	pcap_dumper_t *d = pd ? pcap_dump_open(pd, path) : NULL;
	uint8_t buf[128];
	size_t i, n;
	int c;

	if (!d)
		return -EIO;
	for (i = 0; i < sizeof(seg) / sizeof(seg[0]); i++) {
		for (c = 0; c < (dlt == DLT_LINUX_SLL ? 2 : 1); c++) {
			struct pcap_pkthdr h;
			uint64_t real = REAL0 + seg[i].dt + (uint64_t)c * 2000;

			n = frame(dlt, 0, seg[i].fl, seg[i].seq, seg[i].ack, 0, c ? 0 : 4, buf);
			if (seg[i].rev) {	/* from the server: swap ports */
				size_t t = n - 20;

				buf[t] = 5000 >> 8; buf[t + 1] = 5000 & 0xff;
				buf[t + 2] = 40000 >> 8; buf[t + 3] = 40000 & 0xff;
			}
			h.ts.tv_sec = (time_t)(real / 1000000000);
			h.ts.tv_usec = (suseconds_t)(real % 1000000000);
			h.caplen = h.len = (uint32_t)n;
			pcap_dump((u_char *)d, &h, buf);
		}
	}
	pcap_dump_close(d);
	pcap_close(pd);
	return 0;
}

static int write_trail(const char *path, const char *pcap)
{
	struct trail_writer *w;
	struct trail_clock ck = { BOOT0, REAL0, 10 };
	struct trail_sock cs = { 0 }, ss = { 0 };
	uint64_t cid, sid;
	static const struct { uint64_t dt; int srv; uint16_t o, n; } st[] = {
		{ 1000, 0, 7, 2 }, { 2000, 1, 10, 3 }, { 3500, 0, 2, 1 }, { 4500, 1, 3, 1 },
		{ 9000, 0, 1, 4 }, { 10500, 1, 1, 8 }, { 11500, 0, 4, 5 }, { 11800, 1, 8, 9 },
		{ 12500, 0, 5, 7 }, { 13500, 1, 9, 7 },
	};
	size_t i;
	int err;

	err = trail_writer__open(&w, path, NULL);
	if (err)
		return err;
	trail_writer__meta(w, "pcap.file", pcap);
	trail_writer__meta(w, "probe.reset", "tp_btf tcp_send_reset");
	trail_writer__clock(w, &ck);
	cs.family = ss.family = TRAIL_FAMILY_INET;
	cs.protocol = ss.protocol = 6;
	cs.cookie = 1;
	ss.cookie = 2;
	cs.sport = 40000;
	cs.dport = 5000;
	ss.sport = 5000;
	ss.dport = 40000;
	cs.saddr[0] = cs.daddr[0] = ss.saddr[0] = ss.daddr[0] = 127;
	cs.saddr[3] = cs.daddr[3] = ss.saddr[3] = ss.daddr[3] = 1;
	trail_writer__sock(w, &cs, &cid);
	trail_writer__sock(w, &ss, &sid);
	for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		struct trail_state s = { BOOT0 + st[i].dt, st[i].srv ? sid : cid, TRAIL_NO_TASK,
					 st[i].o, st[i].n };

		trail_writer__state(w, &s);
	}
	trail_writer__retire(w, cid);
	trail_writer__retire(w, sid);
	return trail_writer__close(w);
}

static int mutate(unsigned seed, const char *in, const char *out)
{
	FILE *f = fopen(in, "rb");
	uint8_t *b = malloc(1 << 16);
	size_t n, i;

	if (!f || !b)
		return -EIO;
	n = fread(b, 1, 1 << 16, f);
	fclose(f);
	srand(seed);
	if (seed % 3 == 0) {
		n = 24 + (size_t)rand() % (n - 23);	/* cut inside the packets */
	} else {
		for (i = 0; i < 1 + (size_t)rand() % 6; i++)	/* damage, header kept */
			b[24 + (size_t)rand() % (n - 24)] = (uint8_t)rand();
	}
	f = fopen(out, "wb");
	if (!f)
		return -EIO;
	fwrite(b, 1, n, f);
	fclose(f);
	free(b);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "selftest")) {
		selftest();
		if (!failures)
			printf("decoder: every link type, every cut, random damage: ok\n");
		return failures ? 1 : 0;
	}
	if (argc == 5 && !strcmp(argv[1], "write"))
		return write_trail(argv[2], argv[3]) || write_pcap(argv[3], atoi(argv[4])) ? 1 : 0;
	if (argc == 5 && !strcmp(argv[1], "mutate"))
		return mutate((unsigned)atoi(argv[2]), argv[3], argv[4]) ? 1 : 0;
	fprintf(stderr, "usage: t_pcap_gen selftest | write TRAIL PCAP DLT | mutate SEED IN OUT\n");
	return 2;
}
