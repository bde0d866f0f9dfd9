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

struct trail_reader {
	const uint8_t *data;
	size_t size;
	void *owned;		/* malloc'd copy, or NULL */
	void *map;		/* mmap'd file, or NULL */
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
	size_t sock_cap, sock_count;
	uint64_t last_sock, pending_retire;
	struct trail_task tasks[TRAIL_TASK_SLOTS];
	uint8_t task_def[TRAIL_TASK_SLOTS];
	struct enumtab enums[TRAIL_MAX_ENUMS];
	unsigned nenums;
	struct stackent *stacks;	/* TRAIL_MAX_STACKS + 1, on first use */
	size_t stack_bytes;
};

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

#endif
