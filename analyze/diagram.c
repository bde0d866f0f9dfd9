// SPDX-License-Identifier: BSD-2-Clause
/* `diagram`: the lanes of one connection as text, Mermaid or SVG. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ana.h"
#include "diagram.h"
#include "esc.h"
#include "finding.h"
#include "load.h"
#include "util.h"

static int by_ts(const void *a, const void *b)
{
	const struct dg_item *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->after != y->after)
		return x->after - y->after;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->lane - y->lane;
}

static void lane_label(struct dg *d, int lane, const struct ana_side *s, const char *role)
{
	char ep[ANA_EPSTRLEN];
	const struct ana_side *o = lane ? d->c->client : d->c->server;

	if (s)
		snprintf(d->lane[lane], sizeof(d->lane[lane]), "%s %s", role,
			 ana_endpoint(s->family, s->saddr, s->sport, ep, sizeof(ep)));
	else if (o)
		snprintf(d->lane[lane], sizeof(d->lane[lane]), "%s %s (not recorded)", role,
			 ana_endpoint(o->family, o->daddr, o->dport, ep, sizeof(ep)));
	else
		snprintf(d->lane[lane], sizeof(d->lane[lane]), "%s", role);
}

#define ABORT_TRACE_LAG_NS (10ull * 1000000)	/* see abort_first() */

/* An abort's RST (tcp_send_active_reset) is traced after it was sent: on
 * loopback or a veth the peer has often taken it in by then. */
static int traced_after(const struct ana_event *e)
{
	return e && e->type == EV_RST_SENT && e->sub == TRAIL_RST_SRC_ACTIVE;
}

/* A packet comes after the event that made it (a sent RST, a retransmit),
 * except an abort's RST, which is traced after its packet left. */
static void packet_key(struct dg_item *it)
{
	const struct ana_pkt *k = it->pk;

	it->key = k->ts;
	if (k->ev && k->rel == PKT_REL_RST_SENT && traced_after(k->ev))
		return;
	if (k->ev && (k->rel == PKT_REL_RST_SENT || k->rel == PKT_REL_RETRANS)) {
		if (k->ev->ts_ns > it->key)
			it->key = k->ev->ts_ns;
		it->after = 1;
	}
}

/* An event a packet made (RST received, drop, SYN arrival) comes after it. */
static void event_key(struct dg_item *it, const struct ana_pkts *pkts)
{
	const struct ana_pkt *k = ana_pkts__of_event(pkts, it->ev);
	struct dg_item pi = { 0 };

	if (!k || it->ev->type == EV_RST_SENT || it->ev->type == EV_RETRANS)
		return;
	pi.pk = k;
	packet_key(&pi);
	if (pi.key >= it->key)
		it->key = pi.key;
	it->after = pi.after + 1;
}

/* Put each abort's RST before what it caused: its packet, and the other
 * lane's RST received traced up to ABORT_TRACE_LAG_NS before it. Its time
 * stays the traced one (dg__label says so). */
static void abort_first(struct dg *d, const struct ana_pkts *pkts)
{
	size_t i, j;

	for (i = 0; i < d->n; i++) {
		struct dg_item *it = &d->v[i];
		const struct ana_pkt *k;
		uint64_t key = it->ts;

		if (!traced_after(it->ev))
			continue;
		k = pkts ? ana_pkts__of_event(pkts, it->ev) : NULL;
		if (k && k->ts < key)
			key = k->ts;
		for (j = 0; j < d->n; j++) {
			const struct dg_item *r = &d->v[j];

			if (r->lane != it->lane && r->ev && r->ev->type == EV_RST_RECV &&
			    r->ts <= it->ts && r->ts + ABORT_TRACE_LAG_NS >= it->ts && r->key < key)
				key = r->key;
		}
		it->key = key;
		it->after = -1;
	}
}

int dg__build(struct dg *d, const struct ana_conn *c, const struct ana_pkts *pkts)
{
	const struct ana_side *s[2] = { c->client, c->server };
	const uint32_t *idx = NULL;
	size_t n = 0, k = 0, np = 0, j;
	uint32_t i;
	int l;

	memset(d, 0, sizeof(*d));
	d->c = c;
	lane_label(d, 0, s[0], c->roles_known ? "client" : "side A");
	lane_label(d, 1, s[1], c->roles_known ? "server" : "side B");
	if (pkts) {
		idx = ana_pkts__conn(pkts, c, &np);
		ana_pkt_base__init(&d->base, pkts, c);
	}
	for (l = 0; l < 2; l++)
		if (s[l])
			n += s[l]->nchanges + s[l]->nevents;
	n += np;
	d->v = n ? calloc(n, sizeof(*d->v)) : NULL;
	if (n && !d->v)
		return -ENOMEM;
	for (j = 0; j < np; j++) {
		const struct ana_pkt *pk = &pkts->v[idx[j]];

		d->v[k] = (struct dg_item){ pk->ts, pk->from & 1, NULL, NULL, pk, 0, 0 };
		packet_key(&d->v[k++]);
	}
	d->npkts = np;
	for (l = 0; l < 2; l++) {
		for (i = 0; s[l] && i < s[l]->nchanges; i++)
			d->v[k++] = (struct dg_item){ s[l]->changes[i].ts_ns, l, &s[l]->changes[i],
						      NULL, NULL, s[l]->changes[i].ts_ns, 0 };
		for (i = 0; s[l] && i < s[l]->nevents; i++) {
			d->v[k] = (struct dg_item){ s[l]->events[i].ts_ns, l, NULL, &s[l]->events[i],
						    NULL, s[l]->events[i].ts_ns, 0 };
			if (np)
				event_key(&d->v[k], pkts);
			k++;
		}
	}
	d->n = k;
	abort_first(d, np ? pkts : NULL);
	if (k > 1)
		qsort(d->v, k, sizeof(*d->v), by_ts);
	return 0;
}

void dg__free(struct dg *d)
{
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

static void packet_label(const struct dg *d, struct ana_capture *cap, const struct ana_pkt *k,
			 char *buf, size_t len)
{
	static const struct ana_pkt_base absolute;
	char lab[420], rs[160];
	const struct ana_event *e = k->ev;

	ana_pkt__label(k, d ? &d->base : &absolute, lab, sizeof(lab));
	rs[0] = 0;
	if (e && e->reason != TRAIL_NO_REASON)
		ana_enum__name(cap, TRAIL_ENUM_RST_REASON, e->reason, rs, sizeof(rs));
	if (k->rel == PKT_REL_RST_SENT && rs[0])
		ana_append(lab, sizeof(lab), " [%s]", rs);
	if (k->external)
		ana_append(lab, sizeof(lab), " [no local TCP stack sent it]");
	if (k->rel == PKT_REL_RETRANS)
		ana_append(lab, sizeof(lab), " (retransmission)");
	if (k->eff_rel == PKT_REL_DROP) {
		rs[0] = 0;
		if (k->eff->reason != TRAIL_NO_REASON)
			ana_enum__name(cap, TRAIL_ENUM_DROP_REASON, k->eff->reason, rs, sizeof(rs));
		ana_append(lab, sizeof(lab), " DROPPED [%s]", rs[0] ? rs : "reason not recorded");
	}
	snprintf(buf, len, "%s #%u", lab, k->num);
}

void dg__label_in(const struct dg *d, struct ana_capture *cap, const struct dg_item *it,
		  char *buf, size_t len)
{
	if (it->pk)
		packet_label(d, cap, it->pk, buf, len);
	else
		dg__label(cap, it, buf, len);
}

void dg__label(struct ana_capture *cap, const struct dg_item *it, char *buf, size_t len)
{
	char a[48], b[48], rs[160];
	const struct ana_event *e = it->ev;

	if (it->pk) {
		packet_label(NULL, cap, it->pk, buf, len);
		return;
	}
	if (it->ch) {
		snprintf(buf, len, "%s -> %s",
			 ana_states__name(&cap->states, it->ch->oldstate, a, sizeof(a)),
			 ana_states__name(&cap->states, it->ch->newstate, b, sizeof(b)));
		return;
	}
	rs[0] = 0;
	if (e->reason != TRAIL_NO_REASON)
		ana_enum__name(cap, e->type == EV_DROP ? TRAIL_ENUM_DROP_REASON :
			       TRAIL_ENUM_RST_REASON, e->reason, rs, sizeof(rs));
	switch (e->type) {
	case EV_SYN_ARRIVED:
		snprintf(buf, len, "SYN arrived: NEW_SYN_RECV (request sock)");
		break;
	case EV_TW_ENTER:
		snprintf(buf, len, "TIME_WAIT entered (timewait sock, substate %s)",
			 ana_states__name(&cap->states, (uint16_t)(e->value & 0xff), a, sizeof(a)));
		break;
	case EV_TW_END:
		snprintf(buf, len, "TIME_WAIT ended");
		break;
	default:
		snprintf(buf, len, "%s%s%s%s", ana_event__name(e), rs[0] ? " [" : "", rs,
			 rs[0] ? "]" : "");
		if (traced_after(e) && it->key && it->key < it->ts)
			ana_append(buf, len, " (time traced after sending)");
		break;
	}
}

int dg__dir(const struct dg_item *it)
{
	if (it->pk)
		return 1;	/* from its sender's lane */
	if (!it->ev)
		return 0;
	switch (it->ev->type) {
	case EV_RST_SENT:	/* by the other end, answering what this side sent */
		return it->ev->match == MATCH_SENDER ? -1 : 1;
	case EV_RETRANS:
		return 1;
	case EV_RST_RECV:
		return -1;
	default:
		return 0;
	}
}

char *dg__rel(const struct dg *d, uint64_t ts, char *buf, size_t len)
{
	char m[32];

	ana_ms((int64_t)(ts - d->c->start_ts), m, sizeof(m));
	snprintf(buf, len, "%s%s ms", ts >= d->c->start_ts ? "+" : "", m);
	return buf;
}

static void text(const struct dg *d, struct ana_capture *cap, FILE *out)
{
	char t[48], r[48], lab[420], safe[400], tup[160];
	size_t i;

	fprintf(out, "connection #%u  %s\n\n", d->c->id, ana_conn__tuple(d->c, tup, sizeof(tup)));
	fprintf(out, "%-15s  %-13s  %-40s  %s\n", "time", "", ana_safe(d->lane[0], safe, 41),
		ana_safe(d->lane[1], lab, sizeof(lab)));
	for (i = 0; i < d->n; i++) {
		const struct dg_item *it = &d->v[i];
		int dir = dg__dir(it);

		ana_clock__fmt(&cap->clock, it->ts, t, sizeof(t));
		dg__label_in(d, cap, it, lab, 320);
		ana_safe(lab, safe, 320);
		if (dir && it->lane == 0)
			snprintf(lab, sizeof(lab), "%s %s", safe, dir > 0 ? "--->" : "<---");
		else if (dir)
			snprintf(lab, sizeof(lab), "%s %s", dir > 0 ? "<---" : "--->", safe);
		else
			snprintf(lab, sizeof(lab), "%s", safe);
		fprintf(out, "%-15s  %13s  %-40s  %s\n", t, dg__rel(d, it->ts, r, sizeof(r)),
			it->lane ? "|" : lab, it->lane ? lab : "|");
	}
	if (!d->n)
		fprintf(out, "(nothing recorded)\n");
	if (d->npkts)
		fprintf(out, "\n%zu packets from the pcap (#N: packet number in it; seq/ack relative"
			" to each side's SYN)\n", d->npkts);
}

static void mermaid(const struct dg *d, struct ana_capture *cap, FILE *out)
{
	static const char *const id[2] = { "C", "S" };
	char r[48], lab[320], safe[400];
	size_t i;

	fprintf(out, "sequenceDiagram\n");
	for (i = 0; i < 2; i++) {
		fprintf(out, "    participant %s as ", id[i]);
		esc_mermaid(out, ana_safe(d->lane[i], safe, sizeof(safe)));
		fputc('\n', out);
	}
	for (i = 0; i < d->n; i++) {
		const struct dg_item *it = &d->v[i];
		int dir = dg__dir(it), from = dir < 0 ? !it->lane : it->lane;

		dg__label_in(d, cap, it, lab, sizeof(lab));
		ana_safe(lab, safe, sizeof(safe));
		dg__rel(d, it->ts, r, sizeof(r));
		if (it->pk)	/* resets and drops end in a cross */
			fprintf(out, "    %s%s%s: ", id[from], it->pk->seg.flags & TRAIL_TCP_RST ||
				it->pk->eff_rel == PKT_REL_DROP ? "-x" : "->>", id[!from]);
		else if (dir)
			fprintf(out, "    %s%s%s: ", id[from], it->ev->type == EV_RETRANS ? "-)" : "-x",
				id[!from]);
		else
			fprintf(out, "    Note over %s: ", id[it->lane]);
		esc_mermaid(out, r);
		fputc(' ', out);
		esc_mermaid(out, safe);
		fputc('\n', out);
	}
}

int ana_diagram__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out)
{
	struct ana_load ld = { 0 };
	struct dg d = { 0 };
	int err;

	cap->clock.local = o->local_time;
	if (!o->conn_id) {
		fprintf(stderr, "tcptrail-analyze: diagram needs --conn ID (see `connections`)\n");
		return -EINVAL;
	}
	/* packets attach to any connection: with a pcap, keep them all;
	 * without, only the one drawn (memory: open connections + this one) */
	if (ana_pkts__wanted(cap)) {
		err = ana_load__run(&ld, cap);
		if (!err && o->conn_id <= ld.nconns)
			ld.one = ld.conns[o->conn_id - 1];
	} else {
		err = ana_load__run_one(&ld, cap, o->conn_id);
	}
	if (err)
		goto cleanup;
	if (!ld.one) {
		fprintf(stderr, "tcptrail-analyze: no connection #%u (the capture has %zu)\n",
			o->conn_id, ld.nconns);
		err = -ENOENT;
		goto cleanup;
	}
	err = dg__build(&d, ld.one, cap->pcap ? cap->pcap->pkts : NULL);
	if (err)
		goto cleanup;
	if (o->format && !strcmp(o->format, "svg")) {
		fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
		dg__svg(&d, cap, out);
	} else if (o->format && !strcmp(o->format, "mermaid")) {
		mermaid(&d, cap, out);
	} else {
		text(&d, cap, out);
	}
cleanup:
	dg__free(&d);
	ana_load__free(&ld);
	return err;
}
