// SPDX-License-Identifier: BSD-2-Clause
/*
 * Summary figures over all connections: outcomes, handshake latency per
 * side, time spent per state, RSTs and drops by the kernel's reason.
 * Accumulated as connections finish, in bounded memory: names are counted
 * in fixed tables, and each latency series keeps its first QS_EXACT samples
 * (percentiles exact up to there) and then moves to a log-bucket histogram
 * (QS_SUB_BITS bits of mantissa: a percentile is reported as its bucket's
 * middle, within 1/128 of the true value; counts and max stay exact).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ana.h"
#include "conninfo.h"
#include "connorder.h"
#include "finding.h"
#include "load.h"
#include "stats.h"
#include "util.h"

#define MAX_NAMES 64u	/* distinct outcome/reason names counted; more are "other" */
#define QS_EXACT 8192u	/* samples kept before the histogram takes over */
#define QS_SUB_BITS 6u
#define QS_SUB (1u << QS_SUB_BITS)
#define QS_BUCKETS (QS_SUB + (64u - QS_SUB_BITS) * QS_SUB)

/* A series of durations: exact while small, a bounded histogram after. */
struct qs {
	uint64_t *v;		/* exact samples, NULL once hist is in use */
	uint64_t *hist;		/* QS_BUCKETS counts */
	size_t n, cap;
	uint64_t max;
};

static unsigned qs_bucket(uint64_t x)
{
	unsigned e;

	if (x < QS_SUB)
		return (unsigned)x;
	e = 63u - (unsigned)__builtin_clzll(x);	/* >= QS_SUB_BITS */
	return QS_SUB + (e - QS_SUB_BITS) * QS_SUB +
	       (unsigned)((x >> (e - QS_SUB_BITS)) & (QS_SUB - 1));
}

/* Middle of bucket B's range of values. */
static uint64_t qs_value(unsigned b)
{
	unsigned e, m;
	uint64_t lo, width;

	if (b < QS_SUB)
		return b;
	e = (b - QS_SUB) / QS_SUB + QS_SUB_BITS;
	m = (b - QS_SUB) % QS_SUB;
	width = 1ull << (e - QS_SUB_BITS);
	lo = (1ull << e) + m * width;
	return lo + width / 2;
}

static void qs_push(struct qs *a, uint64_t x)
{
	size_t i;

	if (x > a->max || !a->n)
		a->max = x;
	if (!a->hist && a->n < QS_EXACT) {
		if (a->n == a->cap) {
			size_t ncap = a->cap ? a->cap * 2 : 64;
			uint64_t *n = realloc(a->v, ncap * sizeof(*n));

			if (!n)
				return;	/* a figure from fewer samples; not worth failing for */
			a->v = n;
			a->cap = ncap;
		}
		a->v[a->n++] = x;
		return;
	}
	if (!a->hist) {
		a->hist = calloc(QS_BUCKETS, sizeof(*a->hist));
		if (!a->hist)
			return;
		for (i = 0; i < a->n; i++)
			a->hist[qs_bucket(a->v[i])]++;
		free(a->v);
		a->v = NULL;
		a->cap = 0;
	}
	a->hist[qs_bucket(x)]++;
	a->n++;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void qs_sort(struct qs *a)
{
	if (a->v && a->n > 1)
		qsort(a->v, a->n, sizeof(*a->v), cmp_u64);
}

/* Nearest-rank percentile P (after qs_sort). */
static uint64_t qs_pct(const struct qs *a, unsigned p)
{
	size_t i = (a->n * p + 99) / 100, seen = 0;
	unsigned b;

	i = i ? i - 1 : 0;
	if (!a->hist)
		return a->v[i];
	for (b = 0; b < QS_BUCKETS; b++) {
		seen += a->hist[b];
		if (seen > i)
			return qs_value(b) < a->max ? qs_value(b) : a->max;
	}
	return a->max;
}

static void qs_free(struct qs *a)
{
	free(a->v);
	free(a->hist);
	memset(a, 0, sizeof(*a));
}

/* Where a name or state was first met, in the order the figures list
 * them: connections by number, then listeners by start, then orphans by
 * time (PHASE 0, 1, 2); SEQ orders what one connection holds. Streaming
 * meets connections in the order they finish; this keeps the listing the
 * same as over a capture loaded whole. */
struct first {
	unsigned phase;
	struct ana_okey key;
	uint32_t seq;
};

static int first_cmp(const struct first *a, const struct first *b)
{
	if (a->phase != b->phase)
		return a->phase < b->phase ? -1 : 1;
	if (a->key.ts != b->key.ts)
		return a->key.ts < b->key.ts ? -1 : 1;
	if (a->key.sock != b->key.sock)
		return a->key.sock < b->key.sock ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

struct names {
	char name[MAX_NAMES][80];
	uint64_t count[MAX_NAMES];
	struct first first[MAX_NAMES];
	unsigned n;
	uint64_t other;
};

struct ana_stats {
	struct names outc, rst, drop;
	struct qs hs[2], dws[ANA_MAX_DWELL];
	uint16_t dstate[ANA_MAX_DWELL];
	struct first dfirst[ANA_MAX_DWELL];
	unsigned ndst;
	uint64_t syn;		/* server handshakes timed from the SYN arrival */
	struct first at;	/* what is being counted now */
	uint64_t nlisteners, norphans;
};

static void met(struct ana_stats *st, struct first *f, int fresh)
{
	if (fresh || first_cmp(&st->at, f) < 0)
		*f = st->at;
}

static void count(struct ana_stats *st, struct names *t, const char *name)
{
	char safe[80];
	unsigned i;

	ana_safe(name, safe, sizeof(safe));
	st->at.seq++;
	for (i = 0; i < t->n; i++)
		if (!strcmp(t->name[i], safe)) {
			t->count[i]++;
			met(st, &t->first[i], 0);
			return;
		}
	if (t->n == MAX_NAMES) {
		t->other++;
		return;
	}
	memcpy(t->name[t->n], safe, sizeof(safe));
	met(st, &t->first[t->n], 1);
	t->count[t->n++] = 1;
}

static void print_names(FILE *out, const char *label, const struct names *t)
{
	unsigned i, j, order[MAX_NAMES];

	if (!t->n)
		return;
	/* insertion sort by first meeting: at most 64 names */
	for (i = 0; i < t->n; i++) {
		for (j = i; j > 0 && first_cmp(&t->first[i], &t->first[order[j - 1]]) < 0; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	fprintf(out, "  %-12s", label);
	for (i = 0; i < t->n; i++)
		fprintf(out, "%s %s %" PRIu64, i ? "," : "", t->name[order[i]], t->count[order[i]]);
	if (t->other)
		fprintf(out, ", other %" PRIu64, t->other);
	fputc('\n', out);
}

static void latency(FILE *out, const char *label, struct qs *a)
{
	char p50[32], p99[32], mx[32];

	if (!a->n)
		return;
	qs_sort(a);
	fprintf(out, "  %-12s %s: p50 %s ms, p99 %s ms, max %s ms (%zu)\n", "handshake", label,
		ana_ms((int64_t)qs_pct(a, 50), p50, sizeof(p50)),
		ana_ms((int64_t)qs_pct(a, 99), p99, sizeof(p99)),
		ana_ms((int64_t)a->max, mx, sizeof(mx)), a->n);
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

static void event(struct ana_stats *st, struct ana_capture *cap, const struct ana_event *e)
{
	char b[160], l[200];

	if (e->type == EV_RST_SENT || e->type == EV_RST_RECV) {
		snprintf(l, sizeof(l), "%s %s", e->type == EV_RST_SENT ? "sent" : "received",
			 e->reason == TRAIL_NO_REASON ? "(no reason)" :
			 ana_enum__name(cap, TRAIL_ENUM_RST_REASON, e->reason, b, sizeof(b)));
		count(st, &st->rst, l);
	} else if (e->type == EV_DROP) {
		count(st, &st->drop, e->reason == TRAIL_NO_REASON ? "(no reason)" :
		      ana_enum__name(cap, TRAIL_ENUM_DROP_REASON, e->reason, b, sizeof(b)));
	}
}

static void events(struct ana_stats *st, struct ana_capture *cap, const struct ana_side *s)
{
	uint32_t i;

	for (i = 0; s && i < s->nevents; i++)
		event(st, cap, &s->events[i]);
}

int ana_stats__new(struct ana_stats **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void ana_stats__conn(struct ana_stats *st, struct ana_capture *cap, const struct ana_conn *c)
{
	const struct ana_side *s[2] = { c->client, c->server };
	struct ana_dwell d[ANA_MAX_DWELL];
	unsigned j, k, m;
	uint64_t x;
	uint32_t n;
	int h;

	st->at = (struct first){ 0, ana_order__key(c), 0 };
	count(st, &st->outc, ana_conn__outcome(c, cap));
	for (j = 0; j < 2; j++) {
		if (!s[j])
			continue;
		h = handshake_ns(cap, s[j], &x);
		if (h)
			qs_push(&st->hs[j], x);
		st->syn += j && h == 2;
		events(st, cap, s[j]);
		n = ana_side__dwell(s[j], d);
		for (k = 0; k < n; k++) {
			st->at.seq++;
			for (m = 0; m < st->ndst && st->dstate[m] != d[k].state; m++)
				;
			if (m == st->ndst) {
				if (st->ndst == ANA_MAX_DWELL)
					continue;
				st->dstate[st->ndst++] = d[k].state;
				met(st, &st->dfirst[m], 1);
			} else {
				met(st, &st->dfirst[m], 0);
			}
			qs_push(&st->dws[m], d[k].ns > 0 ? (uint64_t)d[k].ns : 0);
		}
	}
}

void ana_stats__listener(struct ana_stats *st, struct ana_capture *cap, const struct ana_side *l)
{
	st->at = (struct first){ 1, { st->nlisteners++, 0 }, 0 };
	events(st, cap, l);
}

void ana_stats__orphan(struct ana_stats *st, struct ana_capture *cap, const struct ana_event *e)
{
	st->at = (struct first){ 2, { st->norphans++, 0 }, 0 };
	event(st, cap, e);
}

void ana_stats__write(struct ana_stats *st, const struct ana_print *p)
{
	char nb[32], p50[32], mx[32];
	unsigned i, j, order[ANA_MAX_DWELL];

	print_names(p->out, "outcomes", &st->outc);
	latency(p->out, "client (SYN_SENT -> ESTABLISHED)", &st->hs[0]);
	latency(p->out, st->syn == st->hs[1].n ? "server (SYN arrival -> ESTABLISHED)" :
		st->syn ? "server (SYN arrival, or SYN_RECV where not recorded, -> ESTABLISHED)" :
		"server (SYN_RECV -> ESTABLISHED; SYN arrival not recorded)", &st->hs[1]);
	for (i = 0; i < st->ndst; i++) {
		for (j = i; j > 0 && first_cmp(&st->dfirst[i], &st->dfirst[order[j - 1]]) < 0; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	for (i = 0; i < st->ndst; i++) {
		struct qs *a = &st->dws[order[i]];

		j = order[i];
		qs_sort(a);
		if (a->n)
			fprintf(p->out, "  %-12s %-12s p50 %s ms, max %s ms (%zu)\n", i ? "" : "time in",
				ana_states__name(&p->cap->states, st->dstate[j], nb, sizeof(nb)),
				ana_ms((int64_t)qs_pct(a, 50), p50, sizeof(p50)),
				ana_ms((int64_t)a->max, mx, sizeof(mx)), a->n);
	}
	print_names(p->out, "resets", &st->rst);
	print_names(p->out, "drops", &st->drop);
}

void ana_stats__free(struct ana_stats *st)
{
	unsigned j;

	if (!st)
		return;
	qs_free(&st->hs[0]);
	qs_free(&st->hs[1]);
	for (j = 0; j < ANA_MAX_DWELL; j++)
		qs_free(&st->dws[j]);
	free(st);
}

void ana_stats__print(const struct ana_print *p, const struct ana_load *ld)
{
	struct ana_stats *st;
	size_t i;

	if (ana_stats__new(&st))
		return;
	for (i = 0; i < ld->nconns; i++)
		ana_stats__conn(st, p->cap, ld->conns[i]);
	for (i = 0; i < ld->nlisteners; i++)
		ana_stats__listener(st, p->cap, ld->listeners[i]);
	for (i = 0; i < ld->norphans; i++)
		ana_stats__orphan(st, p->cap, &ld->orphans[i]);
	ana_stats__write(st, p);
	ana_stats__free(st);
}
