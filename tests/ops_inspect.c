// SPDX-License-Identifier: BSD-2-Clause
/*
 * ops-inspect: what the t_ops_* tests check in a capture, printed as
 * "key=value" lines. Its parsers are its own (not the recorder's), so a
 * recorder bug cannot hide behind a shared one.
 *
 *   ops-inspect trail FILE   META, status, last LOSS, records, sockets
 *   ops-inspect pcap FILE [PORT]
 *                            the file header, packets, payload bytes kept
 *                            and the time of the first SYN to/from PORT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

#include "trail.h"

static int trail(const char *path)
{
	static const char *status[] = { "OK", "NO_END", "TRUNCATED", "CORRUPT" };
	struct trail_reader *r;
	struct trail_record rec;
	uint64_t states = 0, socks = 0, off = 0, loss_rb = 0;
	int64_t first_real = -1, first_synsent = -1;
	char err[256];
	uint32_t i;
	int n, st;

	if (trail_reader__open(&r, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "ops-inspect: %s: %s\n", path, err);
		return 1;
	}
	while ((n = trail_reader__next(r, &rec)) == 1) {
		switch (rec.type) {
		case TRAIL_REC_META:
			printf("meta.%s=%s\n", rec.meta.key, rec.meta.value);
			break;
		case TRAIL_REC_CLOCK:
			/* the first anchor maps boot time to real time */
			if (!off)
				off = rec.clock.real_ns - rec.clock.boot_ns;
			break;
		case TRAIL_REC_SOCK:
			socks++;
			printf("sock=%" PRIu64 " %u %u\n", rec.sock.id, rec.sock.sport, rec.sock.dport);
			break;
		case TRAIL_REC_STATE:
			states++;
			if (first_real < 0 && off)
				first_real = (int64_t)(rec.state.ts_ns + off);
			/* TCP_CLOSE -> TCP_SYN_SENT: connect() */
			if (first_synsent < 0 && off && rec.state.oldstate == 7 &&
			    rec.state.newstate == 2)
				first_synsent = (int64_t)(rec.state.ts_ns + off);
			break;
		case TRAIL_REC_LOSS:
			loss_rb = 0;
			for (i = 0; i < rec.loss.ncpus; i++)
				loss_rb += rec.loss.percpu_ringbuf[i];
			printf("loss.ringbuf=%" PRIu64 "\n", loss_rb);
			for (i = 0; i < rec.loss.ncounters; i++)
				printf("loss.%s=%" PRIu64 "\n", rec.loss.counters[i].name,
				       rec.loss.counters[i].value);
			break;
		default:
			break;
		}
	}
	st = trail_reader__status(r);
	printf("status=%s\nstates=%" PRIu64 "\nsocks=%" PRIu64 "\nfirst_state_real_ns=%" PRId64
	       "\nfirst_connect_real_ns=%" PRId64 "\n", st >= 0 && st <= 3 ? status[st] : "?",
	       states, socks, first_real, first_synsent);
	trail_reader__close(r);
	return n < 0;
}

/* Length of link + IP + TCP headers, 0 if not TCP over IP. */
static uint32_t headers(int dlt, const u_char *p, uint32_t cap, uint16_t *sport,
			uint16_t *dport, uint8_t *flags)
{
	uint32_t off, et;

	if (dlt == DLT_LINUX_SLL && cap >= 16) {
		off = 16;
		et = p[14] << 8 | p[15];
	} else if (dlt == DLT_EN10MB && cap >= 14) {
		off = 14;
		et = p[12] << 8 | p[13];
	} else {
		return 0;
	}
	if (et == 0x0800 && cap >= off + 20 && p[off + 9] == 6)
		off += (p[off] & 0xf) * 4;
	else if (et == 0x86dd && cap >= off + 40 && p[off + 6] == 6)
		off += 40;
	else
		return 0;
	if (cap < off + 14)
		return 0;
	*sport = p[off] << 8 | p[off + 1];
	*dport = p[off + 2] << 8 | p[off + 3];
	*flags = p[off + 13];
	return off + (p[off + 12] >> 4) * 4;
}

static int pcap(const char *path, int port)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *p;
	uint64_t packets = 0, port_packets = 0, payload = 0, cut = 0, maxcap = 0;
	int64_t first_syn = -1;
	uint32_t magic = 0, hl;
	uint16_t sp, dp;
	uint8_t fl;
	pcap_t *pc;
	FILE *f;
	int rc;

	f = fopen(path, "rb");
	if (!f || fread(&magic, 4, 1, f) != 1) {
		fprintf(stderr, "ops-inspect: %s: cannot read\n", path);
		return 1;
	}
	fclose(f);
	pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc) {
		fprintf(stderr, "ops-inspect: %s: %s\n", path, errbuf);
		return 1;
	}
	while ((rc = pcap_next_ex(pc, &h, &p)) == 1) {
		packets++;
		if (h->caplen > maxcap)
			maxcap = h->caplen;
		hl = headers(pcap_datalink(pc), p, h->caplen, &sp, &dp, &fl);
		if (!hl)
			continue;
		if (h->caplen > hl)
			payload += h->caplen - hl;
		if (h->len > h->caplen)
			cut++;
		if (port && (sp == port || dp == port)) {
			port_packets++;
			if (first_syn < 0 && (fl & 0x12) == 0x02)
				first_syn = (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec;
		}
	}
	printf("magic=%08x\nlinktype=%d\nsnaplen=%d\npackets=%" PRIu64 "\nport_packets=%" PRIu64
	       "\npayload_bytes=%" PRIu64 "\ncut_packets=%" PRIu64 "\nmax_caplen=%" PRIu64
	       "\nfirst_syn_ns=%" PRId64 "\nend=%s\n", magic, pcap_datalink(pc),
	       pcap_snapshot(pc), packets, port_packets, payload, cut, maxcap, first_syn,
	       rc == PCAP_ERROR_BREAK ? "clean" : "error");
	pcap_close(pc);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "trail"))
		return trail(argv[2]);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "pcap"))
		return pcap(argv[2], argc == 4 ? atoi(argv[3]) : 0);
	fprintf(stderr, "usage: ops-inspect trail FILE | pcap FILE [PORT]\n");
	return 2;
}
