/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of the trail format library: on-disk constants and the
 * varint/buffer helpers shared by writer.c and reader.c. */
#ifndef TCPTRAIL_TRAIL_INT_H
#define TCPTRAIL_TRAIL_INT_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trail.h"

/* On-disk constants: fixed forever, independent of any in-memory enum. */
#define TRAIL_MAGIC "\x89TRL\r\n\x1a\n"
#define TRAIL_MAGIC_LEN 8
#define TRAIL_PREAMBLE_LEN 16
#define TRAIL_BLOCK_HDR 8
#define TRAIL_BLOCK_CRITICAL 0x80000000u

enum {
	BLK_META = 1,
	BLK_ENUM = 2,
	BLK_CLOCK = 3,
	BLK_EVENTS = 4,
	BLK_LOSS = 5,
	BLK_END = 6,
};

enum {
	CODEC_RAW = 0,
	CODEC_ZSTD = 1,
};

/* Record kinds inside EVENTS; bit 7 marks a timed record whose body
 * starts with an svarint time delta, so readers keep the clock right
 * even across kinds they skip. */
#define REC_TIMED 0x80u
enum {
	REC_SOCK = 0x01,
	REC_TUPLE = 0x02,
	REC_RETIRE = 0x03,
	REC_TASK = 0x04,
	REC_LINK = 0x06,
	REC_STACK = 0x07,
	REC_STATE = 0x05 | REC_TIMED,
	REC_LIFE = 0x06 | REC_TIMED,
	REC_RESET = 0x07 | REC_TIMED,
	REC_RETRANS = 0x08 | REC_TIMED,
	REC_DROP = 0x09 | REC_TIMED,
};

#define TRAIL_MAX_STACK_BYTES (64u << 20)	/* all stacks of a file, reader side */

#define TRAIL_MAX_NAME 127u		/* enum entry name */
#define TRAIL_MAX_COUNTERS 256u
#define TRAIL_MAX_LIVE_SOCKS (1u << 22)

/* ---- growable byte buffer ---- */
struct tbuf {
	uint8_t *p;
	size_t len, cap;
};

static inline int tbuf_reserve(struct tbuf *b, size_t more)
{
	size_t need = b->len + more, cap;
	uint8_t *np;

	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	np = realloc(b->p, cap);
	if (!np)
		return -ENOMEM;
	b->p = np;
	b->cap = cap;
	return 0;
}

static inline int tbuf_put(struct tbuf *b, const void *d, size_t n)
{
	if (tbuf_reserve(b, n))
		return -ENOMEM;
	memcpy(b->p + b->len, d, n);
	b->len += n;
	return 0;
}

static inline int tbuf_u8(struct tbuf *b, uint8_t v)
{
	return tbuf_put(b, &v, 1);
}

static inline int tbuf_varint(struct tbuf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		tmp[n] = v & 0x7f;
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	return tbuf_put(b, tmp, n);
}

static inline uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static inline int tbuf_string(struct tbuf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > TRAIL_MAX_STRING)
		return -E2BIG;
	if (tbuf_varint(b, n))
		return -ENOMEM;
	return tbuf_put(b, s, n);
}

static inline void tbuf_free(struct tbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static inline uint16_t get_le16(const uint8_t *p)
{
	return p[0] | (uint16_t)p[1] << 8;
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- bounded decoding cursor; any overrun sets err and sticks ---- */
struct cur {
	const uint8_t *p, *end;
	int err;
};

static inline uint64_t cur_varint(struct cur *c)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (!c->err) {
		if (c->p >= c->end || shift > 63) {
			c->err = 1;
			break;
		}
		uint8_t b = *c->p++;
		if (shift == 63 && (b & 0x7e)) {	/* over 64 bits */
			c->err = 1;
			break;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
		shift += 7;
	}
	return 0;
}

static inline uint8_t cur_u8(struct cur *c)
{
	if (c->err || c->p >= c->end) {
		c->err = 1;
		return 0;
	}
	return *c->p++;
}

static inline const uint8_t *cur_bytes(struct cur *c, size_t n)
{
	const uint8_t *p = c->p;

	if (c->err || (size_t)(c->end - c->p) < n) {
		c->err = 1;
		return NULL;
	}
	c->p += n;
	return p;
}

static inline size_t cur_left(const struct cur *c)
{
	return c->err ? 0 : (size_t)(c->end - c->p);
}

#endif
