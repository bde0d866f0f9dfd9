// SPDX-License-Identifier: BSD-2-Clause
/*
 * Packets to connections and to kernel events. A packet belongs to the
 * connection whose tuple it carries, in either direction: the client's
 * view or, across an address translation the tracker joined, the server
 * socket's tuple; among connections that reused a tuple, the one whose
 * lifetime is nearest the packet. Then each RST, retransmit, drop and
 * request-sock event of a connection is tied to the packet it made or
 * that made it: same tuple and sequence numbers where the event recorded
 * the segment, the right direction otherwise, nearest in time within a
 * window that allows for the clock mapping.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "pcap.h"
#include "util.h"

#define SLACK_NS (5ull * 1000000)	/* clock mapping: anchors are us-exact, allow 5 ms */
#define CAUSE_NS (1000ull * 1000000)	/* an event and its packet at most 1 s apart */
#define TUPLE_REUSE_NS (120ull * 1000000000)	/* a packet this far from a connection is not its */
#define SCAN_MAX 4096u		/* candidates per packet or event: bounded on crafted files */

struct ana_evpkt {
	const struct ana_event *ev;
	struct ana_pkt *pkt;
};

struct centry {
	uint64_t h;
	const struct ana_conn *c;
	const struct ana_side *s;
};

static size_t alen(uint8_t fam)
{
	return fam == TRAIL_FAMILY_INET6 ? 16 : 4;
}

static int ep_eq(uint8_t fam, const uint8_t *a, uint16_t pa, const uint8_t *b, uint16_t pb)
{
	return pa == pb && !memcmp(a, b, alen(fam));
}

/* Hash of the tuple with its two ends in a fixed order: both directions alike. */
static uint64_t tuple_hash(uint8_t fam, const uint8_t *a, uint16_t pa, const uint8_t *b,
			   uint16_t pb)
{
	int c = memcmp(a, b, alen(fam));

	if (c > 0 || (!c && pa > pb)) {
		const uint8_t *t = a;
		uint16_t tp = pa;

		a = b;
		pa = pb;
		b = t;
		pb = tp;
	}
	return ana_hash_ep(ana_hash_ep(fam, fam, a, pa), fam, b, pb);
}

static int centry_cmp(const void *a, const void *b)
{
	const struct centry *x = a, *y = b;

	return x->h < y->h ? -1 : x->h > y->h;
}

/* 1: K goes from S's local end to its remote end; -1: the other way; 0: not S's. */
static int on_side(const struct ana_pkt *k, const struct ana_side *s)
{
	const struct trail_segment *g = &k->seg;

	if (!s || s->family != g->family)
		return 0;
	if (ep_eq(g->family, g->saddr, g->sport, s->saddr, s->sport) &&
	    ep_eq(g->family, g->daddr, g->dport, s->daddr, s->dport))
		return 1;
	if (ep_eq(g->family, g->daddr, g->dport, s->saddr, s->sport) &&
	    ep_eq(g->family, g->saddr, g->sport, s->daddr, s->dport))
		return -1;
	return 0;
}

static uint64_t distance(const struct ana_conn *c, uint64_t ts)
{
	int open = (c->client && c->client->open_at_end) || (c->server && c->server->open_at_end);

	if (ts < c->start_ts)
		return c->start_ts - ts;
	if (ts > c->end_ts && !open)
		return ts - c->end_ts;
	return 0;
}

static void attach_one(struct ana_pkt *k, const struct centry *e, size_t ne)
{
	const struct trail_segment *g = &k->seg;
	uint64_t h = tuple_hash(g->family, g->saddr, g->sport, g->daddr, g->dport), best = UINT64_MAX;
	size_t lo = 0, hi = ne, i;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (e[mid].h < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < ne && e[i].h == h && i - lo < SCAN_MAX; i++) {
		int dir = on_side(k, e[i].s);
		uint64_t d;

		if (!dir)
			continue;
		d = distance(e[i].c, k->ts);
		if (d > TUPLE_REUSE_NS || d > best)
			continue;
		/* equal distance: the later connection (a reuse starts where one ended) */
		if (d == best && k->conn && k->conn->start_ts > e[i].c->start_ts)
			continue;
		best = d;
		k->conn = e[i].c;
		/* the lane that sent it: the side's own, or the other one */
		k->from = (e[i].s == e[i].c->client) == (dir > 0) ? 0 : 1;
		k->translated = e[i].c->nat && e[i].s == e[i].c->server;
	}
}

static int lane_of(const struct ana_conn *c, const struct ana_side *s)
{
	return s == c->client ? 0 : 1;
}

/* Does packet K fit event EV of side S (lane LANE)? */
static int fits(const struct ana_pkt *k, const struct ana_event *ev, int lane)
{
	const struct trail_segment *g = &ev->seg, *w = &k->seg;
	int have = g->family == w->family;
	uint32_t next;

	switch (ev->type) {
	case EV_RST_SENT:
		if (!(w->flags & TRAIL_TCP_RST))
			return 0;
		if (!have)	/* an abort: no segment, the RST leaves this side */
			return lane >= 0 && k->from == lane;
		if (!ep_eq(w->family, w->saddr, w->sport, g->daddr, g->dport) ||
		    !ep_eq(w->family, w->daddr, w->dport, g->saddr, g->sport))
			return 0;
		/* RFC 793: seq = the segment's ack, or ack = the end of the segment */
		next = g->seq + g->len + !!(g->flags & TRAIL_TCP_SYN) + !!(g->flags & TRAIL_TCP_FIN);
		return (g->flags & TRAIL_TCP_ACK) ? w->seq == g->ack : w->ack == next;
	case EV_RST_RECV:
		if (!(w->flags & TRAIL_TCP_RST))
			return 0;
		if (have)
			return ep_eq(w->family, w->saddr, w->sport, g->saddr, g->sport) &&
			       ep_eq(w->family, w->daddr, w->dport, g->daddr, g->dport) &&
			       w->seq == g->seq;
		return lane >= 0 && k->from != lane;
	case EV_RETRANS:
		if (have)
			return ep_eq(w->family, w->saddr, w->sport, g->saddr, g->sport) &&
			       w->seq == g->seq &&
			       (w->flags & TRAIL_TCP_SYN) == (g->flags & TRAIL_TCP_SYN);
		return lane >= 0 && k->from == lane &&
		       (ev->sub == TRAIL_RETRANS_DATA) == !(w->flags & TRAIL_TCP_SYN);
	case EV_DROP:
		return have && ep_eq(w->family, w->saddr, w->sport, g->saddr, g->sport) &&
		       ep_eq(w->family, w->daddr, w->dport, g->daddr, g->dport) &&
		       w->seq == g->seq && w->ack == g->ack && w->flags == g->flags;
	case EV_SYN_ARRIVED:
		return (w->flags & (TRAIL_TCP_SYN | TRAIL_TCP_ACK)) == TRAIL_TCP_SYN &&
		       lane >= 0 && k->from != lane;
	default:
		return 0;
	}
}

static uint8_t rel_of(uint8_t type)
{
	switch (type) {
	case EV_RST_SENT: return PKT_REL_RST_SENT;
	case EV_RST_RECV: return PKT_REL_RST_RECV;
	case EV_RETRANS: return PKT_REL_RETRANS;
	case EV_DROP: return PKT_REL_DROP;
	case EV_SYN_ARRIVED: return PKT_REL_SYN;
	default: return PKT_REL_NONE;
	}
}

/* The event makes the packet (it comes after) or the packet makes the event. */
static int event_first(uint8_t type)
{
	return type == EV_RST_SENT || type == EV_RETRANS;
}

/* Tie EV (of side S, lane LANE; -1 for an orphan) to the nearest fitting
 * free packet among IDX[0..N) (indices into P->v, by time). */
static void tie(struct ana_pkts *p, const uint32_t *idx, size_t n, const struct ana_event *ev,
		const struct ana_side *s, int lane)
{
	uint64_t from, to, best = UINT64_MAX;
	struct ana_pkt *pick = NULL;
	size_t lo = 0, hi = n, i;

	if (!rel_of(ev->type))
		return;
	from = event_first(ev->type) ? ev->ts_ns - SLACK_NS : ev->ts_ns - CAUSE_NS;
	to = event_first(ev->type) ? ev->ts_ns + CAUSE_NS : ev->ts_ns + SLACK_NS;
	if (from > ev->ts_ns)
		from = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->v[idx ? idx[mid] : mid].ts < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < n && i - lo < SCAN_MAX; i++) {
		struct ana_pkt *k = &p->v[idx ? idx[i] : i];
		uint64_t d;

		if (k->ts > to)
			break;
		if ((event_first(ev->type) ? k->ev : k->eff) || !fits(k, ev, lane))
			continue;
		d = k->ts > ev->ts_ns ? k->ts - ev->ts_ns : ev->ts_ns - k->ts;
		if (d < best) {
			best = d;
			pick = k;
		}
	}
	if (!pick)
		return;
	if (!pick->ev && !pick->eff)
		p->with_event++;
	/* one event may make a packet and the packet another: an RST sent by one
	 * recorded end and received by the other, a retransmit dropped on arrival */
	if (!event_first(ev->type)) {
		pick->eff = ev;
		pick->eff_side = s;
		pick->eff_rel = rel_of(ev->type);
		return;
	}
	pick->ev = ev;
	pick->ev_side = s;
	pick->rel = rel_of(ev->type);
}

/* An RST leaving a recorded end whose TCP stack recorded no sent RST for it. */
static void externals(struct ana_pkts *p)
{
	size_t i;

	if (!(p->flags & ANA_PKTS_SENT_RST_PROBED))
		return;
	for (i = 0; i < p->n; i++) {
		struct ana_pkt *k = &p->v[i];
		const struct ana_side *from;

		if (!k->conn || !(k->seg.flags & TRAIL_TCP_RST) || k->rel == PKT_REL_RST_SENT)
			continue;
		/* the pcap runs a little longer than the probes: no verdict outside them */
		if (k->ts < p->events_from || k->ts > p->events_to)
			continue;
		from = k->from ? k->conn->server : k->conn->client;
		k->external = from != NULL;
	}
}

static int by_conn_time(const void *a, const void *b, void *arg)
{
	const struct ana_pkts *p = arg;
	const struct ana_pkt *x = &p->v[*(const uint32_t *)a], *y = &p->v[*(const uint32_t *)b];

	if (x->conn->id != y->conn->id)
		return x->conn->id < y->conn->id ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->num < y->num ? -1 : x->num > y->num;
}

static int evpkt_cmp(const void *a, const void *b)
{
	const struct ana_evpkt *x = a, *y = b;

	return x->ev < y->ev ? -1 : x->ev > y->ev;
}

/* PASS 0: sent RSTs only, so that a drop of the same RST on arrival (a peer
 * without a socket for it) cannot hide that a TCP stack sent it; PASS 1: the rest. */
static int in_pass(const struct ana_event *ev, int pass)
{
	return (ev->type == EV_RST_SENT) == !pass;
}

static void tie_conn(struct ana_pkts *p, const struct ana_conn *c, int pass)
{
	const struct ana_side *sides[2] = { c->client, c->server };
	const uint32_t *idx;
	size_t n;
	uint32_t i;
	int l;

	idx = ana_pkts__conn(p, c, &n);
	for (l = 0; l < 2 && n; l++)
		for (i = 0; sides[l] && i < sides[l]->nevents; i++)
			if (in_pass(&sides[l]->events[i], pass))
				tie(p, idx, n, &sides[l]->events[i], sides[l], lane_of(c, sides[l]));
}

int ana_pkts__attach(struct ana_pkts *p, const struct ana_load *ld)
{
	struct centry *e = NULL;
	size_t ne = 0, i, k;
	int l, pass;

	e = ld->nconns ? calloc(ld->nconns * 2, sizeof(*e)) : NULL;
	if (ld->nconns && !e)
		return -ENOMEM;
	for (i = 0; i < ld->nconns; i++) {
		const struct ana_conn *c = ld->conns[i];
		const struct ana_side *s[2] = { c->client, c->server };

		for (l = 0; l < 2; l++)
			if (s[l] && s[l]->dport)
				e[ne++] = (struct centry){ tuple_hash(s[l]->family, s[l]->saddr,
						s[l]->sport, s[l]->daddr, s[l]->dport), c, s[l] };
	}
	if (ne > 1)
		qsort(e, ne, sizeof(*e), centry_cmp);
	for (i = 0; i < p->n; i++) {
		attach_one(&p->v[i], e, ne);
		if (p->v[i].conn)
			p->attached++;
		else
			p->unmatched++;
	}
	free(e);

	/* packets by connection, then the events of each */
	p->nconns = ld->nconns;
	p->first = calloc(ld->nconns + 1, sizeof(*p->first));
	p->order = p->attached ? calloc(p->attached, sizeof(*p->order)) : NULL;
	if (!p->first || (p->attached && !p->order))
		return -ENOMEM;
	for (i = 0, k = 0; i < p->n; i++)
		if (p->v[i].conn)
			p->order[k++] = (uint32_t)i;
	if (k > 1)
		qsort_r(p->order, k, sizeof(*p->order), by_conn_time, p);
	for (i = 0, k = 0; i < ld->nconns; i++) {
		p->first[i] = k;
		while (k < p->attached && p->v[p->order[k]].conn->id == i + 1)
			k++;
	}
	p->first[ld->nconns] = k;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < ld->nconns; i++)
			tie_conn(p, ld->conns[i], pass);
		for (i = 0; i < ld->norphans; i++)
			if (in_pass(&ld->orphans[i], pass))
				tie(p, NULL, p->n, &ld->orphans[i], NULL, -1);
	}
	externals(p);

	p->byev = p->with_event ? calloc(p->with_event * 2, sizeof(*p->byev)) : NULL;
	if (p->with_event && !p->byev)
		return -ENOMEM;
	for (i = 0; i < p->n; i++) {
		if (p->v[i].ev && p->nbyev < p->with_event * 2)
			p->byev[p->nbyev++] = (struct ana_evpkt){ p->v[i].ev, &p->v[i] };
		if (p->v[i].eff && p->nbyev < p->with_event * 2)
			p->byev[p->nbyev++] = (struct ana_evpkt){ p->v[i].eff, &p->v[i] };
	}
	if (p->nbyev > 1)
		qsort(p->byev, p->nbyev, sizeof(*p->byev), evpkt_cmp);
	return 0;
}

const uint32_t *ana_pkts__conn(const struct ana_pkts *p, const struct ana_conn *c, size_t *n)
{
	*n = 0;
	if (!p || !p->first || !p->order || !c->id || c->id > p->nconns)
		return NULL;
	*n = p->first[c->id] - p->first[c->id - 1];
	return p->order + p->first[c->id - 1];
}

struct ana_pkt *ana_pkts__of_event(const struct ana_pkts *p, const struct ana_event *ev)
{
	size_t lo = 0, hi;

	if (!p || !p->nbyev)
		return NULL;
	hi = p->nbyev;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->byev[mid].ev < ev)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->nbyev && p->byev[lo].ev == ev ? p->byev[lo].pkt : NULL;
}
