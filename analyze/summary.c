// SPDX-License-Identifier: BSD-2-Clause
/*
 * `summary` and `connections`: feed the capture through the connection
 * tracker, keep the finished connections and listeners, print them in
 * start order. Keeping them is what costs memory here; the tracker itself
 * only holds open sockets, so a streaming printer can replace `collect`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "ana.h"

struct collect {
	struct ana_conn **conns;
	size_t nconns, capconns;
	struct ana_side **listeners;
	size_t nlisteners, caplisteners;
	int err;		/* -ENOMEM seen while collecting */
	struct ana_conns *tracker;
};

static int grow(void ***v, size_t *cap, size_t len)
{
	size_t ncap;
	void **n;

	if (len < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	n = realloc(*v, ncap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	*v = n;
	*cap = ncap;
	return 0;
}

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
	struct collect *k = ctx;

	if (grow((void ***)&k->conns, &k->capconns, k->nconns)) {
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
	struct collect *k = ctx;

	if (grow((void ***)&k->listeners, &k->caplisteners, k->nlisteners)) {
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

static int on_record(struct ana_capture *cap, const struct trail_record *rec, void *ctx)
{
	struct collect *k = ctx;
	const struct trail_task *task;

	if (k->err)
		return k->err;
	switch (rec->type) {
	case TRAIL_REC_SOCK:
		return ana_conns__sock(k->tracker, &rec->sock);
	case TRAIL_REC_TUPLE:
		return ana_conns__tuple(k->tracker, &rec->sock);
	case TRAIL_REC_RETIRE:
		return ana_conns__retire(k->tracker, rec->retire);
	case TRAIL_REC_STATE:
		task = rec->state.task_slot == TRAIL_NO_TASK ? NULL :
		       trail_reader__task(cap->r, rec->state.task_slot);
		return ana_conns__state(k->tracker, &rec->state, task);
	default:
		return 0;
	}
}

static uint64_t side_start(const struct ana_side *s)
{
	return s->nchanges ? s->first_ts : 0;
}

static int by_start(const void *a, const void *b)
{
	const struct ana_conn *x = *(struct ana_conn *const *)a;
	const struct ana_conn *y = *(struct ana_conn *const *)b;
	const struct ana_side *sx = x->client ? x->client : x->server;
	const struct ana_side *sy = y->client ? y->client : y->server;

	if (x->start_ts != y->start_ts)
		return x->start_ts < y->start_ts ? -1 : 1;
	return sx->sock_id < sy->sock_id ? -1 : sx->sock_id > sy->sock_id;
}

static int listener_by_start(const void *a, const void *b)
{
	const struct ana_side *x = *(struct ana_side *const *)a;
	const struct ana_side *y = *(struct ana_side *const *)b;

	if (side_start(x) != side_start(y))
		return side_start(x) < side_start(y) ? -1 : 1;
	return x->sock_id < y->sock_id ? -1 : x->sock_id > y->sock_id;
}

static void print_stats(const struct ana_print *p, const struct ana_conns_stats *st)
{
	if (st->dropped_sides)
		fprintf(p->out, "  %-12s %" PRIu64 " sockets not tracked (limit %u open at once)\n",
			"limits", st->dropped_sides, ANA_MAX_LIVE_SIDES);
	if (st->dropped_changes)
		fprintf(p->out, "  %-12s %" PRIu64 " state changes not kept (limit %u per socket)\n",
			"limits", st->dropped_changes, ANA_MAX_CHANGES);
	if (st->revived)
		fprintf(p->out, "  %-12s %" PRIu64 " sockets retired early by the recorder (table"
			" full) and re-added: joined again\n", "socktab", st->revived);
	if (st->gaps)
		fprintf(p->out, "  %-12s %" PRIu64 " state changes do not follow their socket's"
			" previous state (lost events?)\n", "gaps", st->gaps);
}

static int run(struct ana_capture *cap, const struct ana_opts *o, FILE *out, int full)
{
	struct collect k = { 0 };
	struct ana_conns_ops ops = {
		.conn_done = on_conn,
		.listener_done = on_listener,
		.idle_done = on_idle,
		.ctx = &k,
	};
	struct ana_sink sink = { .record = on_record, .ctx = &k };
	const struct ana_conns_stats *st;
	struct ana_print p;
	size_t i;
	int err;

	cap->clock.local = o->local_time;
	err = ana_conns__new(&k.tracker, &cap->states, &ops);
	if (err)
		return err;
	err = ana_capture__run(cap, &sink);
	if (!err) {
		ana_conns__finish(k.tracker);
		err = k.err;
	}
	if (err)
		goto cleanup;

	if (k.nconns > 1)
		qsort(k.conns, k.nconns, sizeof(*k.conns), by_start);
	if (k.nlisteners > 1)
		qsort(k.listeners, k.nlisteners, sizeof(*k.listeners), listener_by_start);
	ana_print__init(&p, out, cap, ana_conns__tasks(k.tracker));
	st = ana_conns__stats(k.tracker);
	if (full) {
		ana_print__header(&p);
		ana_print__losses(&p);
		print_stats(&p, st);
		fprintf(out, "  %-12s %zu (%" PRIu64 " with both ends recorded), %zu listener%s\n",
			"connections", k.nconns, st->paired, k.nlisteners,
			k.nlisteners == 1 ? "" : "s");
		fprintf(out, "\nListeners (%zu)\n", k.nlisteners);
		for (i = 0; i < k.nlisteners; i++)
			ana_print__listener(&p, k.listeners[i]);
		fprintf(out, "\nConnections (%zu)\n", k.nconns);
	}
	for (i = 0; i < k.nconns; i++) {
		k.conns[i]->id = (uint32_t)(i + 1);
		if (full || i)
			fputc('\n', out);
		ana_print__conn(&p, k.conns[i]);
	}
cleanup:
	for (i = 0; i < k.nconns; i++)
		ana_conn__free(k.conns[i]);
	for (i = 0; i < k.nlisteners; i++)
		ana_side__free(k.listeners[i]);
	free(k.conns);
	free(k.listeners);
	ana_conns__free(k.tracker);
	return err;
}

int ana_summary__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out)
{
	return run(cap, o, out, 1);
}

int ana_connections__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out)
{
	return run(cap, o, out, 0);
}
