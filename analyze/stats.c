// SPDX-License-Identifier: BSD-2-Clause
/* Summary figures over all connections: outcomes, handshake latency per
 * side, time spent per state, RSTs and drops by the kernel's reason. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ana.h"
#include "conninfo.h"
#include "finding.h"
#include "load.h"
#include "util.h"

#define MAX_NAMES 64u	/* distinct outcome/reason names counted; more are "other" */

struct u64v {
	uint64_t *v;
	size_t n, cap;
};

static void push(struct u64v *a, uint64_t x)
{
	uint64_t *n;

	if (a->n == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 64;

		n = realloc(a->v, ncap * sizeof(*n));
		if (!n)
			return;	/* a figure from fewer samples; not worth failing for */
		a->v = n;
		a->cap = ncap;
	}
	a->v[a->n++] = x;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile P of sorted A. */
static uint64_t pct(const struct u64v *a, unsigned p)
{
	size_t i = (a->n * p + 99) / 100;

	return a->v[i ? i - 1 : 0];
}

struct names {
	char name[MAX_NAMES][80];
	uint64_t count[MAX_NAMES];
	unsigned n;
	uint64_t other;
};

static void count(struct names *t, const char *name)
{
	unsigned i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->name[i], name)) {
			t->count[i]++;
			return;
		}
	if (t->n == MAX_NAMES) {
		t->other++;
		return;
	}
	ana_safe(name, t->name[t->n], sizeof(t->name[0]));
	t->count[t->n++] = 1;
}

static void print_names(FILE *out, const char *label, const struct names *t)
{
	unsigned i;

	if (!t->n)
		return;
	fprintf(out, "  %-12s", label);
	for (i = 0; i < t->n; i++)
		fprintf(out, "%s %s %" PRIu64, i ? "," : "", t->name[i], t->count[i]);
	if (t->other)
		fprintf(out, ", other %" PRIu64, t->other);
	fputc('\n', out);
}

static void latency(FILE *out, const char *label, struct u64v *a)
{
	char p50[32], p99[32], mx[32];

	if (!a->n)
		return;
	qsort(a->v, a->n, sizeof(*a->v), cmp_u64);
	fprintf(out, "  %-12s %s: p50 %s ms, p99 %s ms, max %s ms (%zu)\n", "handshake", label,
		ana_ms((int64_t)pct(a, 50), p50, sizeof(p50)),
		ana_ms((int64_t)pct(a, 99), p99, sizeof(p99)),
		ana_ms((int64_t)a->v[a->n - 1], mx, sizeof(mx)), a->n);
}

/* Time from the handshake's start on side S to its ESTABLISHED: 0 if none,
 * 2 if it starts at the recorded SYN arrival, 1 at the first state change. */
static int handshake_ns(const struct ana_capture *cap, const struct ana_side *s, uint64_t *out)
{
	uint64_t from = s->syn_ts;
	int kind = from ? 2 : 1;
	uint32_t i;

	for (i = 0; i < s->nchanges; i++) {
		enum ana_st o = ana_states__kind(&cap->states, s->changes[i].oldstate);
		enum ana_st n = ana_states__kind(&cap->states, s->changes[i].newstate);

		if (!from && (n == ST_SYN_SENT || (o == ST_LISTEN && n == ST_SYN_RECV)))
			from = s->changes[i].ts_ns;
		if (n == ST_ESTABLISHED && from) {
			*out = s->changes[i].ts_ns >= from ? s->changes[i].ts_ns - from : 0;
			return kind;
		}
	}
	return 0;
}

static void events(struct ana_capture *cap, const struct ana_side *s, struct names *rst,
		   struct names *drop)
{
	char b[160], l[200];
	uint32_t i;

	for (i = 0; s && i < s->nevents; i++) {
		const struct ana_event *e = &s->events[i];

		if (e->type == EV_RST_SENT || e->type == EV_RST_RECV) {
			snprintf(l, sizeof(l), "%s %s", e->type == EV_RST_SENT ? "sent" : "received",
				 e->reason == TRAIL_NO_REASON ? "(no reason)" :
				 ana_enum__name(cap, TRAIL_ENUM_RST_REASON, e->reason, b, sizeof(b)));
			count(rst, l);
		} else if (e->type == EV_DROP) {
			count(drop, e->reason == TRAIL_NO_REASON ? "(no reason)" :
			      ana_enum__name(cap, TRAIL_ENUM_DROP_REASON, e->reason, b, sizeof(b)));
		}
	}
}

void ana_stats__print(const struct ana_print *p, const struct ana_load *ld)
{
	static struct names outc, rst, drop, dw;	/* large: not on the stack */
	struct u64v hs[2] = { 0 }, dws[ANA_MAX_DWELL] = { 0 };
	struct ana_dwell d[ANA_MAX_DWELL];
	uint16_t dstate[ANA_MAX_DWELL];
	unsigned ndst = 0, j, k, syn = 0;
	int h;
	uint64_t x;
	size_t i;
	char nb[32], p50[32], mx[32];

	memset(&outc, 0, sizeof(outc));
	memset(&rst, 0, sizeof(rst));
	memset(&drop, 0, sizeof(drop));
	memset(&dw, 0, sizeof(dw));
	for (i = 0; i < ld->nconns; i++) {
		const struct ana_conn *c = ld->conns[i];
		const struct ana_side *s[2] = { c->client, c->server };

		count(&outc, ana_conn__outcome(c, p->cap));
		for (j = 0; j < 2; j++) {
			uint32_t n;

			if (!s[j])
				continue;
			h = handshake_ns(p->cap, s[j], &x);
			if (h)
				push(&hs[j], x);
			syn += j && h == 2;
			events(p->cap, s[j], &rst, &drop);
			n = ana_side__dwell(s[j], d);
			for (k = 0; k < n; k++) {
				unsigned m;

				for (m = 0; m < ndst && dstate[m] != d[k].state; m++)
					;
				if (m == ndst) {
					if (ndst == ANA_MAX_DWELL)
						continue;
					dstate[ndst++] = d[k].state;
				}
				push(&dws[m], d[k].ns > 0 ? (uint64_t)d[k].ns : 0);
			}
		}
	}
	for (i = 0; i < ld->nlisteners; i++)
		events(p->cap, ld->listeners[i], &rst, &drop);
	for (i = 0; i < ld->norphans; i++) {
		struct ana_side tmp = { .events = &ld->orphans[i], .nevents = 1 };

		events(p->cap, &tmp, &rst, &drop);
	}
	print_names(p->out, "outcomes", &outc);
	latency(p->out, "client (SYN_SENT -> ESTABLISHED)", &hs[0]);
	latency(p->out, syn == hs[1].n ? "server (SYN arrival -> ESTABLISHED)" :
		syn ? "server (SYN arrival, or SYN_RECV where not recorded, -> ESTABLISHED)" :
		"server (SYN_RECV -> ESTABLISHED; SYN arrival not recorded)", &hs[1]);
	for (j = 0; j < ndst; j++) {
		qsort(dws[j].v, dws[j].n, sizeof(uint64_t), cmp_u64);
		if (dws[j].n)
			fprintf(p->out, "  %-12s %-12s p50 %s ms, max %s ms (%zu)\n", j ? "" : "time in",
				ana_states__name(&p->cap->states, dstate[j], nb, sizeof(nb)),
				ana_ms((int64_t)pct(&dws[j], 50), p50, sizeof(p50)),
				ana_ms((int64_t)dws[j].v[dws[j].n - 1], mx, sizeof(mx)), dws[j].n);
		free(dws[j].v);
	}
	print_names(p->out, "resets", &rst);
	print_names(p->out, "drops", &drop);
	free(hs[0].v);
	free(hs[1].v);
}
