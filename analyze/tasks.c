// SPDX-License-Identifier: BSD-2-Clause
/* Interned (pid, comm) pairs: a state change stores a 4-byte index. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"

#define ANA_MAX_TASKS (1u << 22)

static uint64_t task_hash(uint32_t pid, const char *comm)
{
	uint64_t h = 0xcbf29ce484222325ull ^ pid;	/* FNV-1a */
	size_t i;

	for (i = 0; i < 16 && comm[i]; i++) {
		h ^= (unsigned char)comm[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint32_t ana_tasks__intern(struct ana_tasks *t, uint32_t pid, const char *comm)
{
	char c[17] = "";
	uint64_t h;
	uintptr_t head, i;
	uint32_t ncap, *nnext;
	struct ana_task *nv;

	strncpy(c, comm ? comm : "", 16);
	h = task_hash(pid, c);
	head = (uintptr_t)idmap__get(&t->index, h);
	for (i = head; i; i = t->next[i - 1])
		if (t->v[i - 1].pid == pid && !strcmp(t->v[i - 1].comm, c))
			return (uint32_t)(i - 1);
	if (t->len >= ANA_MAX_TASKS)
		return ANA_NO_TASK;
	if (t->len == t->cap) {
		ncap = t->cap ? t->cap * 2 : 64;
		nv = realloc(t->v, ncap * sizeof(*nv));
		if (!nv)
			return ANA_NO_TASK;
		t->v = nv;
		nnext = realloc(t->next, ncap * sizeof(*nnext));
		if (!nnext)
			return ANA_NO_TASK;
		t->next = nnext;
		t->cap = ncap;
	}
	if (idmap__put(&t->index, h, (void *)(uintptr_t)(t->len + 1)))
		return ANA_NO_TASK;
	t->v[t->len].pid = pid;
	memcpy(t->v[t->len].comm, c, sizeof(c));
	t->next[t->len] = (uint32_t)head;
	return t->len++;
}

const struct ana_task *ana_tasks__get(const struct ana_tasks *t, uint32_t idx)
{
	return idx < t->len ? &t->v[idx] : NULL;
}

void ana_tasks__free(struct ana_tasks *t)
{
	if (!t)
		return;
	free(t->v);
	free(t->next);
	idmap__free(&t->index);
	memset(t, 0, sizeof(*t));
}
