// SPDX-License-Identifier: BSD-2-Clause
/*
 * Live mini sockets (request socks, timewait socks) the recorder follows:
 * found by kernel address (timer and retransmit events name them so) and by
 * netns + tuple (a child socket or a new connection names them so). Bounded;
 * each kind keeps an age list, least recently touched first, so the
 * recorder can expire the stale and evict the oldest.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

#include "record.h"
#include "tcptrail.h"

#define NIL UINT32_MAX

struct minitab {
	struct mini_ent *ents;
	uint32_t cap, size, nfree;
	uint32_t *free;			/* stack of unused entry indices */
	uint32_t nbuckets;		/* power of two, >= 2 * cap */
	uint32_t *by_key, *by_tuple;	/* bucket heads */
	uint32_t head[MINI_KINDS], tail[MINI_KINDS];
};

static uint32_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (uint32_t)x;
}

static uint32_t tuple_hash(uint8_t kind, uint32_t netns, uint16_t family, uint16_t sport,
			   uint16_t dport, const uint8_t *saddr, const uint8_t *daddr)
{
	uint64_t h = ((uint64_t)netns << 32) ^ ((uint64_t)family << 24) ^ ((uint64_t)kind << 16);
	uint64_t a, b;
	int i;

	h ^= ((uint64_t)sport << 40) ^ dport;
	for (i = 0; i < 16; i += 8) {
		memcpy(&a, saddr + i, 8);
		memcpy(&b, daddr + i, 8);
		h = mix64(h ^ a) ^ ((uint64_t)mix64(b) << 7);
	}
	return mix64(h);
}

static uint32_t ent_tuple_hash(const struct mini_ent *e)
{
	return tuple_hash(e->kind, e->netns, e->family, e->sport, e->dport, e->saddr, e->daddr);
}

int minitab__new(struct minitab **out, uint32_t cap)
{
	struct minitab *t;
	uint32_t i, nb = 16;

	if (!cap || cap > (1u << 26))
		return -EINVAL;
	while (nb < 2 * cap)
		nb <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->ents = calloc(cap, sizeof(*t->ents));
	t->free = calloc(cap, sizeof(*t->free));
	t->by_key = malloc(nb * sizeof(*t->by_key));
	t->by_tuple = malloc(nb * sizeof(*t->by_tuple));
	if (!t->ents || !t->free || !t->by_key || !t->by_tuple) {
		minitab__free(t);
		return -ENOMEM;
	}
	t->cap = cap;
	t->nbuckets = nb;
	memset(t->by_key, 0xff, nb * sizeof(*t->by_key));
	memset(t->by_tuple, 0xff, nb * sizeof(*t->by_tuple));
	for (i = 0; i < cap; i++)
		t->free[i] = cap - 1 - i;
	t->nfree = cap;
	for (i = 0; i < MINI_KINDS; i++)
		t->head[i] = t->tail[i] = NIL;
	*out = t;
	return 0;
}

void minitab__free(struct minitab *t)
{
	if (!t)
		return;
	free(t->ents);
	free(t->free);
	free(t->by_key);
	free(t->by_tuple);
	free(t);
}

static uint32_t idx_of(const struct minitab *t, const struct mini_ent *e)
{
	return (uint32_t)(e - t->ents);
}

struct mini_ent *minitab__find(struct minitab *t, uint64_t key)
{
	uint32_t i = t->by_key[mix64(key) & (t->nbuckets - 1)];

	for (; i != NIL; i = t->ents[i].knext)
		if (t->ents[i].key == key)
			return &t->ents[i];
	return NULL;
}

struct mini_ent *minitab__find_tuple(struct minitab *t, uint8_t kind, const struct tt_sock *k)
{
	uint32_t h = tuple_hash(kind, k->netns, k->family, k->sport, k->dport, k->saddr, k->daddr);
	uint32_t i = t->by_tuple[h & (t->nbuckets - 1)];

	for (; i != NIL; i = t->ents[i].tnext) {
		const struct mini_ent *e = &t->ents[i];

		if (e->kind == kind && e->netns == k->netns && e->family == k->family &&
		    e->sport == k->sport && e->dport == k->dport &&
		    !memcmp(e->saddr, k->saddr, 16) && !memcmp(e->daddr, k->daddr, 16))
			return &t->ents[i];
	}
	return NULL;
}

static void age_unlink(struct minitab *t, struct mini_ent *e)
{
	if (e->prev != NIL)
		t->ents[e->prev].next = e->next;
	else
		t->head[e->kind] = e->next;
	if (e->next != NIL)
		t->ents[e->next].prev = e->prev;
	else
		t->tail[e->kind] = e->prev;
}

static void age_append(struct minitab *t, struct mini_ent *e)
{
	uint32_t i = idx_of(t, e);

	e->next = NIL;
	e->prev = t->tail[e->kind];
	if (e->prev != NIL)
		t->ents[e->prev].next = i;
	else
		t->head[e->kind] = i;
	t->tail[e->kind] = i;
}

struct mini_ent *minitab__insert(struct minitab *t, uint8_t kind, uint64_t key,
				 const struct tt_sock *k)
{
	struct mini_ent *e;
	uint32_t i, kb, tb;

	if (!t->nfree || kind >= MINI_KINDS)
		return NULL;
	i = t->free[--t->nfree];
	e = &t->ents[i];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->key = key;
	e->cookie = k->cookie;
	e->netns = k->netns;
	e->family = k->family;
	e->sport = k->sport;
	e->dport = k->dport;
	memcpy(e->saddr, k->saddr, 16);
	memcpy(e->daddr, k->daddr, 16);
	kb = mix64(key) & (t->nbuckets - 1);
	tb = ent_tuple_hash(e) & (t->nbuckets - 1);
	e->knext = t->by_key[kb];
	t->by_key[kb] = i;
	e->tnext = t->by_tuple[tb];
	t->by_tuple[tb] = i;
	age_append(t, e);
	t->size++;
	return e;
}

static void chain_unlink(struct minitab *t, uint32_t *heads, uint32_t b, uint32_t i, int by_key)
{
	uint32_t *pp = &heads[b];

	while (*pp != NIL) {
		if (*pp == i) {
			*pp = by_key ? t->ents[i].knext : t->ents[i].tnext;
			return;
		}
		pp = by_key ? &t->ents[*pp].knext : &t->ents[*pp].tnext;
	}
}

void minitab__remove(struct minitab *t, struct mini_ent *e)
{
	uint32_t i = idx_of(t, e);

	chain_unlink(t, t->by_key, mix64(e->key) & (t->nbuckets - 1), i, 1);
	chain_unlink(t, t->by_tuple, ent_tuple_hash(e) & (t->nbuckets - 1), i, 0);
	age_unlink(t, e);
	e->kind = MINI_FREE;
	t->free[t->nfree++] = i;
	t->size--;
}

void minitab__touch(struct minitab *t, struct mini_ent *e)
{
	age_unlink(t, e);
	age_append(t, e);
}

struct mini_ent *minitab__oldest(struct minitab *t, uint8_t kind)
{
	if (kind >= MINI_KINDS || t->head[kind] == NIL)
		return NULL;
	return &t->ents[t->head[kind]];
}

struct mini_ent *minitab__younger(struct minitab *t, const struct mini_ent *e)
{
	return e->next == NIL ? NULL : &t->ents[e->next];
}

int minitab__full(const struct minitab *t)
{
	return t->nfree == 0;
}

uint32_t minitab__size(const struct minitab *t)
{
	return t->size;
}
