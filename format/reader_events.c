// SPDX-License-Identifier: BSD-2-Clause
/* trail reader: decoding the records inside an EVENTS block. Each record
 * body is parsed through its own bounded cursor; any field that runs past
 * it, or names a socket, task or stack that does not exist, stops reading
 * with the block's offset. */
#include <stdarg.h>
#include <stdio.h>

#include "reader_int.h"

/* Resolve a back reference to a live socket. */
static struct sockent *ref_sock(struct trail_reader *r, struct cur *b, uint64_t *id)
{
	uint64_t ref = rd_varint(b);

	if (b->err || ref >= r->last_sock)
		return NULL;
	*id = r->last_sock - ref;
	return rd_sock_find_inl(r, *id);
}

static int get_tuple(struct cur *b, struct trail_sock *s)
{
	size_t alen = s->family == TRAIL_FAMILY_INET6 ? 16 : 4;
	uint64_t sp = rd_varint(b), dp = rd_varint(b);
	const uint8_t *sa = cur_bytes(b, alen), *da = cur_bytes(b, alen);

	if (b->err || sp > 0xffff || dp > 0xffff)
		return -1;
	s->sport = (uint16_t)sp;
	s->dport = (uint16_t)dp;
	rd_addr(s->saddr, sa, alen);
	rd_addr(s->daddr, da, alen);
	return 0;
}

/* Optional socket reference (0: none, else back reference + 1). */
static int ref_opt_sock(struct trail_reader *r, struct cur *b, uint64_t *id)
{
	uint64_t ref = rd_varint(b);

	*id = 0;
	if (b->err)
		return -1;
	if (!ref)
		return 0;
	if (ref - 1 >= r->last_sock)
		return -1;
	*id = r->last_sock - (ref - 1);
	return rd_sock_find(r, *id) ? 0 : -1;
}

static int get_task_ref(struct trail_reader *r, struct cur *b, uint32_t *slot)
{
	uint64_t task = rd_varint(b);

	if (b->err || task > TRAIL_TASK_SLOTS || (task && !r->task_def[task - 1]))
		return -1;
	*slot = task ? (uint32_t)(task - 1) : TRAIL_NO_TASK;
	return 0;
}

static int get_reason(struct cur *b, int64_t *reason)
{
	uint64_t v = rd_varint(b);

	if (b->err || v > (uint64_t)INT64_MAX)
		return -1;
	*reason = v ? (int64_t)(v - 1) : TRAIL_NO_REASON;
	return 0;
}

static int get_state(struct cur *b, uint16_t *state)
{
	uint64_t v = rd_varint(b);

	if (b->err || v > 0xffff)
		return -1;
	*state = v ? (uint16_t)(v - 1) : TRAIL_NO_STATE;
	return 0;
}

static int get_segment(struct cur *b, struct trail_segment *g)
{
	size_t alen;
	uint64_t sp, dp, seq, ack, len;
	const uint8_t *sa, *da;

	memset(g, 0, sizeof(*g));
	g->family = cur_u8(b);
	if (b->err)
		return -1;
	if (!g->family)
		return 0;
	if (g->family != TRAIL_FAMILY_INET && g->family != TRAIL_FAMILY_INET6)
		return -1;
	alen = g->family == TRAIL_FAMILY_INET6 ? 16 : 4;
	sp = rd_varint(b);
	dp = rd_varint(b);
	sa = cur_bytes(b, alen);
	da = cur_bytes(b, alen);
	g->flags = cur_u8(b);
	seq = rd_varint(b);
	ack = rd_varint(b);
	len = rd_varint(b);
	if (b->err || sp > 0xffff || dp > 0xffff || seq > UINT32_MAX || ack > UINT32_MAX ||
	    len > UINT32_MAX)
		return -1;
	g->sport = (uint16_t)sp;
	g->dport = (uint16_t)dp;
	rd_addr(g->saddr, sa, alen);
	rd_addr(g->daddr, da, alen);
	g->seq = (uint32_t)seq;
	g->ack = (uint32_t)ack;
	g->len = (uint32_t)len;
	return 0;
}

static int get_stack_ref(struct trail_reader *r, struct cur *b, uint32_t *id)
{
	uint64_t v = rd_varint(b);

	if (b->err || v > TRAIL_MAX_STACKS || (v && (!r->stacks || !r->stacks[v].mem)))
		return -1;
	*id = (uint32_t)v;
	return 0;
}

/* A STACK record: frames copied into one allocation, bounded per file. */
static int stack_record(struct trail_reader *r, struct cur *b, struct trail_record *rec)
{
	uint64_t id = rd_varint(b), n = rd_varint(b);
	char frame[TRAIL_MAX_FRAME + 1];
	struct stackent *e;
	size_t bytes, used;
	char **ptrs;
	char *mem;

	if (b->err || !id || id > TRAIL_MAX_STACKS || n > TRAIL_MAX_STACK_DEPTH)
		return malformed(r, "bad stack record");
	/* worst case first, then checked against the file's budget */
	bytes = n * sizeof(char *) + n * (TRAIL_MAX_FRAME + 1);
	if (!r->stacks) {
		r->stacks = calloc(TRAIL_MAX_STACKS + 1, sizeof(*r->stacks));
		if (!r->stacks)
			return -ENOMEM;
	}
	e = &r->stacks[id];
	if (r->stack_bytes - e->bytes + bytes > TRAIL_MAX_STACK_BYTES)
		return malformed(r, "stacks over the %u-byte limit", TRAIL_MAX_STACK_BYTES);
	mem = malloc(bytes ? bytes : 1);
	if (!mem)
		return -ENOMEM;
	ptrs = (char **)mem;
	used = n * sizeof(char *);
	for (uint64_t i = 0; i < n; i++) {
		if (rd_get_string(b, frame, TRAIL_MAX_FRAME)) {
			free(mem);
			return malformed(r, "stack %llu frame %llu cut or too long",
					 (unsigned long long)id, (unsigned long long)i);
		}
		ptrs[i] = mem + used;
		memcpy(mem + used, frame, strlen(frame) + 1);
		used += strlen(frame) + 1;
	}
	r->stack_bytes -= e->bytes;
	free(e->mem);
	e->mem = mem;
	e->bytes = bytes;
	r->stack_bytes += bytes;
	e->st.id = (uint32_t)id;
	e->st.nframes = (uint32_t)n;
	e->st.frames = (const char *const *)ptrs;
	rec->type = TRAIL_REC_STACK;
	rec->stack = e->st;
	return 1;
}

static inline __attribute__((always_inline))
int event_record(struct trail_reader *r, struct trail_record *rec)
{
	struct cur *c = &r->c;
	uint8_t kind = cur_u8(c);
	uint64_t len = rd_varint(c), id = 0;
	const uint8_t *body;
	struct cur b;
	struct sockent *e;

	if (c->err || len > cur_left(c))
		return malformed(r, "record cut short");
	body = cur_bytes(c, (size_t)len);
	b = (struct cur){ .p = body, .end = body + len };
	if (kind & REC_TIMED)
		r->ts += (uint64_t)unzigzag(rd_varint(&b));

	switch (kind) {
	case REC_SOCK: {
		struct trail_sock s = { 0 };
		s.cookie = rd_varint(&b);
		s.skaddr = rd_varint(&b);
		uint64_t ns = rd_varint(&b);
		s.family = cur_u8(&b);
		s.protocol = cur_u8(&b);
		if (b.err || ns > UINT32_MAX ||
		    (s.family != TRAIL_FAMILY_INET && s.family != TRAIL_FAMILY_INET6) ||
		    get_tuple(&b, &s))
			return malformed(r, "bad socket record");
		uint64_t sk_kind = rd_varint(&b);
		if (b.err || sk_kind > TRAIL_SOCK_TIMEWAIT)
			return malformed(r, "bad socket kind");
		s.kind = (uint8_t)sk_kind;
		s.netns = (uint32_t)ns;
		if (r->sock_count >= TRAIL_MAX_LIVE_SOCKS)
			return malformed(r, "more than %u live sockets", TRAIL_MAX_LIVE_SOCKS);
		s.id = ++r->last_sock;
		e = rd_sock_insert(r, s.id);
		if (!e)
			return -ENOMEM;
		e->s = s;
		rec->type = TRAIL_REC_SOCK;
		rec->sock = s;
		return 1;
	}
	case REC_TUPLE:
		e = ref_sock(r, &b, &id);
		if (!e || get_tuple(&b, &e->s))
			return malformed(r, "bad tuple record (socket %llu)", (unsigned long long)id);
		rec->type = TRAIL_REC_TUPLE;
		rec->sock = e->s;
		return 1;
	case REC_RETIRE:
		e = ref_sock(r, &b, &id);
		if (!e)
			return malformed(r, "retire of unknown socket %llu", (unsigned long long)id);
		rec->type = TRAIL_REC_RETIRE;
		rec->retire = id;
		r->pending_retire = id;	/* still resolvable until the next record */
		return 1;
	case REC_TASK: {
		uint64_t slot = rd_varint(&b), pid = rd_varint(&b), tid = rd_varint(&b);
		char comm[17];
		if (b.err || slot >= TRAIL_TASK_SLOTS || pid > UINT32_MAX || tid > UINT32_MAX ||
		    rd_get_string(&b, comm, 16))
			return malformed(r, "bad task record");
		struct trail_task *t = &r->tasks[slot];
		t->slot = (uint32_t)slot;
		t->pid = (uint32_t)pid;
		t->tid = (uint32_t)tid;
		memcpy(t->comm, comm, sizeof(t->comm));
		r->task_def[slot] = 1;
		rec->type = TRAIL_REC_TASK;
		rec->task = *t;
		return 1;
	}
	case REC_STATE: {
		e = ref_sock(r, &b, &id);
		uint64_t task = rd_varint(&b), os = rd_varint(&b), ns = rd_varint(&b);
		if (!e)
			return malformed(r, "state change of unknown socket %llu", (unsigned long long)id);
		if (b.err || os > 0xffff || ns > 0xffff || task > TRAIL_TASK_SLOTS ||
		    (task && !r->task_def[task - 1]))
			return malformed(r, "bad state record");
		rec->type = TRAIL_REC_STATE;
		rec->state.ts_ns = r->ts;
		rec->state.sock_id = id;
		rec->state.task_slot = task ? (uint32_t)(task - 1) : TRAIL_NO_TASK;
		rec->state.oldstate = (uint16_t)os;
		rec->state.newstate = (uint16_t)ns;
		return 1;
	}
	case REC_LINK: {
		uint64_t other;
		struct sockent *o;
		e = ref_sock(r, &b, &id);
		o = ref_sock(r, &b, &other);
		uint64_t rel = rd_varint(&b);
		if (!e || !o || b.err || rel < TRAIL_LINK_REQ_OF_LISTENER || rel > TRAIL_LINK_TIMEWAIT_OF)
			return malformed(r, "bad link record");
		rec->type = TRAIL_REC_LINK;
		rec->link.sock_id = id;
		rec->link.other_id = other;
		rec->link.relation = (uint8_t)rel;
		return 1;
	}
	case REC_STACK:
		return stack_record(r, &b, rec);
	case REC_LIFE: {
		struct trail_life *l = &rec->life;
		e = ref_sock(r, &b, &id);
		if (!e || get_task_ref(r, &b, &l->task_slot))
			return malformed(r, "bad lifecycle record");
		uint64_t ev = rd_varint(&b);
		l->value = rd_varint(&b);
		if (b.err || ev > 0xffff)
			return malformed(r, "bad lifecycle record");
		l->ts_ns = r->ts;
		l->sock_id = id;
		l->event = (uint16_t)ev;
		rec->type = TRAIL_REC_LIFE;
		return 1;
	}
	case REC_RESET: {
		struct trail_reset *x = &rec->reset;
		uint64_t netns;
		if (ref_opt_sock(r, &b, &x->sock_id) || get_task_ref(r, &b, &x->task_slot))
			return malformed(r, "bad reset record (socket or task)");
		netns = rd_varint(&b);
		x->dir = cur_u8(&b);
		x->source = cur_u8(&b);
		if (b.err || netns > UINT32_MAX || get_state(&b, &x->state) || get_reason(&b, &x->reason) ||
		    get_stack_ref(r, &b, &x->stack_id) || get_segment(&b, &x->seg))
			return malformed(r, "bad reset record");
		x->netns = (uint32_t)netns;
		x->ts_ns = r->ts;
		rec->type = TRAIL_REC_RESET;
		return 1;
	}
	case REC_RETRANS: {
		struct trail_retrans *x = &rec->retrans;
		e = ref_sock(r, &b, &id);
		if (!e || get_task_ref(r, &b, &x->task_slot))
			return malformed(r, "bad retransmit record (socket or task)");
		x->kind = cur_u8(&b);
		if (b.err || get_state(&b, &x->state) || get_segment(&b, &x->seg))
			return malformed(r, "bad retransmit record");
		x->sock_id = id;
		x->ts_ns = r->ts;
		rec->type = TRAIL_REC_RETRANS;
		return 1;
	}
	case REC_DROP: {
		struct trail_drop *x = &rec->drop;
		uint64_t netns;
		if (ref_opt_sock(r, &b, &x->sock_id) || get_task_ref(r, &b, &x->task_slot))
			return malformed(r, "bad drop record (socket or task)");
		netns = rd_varint(&b);
		if (b.err || netns > UINT32_MAX || get_reason(&b, &x->reason) ||
		    get_stack_ref(r, &b, &x->stack_id) || get_segment(&b, &x->seg))
			return malformed(r, "bad drop record");
		x->netns = (uint32_t)netns;
		x->ts_ns = r->ts;
		rec->type = TRAIL_REC_DROP;
		return 1;
	}
	default:
		if (b.err)
			return malformed(r, "record of kind %u cut short", kind);
		rec->type = TRAIL_REC_UNKNOWN;
		rec->unknown_kind = kind;
		return 1;
	}
}

int rd_event_record(struct trail_reader *r, struct trail_record *rec)
{
	return event_record(r, rec);
}

/* The common case in the same unit as the decoder, so it is inlined: an
 * events record fills every field of its union member itself (zeroing the
 * whole record per event cost ~8% of a scan). */
int trail_reader__next(struct trail_reader *r, struct trail_record *rec)
{
	if (r->blk_type == BLK_EVENTS && cur_left(&r->c) && !r->pending_retire) {
		rec->offset = r->blk_off;
		return event_record(r, rec);
	}
	return rd_next(r, rec);
}

const struct trail_stack *trail_reader__stack(const struct trail_reader *r, uint32_t id)
{
	if (!r->stacks || !id || id > TRAIL_MAX_STACKS || !r->stacks[id].mem)
		return NULL;
	return &r->stacks[id].st;
}
