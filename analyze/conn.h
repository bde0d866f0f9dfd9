/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Sockets into connections. Each socket id's life, from its SOCK record to
 * its RETIRE, is one side. Sides whose tuples mirror each other and whose
 * lives overlap are the two ends of one connection seen on this host
 * (loopback, or two network namespaces). Listening sockets are kept apart.
 *
 * A recorder whose socket table is full retires a socket that is still
 * open and gives it a new id at its next event; a side retired before
 * CLOSE waits to be re-added (same socket cookie, or same kernel address
 * and netns without cookies) and continues as the same side.
 *
 * Data path: records go in as they are read; a connection is handed to the
 * done callback once both its sides have retired, or once a lone side has
 * waited ANA_PAIR_HORIZON_NS of capture time for a partner. State is kept
 * only for live sockets and that short wait, so a consumer that prints as
 * connections complete runs in memory bounded by the open connections.
 */
#ifndef TCPTRAIL_ANA_CONN_H
#define TCPTRAIL_ANA_CONN_H

#include <stdint.h>

#include "idmap.h"
#include "tcpstate.h"
#include "trail.h"

#define ANA_NO_TASK UINT32_MAX
#define ANA_MAX_CHANGES 4096u		/* kept per side; more are counted */
#define ANA_MAX_LIVE_SIDES (1u << 22)	/* sockets tracked at once */
#define ANA_PAIR_HORIZON_NS (10ull * 1000000000)
#define ANA_PAIR_SLACK_NS (10ull * 1000000)	/* cross-CPU time skew */
#define ANA_PAIR_SCAN_MAX 256u		/* candidates looked at per pairing */

/* A task as recorded at a state change, interned: many changes share one. */
struct ana_task {
	uint32_t pid;
	char comm[17];
};

struct ana_tasks {
	struct ana_task *v;
	uint32_t len, cap;
	struct idmap index;	/* hash(pid, comm) -> chain of index + 1 */
	uint32_t *next;		/* chain links, parallel to v */
};

/* Index of (PID, COMM) in T, interning it; ANA_NO_TASK on failure. */
uint32_t ana_tasks__intern(struct ana_tasks *t, uint32_t pid, const char *comm);
const struct ana_task *ana_tasks__get(const struct ana_tasks *t, uint32_t idx);
void ana_tasks__free(struct ana_tasks *t);

struct ana_change {
	uint64_t ts_ns;		/* CLOCK_BOOTTIME */
	uint32_t task;		/* ana_tasks index or ANA_NO_TASK */
	uint16_t oldstate;	/* kernel values, named by the file's table */
	uint16_t newstate;
};

/* Moments other than state changes, kept per side in time order of arrival. */
enum ana_ev_type {
	EV_SYN_ARRIVED = 1,	/* request sock created: TCP_NEW_SYN_RECV */
	EV_REQ_DROPPED,		/* request sock gone without a child */
	EV_TW_ENTER,		/* value: kernel substate (TIME_WAIT or FIN_WAIT2) */
	EV_TW_END,
	EV_CLOSE_CALL,		/* tcp_close() by the task */
	EV_DESTROY,
	EV_RST_SENT,
	EV_RST_RECV,
	EV_RETRANS,		/* sub: enum trail_retrans_kind */
	EV_DROP,
};

/* How a socket-less RST or drop was matched to this side (ana_event.match). */
enum ana_ev_match {
	MATCH_SOCK = 0,		/* the record named the socket */
	MATCH_RECEIVER,		/* segment's tuple is this live socket's: lookup missed it */
	MATCH_NAT,		/* same remote endpoint, other local port: untranslated */
	MATCH_SENDER,		/* this side sent the segment the RST answered */
};

#define ANA_MAX_EVENTS 1024u		/* kept per side; more are counted */

struct ana_event {
	uint64_t ts_ns;
	uint64_t value;		/* EV_TW_ENTER: substate */
	int64_t reason;		/* kernel enum value, TRAIL_NO_REASON */
	uint32_t task;		/* ana_tasks index or ANA_NO_TASK */
	uint32_t stack_id;	/* 0: none (frames via trail_reader__stack) */
	uint32_t netns;
	uint16_t state;		/* TRAIL_NO_STATE if unknown */
	uint8_t type;		/* enum ana_ev_type */
	uint8_t sub;		/* RST source, retransmit kind */
	uint8_t match;		/* enum ana_ev_match */
	uint8_t from_req;	/* recorded on the request sock before the child */
	struct trail_segment seg;
};

enum ana_role {
	ROLE_UNKNOWN = 0,
	ROLE_CLIENT,		/* went CLOSE -> SYN_SENT, or talks to a listener */
	ROLE_SERVER,		/* child of a listener: LISTEN -> SYN_RECV */
	ROLE_LISTENER,
};

struct ana_conn;

struct ana_side {
	uint64_t sock_id;
	uint64_t cookie;
	uint64_t skaddr;
	uint32_t netns;
	uint8_t family;		/* enum trail_family */
	uint8_t role;		/* enum ana_role */
	uint8_t live;		/* RETIRE not seen yet */
	uint8_t indexed;	/* in an index (conn.c private) */
	uint16_t sport, dport;	/* latest tuple */
	uint8_t saddr[16], daddr[16];
	uint16_t first_sport;	/* tuple when first seen (a connecting socket: 0) */
	uint8_t on_listener_port;	/* local port had a listener then */
	uint8_t open_at_end;	/* capture ended before its RETIRE, not over */
	uint8_t destroyed;	/* the kernel destroyed the socket (LIFE DESTROY) */
	uint16_t state;		/* latest state, also past ANA_MAX_CHANGES (if any) */
	uint8_t evicted;	/* retired while open: waiting to be re-added */
	uint32_t ntuples;	/* TUPLE records seen */
	uint32_t revived;	/* re-added after the recorder's table was full */
	uint64_t live_id;	/* the sock id it has now (sock_id: the first) */
	uint64_t listener_id;	/* sock id of its listener, 0 if not a child */
	uint64_t first_ts, last_ts;	/* of its state changes; valid if nchanges */
	struct ana_change *changes;
	uint32_t nchanges, cap;
	uint64_t dropped;	/* changes over ANA_MAX_CHANGES */
	uint64_t accepted;	/* listeners: children seen */
	struct ana_event *events;
	uint32_t nevents, evcap;
	uint64_t ev_dropped;	/* events over ANA_MAX_EVENTS */
	uint8_t sock_kind;	/* enum trail_sock_kind */
	uint8_t merged;		/* request/timewait sock folded into `into` */
	uint8_t deferred;	/* retired, waiting for its folded socks to go */
	uint8_t have_ts;	/* first_ts/last_ts valid (changes or events) */
	uint32_t holds;		/* live socks folded into this side */
	uint64_t syn_ts;	/* SYN arrival (request sock), 0 if unknown */
	uint64_t req_id;	/* request sock it replaced, 0 if none */
	uint64_t tw_id;		/* timewait sock continuing it, 0 if none */
	struct ana_side *into;	/* merged: the side that carries our events */
	struct ana_side *look_prev, *look_next;	/* live tuple index (lookup.c) */
	struct ana_side *rem_prev, *rem_next;	/* remote endpoint index (lookup.c) */
	struct ana_side *loc_prev, *loc_next;	/* local endpoint index (lookup.c) */
	uint8_t looked;		/* in the lookup indexes */
	uint8_t lookable;	/* belongs in them (lookup.c builds them on first use) */
	uint64_t look_seq;	/* when it was last added, for the chains' order */
	struct ana_conn *conn;
	struct ana_side *tuple_prev, *tuple_next;	/* index chain (pair.c) */
	struct ana_side *pend_prev, *pend_next;	/* waiting list, retire order */
};

struct ana_conn {
	struct ana_side *client;	/* or the first side when roles are unknown */
	struct ana_side *server;	/* NULL: the other end was not recorded */
	uint64_t start_ts, end_ts;
	uint32_t id;		/* set by the consumer */
	uint8_t roles_known;
	uint8_t nat;		/* ends joined across an address translation */
};

struct ana_conns;

struct ana_conns_ops {
	/* Takes ownership of C; free it with ana_conn__free(). */
	void (*conn_done)(struct ana_conn *c, void *ctx);
	/* Takes ownership of L (a ROLE_LISTENER side); free with ana_side__free(). */
	void (*listener_done)(struct ana_side *l, void *ctx);
	/* A side that never changed state: takes ownership, may free at once. */
	void (*idle_done)(struct ana_side *s, void *ctx);
	/* A socket-less RST or drop that matched no live socket (owned by caller's copy). */
	void (*orphan)(const struct ana_event *ev, void *ctx);
	void *ctx;
};

struct ana_conns_stats {
	uint64_t sides, conns, paired, listeners, idle;
	uint64_t dropped_sides;	/* over ANA_MAX_LIVE_SIDES */
	uint64_t dropped_changes;
	uint64_t bad_refs;	/* records naming a socket we do not track */
	uint64_t gaps;		/* a change whose old state is not the last new one */
	uint64_t revived;	/* sockets re-added after an early retire */
	uint64_t dropped_events;	/* over ANA_MAX_EVENTS per side */
	uint64_t links, reqs, timewaits, orphans;
};

int ana_conns__new(struct ana_conns **out, const struct ana_states *st,
		   const struct ana_conns_ops *ops);
void ana_conns__free(struct ana_conns *c);

/* Feed records. Return 0, or -ENOMEM. */
int ana_conns__sock(struct ana_conns *c, const struct trail_sock *s);
int ana_conns__tuple(struct ana_conns *c, const struct trail_sock *s);
int ana_conns__retire(struct ana_conns *c, uint64_t id);
/* TASK is the task in the change's slot, or NULL. */
int ana_conns__state(struct ana_conns *c, const struct trail_state *st,
		     const struct trail_task *task);
/* A TASK record redefined SLOT. */
void ana_conns__task_changed(struct ana_conns *c, uint32_t slot);
/* Records of issue 3: links, lifecycle moments, resets, retransmits, drops. */
int ana_conns__link(struct ana_conns *c, const struct trail_link *l);
int ana_conns__life(struct ana_conns *c, const struct trail_life *l,
		    const struct trail_task *task);
int ana_conns__reset(struct ana_conns *c, const struct trail_reset *r,
		     const struct trail_task *task);
int ana_conns__retrans(struct ana_conns *c, const struct trail_retrans *r,
		       const struct trail_task *task);
int ana_conns__drop(struct ana_conns *c, const struct trail_drop *d,
		    const struct trail_task *task);
/* End of input: hand out everything still open or waiting. */
void ana_conns__finish(struct ana_conns *c);

const struct ana_conns_stats *ana_conns__stats(const struct ana_conns *c);
const struct ana_tasks *ana_conns__tasks(const struct ana_conns *c);

void ana_side__free(struct ana_side *s);
void ana_conn__free(struct ana_conn *c);

#endif
