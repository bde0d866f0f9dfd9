// SPDX-License-Identifier: BSD-2-Clause
/* Open addressing with linear probing and backward-shift deletion, so
 * there are no tombstones and a map that shrinks and grows over a long
 * capture stays fast. */
#include <errno.h>
#include <stdlib.h>

#include "idmap.h"

static size_t slot_of(uint64_t key, size_t cap)
{
	/* splitmix64 finaliser: socket ids are sequential, spread them */
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ull;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebull;
	key ^= key >> 31;
	return key & (cap - 1);
}

void *idmap__get(const struct idmap *m, uint64_t key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	for (i = slot_of(key, m->cap); m->vals[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key)
			return m->vals[i];
	return NULL;
}

static int grow(struct idmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64, i, j;
	uint64_t *nkeys;
	void **nvals;

	if (ncap < m->cap)	/* cannot happen before memory runs out */
		return -ENOMEM;
	nkeys = calloc(ncap, sizeof(*nkeys));
	nvals = calloc(ncap, sizeof(*nvals));
	if (!nkeys || !nvals) {
		free(nkeys);
		free(nvals);
		return -ENOMEM;
	}
	for (i = 0; i < m->cap; i++) {
		if (!m->vals[i])
			continue;
		for (j = slot_of(m->keys[i], ncap); nvals[j]; j = (j + 1) & (ncap - 1))
			;
		nkeys[j] = m->keys[i];
		nvals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = nkeys;
	m->vals = nvals;
	m->cap = ncap;
	return 0;
}

int idmap__put(struct idmap *m, uint64_t key, void *val)
{
	size_t i;
	int err;

	if (!val)
		return -EINVAL;
	/* replacing never allocates, so it cannot fail */
	for (i = m->cap ? slot_of(key, m->cap) : 0; m->cap && m->vals[i]; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return 0;
		}
	}
	/* keep the load under 1/2: probes stay short */
	if ((m->len + 1) * 2 > m->cap) {
		err = grow(m);
		if (err)
			return err;
	}
	for (i = slot_of(key, m->cap); m->vals[i]; i = (i + 1) & (m->cap - 1))
		;
	m->keys[i] = key;
	m->vals[i] = val;
	m->len++;
	return 0;
}

void *idmap__del(struct idmap *m, uint64_t key)
{
	size_t mask = m->cap - 1, i, j, home;
	void *val;

	if (!m->cap)
		return NULL;
	for (i = slot_of(key, m->cap); m->vals[i]; i = (i + 1) & mask)
		if (m->keys[i] == key)
			break;
	if (!m->vals[i])
		return NULL;
	val = m->vals[i];
	m->vals[i] = NULL;
	m->len--;
	/* shift later members of the probe run back into the hole */
	for (j = (i + 1) & mask; m->vals[j]; j = (j + 1) & mask) {
		home = slot_of(m->keys[j], m->cap);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			m->vals[j] = NULL;
			i = j;
		}
	}
	return val;
}

void idmap__each(const struct idmap *m, void (*fn)(uint64_t key, void *val, void *ctx),
		 void *ctx)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		if (m->vals[i])
			fn(m->keys[i], m->vals[i], ctx);
}

void idmap__free(struct idmap *m)
{
	if (!m)
		return;
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->cap = m->len = 0;
}
