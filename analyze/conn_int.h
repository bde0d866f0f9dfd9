/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of the connection tracker shared by conn.c (socket lives)
 * and pair.c (tuple and listener indexes, pairing, roles). */
#ifndef TCPTRAIL_ANA_CONN_INT_H
#define TCPTRAIL_ANA_CONN_INT_H

#include "conn.h"

/* ana_side.indexed: which index holds the side */
enum { IDX_NONE, IDX_TUPLE, IDX_LISTENER };

struct ana_conns {
	const struct ana_states *st;
	struct ana_conns_ops ops;
	struct idmap live;	/* current sock id -> side */
	struct idmap tuples;	/* tuple hash -> chain of unpaired sides */
	struct idmap listeners;	/* (netns, family, port) hash -> chain */
	struct idmap evicted;
	struct idmap look;	/* tuple hash -> chain of live connected sides */
	struct idmap remote;	/* remote endpoint hash -> chain of the same */
	struct idmap local;	/* local endpoint hash -> chain of the same */
	int look_on;		/* look/remote/local built (on the first query) */
	uint64_t look_seq;	/* revival key -> side retired while open */
	struct ana_side *pend_head, *pend_tail;	/* retired sides still waiting */
	struct ana_tasks tasks;
	uint32_t slot_task[TRAIL_TASK_SLOTS];	/* interned index + 1 per task slot, 0: none */
	uint64_t now;		/* latest state change time seen */
	struct ana_conns_stats stats;
};

/* conn_mem.c: zeroed sides and connections from a small free list (a side
 * per socket and a connection per pair: malloc's slow path was ~15% of a
 * scan). A pooled side keeps small change/event arrays for its next use. */
struct ana_side *conn__side_new(void);
struct ana_conn *conn__conn_new(void);
/* Free what the pool holds (the tracker is going away). */
void conn__pool_drain(void);

/* conn.c: the list of retired sides still waiting */
int conn__waiting(const struct ana_conns *c, const struct ana_side *s);
void conn__wait_remove(struct ana_conns *c, struct ana_side *s);
/* S's socket id ended (RETIRE, or the end of the capture). */
void conn__retire(struct ana_conns *c, struct ana_side *s);
/* S stopped waiting: finish it. */
void conn__give_up(struct ana_conns *c, struct ana_side *s);
/* Interned index of the task in T's slot (cached until the slot changes). */
uint32_t conn__task(struct ana_conns *c, const struct trail_task *t);
struct ana_side *conn__find(struct ana_conns *c, uint64_t id);
/* S (retired) no longer holds anything back: finish what it waited for. */
void conn__release(struct ana_conns *c, struct ana_side *s);
void conn__touch(struct ana_side *s, uint64_t ts);

/* lookup.c: every live side with a full tuple, by tuple and by remote end;
 * the indexes are built when first asked (a capture without socket-less
 * resets or drops never pays for them) and kept up to date after */
int look__add(struct ana_conns *c, struct ana_side *s);
void look__del(struct ana_conns *c, struct ana_side *s);
/* Live side whose local end is (LA, LP) and remote end (RA, RP); NULL if none. */
struct ana_side *look__tuple(struct ana_conns *c, uint8_t family, uint32_t netns,
			     const uint8_t *la, uint16_t lp, const uint8_t *ra, uint16_t rp);
/* Live side whose remote end is (RA, RP), local address LA, another local port. */
struct ana_side *look__remote(struct ana_conns *c, uint8_t family, uint32_t netns,
			      const uint8_t *la, uint16_t lp, const uint8_t *ra, uint16_t rp);

/* Unpaired live side whose local end is S's remote end, talking to another
 * port: the client of S seen before an address translation. */
struct ana_side *look__nat_peer(struct ana_conns *c, const struct ana_side *s);
struct ana_side *look__nat_server(struct ana_conns *c, const struct ana_side *s);
struct ana_side *look__connecting(struct ana_conns *c, uint8_t family, const uint8_t *la,
				  const uint8_t *ra, uint16_t rp);

/* pair.c */
void conn__unindex(struct ana_conns *c, struct ana_side *s);
/* Pair live side S with an unpaired mirror, or index it. 0 or -ENOMEM. */
int conn__try_pair(struct ana_conns *c, struct ana_side *s);
void conn__make_listener(struct ana_conns *c, struct ana_side *s);
/* The listener S is a child of, if one is known. */
struct ana_side *conn__listener_of(const struct ana_conns *c, const struct ana_side *s);
/* Order a finished connection's ends as client, server. */
void conn__assign_roles(struct ana_conn *cn);

#endif
