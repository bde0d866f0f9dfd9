// SPDX-License-Identifier: BSD-2-Clause
/* Packets in words: labels with relative sequence numbers, counts per
 * connection, the pcap's summary line. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "finding.h"
#include "pcap.h"
#include "util.h"

char *ana_pkt__text(const struct ana_pkt *k, char *buf, size_t len)
{
	char fl[48];

	snprintf(buf, len, "%s seq %u ack %u len %u", ana_tcp_flags(k->seg.flags, fl, sizeof(fl)),
		 k->seg.seq, k->seg.ack, k->seg.len);
	return buf;
}

const char *ana_pkt__dir(const struct ana_pkt *k)
{
	switch (k->dir) {
	case PKT_SEEN_OUT: return "sent";
	case PKT_SEEN_IN: return "received";
	case PKT_SEEN_OUT | PKT_SEEN_IN: return "sent and received (seen twice, shown once)";
	default: return k->copies > 1 ? "seen twice, shown once" : NULL;
	}
}

void ana_pkt_base__init(struct ana_pkt_base *b, const struct ana_pkts *p, const struct ana_conn *c)
{
	const uint32_t *idx;
	size_t n, i;

	memset(b, 0, sizeof(*b));
	idx = ana_pkts__conn(p, c, &n);
	/* the SYN's sequence number of each direction, else the first seen */
	for (i = 0; i < n; i++) {
		const struct ana_pkt *k = &p->v[idx[i]];
		int l = k->from & 1;

		if (k->seg.flags & TRAIL_TCP_SYN && b->have[l] < 2) {
			b->isn[l] = k->seg.seq;
			b->have[l] = 2;
		} else if (!b->have[l]) {
			b->isn[l] = k->seg.seq;
			b->have[l] = 1;
		}
	}
}

char *ana_pkt__label(const struct ana_pkt *k, const struct ana_pkt_base *b, char *buf, size_t len)
{
	const struct trail_segment *g = &k->seg;
	int l = k->from & 1;
	char fl[48], ack[32] = "";

	if (g->flags & TRAIL_TCP_ACK)
		snprintf(ack, sizeof(ack), " ack=%u", g->ack - (b->have[!l] ? b->isn[!l] : 0));
	snprintf(buf, len, "%s seq=%u%s len=%u", ana_tcp_flags(g->flags, fl, sizeof(fl)),
		 g->seq - (b->have[l] ? b->isn[l] : 0), ack, g->len);
	return buf;
}

void ana_pkts__count(const struct ana_pkts *p, const struct ana_conn *c,
		     struct ana_pkt_counts *o)
{
	const uint32_t *idx;
	size_t n, i;

	memset(o, 0, sizeof(*o));
	idx = ana_pkts__conn(p, c, &n);
	for (i = 0; i < n; i++) {
		const struct ana_pkt *k = &p->v[idx[i]];
		uint8_t f = k->seg.flags;

		o->all++;
		o->from[k->from & 1]++;
		if ((f & (TRAIL_TCP_SYN | TRAIL_TCP_ACK)) == TRAIL_TCP_SYN)
			o->syn++;
		else if (f & TRAIL_TCP_SYN)
			o->synack++;
		if (f & TRAIL_TCP_FIN)
			o->fin++;
		if (f & TRAIL_TCP_RST)
			o->rst++;
		if (k->seg.len)
			o->data++;
		else if (!(f & (TRAIL_TCP_SYN | TRAIL_TCP_FIN | TRAIL_TCP_RST)))
			o->pure_ack++;
	}
}

void ana_pkts__conn_line(const struct ana_pkts *p, const struct ana_conn *c, FILE *out)
{
	struct ana_pkt_counts n;

	if (!p)
		return;
	ana_pkts__count(p, c, &n);
	fprintf(out, "  packets: %" PRIu64 " in the pcap (%" PRIu64 " from the client, %" PRIu64
		" from the server): SYN %" PRIu64 ", SYN-ACK %" PRIu64 ", ACK %" PRIu64 ", data %"
		PRIu64 ", FIN %" PRIu64 ", RST %" PRIu64 "\n", n.all, n.from[0], n.from[1], n.syn,
		n.synack, n.pure_ack, n.data, n.fin, n.rst);
}

void ana_pkts__summary(const struct ana_pkts *p, FILE *out)
{
	char safe[4200];

	if (!p)
		return;
	fprintf(out, "  %-12s %s: %zu TCP packets, %" PRIu64 " attached to connections, %" PRIu64
		" unmatched, %" PRIu64 " tied to kernel events", "pcap",
		ana_safe(p->path, safe, sizeof(safe)), p->n, p->attached, p->unmatched, p->with_event);
	if (p->dups)
		fprintf(out, ", %" PRIu64 " seen twice", p->dups);
	if (p->bad)
		fprintf(out, ", %" PRIu64 " bad skipped", p->bad);
	if (p->other)
		fprintf(out, ", %" PRIu64 " not TCP", p->other);
	if (p->not_kept)
		fprintf(out, ", %" PRIu64 " over the limit", p->not_kept);
	if (p->file_error)
		fprintf(out, " (the file is cut short)");
	fputc('\n', out);
}
