// SPDX-License-Identifier: BSD-2-Clause
/* Socket sides and their pairing into connections; see conn.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "util.h"

/* ana_side.indexed: which index holds the side */
enum { IDX_NONE, IDX_TUPLE, IDX_LISTENER };

struct ana_conns {
	const struct ana_states *st;
	struct ana_conns_ops ops;
	struct idmap live;	/* sock id -> side */
	struct idmap tuples;	/* tuple hash -> chain of unpaired sides */
	struct idmap listeners;	/* (netns, family, port) hash -> chain */
	struct ana_side *pend_head, *pend_tail;	/* retired, unpaired, waiting */
	struct ana_tasks tasks;
	uint64_t now;		/* latest state change time seen */
	struct ana_conns_stats stats;
};

static size_t alen(const struct ana_side *s)
{
	return s->family == TRAIL_FAMILY_INET6 ? 16 : 4;
}

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Hash of a tuple seen from one end; the mirror is (d, dport, s, sport). */
static uint64_t tuple_key(uint8_t family, const uint8_t *s, uint16_t sport,
			  const uint8_t *d, uint16_t dport)
{
	size_t n = family == TRAIL_FAMILY_INET6 ? 16 : 4;
	uint64_t h = 0xcbf29ce484222325ull;

	h = mix(h, &family, 1);
	h = mix(h, s, n);
	h = mix(h, &sport, 2);
	h = mix(h, d, n);
	return mix(h, &dport, 2);
}

static uint64_t side_key(const struct ana_side *s)
{
	return tuple_key(s->family, s->saddr, s->sport, s->daddr, s->dport);
}

static uint64_t listener_key(uint32_t netns, uint8_t family, uint16_t port)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = mix(h, &netns, 4);
	h = mix(h, &family, 1);
	return mix(h, &port, 2);
}

static int mirrors(const struct ana_side *a, const struct ana_side *b)
{
	return a->family == b->family && a->sport == b->dport && a->dport == b->sport &&
	       !memcmp(a->saddr, b->daddr, alen(a)) && !memcmp(a->daddr, b->saddr, alen(a));
}

/* ---- chains kept in an idmap: the map holds the head ---- */

static int chain_push(struct idmap *m, uint64_t key, struct ana_side *s)
{
	s->tuple_next = idmap__get(m, key);
	return idmap__put(m, key, s);
}

static void chain_remove(struct idmap *m, uint64_t key, struct ana_side *s)
{
	struct ana_side *head = idmap__get(m, key), **pp;

	for (pp = &head; *pp; pp = &(*pp)->tuple_next) {
		if (*pp != s)
			continue;
		*pp = s->tuple_next;
		break;
	}
	s->tuple_next = NULL;
	if (head)
		idmap__put(m, key, head);	/* replaces: cannot fail */
	else
		idmap__del(m, key);
}

static void unindex(struct ana_conns *c, struct ana_side *s)
{
	if (s->indexed != IDX_TUPLE)
		return;
	chain_remove(&c->tuples, side_key(s), s);
	s->indexed = IDX_NONE;
	if (!s->pend_prev && c->pend_head != s)
		return;
	/* it was waiting for a partner */
	if (s->pend_prev)
		s->pend_prev->pend_next = s->pend_next;
	else
		c->pend_head = s->pend_next;
	if (s->pend_next)
		s->pend_next->pend_prev = s->pend_prev;
	else
		c->pend_tail = s->pend_prev;
	s->pend_prev = s->pend_next = NULL;
}

/* ---- roles and completion ---- */

static enum ana_st kind(const struct ana_conns *c, uint16_t v)
{
	return ana_states__kind(c->st, v);
}

static int is_client_side(const struct ana_side *s)
{
	return s->role == ROLE_CLIENT;
}

/* Order the two ends as client, server where the record allows it. */
static void assign_roles(struct ana_conn *cn)
{
	struct ana_side *a = cn->client, *b = cn->server, *t;

	if (!b) {
		/* a lone side: put it where its role says */
		if (a->role == ROLE_SERVER || (a->role == ROLE_UNKNOWN && a->on_listener_port)) {
			cn->server = a;
			cn->client = NULL;
		}
		cn->roles_known = a->role == ROLE_CLIENT || a->role == ROLE_SERVER ||
				  a->on_listener_port;
		return;
	}
	cn->roles_known = 1;
	if (is_client_side(a) || b->role == ROLE_SERVER)
		return;
	if (is_client_side(b) || a->role == ROLE_SERVER)
		goto swap;
	if (b->on_listener_port && !a->on_listener_port)
		return;
	if (a->on_listener_port && !b->on_listener_port)
		goto swap;
	/* a connecting socket has no local port until after SYN_SENT */
	if (!a->first_sport && b->first_sport)
		return;
	if (!b->first_sport && a->first_sport)
		goto swap;
	cn->roles_known = 0;
	if (b->nchanges && (!a->nchanges || b->first_ts < a->first_ts))
		goto swap;
	return;
swap:
	t = a;
	cn->client = b;
	cn->server = t;
}

static void complete(struct ana_conns *c, struct ana_conn *cn)
{
	struct ana_side *s[2] = { cn->client, cn->server };
	int i, first = 1;

	assign_roles(cn);
	for (i = 0; i < 2; i++) {
		if (!s[i] || !s[i]->nchanges)
			continue;
		if (first || s[i]->first_ts < cn->start_ts)
			cn->start_ts = s[i]->first_ts;
		if (first || s[i]->last_ts > cn->end_ts)
			cn->end_ts = s[i]->last_ts;
		first = 0;
	}
	c->stats.conns++;
	if (cn->client && cn->server)
		c->stats.paired++;
	if (c->ops.conn_done)
		c->ops.conn_done(cn, c->ops.ctx);
	else
		ana_conn__free(cn);
}

/* A side with no partner: a connection of its own. */
static void complete_alone(struct ana_conns *c, struct ana_side *s)
{
	struct ana_conn *cn = calloc(1, sizeof(*cn));

	if (!cn) {
		/* nothing better to do without memory: the side is lost */
		c->stats.dropped_sides++;
		ana_side__free(s);
		return;
	}
	cn->client = s;
	s->conn = cn;
	complete(c, cn);
}

/* Retired, unpaired sides wait this long (capture time) for a partner. */
static void expire_waiting(struct ana_conns *c)
{
	struct ana_side *s;

	while ((s = c->pend_head) && ana_sat_add(s->last_ts, ANA_PAIR_HORIZON_NS) < c->now) {
		unindex(c, s);
		complete_alone(c, s);
	}
}

static int pair(struct ana_conns *c, struct ana_side *a, struct ana_side *b)
{
	struct ana_conn *cn = calloc(1, sizeof(*cn));

	if (!cn)
		return -ENOMEM;
	unindex(c, a);
	unindex(c, b);
	cn->client = a;
	cn->server = b;
	a->conn = b->conn = cn;
	return 0;
}

/* Find the mirror of live side S among unpaired sides, or index S. */
static int try_pair(struct ana_conns *c, struct ana_side *s)
{
	struct ana_side *cand, *best = NULL;
	uint64_t start = s->nchanges ? s->first_ts : c->now;
	int score, best_score = -1;

	if (s->role == ROLE_LISTENER || s->conn || s->indexed || !s->sport || !s->dport)
		return 0;
	cand = idmap__get(&c->tuples, tuple_key(s->family, s->daddr, s->dport, s->saddr,
						s->sport));
	for (; cand; cand = cand->tuple_next) {
		if (cand == s || cand->conn || !mirrors(s, cand))
			continue;
		if (cand->role == ROLE_SERVER && s->role == ROLE_SERVER)
			continue;
		/* a tuple reused later is a new connection: lives must overlap */
		if (!cand->live && ana_sat_add(cand->last_ts, ANA_PAIR_SLACK_NS) < start)
			continue;
		score = (cand->netns == s->netns) * 2 + cand->live;
		if (score > best_score || (score == best_score && cand->last_ts > best->last_ts)) {
			best = cand;
			best_score = score;
		}
	}
	if (best)
		return pair(c, best, s);
	if (chain_push(&c->tuples, side_key(s), s))
		return -ENOMEM;
	s->indexed = IDX_TUPLE;
	return 0;
}

/* ---- listeners ---- */

static void make_listener(struct ana_conns *c, struct ana_side *s)
{
	if (s->role == ROLE_LISTENER)
		return;
	unindex(c, s);
	if (s->conn) {
		/* paired already (a socket reused for listen): leave it there */
		return;
	}
	s->role = ROLE_LISTENER;
	if (!chain_push(&c->listeners, listener_key(s->netns, s->family, s->sport), s))
		s->indexed = IDX_LISTENER;
}

/* The live listener S is a child of, if one is known. */
static struct ana_side *listener_of(const struct ana_conns *c, const struct ana_side *s)
{
	struct ana_side *l, *wild = NULL;

	l = idmap__get(&c->listeners, listener_key(s->netns, s->family, s->sport));
	for (; l; l = l->tuple_next) {
		if (l->family != s->family || l->netns != s->netns || l->sport != s->sport)
			continue;
		if (!memcmp(l->saddr, s->saddr, alen(s)))
			return l;
		wild = l;	/* bound to the wildcard address, most likely */
	}
	return wild;
}

/* ---- records ---- */

static struct ana_side *find(struct ana_conns *c, uint64_t id)
{
	struct ana_side *s = idmap__get(&c->live, id);

	if (!s)
		c->stats.bad_refs++;
	return s;
}

static void set_tuple(struct ana_side *s, const struct trail_sock *t)
{
	size_t n = t->family == TRAIL_FAMILY_INET6 ? 16 : 4;

	s->sport = t->sport;
	s->dport = t->dport;
	memset(s->saddr, 0, sizeof(s->saddr));
	memset(s->daddr, 0, sizeof(s->daddr));
	memcpy(s->saddr, t->saddr, n);
	memcpy(s->daddr, t->daddr, n);
}

static void note_listener_port(struct ana_conns *c, struct ana_side *s)
{
	if (s->sport && listener_of(c, s))
		s->on_listener_port = 1;
}

int ana_conns__sock(struct ana_conns *c, const struct trail_sock *t)
{
	struct ana_side *s;
	int err;

	if (t->family != TRAIL_FAMILY_INET && t->family != TRAIL_FAMILY_INET6) {
		c->stats.bad_refs++;
		return 0;
	}
	if (idmap__get(&c->live, t->id)) {
		c->stats.bad_refs++;	/* the reader never reuses a live id */
		return 0;
	}
	if (c->live.len >= ANA_MAX_LIVE_SIDES) {
		c->stats.dropped_sides++;
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->sock_id = t->id;
	s->cookie = t->cookie;
	s->skaddr = t->skaddr;
	s->netns = t->netns;
	s->family = t->family;
	s->live = 1;
	set_tuple(s, t);
	s->first_sport = t->sport;
	err = idmap__put(&c->live, t->id, s);
	if (err) {
		free(s);
		return err;
	}
	c->stats.sides++;
	note_listener_port(c, s);
	return try_pair(c, s);
}

int ana_conns__tuple(struct ana_conns *c, const struct trail_sock *t)
{
	struct ana_side *s = find(c, t->id);

	if (!s)
		return 0;
	s->ntuples++;
	if (s->role == ROLE_LISTENER)
		return 0;	/* keep it findable under the port it listens on */
	unindex(c, s);
	set_tuple(s, t);
	note_listener_port(c, s);
	return try_pair(c, s);
}

static int add_change(struct ana_conns *c, struct ana_side *s, const struct ana_change *ch)
{
	struct ana_change *n;
	uint32_t ncap;

	if (s->nchanges >= ANA_MAX_CHANGES) {
		s->dropped++;
		c->stats.dropped_changes++;
		return 0;
	}
	if (s->nchanges == s->cap) {
		ncap = s->cap ? s->cap * 2 : 8;
		n = realloc(s->changes, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->changes = n;
		s->cap = ncap;
	}
	s->changes[s->nchanges++] = *ch;
	return 0;
}

int ana_conns__state(struct ana_conns *c, const struct trail_state *st,
		     const struct trail_task *task)
{
	struct ana_side *s = find(c, st->sock_id), *l;
	struct ana_change ch = {
		.ts_ns = st->ts_ns,
		.task = ANA_NO_TASK,
		.oldstate = st->oldstate,
		.newstate = st->newstate,
	};
	enum ana_st o = kind(c, st->oldstate), n = kind(c, st->newstate);
	int err;

	if (st->ts_ns > c->now)
		c->now = st->ts_ns;
	if (!s)
		goto out;
	if (task)
		ch.task = ana_tasks__intern(&c->tasks, task->pid, task->comm);
	if (s->nchanges && s->changes[s->nchanges - 1].newstate != st->oldstate)
		c->stats.gaps++;
	if (!s->nchanges && !s->dropped)
		s->first_ts = st->ts_ns;
	s->last_ts = st->ts_ns;
	err = add_change(c, s, &ch);
	if (err)
		return err;
	if (n == ST_LISTEN) {
		make_listener(c, s);
	} else if (s->role == ROLE_UNKNOWN && o == ST_CLOSE && n == ST_SYN_SENT) {
		s->role = ROLE_CLIENT;
	} else if (s->role == ROLE_UNKNOWN && o == ST_LISTEN &&
		   (n == ST_SYN_RECV || n == ST_ESTABLISHED)) {
		s->role = ROLE_SERVER;
		l = listener_of(c, s);
		if (l) {
			s->listener_id = l->sock_id;
			s->on_listener_port = 1;
			l->accepted++;
		}
	}
out:
	expire_waiting(c);
	return 0;
}

static void retire(struct ana_conns *c, struct ana_side *s)
{
	struct ana_conn *cn = s->conn;
	struct ana_side *peer;

	s->live = 0;
	/* never had a peer: a listener even when the file cannot name LISTEN */
	if (s->role == ROLE_UNKNOWN && !cn && !s->dport && s->nchanges)
		s->role = ROLE_LISTENER;
	if (s->role == ROLE_LISTENER && !cn) {
		if (s->indexed == IDX_LISTENER)
			chain_remove(&c->listeners, listener_key(s->netns, s->family, s->sport), s);
		s->indexed = IDX_NONE;
		c->stats.listeners++;
		if (c->ops.listener_done)
			c->ops.listener_done(s, c->ops.ctx);
		else
			ana_side__free(s);
		return;
	}
	if (cn) {
		peer = cn->client == s ? cn->server : cn->client;
		if (!peer || !peer->live)
			complete(c, cn);
		return;
	}
	if (!s->nchanges) {
		unindex(c, s);
		c->stats.idle++;
		if (c->ops.idle_done)
			c->ops.idle_done(s, c->ops.ctx);
		else
			ana_side__free(s);
		return;
	}
	if (s->indexed != IDX_TUPLE) {
		complete_alone(c, s);
		return;
	}
	/* stays in the tuple index while it waits */
	s->pend_prev = c->pend_tail;
	s->pend_next = NULL;
	if (c->pend_tail)
		c->pend_tail->pend_next = s;
	else
		c->pend_head = s;
	c->pend_tail = s;
}

int ana_conns__retire(struct ana_conns *c, uint64_t id)
{
	struct ana_side *s = idmap__del(&c->live, id);

	if (!s) {
		c->stats.bad_refs++;
		return 0;
	}
	retire(c, s);
	return 0;
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
	struct ana_side **all, **p, *s;
	size_t i, n = c->live.len;

	all = n ? malloc(n * sizeof(*all)) : NULL;
	if (all) {
		p = all;
		idmap__each(&c->live, collect, &p);
		/* deterministic output: in the order the sockets appeared */
		qsort(all, n, sizeof(*all), by_id);
		for (i = 0; i < n; i++) {
			idmap__del(&c->live, all[i]->sock_id);
			all[i]->open_at_end = 1;
			retire(c, all[i]);
		}
		free(all);
	}
	while ((s = c->pend_head)) {
		unindex(c, s);
		complete_alone(c, s);
	}
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

static void free_live(uint64_t key, void *val, void *ctx)
{
	struct ana_side *s = val, *peer;
	struct ana_conn *cn = s->conn;

	(void)key;
	(void)ctx;
	if (cn) {
		/* detach; whoever leaves the connection empty frees it */
		if (cn->client == s)
			cn->client = NULL;
		else
			cn->server = NULL;
		peer = cn->client ? cn->client : cn->server;
		if (!peer || !peer->live)
			ana_conn__free(cn);
	}
	ana_side__free(s);
}

void ana_conns__free(struct ana_conns *c)
{
	struct ana_side *s, *next;

	if (!c)
		return;
	/* only after an early stop: finish() empties both */
	idmap__each(&c->live, free_live, NULL);
	for (s = c->pend_head; s; s = next) {
		next = s->pend_next;
		ana_side__free(s);
	}
	idmap__free(&c->live);
	idmap__free(&c->tuples);
	idmap__free(&c->listeners);
	ana_tasks__free(&c->tasks);
	free(c);
}

const struct ana_conns_stats *ana_conns__stats(const struct ana_conns *c)
{
	return &c->stats;
}

const struct ana_tasks *ana_conns__tasks(const struct ana_conns *c)
{
	return &c->tasks;
}

void ana_side__free(struct ana_side *s)
{
	if (!s)
		return;
	free(s->changes);
	free(s);
}

void ana_conn__free(struct ana_conn *c)
{
	if (!c)
		return;
	ana_side__free(c->client);
	ana_side__free(c->server);
	free(c);
}
