// SPDX-License-Identifier: BSD-2-Clause
/* The tracker's life: creation, freeing (also after an early stop),
 * accessors, and the per-slot task cache. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn_int.h"

uint32_t conn__task(struct ana_conns *c, const struct trail_task *t)
{
	uint32_t idx;

	if (t->slot < TRAIL_TASK_SLOTS && c->slot_task[t->slot])
		return c->slot_task[t->slot] - 1;
	idx = ana_tasks__intern(&c->tasks, t->pid, t->comm);
	if (t->slot < TRAIL_TASK_SLOTS && idx != ANA_NO_TASK)
		c->slot_task[t->slot] = idx + 1;
	return idx;
}

void ana_conns__task_changed(struct ana_conns *c, uint32_t slot)
{
	if (slot < TRAIL_TASK_SLOTS)
		c->slot_task[slot] = 0;
}

int ana_conns__new(struct ana_conns **out, const struct ana_states *st,
		   const struct ana_conns_ops *ops)
{
	struct ana_conns *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->st = st;
	if (ops)
		c->ops = *ops;
	*out = c;
	return 0;
}

/* Free a side the tracker owns (live or waiting) after an early stop,
 * with a retired peer that only its connection reaches. */
static void free_owned(struct ana_conns *c, struct ana_side *s)
{
	struct ana_conn *cn = s->conn;
	struct ana_side *peer;

	if (cn) {
		peer = cn->client == s ? cn->server : cn->client;
		if (cn->client == s)
			cn->client = NULL;
		else
			cn->server = NULL;
		if (!peer) {
			free(cn);
		} else if (!peer->live && !conn__waiting(c, peer)) {
			ana_side__free(peer);
			free(cn);
		}
		/* else the peer is visited later and frees the connection */
	}
	ana_side__free(s);
}

static void free_live(uint64_t key, void *val, void *ctx)
{
	(void)key;
	free_owned(ctx, val);
}

void ana_conns__free(struct ana_conns *c)
{
	struct ana_side *s;

	if (!c)
		return;
	/* only after an early stop does anything remain here */
	idmap__each(&c->live, free_live, c);
	while ((s = c->pend_head)) {
		conn__wait_remove(c, s);
		s->live = 0;
		free_owned(c, s);
	}
	idmap__free(&c->live);
	idmap__free(&c->tuples);
	idmap__free(&c->listeners);
	idmap__free(&c->evicted);
	idmap__free(&c->look);
	idmap__free(&c->remote);
	idmap__free(&c->local);
	ana_tasks__free(&c->tasks);
	free(c);
	conn__pool_drain();
}

const struct ana_conns_stats *ana_conns__stats(const struct ana_conns *c)
{
	return &c->stats;
}

const struct ana_tasks *ana_conns__tasks(const struct ana_conns *c)
{
	return &c->tasks;
}

/* ---- free lists; off under ASan so a use after free is still caught ---- */

#if defined(__SANITIZE_ADDRESS__)
#define POOL_MAX 0u
#else
#define POOL_MAX 1024u		/* sides (and connections) kept for reuse */
#endif
#define POOL_KEEP_CHANGES 16u	/* array capacities a pooled side keeps */
#define POOL_KEEP_EVENTS 8u

static struct ana_side *side_pool;	/* chained through pend_next */
static unsigned side_pooled;
static struct ana_conn *conn_pool;	/* next pointer stored in its first bytes */
static unsigned conn_pooled;

struct ana_side *conn__side_new(void)
{
	struct ana_side *s = side_pool;
	struct ana_change *ch;
	struct ana_event *ev;
	uint32_t cap, evcap;

	if (!s)
		return calloc(1, sizeof(*s));
	side_pool = s->pend_next;
	side_pooled--;
	ch = s->changes;
	cap = s->cap;
	ev = s->events;
	evcap = s->evcap;
	memset(s, 0, sizeof(*s));
	s->changes = ch;
	s->cap = cap;
	s->events = ev;
	s->evcap = evcap;
	return s;
}

struct ana_conn *conn__conn_new(void)
{
	struct ana_conn *c = conn_pool;

	if (!c)
		return calloc(1, sizeof(*c));
	memcpy(&conn_pool, c, sizeof(conn_pool));
	conn_pooled--;
	memset(c, 0, sizeof(*c));
	return c;
}

void conn__pool_drain(void)
{
	struct ana_side *s;
	struct ana_conn *c;

	while ((s = side_pool)) {
		side_pool = s->pend_next;
		free(s->changes);
		free(s->events);
		free(s);
	}
	while ((c = conn_pool)) {
		memcpy(&conn_pool, c, sizeof(conn_pool));
		free(c);
	}
	side_pooled = conn_pooled = 0;
}

void ana_side__free(struct ana_side *s)
{
	if (!s)
		return;
	if (side_pooled < POOL_MAX) {
		if (s->cap > POOL_KEEP_CHANGES) {
			free(s->changes);
			s->changes = NULL;
			s->cap = 0;
		}
		if (s->evcap > POOL_KEEP_EVENTS) {
			free(s->events);
			s->events = NULL;
			s->evcap = 0;
		}
		s->pend_next = side_pool;
		side_pool = s;
		side_pooled++;
		return;
	}
	free(s->changes);
	free(s->events);
	free(s);
}

void ana_conn__free(struct ana_conn *c)
{
	if (!c)
		return;
	ana_side__free(c->client);
	ana_side__free(c->server);
	if (conn_pooled < POOL_MAX) {
		memcpy(c, &conn_pool, sizeof(conn_pool));
		conn_pool = c;
		conn_pooled++;
		return;
	}
	free(c);
}

static void collect(uint64_t key, void *val, void *ctx)
{
	struct ana_side ***p = ctx;

	(void)key;
	*(*p)++ = val;
}

static int by_id(const void *a, const void *b)
{
	const struct ana_side *x = *(struct ana_side *const *)a;
	const struct ana_side *y = *(struct ana_side *const *)b;

	return x->sock_id < y->sock_id ? -1 : x->sock_id > y->sock_id;
}

void ana_conns__finish(struct ana_conns *c)
{
	struct ana_side **all, **p;
	size_t i, n = c->live.len;

	all = n ? malloc(n * sizeof(*all)) : NULL;
	if (all) {
		p = all;
		idmap__each(&c->live, collect, &p);
		/* deterministic output: in the order the sockets appeared */
		qsort(all, n, sizeof(*all), by_id);
		for (i = 0; i < n; i++) {
			idmap__del(&c->live, all[i]->live_id);
			all[i]->open_at_end = 1;
			conn__retire(c, all[i]);
		}
		free(all);
	}
	while (c->pend_head)
		conn__give_up(c, c->pend_head);
}
