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

#include "trail_int.h"

#define DEFAULT_BLOCK_BYTES (1u << 20)
#define DEFAULT_LEVEL 3

struct trail_writer {
	int fd;
	int err;		/* sticky: first write error */
	uint64_t off;		/* end of the last complete block */
	struct trail_writer_opts opts;
	struct tbuf ev;		/* records of the open events block */
	struct tbuf blk;	/* block being assembled */
	struct tbuf raw;	/* base_ts + records, before compression */
	struct tbuf rec;	/* body of the record being built */
	uint64_t base_ts, last_ts;
	int have_ts;
	uint64_t pend_ts;	/* time of the timed record being built */
	uint64_t last_sock;	/* last id handed out */
	uint64_t records, socks, blocks;
	ZSTD_CCtx *zc;
};

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
static int put_block(struct trail_writer *w, uint32_t type, const uint8_t *payload, size_t len)
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
		err = put_block(w, BLK_META, b.p, b.len);
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
		err = put_block(w, BLK_ENUM, b.p, b.len);
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
		err = put_block(w, BLK_CLOCK, b.p, b.len);
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
		err = put_block(w, BLK_LOSS, b.p, b.len);
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
		err = put_block(w, BLK_EVENTS, pay.p, pay.len);
		tbuf_free(&pay);
	} else {
		struct tbuf pay = { 0 };

		err = tbuf_u8(&pay, CODEC_RAW) ?: tbuf_varint(&pay, w->raw.len) ?:
		      tbuf_put(&pay, w->raw.p, w->raw.len);
		if (!err)
			err = put_block(w, BLK_EVENTS, pay.p, pay.len);
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

/* Append one record (kind, body) to the open events block. */
static int put_record(struct trail_writer *w, uint8_t kind, const struct tbuf *body)
{
	int err;

	if (w->err)
		return w->err;
	err = tbuf_u8(&w->ev, kind) ?: tbuf_varint(&w->ev, body->len) ?:
	      tbuf_put(&w->ev, body->p, body->len);
	if (err)
		return err;
	/* the block's clock moves only once the record is in */
	if (kind & REC_TIMED) {
		if (!w->have_ts) {
			w->have_ts = 1;
			w->base_ts = w->pend_ts;
		}
		w->last_ts = w->pend_ts;
		w->records++;
	}
	if (w->ev.len >= w->opts.block_bytes)
		return trail_writer__flush(w);
	return 0;
}

static int put_dt(struct trail_writer *w, struct tbuf *b, uint64_t ts)
{
	int64_t dt = w->have_ts ? (int64_t)(ts - w->last_ts) : 0;

	w->pend_ts = ts;
	return tbuf_varint(b, zigzag(dt));
}

static struct tbuf *rec_body(struct trail_writer *w)
{
	w->rec.len = 0;
	return &w->rec;
}

static int put_task(struct tbuf *b, uint32_t slot);

static int sock_ref(const struct trail_writer *w, uint64_t id, uint64_t *ref)
{
	if (!id || id > w->last_sock)
		return -EINVAL;
	*ref = w->last_sock - id;
	return 0;
}

static int put_tuple(struct tbuf *b, const struct trail_sock *s)
{
	size_t alen = s->family == TRAIL_FAMILY_INET6 ? 16 : 4;

	return tbuf_varint(b, s->sport) ?: tbuf_varint(b, s->dport) ?:
	       tbuf_put(b, s->saddr, alen) ?: tbuf_put(b, s->daddr, alen);
}

int trail_writer__sock(struct trail_writer *w, const struct trail_sock *s, uint64_t *id)
{
	struct tbuf *b = rec_body(w);
	int err;

	if (s->family != TRAIL_FAMILY_INET && s->family != TRAIL_FAMILY_INET6)
		return -EINVAL;
	err = tbuf_varint(b, s->cookie) ?: tbuf_varint(b, s->skaddr) ?:
	      tbuf_varint(b, s->netns) ?: tbuf_u8(b, s->family) ?:
	      tbuf_u8(b, s->protocol) ?: put_tuple(b, s) ?: tbuf_varint(b, s->kind);
	if (!err)
		err = put_record(w, REC_SOCK, b);
	if (err)
		return err;
	w->last_sock++;
	w->socks++;
	if (id)
		*id = w->last_sock;
	return 0;
}

int trail_writer__tuple(struct trail_writer *w, const struct trail_sock *s)
{
	struct tbuf *b = rec_body(w);
	uint64_t ref;
	int err;

	err = sock_ref(w, s->id, &ref);
	if (err)
		return err;
	err = tbuf_varint(b, ref) ?: put_tuple(b, s);
	if (!err)
		err = put_record(w, REC_TUPLE, b);
	return err;
}

int trail_writer__retire(struct trail_writer *w, uint64_t sock_id)
{
	struct tbuf *b = rec_body(w);
	uint64_t ref;
	int err;

	err = sock_ref(w, sock_id, &ref) ?: tbuf_varint(b, ref);
	if (!err)
		err = put_record(w, REC_RETIRE, b);
	return err;
}

int trail_writer__task(struct trail_writer *w, const struct trail_task *t)
{
	struct tbuf *b = rec_body(w);
	char comm[17];
	int err;

	if (t->slot >= TRAIL_TASK_SLOTS)
		return -EINVAL;
	memcpy(comm, t->comm, 16);
	comm[16] = 0;
	err = tbuf_varint(b, t->slot) ?: tbuf_varint(b, t->pid) ?:
	      tbuf_varint(b, t->tid) ?: tbuf_string(b, comm);
	if (!err)
		err = put_record(w, REC_TASK, b);
	return err;
}

int trail_writer__state(struct trail_writer *w, const struct trail_state *st)
{
	struct tbuf *b = rec_body(w);
	uint64_t ref;
	int err;

	err = sock_ref(w, st->sock_id, &ref);
	if (err)
		return err;
	if (st->task_slot != TRAIL_NO_TASK && st->task_slot >= TRAIL_TASK_SLOTS)
		return -EINVAL;
	err = put_dt(w, b, st->ts_ns) ?: tbuf_varint(b, ref) ?: put_task(b, st->task_slot) ?:
	      tbuf_varint(b, st->oldstate) ?: tbuf_varint(b, st->newstate);
	if (!err)
		err = put_record(w, REC_STATE, b);
	return err;
}

int trail_writer__link(struct trail_writer *w, const struct trail_link *l)
{
	struct tbuf *b = rec_body(w);
	uint64_t ref, other;
	int err;

	err = sock_ref(w, l->sock_id, &ref) ?: sock_ref(w, l->other_id, &other) ?:
	      tbuf_varint(b, ref) ?: tbuf_varint(b, other) ?: tbuf_varint(b, l->relation);
	return err ?: put_record(w, REC_LINK, b);
}

int trail_writer__stack(struct trail_writer *w, const struct trail_stack *st)
{
	struct tbuf *b = rec_body(w);
	int err;

	if (!st->id || st->id > TRAIL_MAX_STACKS || st->nframes > TRAIL_MAX_STACK_DEPTH)
		return -EINVAL;
	err = tbuf_varint(b, st->id) ?: tbuf_varint(b, st->nframes);
	for (uint32_t i = 0; !err && i < st->nframes; i++) {
		if (strlen(st->frames[i]) > TRAIL_MAX_FRAME)
			return -E2BIG;
		err = tbuf_string(b, st->frames[i]);
	}
	return err ?: put_record(w, REC_STACK, b);
}

/* Optional socket: 0 for none, else the back reference plus one. */
static int put_opt_sock(struct trail_writer *w, struct tbuf *b, uint64_t id)
{
	uint64_t ref;

	if (!id)
		return tbuf_varint(b, 0);
	return sock_ref(w, id, &ref) ?: tbuf_varint(b, ref + 1);
}

static int put_task(struct tbuf *b, uint32_t slot)
{
	if (slot != TRAIL_NO_TASK && slot >= TRAIL_TASK_SLOTS)
		return -EINVAL;
	return tbuf_varint(b, slot == TRAIL_NO_TASK ? 0 : slot + 1);
}

static int put_reason(struct tbuf *b, int64_t reason)
{
	if (reason == TRAIL_NO_REASON)
		return tbuf_varint(b, 0);
	if (reason < 0 || reason == INT64_MAX)
		return -EINVAL;
	return tbuf_varint(b, (uint64_t)reason + 1);
}

static int put_state(struct tbuf *b, uint16_t state)
{
	return tbuf_varint(b, state == TRAIL_NO_STATE ? 0 : (uint64_t)state + 1);
}

static int put_segment(struct tbuf *b, const struct trail_segment *g)
{
	size_t alen;

	if (!g->family)
		return tbuf_u8(b, 0);
	if (g->family != TRAIL_FAMILY_INET && g->family != TRAIL_FAMILY_INET6)
		return -EINVAL;
	alen = g->family == TRAIL_FAMILY_INET6 ? 16 : 4;
	return tbuf_u8(b, g->family) ?: tbuf_varint(b, g->sport) ?: tbuf_varint(b, g->dport) ?:
	       tbuf_put(b, g->saddr, alen) ?: tbuf_put(b, g->daddr, alen) ?:
	       tbuf_u8(b, g->flags) ?: tbuf_varint(b, g->seq) ?: tbuf_varint(b, g->ack) ?:
	       tbuf_varint(b, g->len);
}

/* Check the socket reference before the clock moves. */
static int check_sock(const struct trail_writer *w, uint64_t id, int optional)
{
	uint64_t ref;

	return optional && !id ? 0 : sock_ref(w, id, &ref);
}

int trail_writer__life(struct trail_writer *w, const struct trail_life *l)
{
	struct tbuf *b = rec_body(w);
	uint64_t ref;
	int err;

	err = sock_ref(w, l->sock_id, &ref);
	if (err)
		return err;
	err = put_dt(w, b, l->ts_ns) ?: tbuf_varint(b, ref) ?: put_task(b, l->task_slot) ?:
	      tbuf_varint(b, l->event) ?: tbuf_varint(b, l->value);
	return err ?: put_record(w, REC_LIFE, b);
}

int trail_writer__reset(struct trail_writer *w, const struct trail_reset *r)
{
	struct tbuf *b = rec_body(w);
	int err;

	err = check_sock(w, r->sock_id, 1);
	if (err)
		return err;
	err = put_dt(w, b, r->ts_ns) ?: put_opt_sock(w, b, r->sock_id) ?: put_task(b, r->task_slot) ?:
	      tbuf_varint(b, r->netns) ?: tbuf_u8(b, r->dir) ?: tbuf_u8(b, r->source) ?:
	      put_state(b, r->state) ?: put_reason(b, r->reason) ?: tbuf_varint(b, r->stack_id) ?:
	      put_segment(b, &r->seg);
	return err ?: put_record(w, REC_RESET, b);
}

int trail_writer__retrans(struct trail_writer *w, const struct trail_retrans *r)
{
	struct tbuf *b = rec_body(w);
	uint64_t ref;
	int err;

	err = sock_ref(w, r->sock_id, &ref);
	if (err)
		return err;
	err = put_dt(w, b, r->ts_ns) ?: tbuf_varint(b, ref) ?: put_task(b, r->task_slot) ?:
	      tbuf_u8(b, r->kind) ?: put_state(b, r->state) ?: put_segment(b, &r->seg);
	return err ?: put_record(w, REC_RETRANS, b);
}

int trail_writer__drop(struct trail_writer *w, const struct trail_drop *d)
{
	struct tbuf *b = rec_body(w);
	int err;

	err = check_sock(w, d->sock_id, 1);
	if (err)
		return err;
	err = put_dt(w, b, d->ts_ns) ?: put_opt_sock(w, b, d->sock_id) ?: put_task(b, d->task_slot) ?:
	      tbuf_varint(b, d->netns) ?: put_reason(b, d->reason) ?: tbuf_varint(b, d->stack_id) ?:
	      put_segment(b, &d->seg);
	return err ?: put_record(w, REC_DROP, b);
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
		err = put_block(w, BLK_END, b.p, b.len);
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
