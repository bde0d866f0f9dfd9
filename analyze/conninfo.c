// SPDX-License-Identifier: BSD-2-Clause
#include <string.h>

#include "conninfo.h"

/* First change of S for which WANT says yes, or -1. */
static int64_t first_change(const struct ana_side *s, const struct ana_states *st,
			    int (*want)(enum ana_st o, enum ana_st n))
{
	uint32_t i;

	if (!s)
		return -1;
	for (i = 0; i < s->nchanges; i++)
		if (want(ana_states__kind(st, s->changes[i].oldstate),
			 ana_states__kind(st, s->changes[i].newstate)))
			return i;
	return -1;
}

static int sends_fin(enum ana_st o, enum ana_st n)
{
	(void)o;
	return n == ST_FIN_WAIT1;
}

static int gets_fin(enum ana_st o, enum ana_st n)
{
	return o == ST_ESTABLISHED && n == ST_CLOSE_WAIT;
}

static int aborts(enum ana_st o, enum ana_st n)
{
	return n == ST_CLOSE && (o == ST_ESTABLISHED || o == ST_SYN_SENT ||
				 o == ST_SYN_RECV || o == ST_CLOSE_WAIT);
}

static void set(struct ana_close *out, enum ana_close_kind k, const struct ana_side *s,
		int64_t i)
{
	out->kind = k;
	out->closer = s;
	if (s && i >= 0) {
		out->ts_ns = s->changes[i].ts_ns;
		out->oldstate = s->changes[i].oldstate;
		out->newstate = s->changes[i].newstate;
	}
}

/* Is change IA of A before change IB of B? (a missing change is never first) */
static int before(const struct ana_side *a, int64_t ia, const struct ana_side *b, int64_t ib)
{
	if (ia < 0)
		return 0;
	if (ib < 0)
		return 1;
	return a->changes[ia].ts_ns <= b->changes[ib].ts_ns;
}

void ana_conn__close(const struct ana_conn *c, const struct ana_states *st,
		     struct ana_close *out)
{
	const struct ana_side *a = c->client, *b = c->server;
	int64_t fa = first_change(a, st, sends_fin), fb = first_change(b, st, sends_fin);
	int64_t xa, xb;

	memset(out, 0, sizeof(*out));
	if (fa >= 0 && fb >= 0) {
		/* the later FIN_WAIT1 came without a FIN received first */
		if (before(a, fa, b, fb))
			set(out, CLOSE_SIMULTANEOUS, a, fa);
		else
			set(out, CLOSE_SIMULTANEOUS, b, fb);
		return;
	}
	if (fa >= 0 || fb >= 0) {
		if (fa >= 0)
			set(out, CLOSE_FIN, a, fa);
		else
			set(out, CLOSE_FIN, b, fb);
		return;
	}
	xa = first_change(a, st, aborts);
	xb = first_change(b, st, aborts);
	if (xa >= 0 || xb >= 0) {
		if (before(a, xa, b, xb))
			set(out, CLOSE_ABORT, a, xa);
		else
			set(out, CLOSE_ABORT, b, xb);
		return;
	}
	if (!a != !b) {
		const struct ana_side *s = a ? a : b;
		int64_t i = first_change(s, st, gets_fin);

		if (i >= 0) {
			set(out, CLOSE_BY_PEER, NULL, -1);
			out->ts_ns = s->changes[i].ts_ns;
			out->oldstate = s->changes[i].oldstate;
			out->newstate = s->changes[i].newstate;
		}
	}
}

/* A timewait sock's time (TIME_WAIT, or an orphan's FIN_WAIT2) from its
 * enter to its end: the state changes stop at CLOSE before it. */
static uint32_t timewait(const struct ana_side *s, struct ana_dwell out[ANA_MAX_DWELL],
			 uint32_t n)
{
	const struct ana_event *enter = NULL;
	uint32_t i, j;
	int64_t d;

	for (i = 0; i < s->nevents; i++) {
		const struct ana_event *e = &s->events[i];

		if (e->type == EV_TW_ENTER) {
			enter = e;
			continue;
		}
		if (e->type != EV_TW_END || !enter || e->ts_ns < enter->ts_ns)
			continue;
		for (j = 0; j < n && out[j].state != (uint16_t)(enter->value & 0xff); j++)
			;
		if (j == n) {
			if (n == ANA_MAX_DWELL)
				return n;
			out[n].state = (uint16_t)(enter->value & 0xff);
			out[n].times = 0;
			out[n].ns = 0;
			n++;
		}
		d = (int64_t)(e->ts_ns - enter->ts_ns);
		out[j].times++;
		if (__builtin_add_overflow(out[j].ns, d, &out[j].ns))
			out[j].ns = INT64_MAX;
		enter = NULL;
	}
	return n;
}

uint32_t ana_side__dwell(const struct ana_side *s, struct ana_dwell out[ANA_MAX_DWELL])
{
	uint32_t i, j, n = 0;
	uint16_t state;
	int64_t d;

	for (i = 0; i + 1 < s->nchanges; i++) {
		state = s->changes[i].newstate;
		for (j = 0; j < n && out[j].state != state; j++)
			;
		if (j == n) {
			if (n == ANA_MAX_DWELL)
				continue;
			out[n].state = state;
			out[n].times = 0;
			out[n].ns = 0;
			n++;
		}
		out[j].times++;
		d = (int64_t)(s->changes[i + 1].ts_ns - s->changes[i].ts_ns);
		/* a crafted file could overflow the sum: saturate */
		if (__builtin_add_overflow(out[j].ns, d, &out[j].ns))
			out[j].ns = d < 0 ? INT64_MIN : INT64_MAX;
	}
	return timewait(s, out, n);
}
