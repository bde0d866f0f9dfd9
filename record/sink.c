// SPDX-License-Identifier: BSD-2-Clause
/*
 * Kernel events (tt_* records from the ring buffer) into trail records:
 * a SOCK the first time a socket is seen, a TUPLE when its addresses or
 * ports change, a TASK when a task slot changes owner, then the STATE, and
 * a RETIRE a second after the socket reaches TCP_CLOSE (what the kernel
 * does on the way out, such as an RST on close, still names it). Fault
 * events (resets, retransmits, drops) go to faults.c, lifecycle events
 * (request and timewait socks, close, destroy) to lifecycle.c; with the
 * destroy probe a socket keeps its id until a second after its destruction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/types.h>

#include "record.h"
#include "tcptrail.h"

#define SINK_MAX_EXTRA 8
#define CLOSING_MAX 4096u		/* closed sockets awaiting RETIRE */
#define CLOSING_NS 1000000000ull	/* how long a closed socket keeps its id */

struct closing {
	uint64_t skaddr, id, ts_ns;
};

struct task_slot {
	int used;
	uint32_t pid, tid;
	char comm[TT_COMM_LEN];	/* NUL-padded */
	char raw[TT_COMM_LEN];	/* as the kernel side last sent it */
};

struct sink {
	struct trail_writer *w;
	struct socktab *socks;
	struct faults *faults;	/* fault records and their stacks, not owned */
	struct lifecycle *life;	/* request/timewait socks, close, destroy */
	struct task_slot tasks[TRAIL_TASK_SLOTS];
	struct closing closing[CLOSING_MAX];	/* FIFO, oldest at closing_head */
	uint32_t closing_head, closing_len;
	uint64_t events;	/* STATE and fault records written */
	uint64_t now;		/* latest event time (CLOCK_BOOTTIME ns) */
	uint64_t evicted;	/* live sockets retired because the table was full */
	uint64_t decode_errors;	/* ring-buffer records we could not read */
	/* counters as of the last LOSS block */
	uint64_t last_ringbuf, last_evicted, last_decode, last_extra, last_stacks, last_minis;
	int loss_written;
	/* counters at the start of the current file (sink__rotate) */
	uint64_t base_evicted, base_decode, base_stacks, base_minis;
	uint64_t *base_ringbuf;	/* per CPU */
	uint32_t base_ncpus;
	uint64_t *loss_ringbuf;	/* per CPU, this file's, for the LOSS block */
};

int sink__new(struct sink **out, struct trail_writer *w, uint32_t max_socks)
{
	struct sink *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	s->w = w;
	err = socktab__new(&s->socks, max_socks);
	if (!err)
		err = lifecycle__new(&s->life, s, w, max_socks);
	if (err) {
		sink__free(s);
		return err;
	}
	*out = s;
	return 0;
}

void sink__free(struct sink *s)
{
	if (!s)
		return;
	lifecycle__free(s->life);
	socktab__free(s->socks);
	free(s->base_ringbuf);
	free(s->loss_ringbuf);
	free(s);
}

static void ent_tuple(struct sock_ent *se, const struct tt_sock *e)
{
	se->sport = e->sport;
	se->dport = e->dport;
	memcpy(se->saddr, e->saddr, sizeof(se->saddr));
	memcpy(se->daddr, e->daddr, sizeof(se->daddr));
}

static int same_tuple(const struct sock_ent *se, const struct tt_sock *e)
{
	return se->sport == e->sport && se->dport == e->dport &&
	       !memcmp(se->saddr, e->saddr, sizeof(se->saddr)) &&
	       !memcmp(se->daddr, e->daddr, sizeof(se->daddr));
}

void sink__trail_sock(struct trail_sock *ts, const struct tt_sock *e)
{
	memset(ts, 0, sizeof(*ts));
	ts->cookie = e->cookie;
	ts->skaddr = e->skaddr;
	ts->netns = e->netns;
	ts->family = e->family == AF_INET6 ? TRAIL_FAMILY_INET6 : TRAIL_FAMILY_INET;
	ts->kind = e->kind == TT_SK_REQUEST ? TRAIL_SOCK_REQUEST :
		   e->kind == TT_SK_TIMEWAIT ? TRAIL_SOCK_TIMEWAIT : TRAIL_SOCK_FULL;
	ts->protocol = IPPROTO_TCP;
	ts->sport = e->sport;
	ts->dport = e->dport;
	memcpy(ts->saddr, e->saddr, sizeof(ts->saddr));
	memcpy(ts->daddr, e->daddr, sizeof(ts->daddr));
}

/* The same from a live socket table entry (rotation). */
static void ent_trail_sock(struct trail_sock *ts, const struct sock_ent *se)
{
	struct tt_sock k;

	memset(&k, 0, sizeof(k));
	k.cookie = se->cookie;
	k.skaddr = se->skaddr;
	k.netns = se->netns;
	k.family = se->family;
	k.kind = se->kind;
	k.sport = se->sport;
	k.dport = se->dport;
	memcpy(k.saddr, se->saddr, sizeof(k.saddr));
	memcpy(k.daddr, se->daddr, sizeof(k.daddr));
	sink__trail_sock(ts, &k);
}

static int retire(struct sink *s, struct sock_ent *se)
{
	int err = trail_writer__retire(s->w, se->id);

	socktab__remove(s->socks, se);
	return err;
}

/*
 * The trail socket id for socket E, writing SOCK/TUPLE as needed. FRESH
 * says the event can only come from a new socket (see sink__event), so a
 * live entry at that address belongs to a socket whose end we missed.
 */
int sink__sock_id(struct sink *s, const struct tt_sock *e, int fresh, uint64_t *id)
{
	struct sock_ent *se;
	struct trail_sock ts;
	int err;

	/* request and timewait socks live in lifecycle.c's table */
	if (e->kind != TT_SK_FULL)
		return lifecycle__mini_id(s->life, e, s->now, id);
	se = socktab__find(s->socks, e->skaddr);
	/* another cookie: the address was reused after a close we did not
	 * see (events lost). New identity. */
	if (se && (fresh || (se->cookie && e->cookie && se->cookie != e->cookie))) {
		err = retire(s, se);
		if (err)
			return err;
		se = NULL;
	}
	if (se) {
		if (!se->cookie)
			se->cookie = e->cookie;
		if (!same_tuple(se, e)) {
			sink__trail_sock(&ts, e);
			ts.id = se->id;
			err = trail_writer__tuple(s->w, &ts);
			if (err)
				return err;
			ent_tuple(se, e);
		}
		*id = se->id;
		return 0;
	}

	se = socktab__victim(s->socks);
	if (se) {
		/* a closed one was about to go anyway */
		if (!se->closed)
			s->evicted++;
		err = retire(s, se);
		if (err)
			return err;
	}
	sink__trail_sock(&ts, e);
	err = trail_writer__sock(s->w, &ts, id);
	if (err)
		return err;
	se = socktab__insert(s->socks, e->skaddr);
	if (!se)
		return -ENOSPC;	/* cannot happen: a victim was retired */
	se->cookie = e->cookie;
	se->id = *id;
	se->netns = e->netns;
	se->family = e->family;
	se->kind = e->kind;
	ent_tuple(se, e);
	return 0;
}

/*
 * Direct-mapped: a task (pid, tid) hashes to one slot and takes it over;
 * a new comm redefines it. The kernel side copies comm whole: what follows
 * its NUL is not part of it, but as long as a task's 16 bytes stay the same
 * one compare of them (raw) decides.
 */
int sink__task_slot(struct sink *s, const struct tt_task *e, uint32_t *slot)
{
	struct task_slot *t;
	struct trail_task tt;
	char comm[TT_COMM_LEN];
	uint64_t h = ((uint64_t)e->pid << 32 | e->tid) * 0x9e3779b97f4a7c15ull;
	size_t n;

	*slot = (uint32_t)(h >> 40) % TRAIL_TASK_SLOTS;
	t = &s->tasks[*slot];
	if (t->used && t->pid == e->pid && t->tid == e->tid) {
		if (!memcmp(t->raw, e->comm, TT_COMM_LEN))
			return 0;
	}
	n = strnlen(e->comm, TT_COMM_LEN);
	memcpy(comm, e->comm, n);
	memset(comm + n, 0, TT_COMM_LEN - n);
	memcpy(t->raw, e->comm, TT_COMM_LEN);
	if (t->used && t->pid == e->pid && t->tid == e->tid &&
	    !memcmp(t->comm, comm, TT_COMM_LEN))
		return 0;

	memset(&tt, 0, sizeof(tt));
	tt.slot = *slot;
	tt.pid = e->pid;
	tt.tid = e->tid;
	memcpy(tt.comm, comm, TT_COMM_LEN);
	tt.comm[TT_COMM_LEN] = '\0';
	t->used = 1;
	t->pid = e->pid;
	t->tid = e->tid;
	memcpy(t->comm, comm, TT_COMM_LEN);
	return trail_writer__task(s->w, &tt);
}

/* RETIRE the oldest closed socket, if it still has the id it closed with. */
static int pop_closing(struct sink *s)
{
	struct closing *c = &s->closing[s->closing_head];
	struct sock_ent *se = socktab__find(s->socks, c->skaddr);

	s->closing_head = (s->closing_head + 1) % CLOSING_MAX;
	s->closing_len--;
	return se && se->id == c->id ? retire(s, se) : 0;
}

/* RETIRE the sockets closed more than CLOSING_NS before NOW. */
static int retire_closed(struct sink *s, uint64_t now)
{
	int err;

	while (s->closing_len &&
	       s->closing[s->closing_head].ts_ns + CLOSING_NS < now) {
		err = pop_closing(s);
		if (err)
			return err;
	}
	return 0;
}

int sink__flush_closed(struct sink *s)
{
	int err;

	while (s->closing_len) {
		err = pop_closing(s);
		if (err)
			return err;
	}
	return 0;
}

int sink__sock_closed(struct sink *s, uint64_t skaddr, uint64_t ts_ns)
{
	struct sock_ent *se = socktab__find(s->socks, skaddr);
	struct closing *c;
	int err;

	if (!se || se->closed)
		return 0;
	if (s->closing_len == CLOSING_MAX) {
		err = pop_closing(s);
		if (err)
			return err;
	}
	se->closed = 1;
	c = &s->closing[(s->closing_head + s->closing_len) % CLOSING_MAX];
	c->skaddr = skaddr;
	c->id = se->id;
	c->ts_ns = ts_ns;
	s->closing_len++;
	return 0;
}

static int state_event(struct sink *s, const struct tt_state_event *e, size_t len)
{
	struct trail_state st;
	int fresh, err;

	if (e->sk.family != AF_INET && e->sk.family != AF_INET6) {
		s->decode_errors++;
		return 0;
	}
	/* leaving TCP_CLOSE, or a listener's fresh clone (LISTEN -> SYN_RECV
	 * happens only to a new child): always a new socket */
	fresh = e->oldstate == TCP_CLOSE ||
		(e->oldstate == TCP_LISTEN && e->newstate == TCP_SYN_RECV);
	memset(&st, 0, sizeof(st));
	st.ts_ns = e->h.ts_ns;
	st.oldstate = e->oldstate;
	st.newstate = e->newstate;
	err = sink__sock_id(s, &e->sk, fresh, &st.sock_id);
	if (!err)
		err = sink__task_slot(s, &e->task, &st.task_slot);
	if (!err)
		err = trail_writer__state(s->w, &st);
	if (err)
		return err;
	s->events++;
	err = lifecycle__state(s->life, e, socktab__find(s->socks, e->sk.skaddr));
	if (err)
		return err;
	/* with destruction recorded, the id lives until then */
	if (e->newstate == TCP_CLOSE && !lifecycle__keeps(s->life)) {
		err = sink__sock_closed(s, e->sk.skaddr, e->h.ts_ns);
		if (err)
			return err;
	}
	/* the close() or TIME_WAIT entry of the same change, after it as the
	 * kernel side used to send them */
	if (!e->life)
		return 0;
	err = lifecycle__state_life(s->life, e, len);
	if (err == -EINVAL) {
		s->decode_errors++;
		return 0;
	}
	return err;
}

struct sock_ent *sink__find(struct sink *s, uint64_t skaddr)
{
	return socktab__find(s->socks, skaddr);
}

void sink__configure(struct sink *s, const struct probe_set *ps)
{
	lifecycle__configure(s->life, probe_set__active(ps, "destroy"));
}

int sink__reqsk_id(struct sink *s, uint64_t reqsk, uint64_t *id)
{
	return lifecycle__reqsk_id(s->life, reqsk, id);
}

int sink__event(struct sink *s, const void *data, size_t len)
{
	const struct tt_hdr *h = data;
	int err;

	if (len < sizeof(*h) || h->size > len) {
		s->decode_errors++;
		return 0;
	}
	if (h->ts_ns > s->now)
		s->now = h->ts_ns;
	err = retire_closed(s, h->ts_ns);
	if (err)
		return err;
	switch (h->kind) {
	case TT_EV_STATE:
		if (h->size < sizeof(struct tt_state_event))
			break;
		return state_event(s, data, len);
	case TT_EV_RESET_SENT:
	case TT_EV_RESET_RECV:
	case TT_EV_RETRANS:
	case TT_EV_DROP: {
		int n = faults__event(s->faults, s, s->w, data, len);

		if (n < 0)
			return n;
		if (n == 0)
			break;
		s->events++;
		return 0;
	}
	case TT_EV_REQ ... TT_EV_DESTROY:
		err = lifecycle__event(s->life, data, len);
		if (err != -EINVAL)
			return err;
		break;
	}
	s->decode_errors++;
	return 0;
}

int sink__loss(struct sink *s, const uint64_t *ringbuf_percpu, uint32_t ncpus,
	       const struct trail_counter *extra, uint32_t nextra, int force)
{
	struct trail_counter c[4 + SINK_MAX_EXTRA];
	struct trail_loss l;
	uint64_t rb = 0, ex = 0, evicted, decode, stacks, minis;
	uint32_t i;
	int err;

	if (nextra > SINK_MAX_EXTRA)
		nextra = SINK_MAX_EXTRA;
	if (!s->loss_ringbuf || s->base_ncpus != ncpus) {
		free(s->loss_ringbuf);
		s->loss_ringbuf = calloc(ncpus ? ncpus : 1, sizeof(uint64_t));
		if (!s->loss_ringbuf)
			return -ENOMEM;
		if (s->base_ncpus != ncpus) {
			free(s->base_ringbuf);
			s->base_ringbuf = NULL;
			s->base_ncpus = ncpus;
		}
	}
	for (i = 0; i < ncpus; i++) {
		s->loss_ringbuf[i] = ringbuf_percpu[i];
		/* a counter read that failed gives 0: never below the base */
		if (s->base_ringbuf && s->loss_ringbuf[i] >= s->base_ringbuf[i])
			s->loss_ringbuf[i] -= s->base_ringbuf[i];
		else if (s->base_ringbuf)
			s->loss_ringbuf[i] = 0;
		rb += s->loss_ringbuf[i];
	}
	for (i = 0; i < nextra; i++)
		ex += extra[i].value;
	evicted = s->evicted - s->base_evicted;
	decode = s->decode_errors - s->base_decode;
	stacks = faults__stack_misses(s->faults) - s->base_stacks;
	minis = lifecycle__evicted(s->life) - s->base_minis;
	if (!force && s->loss_written && rb == s->last_ringbuf &&
	    evicted == s->last_evicted && decode == s->last_decode && ex == s->last_extra &&
	    stacks == s->last_stacks && minis == s->last_minis)
		return 0;
	if (!force && !s->loss_written && !rb && !evicted && !decode && !ex && !stacks && !minis)
		return 0;

	c[0].name = "note.socktab_evictions";
	c[0].value = evicted;
	c[1].name = "record.decode_errors";
	c[1].value = decode;
	for (i = 0; i < nextra; i++)
		c[4 + i] = extra[i];
	l.percpu_ringbuf = s->loss_ringbuf;
	l.ncpus = ncpus;
	l.counters = c;
	/* a fault without its stack is still recorded: a note, not a loss */
	c[2].name = "note.stack_misses";
	c[2].value = stacks;
	/* request/timewait socks ended early (REQ_DROPPED/TIMEWAIT_END say so) */
	c[3].name = "note.minisock_evictions";
	c[3].value = minis;
	l.ncounters = 4 + nextra;
	err = trail_writer__loss(s->w, &l);
	if (err)
		return err;
	s->loss_written = 1;
	s->last_ringbuf = rb;
	s->last_evicted = evicted;
	s->last_decode = decode;
	s->last_extra = ex;
	s->last_stacks = stacks;
	s->last_minis = minis;
	return 0;
}

int sink__rotate(struct sink *s, struct trail_writer *w, const uint64_t *ringbuf_percpu,
		 uint32_t ncpus)
{
	struct closing *c;
	struct sock_ent *se;
	struct trail_sock ts;
	uint32_t i;
	int err;

	s->w = w;
	/* TASK and STACK records and socket ids are per file */
	memset(s->tasks, 0, sizeof(s->tasks));
	if (s->faults)
		faults__file_changed(s->faults);
	if (s->life) {
		err = lifecycle__rotate(s->life, w);
		if (err)
			return err;
	}
	/* closed sockets awaiting RETIRE keep their turn under their new id:
	 * 0 marks the entries still current (ids are never 0) */
	for (i = 0; i < s->closing_len; i++) {
		c = &s->closing[(s->closing_head + i) % CLOSING_MAX];
		se = socktab__find(s->socks, c->skaddr);
		c->id = se && se->id == c->id ? 0 : UINT64_MAX;
	}
	for (se = socktab__oldest(s->socks); se; se = socktab__newer(s->socks, se)) {
		ent_trail_sock(&ts, se);
		err = trail_writer__sock(w, &ts, &se->id);
		if (err)
			return err;
	}
	for (i = 0; i < s->closing_len; i++) {
		c = &s->closing[(s->closing_head + i) % CLOSING_MAX];
		se = c->id ? NULL : socktab__find(s->socks, c->skaddr);
		if (se)
			c->id = se->id;
	}
	if (!s->base_ringbuf || s->base_ncpus != ncpus) {
		free(s->base_ringbuf);
		s->base_ringbuf = calloc(ncpus ? ncpus : 1, sizeof(uint64_t));
		if (!s->base_ringbuf)
			return -ENOMEM;
		s->base_ncpus = ncpus;
	}
	for (i = 0; i < ncpus; i++)
		s->base_ringbuf[i] = ringbuf_percpu[i];
	s->base_evicted = s->evicted;
	s->base_decode = s->decode_errors;
	s->base_stacks = faults__stack_misses(s->faults);
	s->base_minis = lifecycle__evicted(s->life);
	s->loss_written = 0;
	return 0;
}

void sink__set_faults(struct sink *s, struct faults *f)
{
	s->faults = f;
}

uint64_t sink__events(const struct sink *s)
{
	return s->events + lifecycle__records(s->life);
}

uint64_t sink__evicted(const struct sink *s)
{
	return s->evicted;
}

uint64_t sink__decode_errors(const struct sink *s)
{
	return s->decode_errors;
}
