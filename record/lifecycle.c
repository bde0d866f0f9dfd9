// SPDX-License-Identifier: BSD-2-Clause
/*
 * Lifecycle events into trail records: request socks (SOCK kind REQUEST,
 * LIFE SYN_ARRIVED, LINK to the listener, LINK from the child, or LIFE
 * REQ_DROPPED), timewait socks (SOCK kind TIMEWAIT, LINK TIMEWAIT_OF the
 * full socket, LIFE TIMEWAIT_ENTER/END), close() calls and destruction.
 *
 * A timewait sock is its own kernel object (own address, own timer, own
 * substate changes), so it gets its own identity linked to the full socket
 * it continues, and the full socket ends at its CLOSE/DESTROY as the kernel
 * has it.
 *
 * LIFE values (event-specific):
 *   REQ_DROPPED      LC_REQ_* why the request sock is gone
 *   TIMEWAIT_ENTER   tw_substate: TCP_TIME_WAIT, or TCP_FIN_WAIT2 for an
 *                    orphan waiting for the peer's FIN (tcp_fin_timeout)
 *   TIMEWAIT_END     tw_substate at the end | LC_TW_* how it ended << 8
 *   CLOSE_CALL       TCP state when close() was called, | LC_CLOSE_INFERRED
 *   DESTROY          TCP state at destruction
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/types.h>

#include "record.h"
#include "tcptrail.h"

enum {
	LC_REQ_TIMEOUT = 1,	/* its SYN-ACK retries ran out (kernel timer) */
	LC_REQ_ORPHAN = 2,	/* its listener stopped listening (its close or timer) */
	LC_REQ_PRESUMED = 3,	/* no news for REQ_QUIET_NS: gone unseen */
	LC_REQ_EVICTED = 4,	/* the recorder's table was full */
};

enum {
	LC_TW_TIMER = 0,	/* its timer fired: the normal end */
	LC_TW_REPLACED = 1,	/* a new connection took its tuple */
	LC_TW_PRESUMED = 2,	/* its time passed without an end seen */
	LC_TW_EVICTED = 3,	/* the recorder's table was full */
};

#define LC_CLOSE_INFERRED 0x100	/* from a destruction in the closer's context */

/* sock_ent.life */
#define LC_CLOSED 0x1		/* CLOSE_CALL written */
#define LC_CHILD 0x2		/* a listener's child not yet linked */

#define NS 1000000000ull
/* the longest a request sock waits between two SYN-ACK timers: TCP_RTO_MAX */
#define REQ_QUIET_NS (125 * NS)
/* a FIN_WAIT2 timewait sock that gets the FIN waits another TCP_TIMEWAIT_LEN */
#define TW_SLACK_NS (65 * NS)
#define TW_DEFAULT_NS (60 * NS)
#define SWEEP_EVERY_NS NS
#define SWEEP_MAX 1024		/* expiries per sweep: no stall on a backlog */

struct lifecycle {
	struct sink *s;
	struct trail_writer *w;
	struct minitab *minis;
	int retire_on_destroy;
	uint64_t now, next_sweep;	/* CLOCK_BOOTTIME of the latest event */
	uint64_t records, evicted;
};

int lifecycle__new(struct lifecycle **out, struct sink *s, struct trail_writer *w,
		   uint32_t max_minis)
{
	struct lifecycle *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return -ENOMEM;
	err = minitab__new(&l->minis, max_minis);
	if (err) {
		free(l);
		return err;
	}
	l->s = s;
	l->w = w;
	*out = l;
	return 0;
}

void lifecycle__free(struct lifecycle *l)
{
	if (!l)
		return;
	minitab__free(l->minis);
	free(l);
}

void lifecycle__configure(struct lifecycle *l, int destroy)
{
	l->retire_on_destroy = destroy;
}

static int life(struct lifecycle *l, uint64_t ts, uint64_t id, uint32_t task, uint16_t ev,
		uint64_t value)
{
	struct trail_life r = {
		.ts_ns = ts, .sock_id = id, .task_slot = task, .event = ev, .value = value,
	};

	l->records++;
	return trail_writer__life(l->w, &r);
}

static int link(struct lifecycle *l, uint64_t id, uint8_t rel, uint64_t other)
{
	struct trail_link r = { .sock_id = id, .other_id = other, .relation = rel };

	return trail_writer__link(l->w, &r);
}

/* A new identity for a request or timewait sock at ADDR with K's tuple. */
static int mini_sock(struct lifecycle *l, uint8_t kind, uint64_t addr, const struct tt_sock *k,
		     uint64_t *id)
{
	struct trail_sock ts;

	sink__trail_sock(&ts, k);
	ts.kind = kind;
	ts.skaddr = addr;
	return trail_writer__sock(l->w, &ts, id);
}

/*
 * Continue in a new file W: socket ids are per file, so every live request
 * and timewait sock is declared again there under a new id.
 */
/* E's SOCK record in the current file, written when first needed there. */
static int mini_emit(struct lifecycle *l, struct mini_ent *e)
{
	struct tt_sock k;

	if (e->id)
		return 0;
	memset(&k, 0, sizeof(k));
	k.cookie = e->cookie;
	k.netns = e->netns;
	k.family = e->family;
	k.sport = e->sport;
	k.dport = e->dport;
	memcpy(k.saddr, e->saddr, sizeof(k.saddr));
	memcpy(k.daddr, e->daddr, sizeof(k.daddr));
	return mini_sock(l, e->kind == MINI_REQ ? TRAIL_SOCK_REQUEST : TRAIL_SOCK_TIMEWAIT,
			 e->key, &k, &e->id);
}

/*
 * A new file: the mini socks get their SOCK record there when an event
 * names them (mini_emit), not all at once. A storm leaves tens of
 * thousands of timewait socks for a minute; written into every new file
 * they made each file its own limit (-C) and rotation ran away.
 */
int lifecycle__rotate(struct lifecycle *l, struct trail_writer *w)
{
	struct mini_ent *e;

	l->w = w;
	for (uint8_t kind = 0; kind < MINI_KINDS; kind++)
		for (e = minitab__oldest(l->minis, kind); e; e = minitab__younger(l->minis, e))
			e->id = 0;
	return 0;
}

/* End mini socket E at TS: its closing LIFE, RETIRE, forget it. */
static int end_mini(struct lifecycle *l, struct mini_ent *e, uint64_t ts, uint64_t value)
{
	uint16_t ev = e->kind == MINI_REQ ? TRAIL_LIFE_REQ_DROPPED : TRAIL_LIFE_TIMEWAIT_END;
	int err = mini_emit(l, e);

	if (!err)
		err = life(l, ts, e->id, TRAIL_NO_TASK, ev, value);

	if (!err)
		err = trail_writer__retire(l->w, e->id);
	minitab__remove(l->minis, e);
	return err;
}

static uint64_t tw_end_value(const struct mini_ent *e, unsigned how)
{
	return e->substate | (uint64_t)how << 8;
}

/* Room for one more mini socket: the oldest request sock goes first. */
static int make_room(struct lifecycle *l, uint64_t ts)
{
	struct mini_ent *e;

	if (!minitab__full(l->minis))
		return 0;
	l->evicted++;
	e = minitab__oldest(l->minis, MINI_REQ);
	if (e)
		return end_mini(l, e, ts, LC_REQ_EVICTED);
	e = minitab__oldest(l->minis, MINI_TW);
	return e ? end_mini(l, e, ts, tw_end_value(e, LC_TW_EVICTED)) : -ENOSPC;
}

/* Mini sockets not heard of for too long are gone without us seeing it. */
static int sweep(struct lifecycle *l)
{
	struct mini_ent *e;
	int n, err = 0;

	for (n = 0; n < SWEEP_MAX && !err; n++) {
		e = minitab__oldest(l->minis, MINI_REQ);
		if (!e || e->deadline > l->now)
			break;
		err = end_mini(l, e, l->now, LC_REQ_PRESUMED);
	}
	for (n = 0; n < SWEEP_MAX && !err; n++) {
		e = minitab__oldest(l->minis, MINI_TW);
		if (!e || e->deadline > l->now)
			break;
		err = end_mini(l, e, l->now, tw_end_value(e, LC_TW_PRESUMED));
	}
	return err;
}

/* Event times are our clock: events from other CPUs may be a bit older. */
static int advance(struct lifecycle *l, uint64_t ts)
{
	if (ts <= l->now)
		return 0;
	l->now = ts;
	if (l->now < l->next_sweep)
		return 0;
	l->next_sweep = l->now + SWEEP_EVERY_NS;
	return sweep(l);
}

/* An entry still at the address of a new mini socket is one whose end we missed. */
static int drop_stale(struct lifecycle *l, uint64_t addr, uint64_t ts)
{
	struct mini_ent *e = minitab__find(l->minis, addr);

	if (!e)
		return 0;
	return end_mini(l, e, ts, e->kind == MINI_REQ ? LC_REQ_PRESUMED :
				  tw_end_value(e, LC_TW_PRESUMED));
}

/* A new connection on the tuple of a timewait sock: the kernel reused it. */
static int replace_tw(struct lifecycle *l, const struct tt_sock *k, uint64_t ts)
{
	struct mini_ent *e = minitab__find_tuple(l->minis, MINI_TW, k);

	return e ? end_mini(l, e, ts, tw_end_value(e, LC_TW_REPLACED)) : 0;
}

static int req_event(struct lifecycle *l, const struct tt_req_event *e)
{
	uint64_t ts = e->h.ts_ns, id, lid;
	struct mini_ent *m;
	int err;

	err = drop_stale(l, e->req.skaddr, ts);
	if (!err)
		err = replace_tw(l, &e->req, ts);
	m = err ? NULL : minitab__find_tuple(l->minis, MINI_REQ, &e->req);
	if (m)
		err = end_mini(l, m, ts, LC_REQ_PRESUMED);
	if (!err)
		err = make_room(l, ts);
	if (!err)
		err = mini_sock(l, TRAIL_SOCK_REQUEST, e->req.skaddr, &e->req, &id);
	if (!err)
		err = life(l, ts, id, TRAIL_NO_TASK, TRAIL_LIFE_SYN_ARRIVED, 0);
	if (!err && e->listener.skaddr &&
	    (e->listener.family == AF_INET || e->listener.family == AF_INET6)) {
		err = sink__sock_id(l->s, &e->listener, 0, &lid);
		if (!err)
			err = link(l, id, TRAIL_LINK_REQ_OF_LISTENER, lid);
	}
	if (err)
		return err;
	m = minitab__insert(l->minis, MINI_REQ, e->req.skaddr, &e->req);
	if (!m)
		return trail_writer__retire(l->w, id);	/* cannot happen: room made */
	m->id = id;
	m->parent = e->listener.skaddr;
	m->deadline = ts + REQ_QUIET_NS;
	return 0;
}

/*
 * A listener that stops listening takes its request socks with it: the
 * kernel drops each at its next segment or timer (unless reuseport moves
 * it to another listener, which we do not see).
 */
static int listener_closed(struct lifecycle *l, const struct tt_state_event *e)
{
	struct mini_ent *m = minitab__oldest(l->minis, MINI_REQ), *next;
	int err = 0;

	for (; m && !err; m = next) {
		next = minitab__younger(l->minis, m);
		if (m->parent == e->sk.skaddr && m->netns == e->sk.netns)
			err = end_mini(l, m, e->h.ts_ns, LC_REQ_ORPHAN);
	}
	return err;
}

static int req_timer_event(struct lifecycle *l, const struct tt_mini_event *e)
{
	struct mini_ent *m = minitab__find(l->minis, e->sk.skaddr);

	if (!m || m->kind != MINI_REQ)
		return 0;	/* queued before the recording started */
	if (e->verdict == TT_REQ_EXPIRE)
		return end_mini(l, m, e->h.ts_ns, LC_REQ_TIMEOUT);
	if (e->verdict == TT_REQ_ORPHAN)
		return end_mini(l, m, e->h.ts_ns, LC_REQ_ORPHAN);
	m->deadline = e->h.ts_ns + REQ_QUIET_NS;
	minitab__touch(l->minis, m);
	return 0;
}

/* Full socket SK went to CLOSE at TS, continued by timewait sock TW (0: none). */
static int tw_enter(struct lifecycle *l, const struct tt_sock *sk, uint64_t ts, uint64_t tw,
		    uint64_t timeout_ns, uint8_t substate)
{
	struct sock_ent *se = sink__find(l->s, sk->skaddr);
	uint64_t id, timeout;
	struct mini_ent *m;
	int err = 0;

	if (tw) {
		err = drop_stale(l, tw, ts);
		if (!err)
			err = make_room(l, ts);
		if (!err)
			err = mini_sock(l, TRAIL_SOCK_TIMEWAIT, tw, sk, &id);
		if (!err && se)
			err = link(l, id, TRAIL_LINK_TIMEWAIT_OF, se->id);
		if (!err)
			err = life(l, ts, id, TRAIL_NO_TASK, TRAIL_LIFE_TIMEWAIT_ENTER, substate);
		if (err)
			return err;
		m = minitab__insert(l->minis, MINI_TW, tw, sk);
		if (!m)
			return trail_writer__retire(l->w, id);
		timeout = timeout_ns ? timeout_ns : TW_DEFAULT_NS;
		m->id = id;
		m->substate = substate;
		m->deadline = ts + timeout + TW_SLACK_NS;
	}
	return err;
}

static int tw_enter_event(struct lifecycle *l, const struct tt_tw_event *e)
{
	return tw_enter(l, &e->sk, e->h.ts_ns, e->tw, e->timeout_ns, e->substate);
}

static int tw_end_event(struct lifecycle *l, const struct tt_mini_event *e)
{
	struct mini_ent *m = minitab__find(l->minis, e->sk.skaddr);

	/* a TIME_WAIT from before the recording says nothing about ours */
	if (!m || m->kind != MINI_TW)
		return 0;
	return end_mini(l, m, e->h.ts_ns, e->substate | (uint64_t)LC_TW_TIMER << 8);
}

/* TASK called close() on SK at TS, in TCP state STATE. */
static int close_call(struct lifecycle *l, const struct tt_sock *sk, const struct tt_task *task,
		      uint64_t ts, uint16_t state)
{
	struct sock_ent *se;
	uint32_t slot;
	uint64_t id;
	int err;

	err = sink__sock_id(l->s, sk, 0, &id);
	if (err)
		return err;
	se = sink__find(l->s, sk->skaddr);
	if (se && (se->life & LC_CLOSED))
		return 0;	/* one close() per socket */
	err = sink__task_slot(l->s, task, &slot);
	if (!err)
		err = life(l, ts, id, slot, TRAIL_LIFE_CLOSE_CALL, state);
	if (!err && se)
		se->life |= LC_CLOSED;
	return err;
}

static int close_event(struct lifecycle *l, const struct tt_life_event *e)
{
	return close_call(l, &e->sk, &e->task, e->h.ts_ns, e->state);
}

static int destroy_event(struct lifecycle *l, const struct tt_life_event *e)
{
	struct sock_ent *se = sink__find(l->s, e->sk.skaddr);
	uint32_t slot = TRAIL_NO_TASK;
	int err = 0;

	/* a socket with no event before its end did nothing worth a record */
	if (!se || (se->cookie && e->sk.cookie && se->cookie != e->sk.cookie))
		return 0;
	/* destroyed under the socket lock with no close() seen: closed in CLOSE */
	if (e->flags & TT_LIFE_OWNED) {
		err = sink__task_slot(l->s, &e->task, &slot);
		if (!err && !(se->life & LC_CLOSED)) {
			err = life(l, e->h.ts_ns, se->id, slot, TRAIL_LIFE_CLOSE_CALL,
				   e->state | LC_CLOSE_INFERRED);
			se->life |= LC_CLOSED;
		}
	}
	if (!err)
		err = life(l, e->h.ts_ns, se->id, slot, TRAIL_LIFE_DESTROY, e->state);
	/* its id goes a second from now (at once, were it closed long ago) */
	if (!err)
		err = sink__sock_closed(l->s, e->sk.skaddr, e->h.ts_ns);
	return err;
}

int lifecycle__event(struct lifecycle *l, const void *data, size_t len)
{
	const struct tt_hdr *h = data;
	size_t need;
	int err;

	switch (h->kind) {
	case TT_EV_REQ:
		need = sizeof(struct tt_req_event);
		break;
	case TT_EV_REQ_TIMER:
	case TT_EV_TW_END:
		need = sizeof(struct tt_mini_event);
		break;
	case TT_EV_TW_ENTER:
		need = sizeof(struct tt_tw_event);
		break;
	case TT_EV_CLOSE:
	case TT_EV_DESTROY:
		need = sizeof(struct tt_life_event);
		break;
	default:
		return -EINVAL;
	}
	if (len < need || h->size < need)
		return -EINVAL;
	err = advance(l, h->ts_ns);
	if (err)
		return err;
	switch (h->kind) {
	case TT_EV_REQ:
		return req_event(l, data);
	case TT_EV_REQ_TIMER:
		return req_timer_event(l, data);
	case TT_EV_TW_ENTER:
		return tw_enter_event(l, data);
	case TT_EV_TW_END:
		return tw_end_event(l, data);
	case TT_EV_CLOSE:
		return close_event(l, data);
	default:
		return destroy_event(l, data);
	}
}

/* The child of a listener replaces the request sock with its tuple. */
static int link_child(struct lifecycle *l, const struct tt_state_event *e, struct sock_ent *se)
{
	struct mini_ent *m = minitab__find_tuple(l->minis, MINI_REQ, &e->sk);
	int err;

	if (!m)
		return 0;	/* a syncookie or Fast Open child, or queued before us */
	err = mini_emit(l, m);
	if (!err)
		err = link(l, se->id, TRAIL_LINK_CHILD_OF_REQ, m->id);
	if (!err)
		err = trail_writer__retire(l->w, m->id);
	minitab__remove(l->minis, m);
	return err;
}

int lifecycle__state(struct lifecycle *l, const struct tt_state_event *e, struct sock_ent *se)
{
	int err = advance(l, e->h.ts_ns);

	if (err || !se)
		return err;
	if (e->oldstate == TCP_LISTEN && e->newstate == TCP_SYN_RECV)
		se->life |= LC_CHILD;
	/* some kernels set the child's ports only after its first state change */
	if ((se->life & LC_CHILD) && e->sk.dport) {
		se->life &= ~LC_CHILD;
		err = link_child(l, e, se);
	}
	if (!err && e->oldstate == TCP_SYN_SENT && e->newstate == TCP_ESTABLISHED)
		err = replace_tw(l, &e->sk, e->h.ts_ns);
	if (!err && e->oldstate == TCP_LISTEN && e->newstate == TCP_CLOSE)
		err = listener_closed(l, e);
	return err;
}

int lifecycle__state_life(struct lifecycle *l, const struct tt_state_event *e, size_t len)
{
	const struct tt_state_tw_event *t = (const void *)e;

	if (e->life & TT_STATE_CLOSE)
		return close_call(l, &e->sk, &e->task, e->h.ts_ns, e->oldstate);
	if (e->life & TT_STATE_TW) {
		if (len < sizeof(*t) || e->h.size < sizeof(*t))
			return -EINVAL;
		return tw_enter(l, &e->sk, e->h.ts_ns, t->tw, t->timeout_ns, e->tw_substate);
	}
	return 0;
}

int lifecycle__keeps(const struct lifecycle *l)
{
	return l->retire_on_destroy;
}

int lifecycle__mini_id(struct lifecycle *l, const struct tt_sock *k, uint64_t ts, uint64_t *id)
{
	uint8_t kind = k->kind == TT_SK_REQUEST ? MINI_REQ : MINI_TW;
	struct mini_ent *m = minitab__find(l->minis, k->skaddr);
	int err = 0;

	if (m && m->kind == kind) {
		err = mini_emit(l, m);
		*id = m->id;
		return err;
	}
	/* first seen in another event (queued before the recording) */
	if (m)
		err = drop_stale(l, k->skaddr, ts);
	if (!err)
		err = make_room(l, ts);
	if (!err)
		err = mini_sock(l, kind == MINI_REQ ? TRAIL_SOCK_REQUEST : TRAIL_SOCK_TIMEWAIT,
				k->skaddr, k, id);
	if (err)
		return err;
	m = minitab__insert(l->minis, kind, k->skaddr, k);
	if (!m)
		return trail_writer__retire(l->w, *id);
	m->id = *id;
	m->deadline = ts + (kind == MINI_REQ ? REQ_QUIET_NS : TW_DEFAULT_NS + TW_SLACK_NS);
	return 0;
}

int lifecycle__reqsk_id(struct lifecycle *l, uint64_t reqsk, uint64_t *id)
{
	struct mini_ent *m = minitab__find(l->minis, reqsk);
	int err;

	if (!m || m->kind != MINI_REQ)
		return -ENOENT;
	err = mini_emit(l, m);
	*id = m->id;
	return err;
}

uint64_t lifecycle__records(const struct lifecycle *l)
{
	return l->records;
}

uint64_t lifecycle__evicted(const struct lifecycle *l)
{
	return l->evicted;
}
