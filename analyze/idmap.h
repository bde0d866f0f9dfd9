/* SPDX-License-Identifier: BSD-2-Clause */
/* A hash map from 64-bit keys (socket ids, tuple hashes) to pointers:
 * open addressing, linear probing, load under 1/2, one array of
 * key/value pairs so a probe touches one cache line. get is inline: the
 * tracker does several lookups per event. */
#ifndef TCPTRAIL_ANA_IDMAP_H
#define TCPTRAIL_ANA_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap_ent {
	uint64_t key;
	void *val;		/* NULL marks an empty slot */
};

struct idmap {
	struct idmap_ent *ents;
	size_t cap;		/* power of two, or 0 */
	size_t len;
	unsigned shift;		/* 64 - log2(cap) */
};

/* Fibonacci hashing of a folded key: sequential socket ids spread evenly,
 * and already mixed tuple hashes stay mixed. */
static inline size_t idmap__slot(const struct idmap *m, uint64_t key)
{
	return (size_t)(((key ^ (key >> 31)) * 0x9e3779b97f4a7c15ull) >> m->shift);
}

/* Value stored under KEY, or NULL. */
static inline void *idmap__get(const struct idmap *m, uint64_t key)
{
	size_t i, mask = m->cap - 1;

	if (!m->len)
		return NULL;
	for (i = idmap__slot(m, key); m->ents[i].val; i = (i + 1) & mask)
		if (m->ents[i].key == key)
			return m->ents[i].val;
	return NULL;
}

/* Store VAL (not NULL) under KEY, replacing any value. 0 or -ENOMEM;
 * replacing an existing key always succeeds. */
int idmap__put(struct idmap *m, uint64_t key, void *val);
/* Remove KEY and return what was stored, or NULL. */
void *idmap__del(struct idmap *m, uint64_t key);
/* Calls FN for every entry, in no particular order; FN must not modify M. */
void idmap__each(const struct idmap *m, void (*fn)(uint64_t key, void *val, void *ctx),
		 void *ctx);
void idmap__free(struct idmap *m);

#endif
