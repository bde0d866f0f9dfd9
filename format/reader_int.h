/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals shared by the reader's files: reader.c (opening, blocks, the
 * public iterator), reader_tables.c (sockets, enums, losses) and
 * reader_events.c (records of EVENTS blocks). */
#ifndef TCPTRAIL_READER_INT_H
#define TCPTRAIL_READER_INT_H

#include <zstd.h>

#include "trail_int.h"

struct sockent {
	uint64_t id;		/* 0: empty slot */
	struct trail_sock s;
};

struct enumtab {
	char name[TRAIL_MAX_NAME + 1];
	struct trail_enum_entry *entries;
	char *names;		/* storage for the entry names */
	uint32_t count;
};

struct stackent {
	struct trail_stack st;
	char *mem;		/* frame pointers, then the strings */
	size_t bytes;
};

#define RD_RELEASE_BYTES (2u << 20)

struct trail_reader {
	const uint8_t *data;
	size_t size;
	void *owned;		/* malloc'd copy, or NULL */
	void *map;		/* mmap'd file, or NULL */
	uint64_t released;	/* map bytes before this dropped (MADV_DONTNEED) */
	unsigned major, minor;

	uint64_t off;		/* next block */
	uint64_t blk_off;	/* block being read */
	int blk_type;		/* 0: none open */
	struct cur c;		/* inside the open block (or its raw events) */
	uint64_t ts;
	int done, end_seen;
	enum trail_status status;
	char msg[320];

	uint8_t *raw;
	size_t raw_cap;
	ZSTD_DCtx *zd;
	char key[TRAIL_MAX_STRING + 1], val[TRAIL_MAX_STRING + 1];
	uint64_t percpu[TRAIL_MAX_CPUS];
	struct trail_counter ctrs[TRAIL_MAX_COUNTERS];
	char ctrnames[TRAIL_MAX_COUNTERS][TRAIL_MAX_NAME + 1];

	struct sockent *socks;
	uint64_t *sock_ids;	/* socks[i].id again: probes stay in a small array */
	size_t sock_cap, sock_count;
	uint64_t last_sock, pending_retire;
	struct trail_task tasks[TRAIL_TASK_SLOTS];
	uint8_t task_def[TRAIL_TASK_SLOTS];
	struct enumtab enums[TRAIL_MAX_ENUMS];
	unsigned nenums;
	struct stackent *stacks;	/* TRAIL_MAX_STACKS + 1, on first use */
	size_t stack_bytes;
};

/* cur_varint with a tighter loop and the one-byte case first: most fields
 * of an event (socket and task refs, states) fit in one byte, time deltas
 * in two. Same result and same errors as cur_varint. */
static inline __attribute__((always_inline)) uint64_t rd_varint(struct cur *c)
{
	const uint8_t *p = c->p, *e = c->end;
	uint64_t v = 0;
	unsigned shift = 0;

	if (__builtin_expect(c->err, 0))
		return 0;
	if (__builtin_expect(p < e && !(*p & 0x80), 1)) {
		c->p = p + 1;
		return *p;
	}
	while (p < e) {
		uint8_t b = *p++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			if (shift == 63 && b > 1)
				break;	/* over 64 bits */
			c->p = p;
			return v;
		}
		shift += 7;
		if (shift > 63)
			break;
	}
	c->err = 1;
	return 0;
}

/* An address of LEN (4 or 16) bytes into a zeroed 16-byte field. */
static inline void rd_addr(uint8_t dst[16], const uint8_t *src, size_t len)
{
	if (len == 4) {
		memset(dst + 4, 0, 12);
		memcpy(dst, src, 4);
	} else {
		memcpy(dst, src, 16);
	}
}

/* Live socket ID: open addressing, Fibonacci hash (ids are sequential). */
static inline size_t rd_sock_slot(const struct trail_reader *r, uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 20) & (r->sock_cap - 1);
}

static inline struct sockent *rd_sock_find_inl(const struct trail_reader *r, uint64_t id)
{
	if (!r->sock_cap || !id)
		return NULL;
	for (size_t i = rd_sock_slot(r, id);; i = (i + 1) & (r->sock_cap - 1)) {
		if (r->sock_ids[i] == id)
			return &r->socks[i];
		if (!r->sock_ids[i])
			return NULL;
	}
}

const char *rd_block_name(int type);
/* Stop reading with status ST and a message; returns 0. */
__attribute__((format(printf, 3, 4)))
int rd_stop(struct trail_reader *r, enum trail_status st, const char *fmt, ...);

#define malformed(r, what, ...) \
	rd_stop(r, TRAIL_CORRUPT, "malformed %s block at offset %llu: " what, \
		rd_block_name((r)->blk_type), (unsigned long long)(r)->blk_off, ##__VA_ARGS__)

struct sockent *rd_sock_find(const struct trail_reader *r, uint64_t id);
/* NULL when out of memory. */
struct sockent *rd_sock_insert(struct trail_reader *r, uint64_t id);
void rd_sock_remove(struct trail_reader *r, uint64_t id);
/* A string of at most MAX bytes into BUF (MAX + 1 bytes); 0 on success. */
int rd_get_string(struct cur *c, char *buf, size_t max);
/* Whole-block parsers and the record decoder: 1 with *rec filled, 0 after
 * rd_stop(), or -ENOMEM. */
int rd_parse_enum(struct trail_reader *r, struct trail_record *rec);
int rd_parse_loss(struct trail_reader *r, struct trail_record *rec);
int rd_event_record(struct trail_reader *r, struct trail_record *rec);
int rd_next(struct trail_reader *r, struct trail_record *rec);

#endif
