// SPDX-License-Identifier: BSD-2-Clause
/* trail reader: walks a capture block by block, record by record. Every
 * capture is untrusted (it comes from a bug ticket): each length is
 * checked against what is left before it is used, allocations are bounded
 * by the limits in trail.h, and the first problem stops reading with a
 * message naming the offset while everything before it stays delivered. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "reader_int.h"

const char *rd_block_name(int type)
{
	switch (type) {
	case BLK_META: return "META";
	case BLK_ENUM: return "ENUM";
	case BLK_CLOCK: return "CLOCK";
	case BLK_EVENTS: return "EVENTS";
	case BLK_LOSS: return "LOSS";
	case BLK_END: return "END";
	default: return "unknown";
	}
}

__attribute__((format(printf, 3, 4)))
int rd_stop(struct trail_reader *r, enum trail_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->status = st;
	r->done = 1;
	r->blk_type = 0;
	/* nothing of the file is read after this: let its pages go */
	if (r->map && r->size > r->released &&
	    !madvise((uint8_t *)r->map + r->released, r->size - r->released, MADV_DONTNEED))
		r->released = r->size;
	return 0;
}

static int check_preamble(struct trail_reader *r, char *err, size_t errlen)
{
	static const uint8_t pcap_le[4] = { 0xd4, 0xc3, 0xb2, 0xa1 }, pcapng[4] = { 0x0a, 0x0d, 0x0d, 0x0a };

	if (r->size < TRAIL_PREAMBLE_LEN) {
		if (r->size >= TRAIL_MAGIC_LEN && !memcmp(r->data, TRAIL_MAGIC, TRAIL_MAGIC_LEN))
			snprintf(err, errlen, "truncated at offset 0: preamble needs %d bytes, file has %zu",
				 TRAIL_PREAMBLE_LEN, r->size);
		else
			snprintf(err, errlen, "not a tcptrail capture: %zu bytes, shorter than the %d-byte preamble",
				 r->size, TRAIL_PREAMBLE_LEN);
		return -EINVAL;
	}
	if (memcmp(r->data, TRAIL_MAGIC, TRAIL_MAGIC_LEN)) {
		const char *hint = "";
		if (!memcmp(r->data, pcap_le, 4) || !memcmp(r->data, pcapng, 4))
			hint = " (this is a pcap file; tcptrail reads the .trail file recorded with it)";
		snprintf(err, errlen, "not a tcptrail capture: bad magic at offset 0%s", hint);
		return -EINVAL;
	}
	r->major = get_le16(r->data + 8);
	r->minor = get_le16(r->data + 10);
	if (r->major == 0 || r->major > TRAIL_MAJOR) {
		snprintf(err, errlen, "capture format version %u.%u is not readable by this tcptrail, "
			 "which reads version %u.x%s", r->major, r->minor, TRAIL_MAJOR,
			 r->major > TRAIL_MAJOR ? ": upgrade tcptrail" : "");
		return -EPROTONOSUPPORT;
	}
	r->off = TRAIL_PREAMBLE_LEN;
	return 0;
}

static int reader_init(struct trail_reader **out, struct trail_reader *r, char *err, size_t errlen)
{
	int rc = check_preamble(r, err, errlen);

	if (!rc) {
		r->zd = ZSTD_createDCtx();
		if (!r->zd) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
		}
	}
	if (rc) {
		trail_reader__close(r);
		return rc;
	}
	*out = r;
	return 0;
}

int trail_reader__open_mem(struct trail_reader **out, const void *data, size_t len,
			   char *err, size_t errlen)
{
	struct trail_reader *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->data = data;
	r->size = len;
	return reader_init(out, r, err, errlen);
}

/* Pipes and other unmappable inputs are read whole. */
static int slurp(int fd, uint8_t **buf, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	uint8_t *p = malloc(cap);

	if (!p)
		return -ENOMEM;
	for (;;) {
		ssize_t k;
		if (n == cap) {
			uint8_t *q = realloc(p, cap * 2);
			if (!q) {
				free(p);
				return -ENOMEM;
			}
			p = q;
			cap *= 2;
		}
		k = read(fd, p + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = -errno;
			free(p);
			return e;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*buf = p;
	*len = n;
	return 0;
}

/* LIMIT: read at most this many bytes (UINT64_MAX: all). */
static int open_path(struct trail_reader **out, const char *path, uint64_t limit, char *err,
		     size_t errlen)
{
	struct trail_reader *r;
	struct stat st;
	int fd, rc;

	*out = NULL;
	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		size_t len = (uint64_t)st.st_size < limit ? (size_t)st.st_size : (size_t)limit;
		void *m = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
		if (m != MAP_FAILED) {
			r->map = m;
			r->data = m;
			r->size = len;
			madvise(m, r->size, MADV_SEQUENTIAL);
		}
	}
	if (!r->map) {
		uint8_t *buf = NULL;
		rc = slurp(fd, &buf, &r->size);
		if (rc) {
			close(fd);
			free(r);
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
			return rc;
		}
		r->owned = buf;
		r->data = buf;
		if (r->size > limit)
			r->size = (size_t)limit;
	}
	close(fd);
	rc = reader_init(out, r, err, errlen);
	if (rc) {
		/* prefix the file name to the message */
		char tmp[512];
		snprintf(tmp, sizeof(tmp), "%s: %s", path, err);
		snprintf(err, errlen, "%s", tmp);
	}
	return rc;
}

int trail_reader__open(struct trail_reader **out, const char *path, char *err, size_t errlen)
{
	return open_path(out, path, UINT64_MAX, err, errlen);
}

int trail_reader__open_prefix(struct trail_reader **out, const char *path, uint64_t len,
			      char *err, size_t errlen)
{
	return open_path(out, path, len, err, errlen);
}

uint64_t trail_reader__size(const struct trail_reader *r)
{
	return r->size;
}

void trail_reader__close(struct trail_reader *r)
{
	if (!r)
		return;
	if (r->map)
		munmap(r->map, r->size);
	free(r->owned);
	free(r->raw);
	free(r->socks);
	free(r->sock_ids);
	for (unsigned i = 0; i < r->nenums; i++) {
		free(r->enums[i].entries);
		free(r->enums[i].names);
	}
	if (r->stacks)
		for (uint32_t i = 0; i <= TRAIL_MAX_STACKS; i++)
			free(r->stacks[i].mem);
	free(r->stacks);
	ZSTD_freeDCtx(r->zd);
	free(r);
}

static int open_events(struct trail_reader *r)
{
	struct cur *c = &r->c;
	uint8_t codec = cur_u8(c);
	uint64_t raw_len = cur_varint(c);

	if (c->err || raw_len > TRAIL_MAX_BLOCK)
		return malformed(r, "raw length %llu over the %u-byte limit",
				 (unsigned long long)raw_len, TRAIL_MAX_BLOCK);
	if (codec == CODEC_RAW) {
		if (cur_left(c) != raw_len)
			return malformed(r, "raw length %llu but %zu bytes of records",
					 (unsigned long long)raw_len, cur_left(c));
	} else if (codec == CODEC_ZSTD) {
		size_t n;
		if (raw_len > r->raw_cap) {
			uint8_t *p = realloc(r->raw, raw_len);
			if (!p)
				return -ENOMEM;
			r->raw = p;
			r->raw_cap = raw_len;
		}
		n = ZSTD_decompressDCtx(r->zd, r->raw, raw_len, c->p, cur_left(c));
		if (ZSTD_isError(n))
			return malformed(r, "zstd: %s", ZSTD_getErrorName(n));
		if (n != raw_len)
			return malformed(r, "decompressed to %zu bytes, header says %llu", n,
					 (unsigned long long)raw_len);
		c->p = r->raw;
		c->end = r->raw + raw_len;
	} else {
		return malformed(r, "unknown codec %u", codec);
	}
	r->ts = cur_varint(c);
	if (c->err)
		return malformed(r, "no base time");
	return 1;
}

/* Pages of a mapped file behind the block being read are never needed
 * again: drop them from this process every few MB, so reading a large
 * capture does not grow the resident set with its size (the page cache
 * keeps them; a later access would fault them back in). 2 MB apart:
 * one madvise per ~100k records. */
static void release_behind(struct trail_reader *r)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t upto;

	if (!r->map || pg <= 0 || r->blk_off - r->released < RD_RELEASE_BYTES)
		return;
	upto = r->blk_off & ~((uint64_t)pg - 1);
	if (upto > r->released && !madvise((uint8_t *)r->map + r->released,
					   (size_t)(upto - r->released), MADV_DONTNEED))
		r->released = upto;
}

/* Open the block at r->off; returns 1 if it produced a record, 0 to go on
 * (or rd_stop, with r->done set), negative on allocation failure. */
static int next_block(struct trail_reader *r, struct trail_record *rec)
{
	const uint8_t *h = r->data + r->off;
	uint64_t left = r->size - r->off, len, total;
	uint32_t type, crc;

	if (left == 0)
		return r->end_seen ? rd_stop(r, TRAIL_OK, "complete") :
		       rd_stop(r, TRAIL_NO_END, "capture ends at offset %llu without an END block: "
			    "the recorder did not rd_stop cleanly", (unsigned long long)r->off);
	if (r->end_seen)
		return rd_stop(r, TRAIL_OK, "complete; %llu bytes after the END block at offset %llu ignored",
			    (unsigned long long)left, (unsigned long long)r->off);
	if (left < TRAIL_BLOCK_HDR)
		return rd_stop(r, TRAIL_TRUNCATED, "truncated at offset %llu: wanted an 8-byte block header, got %llu",
			    (unsigned long long)r->off, (unsigned long long)left);
	type = get_le32(h);
	len = get_le32(h + 4);
	if (len > TRAIL_MAX_BLOCK)
		return rd_stop(r, TRAIL_CORRUPT, "corrupt block at offset %llu: length %llu over the %u-byte limit",
			    (unsigned long long)r->off, (unsigned long long)len, TRAIL_MAX_BLOCK);
	total = TRAIL_BLOCK_HDR + ((len + 3) & ~3ull) + 4;
	if (total > left)
		return rd_stop(r, TRAIL_TRUNCATED, "truncated at offset %llu: %s block wants %llu bytes, got %llu",
			    (unsigned long long)r->off, rd_block_name((int)type), (unsigned long long)total,
			    (unsigned long long)left);
	crc = trail_crc32c(0, h, total - 4);
	if (crc != get_le32(h + total - 4))
		return rd_stop(r, TRAIL_CORRUPT, "corrupt block at offset %llu: checksum %08x, expected %08x",
			    (unsigned long long)r->off, get_le32(h + total - 4), crc);
	for (uint64_t i = len; i < ((len + 3) & ~3ull); i++)
		if (h[TRAIL_BLOCK_HDR + i])
			return rd_stop(r, TRAIL_CORRUPT, "corrupt block at offset %llu: non-zero padding",
				    (unsigned long long)r->off);

	r->blk_off = r->off;
	r->off += total;
	release_behind(r);
	r->blk_type = (int)type;
	r->c = (struct cur){ .p = h + TRAIL_BLOCK_HDR, .end = h + TRAIL_BLOCK_HDR + len };
	rec->offset = r->blk_off;

	switch (type) {
	case BLK_META:
		return 0;	/* pairs come one per call */
	case BLK_ENUM: {
		int rc = rd_parse_enum(r, rec);
		if (rc == 1)
			r->blk_type = 0;
		return rc;
	}
	case BLK_CLOCK: {
		struct cur *c = &r->c;
		rec->clock.boot_ns = cur_varint(c);
		rec->clock.real_ns = cur_varint(c);
		rec->clock.uncertainty_ns = cur_varint(c);
		if (c->err)
			return malformed(r, "clock anchor cut short");
		rec->type = TRAIL_REC_CLOCK;
		r->blk_type = 0;
		return 1;
	}
	case BLK_EVENTS: {
		int rc = open_events(r);
		return rc == 1 ? 0 : rc;
	}
	case BLK_LOSS: {
		int rc = rd_parse_loss(r, rec);
		if (rc == 1)
			r->blk_type = 0;
		return rc;
	}
	case BLK_END: {
		struct cur *c = &r->c;
		rec->end.records = cur_varint(c);
		rec->end.socks = cur_varint(c);
		rec->end.blocks = cur_varint(c);
		if (c->err)
			return malformed(r, "end block cut short");
		rec->type = TRAIL_REC_END;
		r->end_seen = 1;
		r->blk_type = 0;
		return 1;
	}
	default:
		r->blk_type = 0;
		if (type & TRAIL_BLOCK_CRITICAL)
			return rd_stop(r, TRAIL_CORRUPT, "block at offset %llu has type %#x, which this tcptrail "
				    "does not know and the writer marked as required: upgrade tcptrail",
				    (unsigned long long)r->blk_off, type);
		return 0;	/* optional block of a newer minor version */
	}
}

/* trail_reader__next (reader_events.c) past its fast path: block
 * boundaries, metadata, a socket retired by the previous record. */
int rd_next(struct trail_reader *r, struct trail_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	if (r->pending_retire) {
		rd_sock_remove(r, r->pending_retire);
		r->pending_retire = 0;
	}
	while (!r->done) {
		int rc;

		if (r->blk_type && !cur_left(&r->c)) {
			r->blk_type = 0;
			continue;
		}
		if (r->blk_type == BLK_META) {
			rec->offset = r->blk_off;
			if (rd_get_string(&r->c, r->key, TRAIL_MAX_STRING) ||
			    rd_get_string(&r->c, r->val, TRAIL_MAX_STRING))
				return malformed(r, "key/value pair cut short or holding NUL");
			rec->type = TRAIL_REC_META;
			rec->meta.key = r->key;
			rec->meta.value = r->val;
			return 1;
		}
		if (r->blk_type == BLK_EVENTS) {
			rec->offset = r->blk_off;
			rc = rd_event_record(r, rec);
		} else {
			rc = next_block(r, rec);
		}
		if (rc)
			return rc;
	}
	return 0;
}

enum trail_status trail_reader__status(const struct trail_reader *r)
{
	return r->status;
}

const char *trail_reader__message(const struct trail_reader *r)
{
	return r->msg;
}

uint64_t trail_reader__offset(const struct trail_reader *r)
{
	return r->off;
}

void trail_reader__version(const struct trail_reader *r, unsigned *major, unsigned *minor)
{
	*major = r->major;
	*minor = r->minor;
}

const struct trail_task *trail_reader__task(const struct trail_reader *r, uint32_t slot)
{
	return slot < TRAIL_TASK_SLOTS && r->task_def[slot] ? &r->tasks[slot] : NULL;
}
