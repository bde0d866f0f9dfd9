// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "pcap.h"
#include "util.h"

static void shrink(struct ana_side *s)
{
	struct ana_change *n;

	/* finished sides are kept: give back the growth slack */
	if (!s || s->nchanges == s->cap || !s->nchanges)
		return;
	n = realloc(s->changes, s->nchanges * sizeof(*n));
	if (n) {
		s->changes = n;
		s->cap = s->nchanges;
	}
}

static void on_conn(struct ana_conn *c, void *ctx)
{
	struct ana_load *k = ctx;

	if (ana_grow((void **)&k->conns, &k->capconns, k->nconns, sizeof(*k->conns))) {
		k->err = -ENOMEM;
		ana_conn__free(c);
		return;
	}
	shrink(c->client);
	shrink(c->server);
	k->conns[k->nconns++] = c;
}

static void on_listener(struct ana_side *l, void *ctx)
{
	struct ana_load *k = ctx;

	if (ana_grow((void **)&k->listeners, &k->caplisteners, k->nlisteners, sizeof(*k->listeners))) {
		k->err = -ENOMEM;
		ana_side__free(l);
		return;
	}
	shrink(l);
	k->listeners[k->nlisteners++] = l;
}

static void on_idle(struct ana_side *s, void *ctx)
{
	(void)ctx;
	ana_side__free(s);
}

static void on_orphan(const struct ana_event *ev, void *ctx)
{
	struct ana_load *k = ctx;

	if (k->norphans >= ANA_MAX_ORPHANS) {
		k->orphans_dropped++;
		return;
	}
	if (ana_grow((void **)&k->orphans, &k->caporphans, k->norphans, sizeof(*k->orphans))) {
		k->err = -ENOMEM;
		return;
	}
	k->orphans[k->norphans++] = *ev;
}

static const struct trail_task *task_of(struct ana_capture *cap, uint32_t slot)
{
	return slot == TRAIL_NO_TASK ? NULL : trail_reader__task(cap->r, slot);
}

static int on_record(struct ana_capture *cap, const struct trail_record *rec, void *ctx)
{
	struct ana_load *k = ctx;

	if (k->err)
		return k->err;
	return ana_conns__feed(k->tracker, cap, rec);
}

int ana_conns__feed(struct ana_conns *t, struct ana_capture *cap,
		    const struct trail_record *rec)
{
	switch (rec->type) {
	case TRAIL_REC_TASK:
		ana_conns__task_changed(t, rec->task.slot);
		return 0;
	case TRAIL_REC_SOCK:
		return ana_conns__sock(t, &rec->sock);
	case TRAIL_REC_TUPLE:
		return ana_conns__tuple(t, &rec->sock);
	case TRAIL_REC_RETIRE:
		return ana_conns__retire(t, rec->retire);
	case TRAIL_REC_STATE:
		return ana_conns__state(t, &rec->state, task_of(cap, rec->state.task_slot));
	case TRAIL_REC_LINK:
		return ana_conns__link(t, &rec->link);
	case TRAIL_REC_LIFE:
		return ana_conns__life(t, &rec->life, task_of(cap, rec->life.task_slot));
	case TRAIL_REC_RESET:
		return ana_conns__reset(t, &rec->reset, task_of(cap, rec->reset.task_slot));
	case TRAIL_REC_RETRANS:
		return ana_conns__retrans(t, &rec->retrans, task_of(cap, rec->retrans.task_slot));
	case TRAIL_REC_DROP:
		return ana_conns__drop(t, &rec->drop, task_of(cap, rec->drop.task_slot));
	default:
		return 0;
	}
}

uint64_t ana_side__start(const struct ana_side *s)
{
	if (!s || !s->have_ts)
		return 0;
	return s->syn_ts && s->syn_ts < s->first_ts ? s->syn_ts : s->first_ts;
}

static uint64_t conn_sock(const struct ana_conn *c)
{
	return c->client ? c->client->sock_id : c->server ? c->server->sock_id : 0;
}

static int by_start(const void *a, const void *b)
{
	const struct ana_conn *x = *(struct ana_conn *const *)a;
	const struct ana_conn *y = *(struct ana_conn *const *)b;

	if (x->start_ts != y->start_ts)
		return x->start_ts < y->start_ts ? -1 : 1;
	return conn_sock(x) < conn_sock(y) ? -1 : conn_sock(x) > conn_sock(y);
}

int ana_side__by_start(const void *a, const void *b)
{
	const struct ana_side *x = *(struct ana_side *const *)a;
	const struct ana_side *y = *(struct ana_side *const *)b;

	if (ana_side__start(x) != ana_side__start(y))
		return ana_side__start(x) < ana_side__start(y) ? -1 : 1;
	return x->sock_id < y->sock_id ? -1 : x->sock_id > y->sock_id;
}

static int ev_by_time(const void *a, const void *b)
{
	const struct ana_event *x = a, *y = b;

	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

/* A SYN arrival before the server's first state change starts the connection. */
static void fix_start(struct ana_conn *c)
{
	uint64_t t;

	if (c->server && c->server->syn_ts) {
		t = c->server->syn_ts;
		if (t < c->start_ts || c->start_ts == 0)
			c->start_ts = t;
	}
}

int ana_load__run(struct ana_load *ld, struct ana_capture *cap)
{
	struct ana_conns_ops ops = {
		.conn_done = on_conn,
		.listener_done = on_listener,
		.idle_done = on_idle,
		.orphan = on_orphan,
		.ctx = ld,
	};
	struct ana_sink sink = { .record = on_record, .ctx = ld };
	size_t i;
	int err;

	err = ana_conns__new(&ld->tracker, &cap->states, &ops);
	if (err)
		return err;
	err = ana_capture__run(cap, &sink);
	if (!err) {
		ana_conns__finish(ld->tracker);
		err = ld->err;
	}
	if (err)
		return err;
	for (i = 0; i < ld->nconns; i++)
		fix_start(ld->conns[i]);
	if (ld->nconns > 1)
		qsort(ld->conns, ld->nconns, sizeof(*ld->conns), by_start);
	if (ld->nlisteners > 1)
		qsort(ld->listeners, ld->nlisteners, sizeof(*ld->listeners), ana_side__by_start);
	if (ld->norphans > 1)
		qsort(ld->orphans, ld->norphans, sizeof(*ld->orphans), ev_by_time);
	for (i = 0; i < ld->nconns; i++)
		ld->conns[i]->id = (uint32_t)(i + 1);
	/* hook: the pcap's packets attached to these connections (pcap.c) */
	return ana_pkts__load(cap, ld);
}

/* ---- one connection ---- */

struct pick {
	struct ana_order order;
	uint32_t id;
	struct ana_okey want;	/* when numbers come from ranks */
	int by_key;
	struct ana_conn *one;
	struct ana_conns *tracker_of_pass;
	int err;
};

static void pick_conn(struct ana_conn *c, void *ctx)
{
	struct pick *k = ctx;
	struct ana_okey key;

	fix_start(c);
	key = ana_order__key(c);
	if (!k->by_key && ana_order__add(&k->order, c))
		k->err = -ENOMEM;
	/* by_key: the pass that knows its key; else as if finish order is start order */
	if (!k->one && (k->by_key ? key.ts == k->want.ts && key.sock == k->want.sock :
			k->order.n == k->id)) {
		c->id = k->id;
		k->one = c;
		return;
	}
	ana_conn__free(c);
}

static void pick_side(struct ana_side *s, void *ctx)
{
	(void)ctx;
	ana_side__free(s);
}

static int pick_feed(struct ana_capture *cap, const struct trail_record *rec, void *ctx)
{
	struct pick *k = ctx;

	return k->err ? k->err : ana_conns__feed(k->tracker_of_pass, cap, rec);
}

int ana_load__run_one(struct ana_load *ld, struct ana_capture *cap, uint32_t id)
{
	struct pick k = { .id = id };
	struct ana_conns_ops ops = { pick_conn, pick_side, pick_side, NULL, &k };
	struct ana_sink sink = { .record = pick_feed, .ctx = &k };
	int err;

	if (!cap->path || !strcmp(cap->path, "-")) {
		/* read once: all of it, then the one */
		err = ana_load__run(ld, cap);
		if (!err && id && id <= ld->nconns)
			ld->one = ld->conns[id - 1];
		return err;
	}
	err = ana_conns__new(&ld->tracker, &cap->states, &ops);
	if (err)
		return err;
	k.tracker_of_pass = ld->tracker;
	err = ana_capture__run(cap, &sink);
	if (!err) {
		ana_conns__finish(ld->tracker);
		err = k.err;
	}
	if (!err && k.order.unsorted) {
		/* numbers are ranks: find the key of ID, then read again for it */
		ana_conn__free(k.one);
		k.one = NULL;
		err = ana_order__ranks(&k.order, cap);
		if (!err && id && id <= k.order.nkeys) {
			k.want = k.order.keys[id - 1];
			k.by_key = 1;
			err = ana_order__reread(cap, &ops);
		}
	}
	ld->nconns = k.order.n;
	ld->one = id && id <= k.order.n ? k.one : NULL;
	if (!ld->one)
		ana_conn__free(k.one);
	ana_order__free(&k.order);
	return err ? err : k.err;
}

void ana_load__free(struct ana_load *ld)
{
	size_t i;

	for (i = 0; ld->conns && i < ld->nconns; i++)
		ana_conn__free(ld->conns[i]);
	for (i = 0; i < ld->nlisteners; i++)
		ana_side__free(ld->listeners[i]);
	if (ld->one && !ld->conns)
		ana_conn__free(ld->one);
	free(ld->conns);
	free(ld->listeners);
	free(ld->orphans);
	ana_conns__free(ld->tracker);
	memset(ld, 0, sizeof(*ld));
}
