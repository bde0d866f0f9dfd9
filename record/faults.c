// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fault events (bpf/faults.bpf.h) into trail records: RESET for resets
 * sent and received, RETRANS, DROP, and a STACK record the first time a
 * file refers to a kernel stack. Kernel stack ids are buckets of the
 * stack map, which the kernel never overwrites (no BPF_F_REUSE_STACKID),
 * so a bucket's stack is read and symbolized once and keeps its trail id.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/tcp.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "record.h"
#include "tcptrail.h"

/* Frames of the tracing machinery itself, above the traced kernel code. */
static const char *const infra_prefixes[] = {
	"bpf_prog_", "bpf_trace_run", "__bpf_trace_", "__traceiter_", "perf_trace_",
	"trace_event_raw_event_", "bpf_get_stackid", "__bpf_get_stackid",
	"bpf_trampoline_", "perf_", "trace_call_bpf", "kprobe_", "__kprobes_",
	"bpf_overflow_handler",
};

struct faults {
	int stack_fd;		/* BPF stack map, -1 for none */
	struct ksyms *ksyms;
	uint32_t *trail_id;	/* kernel stack id -> trail stack id, 0: none yet */
	uint32_t *written;	/* file generation its STACK record went to */
	uint32_t gen;		/* current file generation, from 1 */
	uint32_t next_id;
	uint64_t misses;	/* events whose stack was not taken or not readable */
	__u64 ips[TT_STACK_DEPTH];
};

int faults__new(struct faults **out, int stack_fd)
{
	struct faults *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return -ENOMEM;
	f->stack_fd = stack_fd;
	f->gen = 1;
	f->trail_id = calloc(TT_STACK_ENTRIES, sizeof(*f->trail_id));
	f->written = calloc(TT_STACK_ENTRIES, sizeof(*f->written));
	err = f->trail_id && f->written ? ksyms__open(&f->ksyms) : -ENOMEM;
	if (err) {
		faults__free(f);
		return err;
	}
	*out = f;
	return 0;
}

void faults__free(struct faults *f)
{
	if (!f)
		return;
	ksyms__free(f->ksyms);
	free(f->trail_id);
	free(f->written);
	free(f);
}

void faults__file_changed(struct faults *f)
{
	if (f)
		f->gen++;
}

uint64_t faults__stack_misses(const struct faults *f)
{
	return f ? f->misses : 0;
}

static int is_infra(const char *frame)
{
	size_t i;

	for (i = 0; i < sizeof(infra_prefixes) / sizeof(infra_prefixes[0]); i++)
		if (!strncmp(frame, infra_prefixes[i], strlen(infra_prefixes[i])))
			return 1;
	return strstr(frame, " [bpf]") != NULL;
}

/* Read, symbolize and write stack KID of the map as trail stack ID.
 * 0, 1 if the map could not be read (a miss), or the writer's error. */
static int write_stack(struct faults *f, struct trail_writer *w, uint32_t kid, uint32_t id)
{
	static char names[TT_STACK_DEPTH][TRAIL_MAX_FRAME + 1];
	const char *frames[TT_STACK_DEPTH];
	struct trail_stack st;
	uint32_t i, n = 0;
	int skipping = 1;

	memset(f->ips, 0, sizeof(f->ips));
	/* whatever the reason (gone, privileges dropped): a miss, not the end */
	if (bpf_map_lookup_elem(f->stack_fd, &kid, f->ips))
		return 1;
	for (i = 0; i < TT_STACK_DEPTH && f->ips[i]; i++) {
		ksyms__name(f->ksyms, f->ips[i], names[n], sizeof(names[n]));
		if (skipping && is_infra(names[n]))
			continue;
		skipping = 0;
		frames[n] = names[n];
		n++;
	}
	st.id = id;
	st.nframes = n;
	st.frames = frames;
	return trail_writer__stack(w, &st);
}

/* Trail stack id for kernel stack id KID (negative: none), writing its
 * STACK record to this file first. 0 when there is no usable stack. */
static int stack_ref(struct faults *f, struct trail_writer *w, int32_t kid, uint32_t *id)
{
	int err;

	*id = 0;
	if (kid == -1)
		return 0;	/* not asked for */
	if (!f || f->stack_fd < 0 || kid < 0 || kid >= TT_STACK_ENTRIES) {
		if (f)
			f->misses++;
		return 0;
	}
	if (!f->trail_id[kid]) {
		if (f->next_id >= TRAIL_MAX_STACKS) {
			f->misses++;
			return 0;
		}
		f->trail_id[kid] = ++f->next_id;
	}
	if (f->written[kid] != f->gen) {
		err = write_stack(f, w, (uint32_t)kid, f->trail_id[kid]);
		if (err < 0)
			return err;
		if (err) {
			f->misses++;
			return 0;
		}
		f->written[kid] = f->gen;
	}
	*id = f->trail_id[kid];
	return 0;
}

static uint8_t trail_family(uint16_t af)
{
	return af == AF_INET ? TRAIL_FAMILY_INET : af == AF_INET6 ? TRAIL_FAMILY_INET6 : 0;
}

static void seg_of(struct trail_segment *t, const struct tt_seg *g)
{
	memset(t, 0, sizeof(*t));
	t->family = trail_family(g->family);
	if (!t->family)
		return;
	t->flags = g->flags;
	t->sport = g->sport;
	t->dport = g->dport;
	memcpy(t->saddr, g->saddr, sizeof(t->saddr));
	memcpy(t->daddr, g->daddr, sizeof(t->daddr));
	t->seq = g->seq;
	t->ack = g->ack;
	t->len = g->len;
}

/* A fault event's socket id (0: none) and task slot. */
static int who(struct sink *s, const struct tt_fault_event *e, uint64_t *sock_id,
	       uint32_t *slot)
{
	int err;

	*sock_id = 0;
	if (e->sk.skaddr) {
		err = sink__sock_id(s, &e->sk, 0, sock_id);
		if (err)
			return err;
	}
	return sink__task_slot(s, &e->task, slot);
}

/* A fault on a closed full socket, maybe seen for the first time now: let
 * its id retire like that of a socket whose close was seen. */
static int after(struct sink *s, const struct tt_fault_event *e)
{
	if (!e->sk.skaddr || e->sk.kind != TT_SK_FULL || e->state != TCP_CLOSE)
		return 0;
	return sink__sock_closed(s, e->sk.skaddr, e->h.ts_ns);
}

static int reset(struct faults *f, struct sink *s, struct trail_writer *w,
		 const struct tt_fault_event *e)
{
	struct trail_reset r;
	int err;

	memset(&r, 0, sizeof(r));
	r.ts_ns = e->h.ts_ns;
	r.netns = e->sk.netns;
	r.dir = e->h.kind == TT_EV_RESET_RECV ? TRAIL_RST_RECEIVED : TRAIL_RST_SENT;
	r.source = e->h.kind == TT_EV_RESET_RECV ? TRAIL_RST_SRC_UNKNOWN : e->sub;
	r.state = e->state == TT_NO_STATE ? TRAIL_NO_STATE : e->state;
	r.reason = e->reason == TT_NO_REASON ? TRAIL_NO_REASON : e->reason;
	seg_of(&r.seg, &e->seg);
	err = stack_ref(f, w, e->stack_id, &r.stack_id);
	if (!err)
		err = who(s, e, &r.sock_id, &r.task_slot);
	if (!err)
		err = trail_writer__reset(w, &r);
	return err ? err : after(s, e);
}

static int retrans(struct sink *s, struct trail_writer *w, const struct tt_fault_event *e)
{
	struct trail_retrans r;
	int err;

	memset(&r, 0, sizeof(r));
	r.ts_ns = e->h.ts_ns;
	r.kind = e->sub;
	r.state = e->state == TT_NO_STATE ? TRAIL_NO_STATE : e->state;
	seg_of(&r.seg, &e->seg);
	err = who(s, e, &r.sock_id, &r.task_slot);
	if (!err)
		err = trail_writer__retrans(w, &r);
	return err ? err : after(s, e);
}

static int drop(struct faults *f, struct sink *s, struct trail_writer *w,
		const struct tt_fault_event *e)
{
	struct trail_drop d;
	int err;

	memset(&d, 0, sizeof(d));
	d.ts_ns = e->h.ts_ns;
	d.netns = e->sk.netns;
	d.reason = e->reason == TT_NO_REASON ? TRAIL_NO_REASON : e->reason;
	seg_of(&d.seg, &e->seg);
	err = stack_ref(f, w, e->stack_id, &d.stack_id);
	if (!err)
		err = who(s, e, &d.sock_id, &d.task_slot);
	if (!err)
		err = trail_writer__drop(w, &d);
	return err ? err : after(s, e);
}

int faults__event(struct faults *f, struct sink *s, struct trail_writer *w,
		  const void *data, size_t len)
{
	const struct tt_fault_event *e = data;

	if (len < sizeof(*e) || e->h.size < sizeof(*e))
		return 0;
	if (e->sk.skaddr && !trail_family(e->sk.family))
		return 0;
	if (e->seg.family && !trail_family(e->seg.family))
		return 0;
	switch (e->h.kind) {
	case TT_EV_RESET_SENT:
		if (e->sub > TT_RST_SRC_ACTIVE)
			return 0;
		/* fall through */
	case TT_EV_RESET_RECV:
		return reset(f, s, w, e) ?: 1;
	case TT_EV_RETRANS:
		/* a retransmit always has its socket */
		if (!e->sk.skaddr || e->sub < TT_RETRANS_DATA || e->sub > TT_RETRANS_SYNACK)
			return 0;
		return retrans(s, w, e) ?: 1;
	case TT_EV_DROP:
		return drop(f, s, w, e) ?: 1;
	}
	return 0;
}

/* Parameters of tracepoint NAME's BTF prototype (after the context), or a
 * negative errno. */
static int tp_nargs(const struct btf *btf, const char *name)
{
	char tname[128];
	const struct btf_type *t;
	int id;

	snprintf(tname, sizeof(tname), "btf_trace_%s", name);
	id = btf__find_by_name_kind(btf, tname, BTF_KIND_TYPEDEF);
	if (id < 0)
		return id;
	t = btf__type_by_id(btf, id);
	while (t && (btf_is_typedef(t) || btf_is_ptr(t)))
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1)
		return -EINVAL;
	return btf_vlen(t) - 1;
}

int faults__tp_args(int *retrans_err_arg)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int n;

	*retrans_err_arg = 0;
	if (!btf)
		return errno ? -errno : -ENOENT;
	/* tcp_retransmit_skb(sk, skb, err): newer kernels trace failures too */
	n = tp_nargs(btf, "tcp_retransmit_skb");
	*retrans_err_arg = n >= 3;
	btf__free(btf);
	return 0;
}
