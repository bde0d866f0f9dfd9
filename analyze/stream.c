// SPDX-License-Identifier: BSD-2-Clause
/*
 * `anomalies` in streaming mode: each connection is examined when the
 * tracker finishes it and freed at once unless a finding points into it.
 * The connection numbers are the same as everywhere else (order of start
 * time, then first socket id): a (start, socket) key is kept for every
 * connection and the kept ones are numbered by their rank at the end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"

struct key {
	uint64_t ts, sock;
};

struct ana_stream {
	struct det d;
	struct ana_conns *tracker;
	struct ana_conn **kept;
	size_t nkept, capkept;
	struct ana_side **listeners;
	size_t nlisteners, caplisteners;
	struct key *keys;
	size_t nkeys, capkeys;
	struct ana_event *orphans;
	size_t norphans, caporphans;
};

static uint64_t first_sock(const struct ana_conn *c)
{
	return c->client ? c->client->sock_id : c->server ? c->server->sock_id : 0;
}

static void on_conn(struct ana_conn *c, void *ctx)
{
	struct ana_stream *s = ctx;
	size_t before = s->d.f->len + s->d.f->dropped;

	if (c->server && c->server->syn_ts && c->server->syn_ts < c->start_ts)
		c->start_ts = c->server->syn_ts;	/* as load.c numbers them */
	if (ana_grow((void **)&s->keys, &s->capkeys, s->nkeys, sizeof(*s->keys))) {
		s->d.err = -ENOMEM;
		ana_conn__free(c);
		return;
	}
	s->keys[s->nkeys++] = (struct key){ c->start_ts, first_sock(c) };
	c->id = 0;
	det__conn(&s->d, c);
	if (s->d.f->len + s->d.f->dropped == before) {
		ana_conn__free(c);
		return;
	}
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

	det__listener(&s->d, l);
	if (s->d.f->len + s->d.f->dropped == before) {
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

	if (s->norphans >= 100000u)
		return;
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

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->sock < y->sock ? -1 : x->sock > y->sock;
}

/* Number the kept connections by their rank among all. */
static void number(struct ana_stream *s)
{
	size_t i;

	if (s->nkeys > 1)
		qsort(s->keys, s->nkeys, sizeof(*s->keys), key_cmp);
	for (i = 0; i < s->nkept; i++) {
		struct key k = { s->kept[i]->start_ts, first_sock(s->kept[i]) };
		size_t lo = 0, hi = s->nkeys;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (key_cmp(&s->keys[mid], &k) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		s->kept[i]->id = (uint32_t)(lo + 1);
	}
}

int ana_stream__run(struct ana_stream **out, struct ana_capture *cap,
		    const struct ana_detect_opts *o, struct ana_findings *f)
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
	s->d.f = f;
	s->d.cap = cap;
	s->d.opts = *o;
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
	det__lost(&s->d);
	for (i = 0; i < s->norphans && !s->d.err; i++)
		det__orphan(&s->d, &s->orphans[i]);
	number(s);
	ana_findings__sort(f);
	return s->d.err;
}

const struct ana_tasks *ana_stream__tasks(const struct ana_stream *s)
{
	return ana_conns__tasks(s->tracker);
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
	free(s->keys);
	free(s->orphans);
	ana_conns__free(s->tracker);
	free(s);
}
