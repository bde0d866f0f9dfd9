// SPDX-License-Identifier: BSD-2-Clause
/* Open addressing with linear probing and backward-shift deletion, so
 * there are no tombstones and a map that shrinks and grows over a long
 * capture stays fast. */
#include <errno.h>
#include <stdlib.h>

#include "idmap.h"

static int grow(struct idmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64, i, j;
	struct idmap old = *m;
	struct idmap_ent *n;

	if (ncap < m->cap)	/* cannot happen before memory runs out */
		return -ENOMEM;
	n = calloc(ncap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	m->ents = n;
	m->cap = ncap;
	m->shift = 64 - (unsigned)__builtin_ctzll(ncap);
	for (i = 0; i < old.cap; i++) {
		if (!old.ents[i].val)
			continue;
		for (j = idmap__slot(m, old.ents[i].key); n[j].val; j = (j + 1) & (ncap - 1))
			;
		n[j] = old.ents[i];
	}
	free(old.ents);
	return 0;
}

int idmap__put(struct idmap *m, uint64_t key, void *val)
{
	size_t i, mask = m->cap - 1;
	int err;

	if (!val)
		return -EINVAL;
	/* one probe finds the key or the slot it goes in; replacing never
	 * allocates, so it cannot fail */
	if (m->cap) {
		for (i = idmap__slot(m, key); m->ents[i].val; i = (i + 1) & mask) {
			if (m->ents[i].key == key) {
				m->ents[i].val = val;
				return 0;
			}
		}
		/* keep the load under 1/2: probes stay short */
		if ((m->len + 1) * 2 <= m->cap) {
			m->ents[i].key = key;
			m->ents[i].val = val;
			m->len++;
			return 0;
		}
	}
	err = grow(m);
	if (err)
		return err;
	mask = m->cap - 1;
	for (i = idmap__slot(m, key); m->ents[i].val; i = (i + 1) & mask)
		;
	m->ents[i].key = key;
	m->ents[i].val = val;
	m->len++;
	return 0;
}

void *idmap__del(struct idmap *m, uint64_t key)
{
	size_t mask = m->cap - 1, i, j, home;
	void *val;

	if (!m->len)
		return NULL;
	for (i = idmap__slot(m, key); m->ents[i].val; i = (i + 1) & mask)
		if (m->ents[i].key == key)
			break;
	if (!m->ents[i].val)
		return NULL;
	val = m->ents[i].val;
	m->ents[i].val = NULL;
	m->len--;
	/* shift later members of the probe run back into the hole */
	for (j = (i + 1) & mask; m->ents[j].val; j = (j + 1) & mask) {
		home = idmap__slot(m, m->ents[j].key);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->ents[i] = m->ents[j];
			m->ents[j].val = NULL;
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
		if (m->ents[i].val)
			fn(m->ents[i].key, m->ents[i].val, ctx);
}

void idmap__free(struct idmap *m)
{
	if (!m)
		return;
	free(m->ents);
	m->ents = NULL;
	m->cap = m->len = 0;
	m->shift = 0;
}
