// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcptrail kernel side: turns TCP events into tt_* records (bpf/tcptrail.h) on a
 * BPF ring buffer. Each hook has one static handler and a thin wrapper per
 * attach type; the recorder (record/probes.c) picks which wrapper loads.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "tcptrail.h"
#include "compat.h"
#include "filter.h"

/*
 * Wake the reader only once this much is queued (0: on every event); it
 * polls on a short timer anyway. Saves a wakeup per event at high rates.
 */
const volatile __u64 wakeup_bytes = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);	/* resized by the recorder */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TT_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	/* a preempted program on the same CPU may race: keep it atomic */
	if (v)
		__sync_fetch_and_add(v, 1);
}

/*
 * Wake the reader only for a record that takes the queue past a multiple
 * of wakeup_bytes: until the reader runs, every later record is past the
 * mark too, and each wakeup costs an IRQ work (an interrupt, in a VM an
 * exit). A crossing missed in a race is covered by the next mark and the
 * reader's poll timer.
 */
static __always_inline void submit(void *e)
{
	__u64 flags = 0, avail, before;

	if (wakeup_bytes) {
		avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
		before = avail - ((struct tt_hdr *)e)->size - BPF_RINGBUF_HDR_SZ;
		flags = avail / wakeup_bytes != before / wakeup_bytes ?
			BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	}
	bpf_ringbuf_submit(e, flags);
}

/* BTF: pid, tid and comm as plain loads from the current task, one helper
 * call where the helpers take three (each call and its return cost more
 * than the loads); the recorder ignores what follows comm's NUL. Without:
 * the helpers (kernels before bpf_get_current_task_btf). */
static __always_inline void fill_task(struct tt_task *e, const int btf)
{
	if (btf) {
		const struct task_struct *t = bpf_get_current_task_btf();
		const __u64 *comm = (const __u64 *)t->comm;

		e->pid = t->tgid;
		e->tid = t->pid;
		((__u64 *)e->comm)[0] = comm[0];
		((__u64 *)e->comm)[1] = comm[1];
	} else {
		__u64 id = bpf_get_current_pid_tgid();

		e->pid = id >> 32;
		e->tid = (__u32)id;
		bpf_get_current_comm(&e->comm, sizeof(e->comm));
	}
}

/* SIZE bytes of ring buffer, or NULL with the loss counted. */
static __always_inline void *reserve_event(__u64 size)
{
	void *e = bpf_ringbuf_reserve(&events, size, 0);

	if (!e)
		count(TT_CNT_RINGBUF_FULL);
	return e;
}

static __always_inline void fill_hdr(struct tt_hdr *h, __u16 kind, __u16 size)
{
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->kind = kind;
	h->size = size;
	h->_pad = 0;
}

static __always_inline void fill_sock(struct tt_sock *e, const struct sock *sk,
				      __u16 family, __u64 cookie)
{
	e->kind = TT_SK_FULL;
	e->_pad1 = 0;
	e->skaddr = (__u64)(unsigned long)sk;
	e->cookie = cookie;
	e->netns = tt_sk_netns(sk);
	e->family = family;
	/* inet_sport, as the tracepoint: skc_num is zeroed before TCP_CLOSE */
	e->sport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	/* explicit sizes: the field sizes, not the 16-byte destinations */
	if (family == AF_INET) {
		bpf_core_read(e->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

/* The cookie of a BTF-typed sk: a plain load; the helper (which makes one,
 * an atomic on a shared counter) only while it has none. */
static __always_inline __u64 tt_sk_cookie_btf(const struct sock *sk)
{
	__u64 c = 0;

	if (bpf_core_field_exists(sk->__sk_common.skc_cookie))
		c = sk->__sk_common.skc_cookie.counter;
	return c ? c : bpf_get_socket_cookie((void *)sk);
}

/*
 * fill_sock() for a BTF-typed sk (tp_btf, fentry) with plain loads, which
 * cost next to nothing where each probe read costs tens of ns. The local
 * port comes from skc_num, which holds it at every state change but
 * TCP_CLOSE (unhashed before), else from inet_sport as fill_sock().
 */
static __always_inline void fill_sock_btf(struct tt_sock *e, const struct sock *sk,
					  __u16 family, __u64 cookie)
{
	const struct sock_common *c = &sk->__sk_common;
	__u16 num = c->skc_num;
	int i;

	e->kind = TT_SK_FULL;
	e->_pad1 = 0;
	e->skaddr = (__u64)(unsigned long)sk;
	e->cookie = cookie;
	e->netns = tt_sk_netns_x(sk, true);
	e->family = family;
	e->sport = num ? num : tt_inet_sport_btf(sk);
	e->dport = bpf_ntohs(c->skc_dport);
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (family == AF_INET) {
		*(__u32 *)e->saddr = c->skc_rcv_saddr;
		*(__u32 *)e->daddr = c->skc_daddr;
	} else {
		for (i = 0; i < 4; i++) {
			((__u32 *)e->saddr)[i] = c->skc_v6_rcv_saddr.in6_u.u6_addr32[i];
			((__u32 *)e->daddr)[i] = c->skc_v6_daddr.in6_u.u6_addr32[i];
		}
	}
}

#include "faults.bpf.h"
#include "lifecycle.bpf.h"
#include "state.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
