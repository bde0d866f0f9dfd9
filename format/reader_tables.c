// SPDX-License-Identifier: BSD-2-Clause
/* trail reader tables: live sockets (open addressing keyed by id,
 * backward-shift delete), enum tables and loss counters. Memory here is
 * bounded by the limits in trail.h whatever the file says. */
#include <stdarg.h>
#include <stdio.h>

#include "reader_int.h"

struct sockent *rd_sock_find(const struct trail_reader *r, uint64_t id)
{
	return rd_sock_find_inl(r, id);
}

static int sock_grow(struct trail_reader *r)
{
	size_t ncap = r->sock_cap ? r->sock_cap * 2 : 1024;
	struct sockent *old = r->socks, *n = calloc(ncap, sizeof(*n));
	uint64_t *ids = calloc(ncap, sizeof(*ids));
	size_t ocap = r->sock_cap;

	if (!n || !ids) {
		free(n);
		free(ids);
		return -ENOMEM;
	}
	r->socks = n;
	free(r->sock_ids);
	r->sock_ids = ids;
	r->sock_cap = ncap;
	for (size_t i = 0; i < ocap; i++) {
		if (!old[i].id)
			continue;
		size_t j = rd_sock_slot(r, old[i].id);
		while (n[j].id)
			j = (j + 1) & (ncap - 1);
		n[j] = old[i];
		ids[j] = old[i].id;
	}
	free(old);
	return 0;
}

struct sockent *rd_sock_insert(struct trail_reader *r, uint64_t id)
{
	size_t i;

	if ((r->sock_count + 1) * 2 > r->sock_cap && sock_grow(r))
		return NULL;
	i = rd_sock_slot(r, id);
	while (r->socks[i].id)
		i = (i + 1) & (r->sock_cap - 1);
	r->socks[i].id = id;
	r->sock_ids[i] = id;
	r->sock_count++;
	return &r->socks[i];
}

void rd_sock_remove(struct trail_reader *r, uint64_t id)
{
	struct sockent *e = rd_sock_find(r, id);
	size_t i, j, mask = r->sock_cap - 1;

	if (!e)
		return;
	i = (size_t)(e - r->socks);
	r->socks[i].id = r->sock_ids[i] = 0;
	r->sock_count--;
	for (j = (i + 1) & mask; r->sock_ids[j]; j = (j + 1) & mask) {
		size_t home = rd_sock_slot(r, r->sock_ids[j]);
		/* move j back into the hole unless its home lies in (i, j] */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		r->socks[i] = r->socks[j];
		r->sock_ids[i] = r->sock_ids[j];
		r->socks[j].id = r->sock_ids[j] = 0;
		i = j;
	}
}

/* A string into BUF (size TRAIL_MAX_STRING+1 or MAX); 0 on success. */
int rd_get_string(struct cur *c, char *buf, size_t max)
{
	uint64_t n = cur_varint(c);
	const uint8_t *p;

	if (c->err || n > max)
		return -1;
	p = cur_bytes(c, (size_t)n);
	if (!p || memchr(p, 0, (size_t)n))
		return -1;
	memcpy(buf, p, (size_t)n);
	buf[n] = 0;
	return 0;
}

int rd_parse_enum(struct trail_reader *r, struct trail_record *rec)
{
	struct cur *c = &r->c;
	char name[TRAIL_MAX_NAME + 1], ent[TRAIL_MAX_NAME + 1];
	struct trail_enum_entry *entries;
	struct enumtab *t = NULL;
	uint64_t count;
	char *names;
	size_t used = 0;

	if (rd_get_string(c, name, TRAIL_MAX_NAME))
		return malformed(r, "bad enum name");
	count = cur_varint(c);
	if (c->err || count > TRAIL_MAX_ENUM_ENTRIES)
		return malformed(r, "enum %s has %llu entries, at most %u allowed", name,
				 (unsigned long long)count, TRAIL_MAX_ENUM_ENTRIES);
	entries = calloc(count ? count : 1, sizeof(*entries));
	names = malloc(count * (TRAIL_MAX_NAME + 1) + 1);
	if (!entries || !names) {
		free(entries);
		free(names);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < count; i++) {
		int64_t v = unzigzag(cur_varint(c));
		if (rd_get_string(c, ent, TRAIL_MAX_NAME)) {
			free(entries);
			free(names);
			return malformed(r, "enum %s entry %llu is cut or too long", name,
					 (unsigned long long)i);
		}
		entries[i].value = v;
		entries[i].name = names + used;
		memcpy(names + used, ent, strlen(ent) + 1);
		used += strlen(ent) + 1;
	}
	for (unsigned i = 0; i < r->nenums; i++)
		if (!strcmp(r->enums[i].name, name))
			t = &r->enums[i];
	if (!t) {
		if (r->nenums >= TRAIL_MAX_ENUMS) {
			free(entries);
			free(names);
			return malformed(r, "more than %u enum tables", TRAIL_MAX_ENUMS);
		}
		t = &r->enums[r->nenums++];
		snprintf(t->name, sizeof(t->name), "%s", name);
	} else {
		free(t->entries);
		free(t->names);
	}
	t->entries = entries;
	t->names = names;
	t->count = (uint32_t)count;
	rec->type = TRAIL_REC_ENUM;
	rec->enumt.name = t->name;
	rec->enumt.entries = t->entries;
	rec->enumt.count = t->count;
	return 1;
}

int rd_parse_loss(struct trail_reader *r, struct trail_record *rec)
{
	struct cur *c = &r->c;
	uint64_t n = cur_varint(c), k;

	if (c->err || n > TRAIL_MAX_CPUS)
		return malformed(r, "loss table for %llu CPUs, at most %u allowed",
				 (unsigned long long)n, TRAIL_MAX_CPUS);
	for (uint64_t i = 0; i < n; i++)
		r->percpu[i] = cur_varint(c);
	k = cur_varint(c);
	if (c->err || k > TRAIL_MAX_COUNTERS)
		return malformed(r, "bad loss counter count");
	for (uint64_t i = 0; i < k; i++) {
		if (rd_get_string(c, r->ctrnames[i], TRAIL_MAX_NAME))
			return malformed(r, "loss counter %llu name is cut or too long",
					 (unsigned long long)i);
		r->ctrs[i].name = r->ctrnames[i];
		r->ctrs[i].value = cur_varint(c);
	}
	if (c->err)
		return malformed(r, "loss counters cut short");
	rec->type = TRAIL_REC_LOSS;
	rec->loss.percpu_ringbuf = r->percpu;
	rec->loss.ncpus = (uint32_t)n;
	rec->loss.counters = r->ctrs;
	rec->loss.ncounters = (uint32_t)k;
	return 1;
}

static const struct enumtab *find_enum(const struct trail_reader *r, const char *name)
{
	for (unsigned i = 0; i < r->nenums; i++)
		if (!strcmp(r->enums[i].name, name))
			return &r->enums[i];
	return NULL;
}

const char *trail_reader__enum_name(const struct trail_reader *r, const char *name, int64_t value)
{
	const struct enumtab *t = find_enum(r, name);

	for (uint32_t i = 0; t && i < t->count; i++)
		if (t->entries[i].value == value)
			return t->entries[i].name;
	return NULL;
}

int trail_reader__enum_value(const struct trail_reader *r, const char *name, const char *entry,
			     int64_t *value)
{
	const struct enumtab *t = find_enum(r, name);

	for (uint32_t i = 0; t && i < t->count; i++) {
		if (!strcmp(t->entries[i].name, entry)) {
			*value = t->entries[i].value;
			return 0;
		}
	}
	return -ENOENT;
}

const struct trail_sock *trail_reader__sock(const struct trail_reader *r, uint64_t id)
{
	const struct sockent *e = rd_sock_find(r, id);

	return e ? &e->s : NULL;
}
