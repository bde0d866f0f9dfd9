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

static __always_inline void submit(void *e)
{
	__u64 flags = 0;

	if (wakeup_bytes)
		flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
			BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

static __always_inline void fill_task(struct tt_task *e)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->pid = id >> 32;
	e->tid = (__u32)id;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
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

/*
 * fill_sock() for a BTF-typed sk (tp_btf, fentry) with plain loads, which
 * cost next to nothing where each probe read costs tens of ns. The local
 * port comes from skc_num, which holds it at every state change (TCP_CLOSE
 * unhashes after the tracepoint); inet_sport lies past struct sock, where a
 * BTF sock may not be read directly, so it is probed only without skc_num.
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
	e->sport = num ? num : bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
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

/* BTF: sk is BTF-typed (tp_btf), so the cookie helper may be called on it.
 * Inlined with a constant BTF, so each program holds only its own branch,
 * and the cookie (which may be generated, an atomic on a shared counter)
 * is taken only for events the filters keep. */
static __always_inline int handle_set_state(const struct sock *sk, int oldstate,
					    int newstate, bool btf)
{
	struct tt_state_event *e;
	__u16 family;

	if (btf) {
		/* plain loads: filtered-out events cost next to nothing */
		if (BPF_CORE_READ_BITFIELD(sk, sk_protocol) != IPPROTO_TCP || tt_skip_sock_btf(sk))
			return 0;
		family = sk->__sk_common.skc_family;
	} else {
		if (tt_sk_protocol(sk) != IPPROTO_TCP || tt_skip_sock(sk))
			return 0;
		family = BPF_CORE_READ(sk, __sk_common.skc_family);
	}

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(TT_CNT_RINGBUF_FULL);
		return 0;
	}
	fill_hdr(&e->h, TT_EV_STATE, sizeof(*e));
	e->oldstate = oldstate;
	e->newstate = newstate;
	e->_pad = 0;
	if (btf)
		fill_sock_btf(&e->sk, sk, family, bpf_get_socket_cookie((void *)sk));
	else
		fill_sock(&e->sk, sk, family, tt_sk_cookie_peek(sk));
	fill_task(&e->task);
	submit(e);
	return 0;
}

/* BTF-typed sk: the cookie helper works on it (and assigns one if unset). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tt_state_btf, const struct sock *sk, const int oldstate,
	     const int newstate)
{
	return handle_set_state(sk, oldstate, newstate, true);
}

/* Classic tracepoint: sk is a plain address, the cookie only if already set. */
SEC("tracepoint/sock/inet_sock_set_state")
int tt_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	const struct sock *sk = ctx->skaddr;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	return handle_set_state(sk, ctx->oldstate, ctx->newstate, false);
}

#include "faults.bpf.h"
#include "lifecycle.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
