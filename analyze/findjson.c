// SPDX-License-Identifier: BSD-2-Clause
/* Findings as JSON: the schema is documented in analyze/ANOMALIES.md. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "esc.h"
#include "finding.h"
#include "pcap.h"
#include "util.h"

static void key(FILE *out, const char *k, int *first)
{
	fprintf(out, "%s\"%s\": ", *first ? "" : ", ", k);
	*first = 0;
}

static void kstr(FILE *out, const char *k, const char *v, int *first)
{
	char safe[2048];

	key(out, k, first);
	esc_json(out, ana_safe(v, safe, sizeof(safe)));
}

static void time_fields(FILE *out, struct ana_capture *cap, uint64_t ts, int *first)
{
	char t[64];

	kstr(out, "time", ana_clock__fmt_full(&cap->clock, ts, t, sizeof(t)), first);
	key(out, "time_boot_ns", first);
	fprintf(out, "%" PRIu64, ts);
}

static void endpoint(FILE *out, const char *k, uint8_t fam, const uint8_t *a, uint16_t port,
		     int *first)
{
	char ep[ANA_EPSTRLEN];

	kstr(out, k, ana_endpoint(fam, a, port, ep, sizeof(ep)), first);
}

static void conn(FILE *out, const struct ana_conn *c)
{
	const struct ana_side *a = c->client, *b = c->server;
	int first = 1;

	fprintf(out, "{");
	key(out, "id", &first);
	fprintf(out, "%u", c->id);
	if (a) {
		endpoint(out, "client", a->family, a->saddr, a->sport, &first);
		endpoint(out, "server", a->family, a->daddr, a->dport, &first);
	} else if (b) {
		endpoint(out, "client", b->family, b->daddr, b->dport, &first);
		endpoint(out, "server", b->family, b->saddr, b->sport, &first);
	}
	key(out, "both_ends_recorded", &first);
	fprintf(out, "%s", a && b ? "true" : "false");
	fprintf(out, "}");
}

static void task(FILE *out, const struct ana_tasks *tasks, uint32_t idx, int *first)
{
	const struct ana_task *t = idx == ANA_NO_TASK ? NULL : ana_tasks__get(tasks, idx);
	int f2 = 1;

	if (!t)
		return;
	key(out, "process", first);
	fprintf(out, "{");
	kstr(out, "comm", t->comm, &f2);
	key(out, "pid", &f2);
	fprintf(out, "%u}", t->pid);
}

/* A packet of the pcap: "event": "packet" (schema in ANOMALIES.md). */
static void packet(FILE *out, struct ana_capture *cap, const struct ana_evref *e)
{
	const struct ana_pkt *k = e->pkt;
	const struct ana_pkts *p = cap->pcap ? cap->pcap->pkts : NULL;
	const char *dir = ana_pkt__dir(k);
	char fl[48];
	int first = 1, f2 = 1;

	fprintf(out, "{");
	time_fields(out, cap, k->ts, &first);
	kstr(out, "side", e->role, &first);
	kstr(out, "event", "packet", &first);
	key(out, "packet", &first);
	fprintf(out, "{");
	if (p)
		kstr(out, "file", p->path, &f2);
	key(out, "number", &f2);
	fprintf(out, "%u", k->num);
	key(out, "time_real_ns", &f2);
	fprintf(out, "%" PRId64, k->real_ns);
	endpoint(out, "src", k->seg.family, k->seg.saddr, k->seg.sport, &f2);
	endpoint(out, "dst", k->seg.family, k->seg.daddr, k->seg.dport, &f2);
	kstr(out, "flags", ana_tcp_flags(k->seg.flags, fl, sizeof(fl)), &f2);
	fprintf(out, ", \"seq\": %u, \"ack\": %u, \"len\": %u", k->seg.seq, k->seg.ack,
		k->seg.len);
	if (dir)
		kstr(out, "direction", dir, &f2);
	if (k->ev)
		kstr(out, "made_by", ana_event__name(k->ev), &f2);
	if (k->eff)
		kstr(out, "caused", ana_event__name(k->eff), &f2);
	if (k->seg.flags & TRAIL_TCP_RST) {
		key(out, "sent_by_local_tcp", &f2);
		fprintf(out, "%s", k->rel == PKT_REL_RST_SENT ? "true" : k->external ? "false" :
			"null");
	}
	fprintf(out, "}}");
}

static void evidence(FILE *out, struct ana_capture *cap, const struct ana_tasks *tasks,
		     const struct ana_evref *e)
{
	const struct trail_stack *st = ana_evref__stack(cap, e);
	char b[160], fl[48];
	int first = 1;
	uint32_t k;

	if (e->pkt) {
		packet(out, cap, e);
		return;
	}
	fprintf(out, "{");
	time_fields(out, cap, e->ev ? e->ev->ts_ns : e->ch->ts_ns, &first);
	kstr(out, "side", e->role, &first);
	if (e->side) {
		key(out, "sock", &first);
		fprintf(out, "%" PRIu64, e->side->sock_id);
	}
	if (e->ch) {
		kstr(out, "event", "state", &first);
		kstr(out, "from", ana_states__name(&cap->states, e->ch->oldstate, b, sizeof(b)), &first);
		kstr(out, "to", ana_states__name(&cap->states, e->ch->newstate, b, sizeof(b)), &first);
		task(out, tasks, e->ch->task, &first);
		fprintf(out, "}");
		return;
	}
	kstr(out, "event", ana_event__name(e->ev), &first);
	if (e->ev->state != TRAIL_NO_STATE)
		kstr(out, "state", ana_states__name(&cap->states, e->ev->state, b, sizeof(b)), &first);
	if (e->ev->reason != TRAIL_NO_REASON)
		kstr(out, "reason", ana_enum__name(cap, e->ev->type == EV_DROP ?
						   TRAIL_ENUM_DROP_REASON : TRAIL_ENUM_RST_REASON,
						   e->ev->reason, b, sizeof(b)), &first);
	if (ana_match__name(e->ev->match))
		kstr(out, "matched", ana_match__name(e->ev->match), &first);
	task(out, tasks, e->ev->task, &first);
	if (e->ev->seg.family == TRAIL_FAMILY_INET || e->ev->seg.family == TRAIL_FAMILY_INET6) {
		int f2 = 1;

		key(out, "segment", &first);
		fprintf(out, "{");
		endpoint(out, "src", e->ev->seg.family, e->ev->seg.saddr, e->ev->seg.sport, &f2);
		endpoint(out, "dst", e->ev->seg.family, e->ev->seg.daddr, e->ev->seg.dport, &f2);
		kstr(out, "flags", ana_tcp_flags(e->ev->seg.flags, fl, sizeof(fl)), &f2);
		fprintf(out, ", \"seq\": %u, \"ack\": %u, \"len\": %u}", e->ev->seg.seq,
			e->ev->seg.ack, e->ev->seg.len);
	}
	if (st) {
		key(out, "stack", &first);
		fprintf(out, "[");
		for (k = 0; k < st->nframes && k < TRAIL_MAX_STACK_DEPTH; k++) {
			char fr[300];

			fprintf(out, "%s", k ? ", " : "");
			esc_json(out, ana_safe(st->frames[k], fr, sizeof(fr)));
		}
		fprintf(out, "]");
	}
	fprintf(out, "}");
}

void ana_findings__json(const struct ana_findings *f, struct ana_capture *cap,
			const struct ana_tasks *tasks, FILE *out)
{
	size_t i;
	uint32_t j;
	int first, k, any = 0;

	fprintf(out, "{\n  \"file\": ");
	{
		char safe[1024];

		esc_json(out, ana_safe(cap->path, safe, sizeof(safe)));
	}
	fprintf(out, ",\n  \"schema\": 1,\n  \"anomalies\": [");
	for (i = 0; i < f->len; i++) {
		const struct ana_finding *x = &f->v[i];

		fprintf(out, "%s\n    {", i ? "," : "");
		first = 1;
		kstr(out, "kind", ana_kind__name(x->kind), &first);
		key(out, "connection", &first);
		if (x->conn)
			conn(out, x->conn);
		else
			fprintf(out, "null");
		time_fields(out, cap, x->ts, &first);
		kstr(out, "summary", x->summary, &first);
		kstr(out, "explanation", x->explain, &first);
		key(out, "evidence", &first);
		fprintf(out, "[");
		for (j = 0; j < x->nev; j++) {
			fprintf(out, "%s\n      ", j ? "," : "");
			evidence(out, cap, tasks, &x->ev[j]);
		}
		fprintf(out, "]}");
	}
	fprintf(out, "%s],\n  \"counts\": {", f->len ? "\n  " : "");
	for (k = 0; k < K__COUNT; k++) {
		if (!f->by_kind[k])
			continue;
		fprintf(out, "%s\"%s\": %" PRIu64, any ? ", " : "", ana_kind__name(k), f->by_kind[k]);
		any = 1;
	}
	fprintf(out, "},\n  \"not_shown\": %" PRIu64 "\n}\n", f->dropped);
}
