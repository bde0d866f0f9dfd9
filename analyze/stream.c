// SPDX-License-Identifier: BSD-2-Clause
/*
 * Streaming mode: each connection is examined when the tracker finishes
 * it (findings, and whatever a hook wants from it) and freed at once
 * unless a finding points into it. Connection numbers are the same as
 * everywhere else (connorder.h): in the usual case nothing is kept per
 * finished connection; otherwise a second pass ranks them at the end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"
#include "load.h"

struct ana_stream {
	struct det d;
	struct ana_stream_hooks h;
	struct ana_conns *tracker;
	struct ana_order order;
	struct ana_conn **kept;
	size_t nkept, capkept;
	struct ana_side **listeners;
	size_t nlisteners, caplisteners;
	struct ana_event *orphans;
	size_t norphans, caporphans;
	uint64_t orphans_dropped;
	size_t nfirst;		/* kept for keep_first */
};

static void on_conn(struct ana_conn *c, void *ctx)
{
	struct ana_stream *s = ctx;
	size_t before = s->d.f->len + s->d.f->dropped;

	ana_order__fix_start(c);
	if (ana_order__add(&s->order, c)) {
		s->d.err = -ENOMEM;
		ana_conn__free(c);
		return;
	}
	if (s->h.conn)
		s->h.conn(c, s->h.ctx);
	c->id = 0;
	if (!s->h.no_detect)
		det__conn(&s->d, c);
	if (s->d.f->len + s->d.f->dropped == before) {
		if (s->nfirst >= s->h.keep_first) {
			ana_conn__free(c);
			return;
		}
		s->nfirst++;	/* kept without a finding: keep_first */
	}
	/* its number as if the finish order is the start order; see number() */
	c->id = (uint32_t)s->order.n;
	if (ana_grow((void **)&s->kept, &s->capkept, s->nkept, sizeof(*s->kept))) {
		s->d.err = -ENOMEM;	/* the findings point into C: keep it anyway */
		return;
	}
	s->kept[s->nkept++] = c;
}

static void on_listener(struct ana_side *l, void *ctx)
{
	struct ana_stream *s = ctx;
	size_t before = s->d.f->len + s->d.f->dropped;

	if (!s->h.no_detect)
		det__listener(&s->d, l);
	if (s->d.f->len + s->d.f->dropped == before && !s->h.keep_listeners) {
		ana_side__free(l);
		return;
	}
	if (ana_grow((void **)&s->listeners, &s->caplisteners, s->nlisteners, sizeof(*s->listeners)))
		s->d.err = -ENOMEM;
	else
		s->listeners[s->nlisteners++] = l;
}

static void on_idle(struct ana_side *l, void *ctx)
{
	(void)ctx;
	ana_side__free(l);
}

/* Orphans are examined at the end: findings point into this array. */
static void on_orphan(const struct ana_event *ev, void *ctx)
{
	struct ana_stream *s = ctx;

	if (s->norphans >= ANA_MAX_ORPHANS) {
		s->orphans_dropped++;
		return;
	}
	if (ana_grow((void **)&s->orphans, &s->caporphans, s->norphans, sizeof(*s->orphans)))
		s->d.err = -ENOMEM;
	else
		s->orphans[s->norphans++] = *ev;
}

static int on_record(struct ana_capture *cap, const struct trail_record *rec, void *ctx)
{
	struct ana_stream *s = ctx;

	return s->d.err ? s->d.err : ana_conns__feed(s->tracker, cap, rec);
}

/* Kept connections got their place in the finish order as number; when
 * that order was not the start order, rank them. */
static int number(struct ana_stream *s, struct ana_capture *cap)
{
	size_t i;
	int err;

	if (!s->order.unsorted)
		return 0;
	err = ana_order__ranks(&s->order, cap);
	if (err)
		return err;
	for (i = 0; i < s->nkept; i++)
		s->kept[i]->id = ana_order__id(&s->order, 0, s->kept[i]);
	return 0;
}

int ana_stream__run_with(struct ana_stream **out, struct ana_capture *cap,
			 const struct ana_detect_opts *o, struct ana_findings *f,
			 const struct ana_stream_hooks *h)
{
	struct ana_stream *s = calloc(1, sizeof(*s));
	struct ana_conns_ops ops = { on_conn, on_listener, on_idle, on_orphan, NULL };
	struct ana_sink sink = { .record = on_record };
	size_t i;
	int err;

	if (!s)
		return -ENOMEM;
	*out = s;
	ops.ctx = s;
	sink.ctx = s;
	if (h)
		s->h = *h;
	s->d.f = f;
	s->d.cap = cap;
	s->d.opts = *o;
	/* input that cannot be read twice (a pipe) keeps its keys as it goes */
	s->order.keep = !cap->path || !strcmp(cap->path, "-");
	err = ana_conns__new(&s->tracker, &cap->states, &ops);
	if (err)
		return err;
	s->d.tasks = ana_conns__tasks(s->tracker);
	err = ana_capture__run(cap, &sink);
	if (!err)
		ana_conns__finish(s->tracker);
	if (!err)
		err = s->d.err;
	if (err)
		return err;
	if (s->nlisteners > 1)
		qsort(s->listeners, s->nlisteners, sizeof(*s->listeners), ana_side__by_start);
	if (!s->h.no_detect) {
		det__lost(&s->d);
		for (i = 0; i < s->norphans && !s->d.err; i++)
			det__orphan(&s->d, &s->orphans[i]);
	}
	err = number(s, cap);
	if (err)
		return err;
	ana_findings__sort(f);
	return s->d.err;
}

int ana_stream__run(struct ana_stream **out, struct ana_capture *cap,
		    const struct ana_detect_opts *o, struct ana_findings *f)
{
	return ana_stream__run_with(out, cap, o, f, NULL);
}

const struct ana_tasks *ana_stream__tasks(const struct ana_stream *s)
{
	return ana_conns__tasks(s->tracker);
}

const struct ana_conns_stats *ana_stream__stats(const struct ana_stream *s)
{
	return ana_conns__stats(s->tracker);
}

struct ana_order *ana_stream__order(struct ana_stream *s)
{
	return &s->order;
}

struct ana_side *const *ana_stream__listeners(const struct ana_stream *s, size_t *n)
{
	*n = s->nlisteners;
	return s->listeners;
}

struct ana_conn *const *ana_stream__kept(const struct ana_stream *s, size_t *n)
{
	*n = s->nkept;
	return s->kept;
}

const struct ana_event *ana_stream__orphans(const struct ana_stream *s, size_t *n)
{
	*n = s->norphans;
	return s->orphans;
}

void ana_stream__free(struct ana_stream *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nkept; i++)
		ana_conn__free(s->kept[i]);
	for (i = 0; i < s->nlisteners; i++)
		ana_side__free(s->listeners[i]);
	free(s->kept);
	free(s->listeners);
	free(s->orphans);
	ana_order__free(&s->order);
	ana_conns__free(s->tracker);
	free(s);
}
