// SPDX-License-Identifier: BSD-2-Clause
/*
 * Every live side with a full tuple, indexed twice: by its tuple (which
 * socket a segment belongs to) and by its remote end (which connection a
 * segment that reached TCP without its NAT translation belongs to). Used
 * to place RSTs and drops the kernel recorded without a socket.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn_int.h"
#include "util.h"

#define LOOK_SCAN_MAX 64u	/* candidates looked at per query */

static size_t alen(uint8_t family)
{
	return family == TRAIL_FAMILY_INET6 ? 16 : 4;
}

static uint64_t key_tuple(uint8_t family, const uint8_t *la, uint16_t lp, const uint8_t *ra,
			  uint16_t rp)
{
	return ana_hash_ep(ana_hash_ep(0x1234567, family, la, lp), family, ra, rp);
}

static uint64_t key_remote(uint8_t family, const uint8_t *ra, uint16_t rp)
{
	return ana_hash_ep(0x7654321, family, ra, rp);
}

/* Chains through one of the link field pairs: WHICH 0 = look, 1 = rem, 2 = loc. */
static struct ana_side **nextp(struct ana_side *s, int which)
{
	return which == 2 ? &s->loc_next : which ? &s->rem_next : &s->look_next;
}

static struct ana_side **prevp(struct ana_side *s, int which)
{
	return which == 2 ? &s->loc_prev : which ? &s->rem_prev : &s->look_prev;
}

static int push(struct idmap *m, uint64_t key, struct ana_side *s, int which)
{
	struct ana_side *head = idmap__get(m, key);
	int err = idmap__put(m, key, s);

	if (err)
		return err;
	*prevp(s, which) = NULL;
	*nextp(s, which) = head;
	if (head)
		*prevp(head, which) = s;
	return 0;
}

static void unlink_side(struct idmap *m, uint64_t key, struct ana_side *s, int which)
{
	struct ana_side *p = *prevp(s, which), *n = *nextp(s, which);

	if (n)
		*prevp(n, which) = p;
	if (p)
		*nextp(p, which) = n;
	else if (n)
		idmap__put(m, key, n);	/* replaces: cannot fail */
	else
		idmap__del(m, key);
	*prevp(s, which) = *nextp(s, which) = NULL;
}

static int index_side(struct ana_conns *c, struct ana_side *s)
{
	if (!s->sport) {
		/* connecting, local port not known yet: findable by where it connects */
		if (push(&c->remote, key_remote(s->family, s->daddr, s->dport), s, 1))
			return -ENOMEM;
		s->looked = 2;
		return 0;
	}
	if (push(&c->look, key_tuple(s->family, s->saddr, s->sport, s->daddr, s->dport), s, 0))
		return -ENOMEM;
	if (push(&c->remote, key_remote(s->family, s->daddr, s->dport), s, 1)) {
		unlink_side(&c->look, key_tuple(s->family, s->saddr, s->sport, s->daddr, s->dport),
			    s, 0);
		return -ENOMEM;
	}
	if (push(&c->local, key_remote(s->family, s->saddr, s->sport), s, 2)) {
		unlink_side(&c->look, key_tuple(s->family, s->saddr, s->sport, s->daddr, s->dport),
			    s, 0);
		unlink_side(&c->remote, key_remote(s->family, s->daddr, s->dport), s, 1);
		return -ENOMEM;
	}
	s->looked = 1;
	return 0;
}

int look__add(struct ana_conns *c, struct ana_side *s)
{
	if (s->lookable || !s->dport || s->role == ROLE_LISTENER)
		return 0;
	s->lookable = 1;
	s->look_seq = ++c->look_seq;
	return c->look_on ? index_side(c, s) : 0;
}

void look__del(struct ana_conns *c, struct ana_side *s)
{
	s->lookable = 0;
	if (!s->looked)
		return;
	unlink_side(&c->remote, key_remote(s->family, s->daddr, s->dport), s, 1);
	if (s->looked == 1) {
		unlink_side(&c->look, key_tuple(s->family, s->saddr, s->sport, s->daddr,
						s->dport), s, 0);
		unlink_side(&c->local, key_remote(s->family, s->saddr, s->sport), s, 2);
	}
	s->looked = 0;
}

struct gather {
	struct ana_side **v;
	size_t n;
};

static void gather(uint64_t key, void *val, void *ctx)
{
	struct gather *g = ctx;
	struct ana_side *s = val;

	(void)key;
	if (s->lookable && !s->looked)
		g->v[g->n++] = s;
}

static int by_seq(const void *a, const void *b)
{
	const struct ana_side *x = *(struct ana_side *const *)a;
	const struct ana_side *y = *(struct ana_side *const *)b;

	return x->look_seq < y->look_seq ? -1 : x->look_seq > y->look_seq;
}

/* Index every side that belongs in the indexes, oldest addition first, so
 * each chain is in the order it would have had if kept all along. NULL
 * answers when memory runs out. */
static int look_enable(struct ana_conns *c)
{
	struct gather g = { NULL, 0 };
	size_t i;

	if (c->look_on)
		return 0;
	if (c->live.len) {
		g.v = malloc(c->live.len * sizeof(*g.v));
		if (!g.v)
			return -ENOMEM;
	}
	idmap__each(&c->live, gather, &g);
	if (g.n > 1)
		qsort(g.v, g.n, sizeof(*g.v), by_seq);
	for (i = 0; i < g.n; i++) {
		if (index_side(c, g.v[i])) {
			while (i--) {
				look__del(c, g.v[i]);
				g.v[i]->lookable = 1;
			}
			free(g.v);
			return -ENOMEM;
		}
	}
	free(g.v);
	c->look_on = 1;
	return 0;
}

/* Same netns scores best; an event without a netns matches any. */
static int ns_ok(uint32_t want, uint32_t have)
{
	return !want || want == have;
}

struct ana_side *look__tuple(struct ana_conns *c, uint8_t family, uint32_t netns,
			     const uint8_t *la, uint16_t lp, const uint8_t *ra, uint16_t rp)
{
	struct ana_side *s, *any = NULL;
	unsigned n = 0;

	if (look_enable(c))
		return NULL;
	s = idmap__get(&c->look, key_tuple(family, la, lp, ra, rp));
	for (; s && n < LOOK_SCAN_MAX; s = s->look_next, n++) {
		if (s->family != family || s->sport != lp || s->dport != rp ||
		    memcmp(s->saddr, la, alen(family)) || memcmp(s->daddr, ra, alen(family)))
			continue;
		if (ns_ok(netns, s->netns))
			return s;
		any = any ? any : s;
	}
	return any;
}

struct ana_side *look__remote(struct ana_conns *c, uint8_t family, uint32_t netns,
			      const uint8_t *la, uint16_t lp, const uint8_t *ra, uint16_t rp)
{
	struct ana_side *s, *best = NULL;
	int score, best_score = -1;
	unsigned n = 0;

	if (look_enable(c))
		return NULL;
	s = idmap__get(&c->remote, key_remote(family, ra, rp));
	for (; s && n < LOOK_SCAN_MAX; s = s->rem_next, n++) {
		if (s->family != family || s->dport != rp || s->sport == lp || !s->sport ||
		    memcmp(s->daddr, ra, alen(family)) || s->sock_kind == TRAIL_SOCK_TIMEWAIT)
			continue;
		score = ns_ok(netns, s->netns) * 2 + !memcmp(s->saddr, la, alen(family));
		if (score > best_score) {
			best = s;
			best_score = score;
		}
	}
	return best;
}

struct ana_side *look__nat_peer(struct ana_conns *c, const struct ana_side *s)
{
	struct ana_side *x;
	unsigned n = 0;

	if (look_enable(c))
		return NULL;
	x = idmap__get(&c->local, key_remote(s->family, s->daddr, s->dport));
	for (; x && n < LOOK_SCAN_MAX; x = x->loc_next, n++) {
		if (x == s || x->conn || x->merged || x->family != s->family ||
		    x->role == ROLE_SERVER || x->role == ROLE_LISTENER || x->sport != s->dport ||
		    x->dport == s->sport || memcmp(x->saddr, s->daddr, alen(s->family)))
			continue;
		return x;
	}
	return NULL;
}

/* The other way round: the server side whose remote end is client S's local
 * end, on another port than S connected to. A client's local port is known
 * only after SYN_SENT, often after the server's SYN arrived. */
struct ana_side *look__nat_server(struct ana_conns *c, const struct ana_side *s)
{
	struct ana_side *x;
	unsigned n = 0;

	if (look_enable(c))
		return NULL;
	x = idmap__get(&c->remote, key_remote(s->family, s->saddr, s->sport));

	for (; x && n < LOOK_SCAN_MAX; x = x->rem_next, n++) {
		if (x == s || x->conn || x->merged || x->family != s->family || !x->sport ||
		    x->role != ROLE_SERVER || x->dport != s->sport || x->sport == s->dport ||
		    memcmp(x->daddr, s->saddr, alen(s->family)))
			continue;
		return x;
	}
	return NULL;
}

/* The one client connecting from LA to RA:RP whose local port the capture
 * does not know yet (the kernel picks it after SYN_SENT): the sender of a
 * SYN answered before its tuple came. NULL if none or several. */
struct ana_side *look__connecting(struct ana_conns *c, uint8_t family, const uint8_t *la,
				  const uint8_t *ra, uint16_t rp)
{
	struct ana_side *s, *found = NULL;
	unsigned n = 0;

	if (look_enable(c))
		return NULL;
	s = idmap__get(&c->remote, key_remote(family, ra, rp));

	for (; s && n < LOOK_SCAN_MAX; s = s->rem_next, n++) {
		if (s->sport || s->role != ROLE_CLIENT || s->family != family || s->dport != rp ||
		    memcmp(s->daddr, ra, alen(family)) || memcmp(s->saddr, la, alen(family)))
			continue;
		if (found)
			return NULL;
		found = s;
	}
	return found;
}
