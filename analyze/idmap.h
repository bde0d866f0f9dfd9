/* SPDX-License-Identifier: BSD-2-Clause */
/* A hash map from 64-bit keys (socket ids, tuple hashes) to pointers. */
#ifndef TCPTRAIL_ANA_IDMAP_H
#define TCPTRAIL_ANA_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap {
	uint64_t *keys;
	void **vals;		/* NULL marks an empty slot */
	size_t cap;		/* power of two, or 0 */
	size_t len;
};

/* Value stored under KEY, or NULL. */
void *idmap__get(const struct idmap *m, uint64_t key);
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
