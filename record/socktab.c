// SPDX-License-Identifier: BSD-2-Clause
/*
 * Live sockets of a recording, keyed by kernel socket address. Bounded: a
 * fixed pool of nodes with an LRU list, indexed by an open-addressing hash
 * (linear probing, backward-shift deletion) of node indices, so entries
 * never move and the list stays valid.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

#define NIL UINT32_MAX

struct socktab {
	struct sock_ent *nodes;	/* pool of cap nodes */
	uint32_t *index;	/* hash slots: node index or NIL */
	uint32_t cap, size, mask;
	uint32_t free_head;	/* free nodes, chained through next */
	uint32_t head, tail;	/* LRU: head most recent */
};

static uint32_t hash64(uint64_t k)
{
	/* kernel addresses share their high bits: mix everything down */
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return (uint32_t)k;
}

int socktab__new(struct socktab **out, uint32_t cap)
{
	struct socktab *t;
	uint32_t i, slots = 16;

	if (cap == 0 || cap > (1u << 28))
		return -EINVAL;
	while (slots < cap * 2)
		slots <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->nodes = calloc(cap, sizeof(*t->nodes));
	t->index = malloc(slots * sizeof(*t->index));
	if (!t->nodes || !t->index) {
		socktab__free(t);
		return -ENOMEM;
	}
	for (i = 0; i < slots; i++)
		t->index[i] = NIL;
	for (i = 0; i < cap; i++)
		t->nodes[i].next = i + 1 < cap ? i + 1 : NIL;
	t->cap = cap;
	t->mask = slots - 1;
	t->free_head = 0;
	t->head = t->tail = NIL;
	*out = t;
	return 0;
}

void socktab__free(struct socktab *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->index);
	free(t);
}

static void lru_unlink(struct socktab *t, uint32_t n)
{
	struct sock_ent *e = &t->nodes[n];

	if (e->prev != NIL)
		t->nodes[e->prev].next = e->next;
	else
		t->head = e->next;
	if (e->next != NIL)
		t->nodes[e->next].prev = e->prev;
	else
		t->tail = e->prev;
}

static void lru_push(struct socktab *t, uint32_t n)
{
	struct sock_ent *e = &t->nodes[n];

	e->prev = NIL;
	e->next = t->head;
	if (t->head != NIL)
		t->nodes[t->head].prev = n;
	t->head = n;
	if (t->tail == NIL)
		t->tail = n;
}

/* Hash slot holding KEY, or the empty slot where it would go. */
static uint32_t slot_of(const struct socktab *t, uint64_t key)
{
	uint32_t i = hash64(key) & t->mask;

	while (t->index[i] != NIL && t->nodes[t->index[i]].skaddr != key)
		i = (i + 1) & t->mask;
	return i;
}

struct sock_ent *socktab__find(struct socktab *t, uint64_t key)
{
	uint32_t n = t->index[slot_of(t, key)];

	if (n == NIL)
		return NULL;
	if (t->head != n) {
		lru_unlink(t, n);
		lru_push(t, n);
	}
	return &t->nodes[n];
}

struct sock_ent *socktab__victim(struct socktab *t)
{
	return t->size == t->cap && t->tail != NIL ? &t->nodes[t->tail] : NULL;
}

struct sock_ent *socktab__insert(struct socktab *t, uint64_t key)
{
	uint32_t s, n;

	if (t->free_head == NIL)
		return NULL;
	s = slot_of(t, key);
	if (t->index[s] != NIL)
		return NULL;
	n = t->free_head;
	t->free_head = t->nodes[n].next;
	memset(&t->nodes[n], 0, sizeof(t->nodes[n]));
	t->nodes[n].skaddr = key;
	t->index[s] = n;
	lru_push(t, n);
	t->size++;
	return &t->nodes[n];
}

void socktab__remove(struct socktab *t, struct sock_ent *e)
{
	uint32_t n = (uint32_t)(e - t->nodes), i, j, home;

	if (n >= t->cap)
		return;
	i = slot_of(t, e->skaddr);
	if (t->index[i] != n)
		return;
	/* backward-shift: pull later members of the probe run into the hole */
	for (j = (i + 1) & t->mask; t->index[j] != NIL; j = (j + 1) & t->mask) {
		home = hash64(t->nodes[t->index[j]].skaddr) & t->mask;
		/* move j to i unless its home lies cyclically in (i, j] */
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->index[i] = t->index[j];
			i = j;
		}
	}
	t->index[i] = NIL;
	lru_unlink(t, n);
	t->nodes[n].next = t->free_head;
	t->free_head = n;
	t->size--;
}

uint32_t socktab__size(const struct socktab *t)
{
	return t->size;
}

struct sock_ent *socktab__oldest(struct socktab *t)
{
	return t->tail != NIL ? &t->nodes[t->tail] : NULL;
}

struct sock_ent *socktab__newer(struct socktab *t, const struct sock_ent *e)
{
	return e->prev != NIL ? &t->nodes[e->prev] : NULL;
}
