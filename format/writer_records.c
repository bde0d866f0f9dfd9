// SPDX-License-Identifier: BSD-2-Clause
/* trail writer: the records of EVENTS blocks. Each checks its socket,
 * task and stack references before anything is buffered, so a refused
 * record leaves the block and its clock as they were. */
#include "writer_int.h"

/* Append one record (kind, body) to the open events block. */
int wr_put_record(struct trail_writer *w, uint8_t kind, const struct tbuf *body)
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
		err = wr_put_record(w, REC_SOCK, b);
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
		err = wr_put_record(w, REC_TUPLE, b);
	return err;
}

int trail_writer__retire(struct trail_writer *w, uint64_t sock_id)
{
	struct tbuf *b = rec_body(w);
	uint64_t ref;
	int err;

	err = sock_ref(w, sock_id, &ref) ?: tbuf_varint(b, ref);
	if (!err)
		err = wr_put_record(w, REC_RETIRE, b);
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
		err = wr_put_record(w, REC_TASK, b);
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
		err = wr_put_record(w, REC_STATE, b);
	return err;
}

int trail_writer__link(struct trail_writer *w, const struct trail_link *l)
{
	struct tbuf *b = rec_body(w);
	uint64_t ref, other;
	int err;

	err = sock_ref(w, l->sock_id, &ref) ?: sock_ref(w, l->other_id, &other) ?:
	      tbuf_varint(b, ref) ?: tbuf_varint(b, other) ?: tbuf_varint(b, l->relation);
	return err ?: wr_put_record(w, REC_LINK, b);
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
	return err ?: wr_put_record(w, REC_STACK, b);
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
	return err ?: wr_put_record(w, REC_LIFE, b);
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
	return err ?: wr_put_record(w, REC_RESET, b);
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
	return err ?: wr_put_record(w, REC_RETRANS, b);
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
	return err ?: wr_put_record(w, REC_DROP, b);
}
