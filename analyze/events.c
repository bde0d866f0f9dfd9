// SPDX-License-Identifier: BSD-2-Clause
/*
 * The records beyond state changes: links between sockets, lifecycle
 * moments, resets, retransmits and drops, kept as events on the side they
 * belong to. A request sock is folded into the child that replaced it (so
 * the server side starts at the SYN's arrival), a timewait sock into the
 * full socket it continues. Resets and drops recorded without a socket go
 * to the live side whose tuple they match, or to the consumer as orphans.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn_int.h"

/* A request/timewait sock folded into another side carries its events there. */
static struct ana_side *target(struct ana_conns *c, uint64_t id)
{
	struct ana_side *s = conn__find(c, id);
	int hops = 0;

	while (s && s->merged && s->into && hops++ < 4)
		s = s->into;
	return s;
}

static int add_event(struct ana_conns *c, struct ana_side *s, const struct ana_event *ev)
{
	struct ana_event *n;
	uint32_t ncap;

	conn__touch(s, ev->ts_ns);
	if (s->nevents >= ANA_MAX_EVENTS) {
		s->ev_dropped++;
		c->stats.dropped_events++;
		return 0;
	}
	if (s->nevents == s->evcap) {
		ncap = s->evcap ? s->evcap * 2 : 4;
		n = realloc(s->events, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->events = n;
		s->evcap = ncap;
	}
	s->events[s->nevents++] = *ev;
	return 0;
}

static void now(struct ana_conns *c, uint64_t ts)
{
	if (ts > c->now)
		c->now = ts;
}

static uint32_t intern(struct ana_conns *c, const struct trail_task *t)
{
	return t ? conn__task(c, t) : ANA_NO_TASK;
}

/* Move REQ's events and SYN time to CHILD, and its connection if it has one. */
static int fold(struct ana_conns *c, struct ana_side *from, struct ana_side *into)
{
	struct ana_conn *cn = from->conn;
	uint32_t i;
	int err;

	/* one level only: a sock others are folded into is never folded itself */
	if (from == into || from->merged || into->merged || from->holds ||
	    (cn && into->conn))
		return 0;
	for (i = 0; i < from->nevents; i++) {
		from->events[i].from_req = from->sock_kind == TRAIL_SOCK_REQUEST;
		err = add_event(c, into, &from->events[i]);
		if (err)
			return err;
	}
	from->nevents = 0;
	if (from->syn_ts && !into->syn_ts)
		into->syn_ts = from->syn_ts;
	if (from->listener_id && !into->listener_id) {
		struct ana_side *l = idmap__get(&c->live, from->listener_id);

		into->listener_id = from->listener_id;
		into->on_listener_port = 1;
		if (l && l->role == ROLE_LISTENER)
			l->accepted++;	/* the child the listener made */
	}
	if (cn && !into->conn) {
		conn__unindex(c, into);
		if (cn->client == from)
			cn->client = into;
		else
			cn->server = into;
		into->conn = cn;
		from->conn = NULL;
	}
	conn__unindex(c, from);
	look__del(c, from);
	from->merged = 1;
	from->into = into;
	into->holds++;
	return 0;
}

int ana_conns__link(struct ana_conns *c, const struct trail_link *l)
{
	struct ana_side *s = conn__find(c, l->sock_id), *o = conn__find(c, l->other_id);

	if (!s || !o || s == o)
		return 0;
	c->stats.links++;
	switch (l->relation) {
	case TRAIL_LINK_REQ_OF_LISTENER:
		s->listener_id = o->sock_id;
		s->on_listener_port = 1;
		if (s->role == ROLE_UNKNOWN)
			s->role = ROLE_SERVER;
		return 0;
	case TRAIL_LINK_CHILD_OF_REQ:
		if (s->role == ROLE_UNKNOWN)
			s->role = ROLE_SERVER;
		s->req_id = o->sock_id;
		return fold(c, o, s);
	case TRAIL_LINK_TIMEWAIT_OF:
		while (o->merged && o->into)
			o = o->into;
		o->tw_id = s->sock_id;
		return fold(c, s, o);
	default:
		return 0;
	}
}

int ana_conns__life(struct ana_conns *c, const struct trail_life *l,
		    const struct trail_task *task)
{
	static const uint8_t map[] = {
		[TRAIL_LIFE_SYN_ARRIVED] = EV_SYN_ARRIVED,
		[TRAIL_LIFE_REQ_DROPPED] = EV_REQ_DROPPED,
		[TRAIL_LIFE_TIMEWAIT_ENTER] = EV_TW_ENTER,
		[TRAIL_LIFE_TIMEWAIT_END] = EV_TW_END,
		[TRAIL_LIFE_CLOSE_CALL] = EV_CLOSE_CALL,
		[TRAIL_LIFE_DESTROY] = EV_DESTROY,
	};
	struct ana_event ev = { .ts_ns = l->ts_ns, .value = l->value, .reason = TRAIL_NO_REASON,
				.state = TRAIL_NO_STATE };
	struct ana_side *s;

	now(c, l->ts_ns);
	if (l->event >= sizeof(map) || !map[l->event])
		return 0;
	s = target(c, l->sock_id);
	if (!s)
		return 0;
	ev.type = map[l->event];
	ev.task = intern(c, task);
	ev.netns = s->netns;
	if (ev.type == EV_SYN_ARRIVED && (!s->syn_ts || l->ts_ns < s->syn_ts))
		s->syn_ts = l->ts_ns;
	return add_event(c, s, &ev);
}

/* Where a socket-less RST or drop belongs: the live socket its segment
 * was addressed to, the connection it is the untranslated form of, or
 * the local socket that sent it. NULL: none of them. */
static struct ana_side *place(struct ana_conns *c, struct ana_event *ev)
{
	const struct trail_segment *g = &ev->seg;
	struct ana_side *s;

	if (g->family != TRAIL_FAMILY_INET && g->family != TRAIL_FAMILY_INET6)
		return NULL;
	s = look__tuple(c, g->family, ev->netns, g->daddr, g->dport, g->saddr, g->sport);
	if (s) {
		ev->match = MATCH_RECEIVER;
		return s;
	}
	s = look__remote(c, g->family, ev->netns, g->daddr, g->dport, g->saddr, g->sport);
	if (s) {
		ev->match = MATCH_NAT;
		return s;
	}
	s = look__tuple(c, g->family, 0, g->saddr, g->sport, g->daddr, g->dport);
	if (!s && (g->flags & (TRAIL_TCP_SYN | TRAIL_TCP_ACK)) == TRAIL_TCP_SYN)
		s = look__connecting(c, g->family, g->saddr, g->daddr, g->dport);
	if (s) {
		ev->match = MATCH_SENDER;
		return s;
	}
	return NULL;
}

static int deliver(struct ana_conns *c, uint64_t sock_id, struct ana_event *ev)
{
	struct ana_side *s;

	now(c, ev->ts_ns);
	if (sock_id) {
		s = target(c, sock_id);
		if (!s)
			return 0;
		if (!ev->netns)
			ev->netns = s->netns;
		return add_event(c, s, ev);
	}
	s = place(c, ev);
	if (s) {
		while (s->merged && s->into)
			s = s->into;
		return add_event(c, s, ev);
	}
	c->stats.orphans++;
	if (c->ops.orphan)
		c->ops.orphan(ev, c->ops.ctx);
	return 0;
}

int ana_conns__reset(struct ana_conns *c, const struct trail_reset *r,
		     const struct trail_task *task)
{
	struct ana_event ev = {
		.ts_ns = r->ts_ns, .reason = r->reason, .task = intern(c, task),
		.stack_id = r->stack_id, .netns = r->netns, .state = r->state,
		.type = r->dir == TRAIL_RST_RECEIVED ? EV_RST_RECV : EV_RST_SENT,
		.sub = r->source, .seg = r->seg,
	};

	return deliver(c, r->sock_id, &ev);
}

int ana_conns__retrans(struct ana_conns *c, const struct trail_retrans *r,
		       const struct trail_task *task)
{
	struct ana_event ev = {
		.ts_ns = r->ts_ns, .reason = TRAIL_NO_REASON, .task = intern(c, task),
		.state = r->state, .type = EV_RETRANS, .sub = r->kind, .seg = r->seg,
	};

	if (!r->sock_id) {
		now(c, r->ts_ns);
		return 0;	/* the format always names the socket */
	}
	return deliver(c, r->sock_id, &ev);
}

int ana_conns__drop(struct ana_conns *c, const struct trail_drop *d,
		    const struct trail_task *task)
{
	struct ana_event ev = {
		.ts_ns = d->ts_ns, .reason = d->reason, .task = intern(c, task),
		.stack_id = d->stack_id, .netns = d->netns, .state = TRAIL_NO_STATE,
		.type = EV_DROP, .seg = d->seg,
	};

	return deliver(c, d->sock_id, &ev);
}
