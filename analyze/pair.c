// SPDX-License-Identifier: BSD-2-Clause
/*
 * Which sockets are the two ends of one connection. Unpaired sides sit in
 * a tuple index; a side whose tuple mirrors one there (local == remote,
 * remote == local) and whose life overlaps it is its peer. Listeners sit
 * in their own index so children can be linked to them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn_int.h"
#include "util.h"

static size_t alen(const struct ana_side *s)
{
	return s->family == TRAIL_FAMILY_INET6 ? 16 : 4;
}

/* Hash of a tuple seen from one end; the mirror is (d, dport, s, sport). */
static uint64_t tuple_key(uint8_t family, const uint8_t *s, uint16_t sport,
			  const uint8_t *d, uint16_t dport)
{
	return ana_hash_ep(ana_hash_ep(0xcbf29ce484222325ull, family, s, sport), family, d, dport);
}

static uint64_t side_key(const struct ana_side *s)
{
	return tuple_key(s->family, s->saddr, s->sport, s->daddr, s->dport);
}

static uint64_t listener_key(uint32_t netns, uint8_t family, uint16_t port)
{
	static const uint8_t none[16];

	return ana_hash_ep(netns, family, none, port);
}

static int mirrors(const struct ana_side *a, const struct ana_side *b)
{
	return a->family == b->family && a->sport == b->dport && a->dport == b->sport &&
	       !memcmp(a->saddr, b->daddr, alen(a)) && !memcmp(a->daddr, b->saddr, alen(a));
}

/* ---- chains kept in an idmap: the map holds the head; O(1) removal ---- */

static int chain_push(struct idmap *m, uint64_t key, struct ana_side *s)
{
	struct ana_side *head = idmap__get(m, key);
	int err = idmap__put(m, key, s);

	if (err)
		return err;
	s->tuple_prev = NULL;
	s->tuple_next = head;
	if (head)
		head->tuple_prev = s;
	return 0;
}

static void chain_remove(struct idmap *m, uint64_t key, struct ana_side *s)
{
	if (s->tuple_next)
		s->tuple_next->tuple_prev = s->tuple_prev;
	if (s->tuple_prev)
		s->tuple_prev->tuple_next = s->tuple_next;
	else if (s->tuple_next)
		idmap__put(m, key, s->tuple_next);	/* replaces: cannot fail */
	else
		idmap__del(m, key);
	s->tuple_prev = s->tuple_next = NULL;
}

void conn__unindex(struct ana_conns *c, struct ana_side *s)
{
	if (s->indexed == IDX_TUPLE)
		chain_remove(&c->tuples, side_key(s), s);
	else if (s->indexed == IDX_LISTENER)
		chain_remove(&c->listeners, listener_key(s->netns, s->family, s->sport), s);
	s->indexed = IDX_NONE;
}

/* ---- pairing ---- */

static int pair(struct ana_conns *c, struct ana_side *a, struct ana_side *b)
{
	struct ana_conn *cn = conn__conn_new();

	if (!cn)
		return -ENOMEM;
	conn__unindex(c, a);
	conn__unindex(c, b);
	cn->client = a;
	cn->server = b;
	a->conn = b->conn = cn;
	return 0;
}

int conn__try_pair(struct ana_conns *c, struct ana_side *s)
{
	struct ana_side *cand, *best = NULL;
	uint64_t start = s->nchanges ? s->first_ts : c->now;
	int score, best_score = -1;
	unsigned scanned = 0;

	if (s->role == ROLE_LISTENER || s->conn || s->indexed || !s->sport || !s->dport)
		return 0;
	cand = idmap__get(&c->tuples, tuple_key(s->family, s->daddr, s->dport, s->saddr,
						s->sport));
	/* bounded: a crafted file could pile up sides that never pair */
	for (; cand && scanned < ANA_PAIR_SCAN_MAX; cand = cand->tuple_next, scanned++) {
		if (cand == s || cand->conn || !mirrors(s, cand))
			continue;
		if (cand->role == ROLE_SERVER && s->role == ROLE_SERVER)
			continue;
		/* a tuple reused later is a new connection: lives must overlap */
		if (!cand->live && !cand->evicted &&
		    ana_sat_add(cand->last_ts, ANA_PAIR_SLACK_NS) < start)
			continue;
		score = (cand->netns == s->netns) * 2 + (cand->live || cand->evicted);
		if (score > best_score || (score == best_score && cand->last_ts > best->last_ts)) {
			best = cand;
			best_score = score;
		}
	}
	if (best)
		return pair(c, best, s);
	/* a server whose client talks to another port: joined across a NAT */
	best = s->role == ROLE_SERVER ? look__nat_peer(c, s) :
	       s->role == ROLE_CLIENT ? look__nat_server(c, s) : NULL;
	if (best) {
		if (s->role == ROLE_SERVER ? pair(c, best, s) : pair(c, s, best))
			return -ENOMEM;
		s->conn->nat = 1;
		return 0;
	}
	if (chain_push(&c->tuples, side_key(s), s))
		return -ENOMEM;
	s->indexed = IDX_TUPLE;
	return 0;
}

/* ---- listeners ---- */

void conn__make_listener(struct ana_conns *c, struct ana_side *s)
{
	if (s->role == ROLE_LISTENER || s->conn)
		return;	/* a paired socket reused for listen stays a connection */
	conn__unindex(c, s);
	s->role = ROLE_LISTENER;
	if (!chain_push(&c->listeners, listener_key(s->netns, s->family, s->sport), s))
		s->indexed = IDX_LISTENER;
}

struct ana_side *conn__listener_of(const struct ana_conns *c, const struct ana_side *s)
{
	struct ana_side *l, *wild = NULL;
	unsigned scanned = 0;

	l = idmap__get(&c->listeners, listener_key(s->netns, s->family, s->sport));
	for (; l && scanned < ANA_PAIR_SCAN_MAX; l = l->tuple_next, scanned++) {
		if (l->family != s->family || l->netns != s->netns || l->sport != s->sport)
			continue;
		if (!memcmp(l->saddr, s->saddr, alen(s)))
			return l;
		wild = l;	/* bound to the wildcard address, most likely */
	}
	return wild;
}

/* ---- roles ---- */

void conn__assign_roles(struct ana_conn *cn)
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
	if (a->role == ROLE_CLIENT || b->role == ROLE_SERVER)
		return;
	if (b->role == ROLE_CLIENT || a->role == ROLE_SERVER)
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
