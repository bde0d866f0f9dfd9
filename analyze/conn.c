// SPDX-License-Identifier: BSD-2-Clause
/*
 * Socket sides from SOCK to RETIRE, and when a connection is finished;
 * see conn.h. Pairing and the indexes are in pair.c.
 *
 * Ownership: a live side belongs to the live map; a retired side that
 * still waits (for a partner or to be re-added) to the waiting list; a
 * retired side of a connection whose other end is open to that
 * connection, reached through its peer. complete() hands a connection and
 * its sides to the consumer and removes them from every structure here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn_int.h"
#include "util.h"

static enum ana_st kind(const struct ana_conns *c, uint16_t v)
{
	/* the table lookup inline: two per state change */
	return v < 256 ? (enum ana_st)c->st->small[v] : ana_states__kind(c->st, v);
}

/* ---- the waiting list, in retire order ---- */

int conn__waiting(const struct ana_conns *c, const struct ana_side *s)
{
	return s->pend_prev || c->pend_head == s;
}

static void wait_push(struct ana_conns *c, struct ana_side *s)
{
	s->pend_prev = c->pend_tail;
	s->pend_next = NULL;
	if (c->pend_tail)
		c->pend_tail->pend_next = s;
	else
		c->pend_head = s;
	c->pend_tail = s;
}

void conn__wait_remove(struct ana_conns *c, struct ana_side *s)
{
	if (!conn__waiting(c, s))
		return;
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

/* ---- re-adding sockets the recorder retired early ---- */

/* Socket cookies are unique per boot; without one, a kernel address is
 * unique while the socket lives, and an evicted socket still lives. */
static uint64_t revive_key_of(uint64_t cookie, uint64_t skaddr, uint32_t netns)
{
	return cookie ? cookie : (skaddr ^ ((uint64_t)netns << 32)) | 1ull << 63;
}

static uint64_t revive_key(const struct ana_side *s)
{
	return revive_key_of(s->cookie, s->skaddr, s->netns);
}

static int same_socket(const struct ana_side *s, const struct trail_sock *t)
{
	if (s->cookie || t->cookie)
		return s->cookie == t->cookie;
	return s->skaddr == t->skaddr && s->netns == t->netns && s->family == t->family;
}

static void unevict(struct ana_conns *c, struct ana_side *s)
{
	if (!s->evicted)
		return;
	if (idmap__get(&c->evicted, revive_key(s)) == s)
		idmap__del(&c->evicted, revive_key(s));
	s->evicted = 0;
}

/* Take S out of everything but its connection. */
static void settle(struct ana_conns *c, struct ana_side *s)
{
	if (!s)
		return;
	conn__unindex(c, s);
	conn__wait_remove(c, s);
	unevict(c, s);
}

/* ---- finishing connections ---- */

static void complete(struct ana_conns *c, struct ana_conn *cn)
{
	struct ana_side *s[2];
	int i, first = 1;

	settle(c, cn->client);
	settle(c, cn->server);
	conn__assign_roles(cn);
	s[0] = cn->client;
	s[1] = cn->server;
	for (i = 0; i < 2; i++) {
		if (!s[i] || !s[i]->have_ts)
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
	struct ana_conn *cn = conn__conn_new();

	settle(c, s);
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

static void listener_done(struct ana_conns *c, struct ana_side *l)
{
	settle(c, l);
	c->stats.listeners++;
	if (c->ops.listener_done)
		c->ops.listener_done(l, c->ops.ctx);
	else
		ana_side__free(l);
}

/* Gone for good: retired, not waiting to be re-added, no folded sock live. */
static int side_over(const struct ana_side *s)
{
	return !s || (!s->live && !s->evicted && !s->holds);
}

/* Neither end open nor waiting to be re-added. */
static int conn_over(const struct ana_conn *cn)
{
	return side_over(cn->client) && side_over(cn->server);
}

/* S stopped waiting (time is up, or the capture ended): finish it. */
void conn__give_up(struct ana_conns *c, struct ana_side *s)
{
	conn__wait_remove(c, s);
	unevict(c, s);
	if (s->role == ROLE_LISTENER && !s->conn)
		listener_done(c, s);
	else if (!s->conn)
		complete_alone(c, s);
	else if (conn_over(s->conn))
		complete(c, s->conn);
	/* else its peer is open: the connection ends with the peer */
}

/* Retired sides wait this long (capture time) for a partner or a re-add. */
static void expire_waiting(struct ana_conns *c)
{
	struct ana_side *s;

	while ((s = c->pend_head) && ana_sat_add(s->last_ts, ANA_PAIR_HORIZON_NS) < c->now)
		conn__give_up(c, s);
}

/* ---- records ---- */

struct ana_side *conn__find(struct ana_conns *c, uint64_t id)
{
	struct ana_side *s = idmap__get(&c->live, id);

	if (!s)
		c->stats.bad_refs++;
	return s;
}

static struct ana_side *find(struct ana_conns *c, uint64_t id)
{
	struct ana_side *s = conn__find(c, id);

	/* a folded request/timewait sock speaks for the side it continues */
	if (s && s->merged && s->into)
		s = s->into;
	return s;
}

void conn__touch(struct ana_side *s, uint64_t ts)
{
	if (!s->have_ts) {
		s->first_ts = s->last_ts = ts;
		s->have_ts = 1;
		return;
	}
	if (ts < s->first_ts)
		s->first_ts = ts;
	if (ts > s->last_ts)
		s->last_ts = ts;
}

static void set_tuple(struct ana_side *s, const struct trail_sock *t)
{
	size_t n = s->family == TRAIL_FAMILY_INET6 ? 16 : 4;

	s->sport = t->sport;
	s->dport = t->dport;
	memset(s->saddr, 0, sizeof(s->saddr));
	memset(s->daddr, 0, sizeof(s->daddr));
	memcpy(s->saddr, t->saddr, n);
	memcpy(s->daddr, t->daddr, n);
}

static void note_listener_port(struct ana_conns *c, struct ana_side *s)
{
	if (s->sport && conn__listener_of(c, s))
		s->on_listener_port = 1;
}

/* T is a socket retired early coming back: continue its side. */
static int revive(struct ana_conns *c, struct ana_side *s, const struct trail_sock *t)
{
	int err = idmap__put(&c->live, t->id, s);

	if (err)
		return err;
	conn__wait_remove(c, s);
	unevict(c, s);
	s->live = 1;
	s->live_id = t->id;
	s->revived++;
	c->stats.revived++;
	if (s->role == ROLE_LISTENER || s->conn)
		return look__add(c, s);
	conn__unindex(c, s);
	set_tuple(s, t);
	err = look__add(c, s);
	if (err)
		return err;
	note_listener_port(c, s);
	return conn__try_pair(c, s);
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
	s = idmap__get(&c->evicted, revive_key_of(t->cookie, t->skaddr, t->netns));
	if (s && s->family == t->family && same_socket(s, t))
		return revive(c, s, t);
	if (c->live.len >= ANA_MAX_LIVE_SIDES) {
		c->stats.dropped_sides++;
		return 0;
	}
	s = conn__side_new();
	if (!s)
		return -ENOMEM;
	s->sock_id = s->live_id = t->id;
	s->cookie = t->cookie;
	s->skaddr = t->skaddr;
	s->netns = t->netns;
	s->family = t->family;
	s->live = 1;
	s->sock_kind = t->kind;
	set_tuple(s, t);
	s->first_sport = t->sport;
	err = idmap__put(&c->live, t->id, s);
	if (err) {
		ana_side__free(s);
		return err;
	}
	c->stats.sides++;
	note_listener_port(c, s);
	if (t->kind == TRAIL_SOCK_TIMEWAIT) {
		c->stats.timewaits++;
		return 0;	/* continues a full socket: joined by its LINK */
	}
	if (t->kind == TRAIL_SOCK_REQUEST) {
		c->stats.reqs++;
		s->role = ROLE_SERVER;	/* made by a listener for an arriving SYN */
	}
	err = look__add(c, s);
	if (err)
		return err;
	return conn__try_pair(c, s);
}

int ana_conns__tuple(struct ana_conns *c, const struct trail_sock *t)
{
	struct ana_side *s = conn__find(c, t->id);

	if (!s)
		return 0;
	s->ntuples++;
	if (s->role == ROLE_LISTENER)
		return 0;	/* keep it findable under the port it listens on */
	conn__unindex(c, s);
	look__del(c, s);
	set_tuple(s, t);
	note_listener_port(c, s);
	if (s->merged || s->sock_kind == TRAIL_SOCK_TIMEWAIT)
		return 0;
	if (look__add(c, s))
		return -ENOMEM;
	return conn__try_pair(c, s);
}

static int add_change(struct ana_conns *c, struct ana_side *s, const struct ana_change *ch)
{
	struct ana_change *n;
	uint32_t ncap;

	s->state = ch->newstate;
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
		ch.task = conn__task(c, task);
	if (s->nchanges && s->changes[s->nchanges - 1].newstate != st->oldstate)
		c->stats.gaps++;
	conn__touch(s, st->ts_ns);
	err = add_change(c, s, &ch);
	if (err)
		return err;
	if (n == ST_LISTEN) {
		conn__make_listener(c, s);
	} else if (s->role == ROLE_UNKNOWN && o == ST_CLOSE && n == ST_SYN_SENT) {
		s->role = ROLE_CLIENT;
	} else if ((s->role == ROLE_UNKNOWN || s->role == ROLE_SERVER) && !s->listener_id &&
		   o == ST_LISTEN && (n == ST_SYN_RECV || n == ST_ESTABLISHED)) {
		s->role = ROLE_SERVER;
		l = conn__listener_of(c, s);
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

int conn__over(const struct ana_conns *c, const struct ana_side *s)
{
	/* state is set with every change, kept or over the limit */
	return s->destroyed ||
	       ((s->nchanges || s->dropped) && kind(c, s->state) == ST_CLOSE);
}

/* Retired before it reached CLOSE: the recorder's table was full. */
static int retired_open(const struct ana_conns *c, const struct ana_side *s)
{
	return s->nchanges && !s->open_at_end &&
	       kind(c, s->changes[s->nchanges - 1].newstate) != ST_CLOSE;
}

void conn__retire(struct ana_conns *c, struct ana_side *s)
{
	struct ana_conn *cn = s->conn;
	struct ana_side *old;

	s->live = 0;
	look__del(c, s);
	if (s->merged) {
		/* a folded request/timewait sock: its side carries on */
		struct ana_side *into = s->into;

		settle(c, s);
		ana_side__free(s);
		if (into && into->holds && !--into->holds && into->deferred)
			conn__release(c, into);
		return;
	}
	if (s->holds) {
		s->deferred = 1;	/* its timewait sock lives on: wait for it */
		return;
	}
	if (c->st->have_table && retired_open(c, s)) {
		old = idmap__get(&c->evicted, revive_key(s));
		if (!idmap__put(&c->evicted, revive_key(s), s)) {
			/* S waits before OLD gives up: OLD's connection may be S's */
			s->evicted = 1;
			wait_push(c, s);
			if (old && old != s) {
				old->evicted = 0;	/* its key is taken: stop waiting */
				conn__give_up(c, old);
			}
			return;
		}
	}
	/* never had a peer: a listener even when the file cannot name LISTEN */
	if (s->role == ROLE_UNKNOWN && !cn && !s->dport && s->nchanges)
		s->role = ROLE_LISTENER;
	if (s->role == ROLE_LISTENER && !cn) {
		listener_done(c, s);
		return;
	}
	if (cn) {
		if (conn_over(cn))
			complete(c, cn);
		return;
	}
	/* a timewait sock of a socket not in the capture (TIME_WAIT from before
	 * the recording): nothing to show as a connection */
	if (!s->have_ts || (s->sock_kind == TRAIL_SOCK_TIMEWAIT && !cn)) {
		settle(c, s);
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
	wait_push(c, s);	/* stays in the tuple index, for a partner */
}

void conn__release(struct ana_conns *c, struct ana_side *s)
{
	s->deferred = 0;
	conn__retire(c, s);
}

int ana_conns__retire(struct ana_conns *c, uint64_t id)
{
	struct ana_side *s = idmap__del(&c->live, id);

	if (!s) {
		c->stats.bad_refs++;
		return 0;
	}
	conn__retire(c, s);
	return 0;
}
