// SPDX-License-Identifier: BSD-2-Clause
/* trail writer: appends complete, checksummed blocks to a capture file.
 * A block is either written whole or the file is cut back to the end of
 * the previous one, so a reader always finds a clean prefix. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "writer_int.h"

#define DEFAULT_BLOCK_BYTES (1u << 20)
#define DEFAULT_LEVEL 3

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = write(fd, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Frame PAYLOAD as one block and append it; on failure the file is cut
 * back to the previous block boundary and the writer stays failed. */
int wr_put_block(struct trail_writer *w, uint32_t type, const uint8_t *payload, size_t len)
{
	static const uint8_t zero[4];
	uint8_t hdr[TRAIL_BLOCK_HDR], tail[4];
	size_t pad = (4 - (len & 3)) & 3;
	uint32_t crc;
	int err;

	if (w->err)
		return w->err;
	if (len > TRAIL_MAX_BLOCK)
		return -E2BIG;
	put_le32(hdr, type);
	put_le32(hdr + 4, (uint32_t)len);
	crc = trail_crc32c(0, hdr, sizeof(hdr));
	crc = trail_crc32c(crc, payload, len);
	crc = trail_crc32c(crc, zero, pad);
	put_le32(tail, crc);

	w->blk.len = 0;
	if (tbuf_put(&w->blk, hdr, sizeof(hdr)) || tbuf_put(&w->blk, payload, len) ||
	    tbuf_put(&w->blk, zero, pad) || tbuf_put(&w->blk, tail, sizeof(tail)))
		return -ENOMEM;
	err = write_all(w->fd, w->blk.p, w->blk.len);
	if (err) {
		/* leave no partial block behind; a full disk must not cost
		 * what was already recorded */
		if (ftruncate(w->fd, (off_t)w->off) == 0)
			lseek(w->fd, (off_t)w->off, SEEK_SET);
		w->err = err;
		return err;
	}
	w->off += w->blk.len;
	w->blocks++;
	return 0;
}

static int writer_init(struct trail_writer *w, const struct trail_writer_opts *opts)
{
	uint8_t pre[TRAIL_PREAMBLE_LEN] = { 0 };

	if (opts)
		w->opts = *opts;
	else
		w->opts.compress = 1;
	if (!w->opts.block_bytes)
		w->opts.block_bytes = DEFAULT_BLOCK_BYTES;
	if (w->opts.block_bytes > TRAIL_MAX_BLOCK / 2)
		w->opts.block_bytes = TRAIL_MAX_BLOCK / 2;
	if (w->opts.compress) {
		w->zc = ZSTD_createCCtx();
		if (!w->zc)
			return -ENOMEM;
		ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel,
				       w->opts.compress_level ? w->opts.compress_level : DEFAULT_LEVEL);
	}
	memcpy(pre, TRAIL_MAGIC, TRAIL_MAGIC_LEN);
	put_le16(pre + 8, TRAIL_MAJOR);
	put_le16(pre + 10, TRAIL_MINOR);
	return write_all(w->fd, pre, sizeof(pre)) ?: (w->off = sizeof(pre), 0);
}

int trail_writer__fdopen(struct trail_writer **out, int fd, const struct trail_writer_opts *opts)
{
	struct trail_writer *w = calloc(1, sizeof(*w));
	int err;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	err = writer_init(w, opts);
	if (err) {
		w->fd = -1;	/* the caller still owns fd on failure */
		trail_writer__abandon(w);
		return err;
	}
	*out = w;
	return 0;
}

int trail_writer__open(struct trail_writer **out, const char *path, const struct trail_writer_opts *opts)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int err;

	*out = NULL;
	if (fd < 0)
		return -errno;
	/* O_CREAT's mode only applies to new files; captures are private */
	if (fchmod(fd, 0600) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	err = trail_writer__fdopen(out, fd, opts);
	if (err)
		close(fd);
	return err;
}

int trail_writer__meta(struct trail_writer *w, const char *key, const char *value)
{
	struct tbuf b = { 0 };
	int err;

	err = tbuf_string(&b, key) ?: tbuf_string(&b, value);
	if (!err)
		err = wr_put_block(w, BLK_META, b.p, b.len);
	tbuf_free(&b);
	return err;
}

int trail_writer__enum(struct trail_writer *w, const char *name,
		       const struct trail_enum_entry *e, uint32_t count)
{
	struct tbuf b = { 0 };
	int err;

	if (count > TRAIL_MAX_ENUM_ENTRIES)
		return -E2BIG;
	err = tbuf_string(&b, name) ?: tbuf_varint(&b, count);
	for (uint32_t i = 0; !err && i < count; i++) {
		if (strlen(e[i].name) > TRAIL_MAX_NAME) {
			err = -E2BIG;
			break;
		}
		err = tbuf_varint(&b, zigzag(e[i].value)) ?: tbuf_string(&b, e[i].name);
	}
	if (!err)
		err = wr_put_block(w, BLK_ENUM, b.p, b.len);
	tbuf_free(&b);
	return err;
}

int trail_writer__clock(struct trail_writer *w, const struct trail_clock *c)
{
	struct tbuf b = { 0 };
	int err;

	err = tbuf_varint(&b, c->boot_ns) ?: tbuf_varint(&b, c->real_ns) ?:
	      tbuf_varint(&b, c->uncertainty_ns);
	if (!err)
		err = wr_put_block(w, BLK_CLOCK, b.p, b.len);
	tbuf_free(&b);
	return err;
}

int trail_writer__loss(struct trail_writer *w, const struct trail_loss *l)
{
	struct tbuf b = { 0 };
	int err;

	if (l->ncpus > TRAIL_MAX_CPUS || l->ncounters > TRAIL_MAX_COUNTERS)
		return -E2BIG;
	err = tbuf_varint(&b, l->ncpus);
	for (uint32_t i = 0; !err && i < l->ncpus; i++)
		err = tbuf_varint(&b, l->percpu_ringbuf[i]);
	if (!err)
		err = tbuf_varint(&b, l->ncounters);
	for (uint32_t i = 0; !err && i < l->ncounters; i++)
		err = tbuf_string(&b, l->counters[i].name) ?: tbuf_varint(&b, l->counters[i].value);
	if (!err)
		err = wr_put_block(w, BLK_LOSS, b.p, b.len);
	tbuf_free(&b);
	return err;
}

int trail_writer__flush(struct trail_writer *w)
{
	int err;

	if (w->err)
		return w->err;
	if (!w->ev.len)
		return 0;
	w->raw.len = 0;
	err = tbuf_varint(&w->raw, w->have_ts ? w->base_ts : 0) ?:
	      tbuf_put(&w->raw, w->ev.p, w->ev.len);
	if (err)
		return err;
	if (w->raw.len > TRAIL_MAX_BLOCK)
		return -E2BIG;

	/* payload: codec, raw_len, data */
	if (w->zc) {
		size_t bound = ZSTD_compressBound(w->raw.len), n;
		struct tbuf pay = { 0 };

		err = tbuf_reserve(&pay, 11 + bound);
		if (err)
			return err;
		pay.p[0] = CODEC_ZSTD;
		pay.len = 1;
		tbuf_varint(&pay, w->raw.len);
		n = ZSTD_compress2(w->zc, pay.p + pay.len, pay.cap - pay.len, w->raw.p, w->raw.len);
		if (ZSTD_isError(n)) {
			tbuf_free(&pay);
			return -EIO;
		}
		pay.len += n;
		err = wr_put_block(w, BLK_EVENTS, pay.p, pay.len);
		tbuf_free(&pay);
	} else {
		struct tbuf pay = { 0 };

		err = tbuf_u8(&pay, CODEC_RAW) ?: tbuf_varint(&pay, w->raw.len) ?:
		      tbuf_put(&pay, w->raw.p, w->raw.len);
		if (!err)
			err = wr_put_block(w, BLK_EVENTS, pay.p, pay.len);
		tbuf_free(&pay);
	}
	if (err)
		return err;
	w->ev.len = 0;
	w->have_ts = 0;
	if (w->opts.fsync_on_flush)
		fdatasync(w->fd);
	return 0;
}

uint64_t trail_writer__bytes(const struct trail_writer *w)
{
	return w ? w->off : 0;
}

int trail_writer__close(struct trail_writer *w)
{
	struct tbuf b = { 0 };
	int err;

	if (!w)
		return 0;
	err = trail_writer__flush(w);
	if (!err)
		err = tbuf_varint(&b, w->records) ?: tbuf_varint(&b, w->socks) ?:
		      tbuf_varint(&b, w->blocks + 1);
	if (!err)
		err = wr_put_block(w, BLK_END, b.p, b.len);
	tbuf_free(&b);
	if (!err && fsync(w->fd) < 0)
		err = -errno;
	if (w->fd >= 0 && close(w->fd) < 0 && !err)
		err = -errno;
	w->fd = -1;
	trail_writer__abandon(w);
	return err;
}

void trail_writer__abandon(struct trail_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	ZSTD_freeCCtx(w->zc);
	tbuf_free(&w->ev);
	tbuf_free(&w->blk);
	tbuf_free(&w->raw);
	tbuf_free(&w->rec);
	free(w);
}
