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
	struct idmap evicted;	/* revival key -> side retired while open */
	struct ana_side *pend_head, *pend_tail;	/* retired sides still waiting */
	struct ana_tasks tasks;
	uint64_t now;		/* latest state change time seen */
	struct ana_conns_stats stats;
};

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
