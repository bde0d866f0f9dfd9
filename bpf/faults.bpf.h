/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Faults: resets sent and received, retransmits, drops of TCP segments.
 * #included by tcptrail.bpf.c (it provides fill_hdr/fill_sock/fill_task/
 * count/submit and the ring buffer); segment.bpf.h reads the segments.
 * Every event is a struct tt_fault_event (bpf/tcptrail.h); record/faults.c
 * turns it into trail RESET/RETRANS/DROP records and symbolizes the stack
 * map.
 */
#ifndef TCPTRAIL_FAULTS_BPF_H
#define TCPTRAIL_FAULTS_BPF_H

#include "segment.bpf.h"

#define TT_ENOENT 2		/* errno values, not in vmlinux.h */
#define TT_ENOSPC 28

/* Take a kernel stack for drops too (resets always get one). */
const volatile bool drop_stacks = true;
/* Stacks per CPU per second at most: a flood of resets or drops costs
 * ~1.5 us per event, not the ~5 us a stack walk adds (events beyond it
 * are still recorded, without a stack). */
const volatile __u32 stacks_per_sec = 1000;
/* tcp_retransmit_skb's tp_btf prototype has the 'err' argument (newer kernels). */
const volatile bool retrans_err_arg = false;

struct stack_budget {
	__u64 window_ns;	/* start of the current one-second window */
	__u32 left;		/* stacks still allowed in it */
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_budget);
} stack_budget SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, TT_STACK_ENTRIES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, TT_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

/* A stack id for the event at NOW_NS, or negative: -ENOSPC over budget,
 * else bpf_get_stackid()'s error (-EEXIST: bucket taken by another). */
static __always_inline __s32 take_stack(void *ctx, __u64 now_ns)
{
	__u32 k = 0;
	struct stack_budget *b = bpf_map_lookup_elem(&stack_budget, &k);

	if (!b)
		return -TT_ENOENT;
	if (now_ns - b->window_ns >= 1000000000ull) {
		b->window_ns = now_ns;
		b->left = stacks_per_sec;
	}
	if (!b->left)
		return -TT_ENOSPC;
	b->left--;
	return bpf_get_stackid(ctx, &stacks, 0);
}

static __always_inline void clear_fault(struct tt_fault_event *e)
{
	__builtin_memset(&e->sk, 0, sizeof(e->sk));
	__builtin_memset(&e->seg, 0, sizeof(e->seg));
	e->reason = TT_NO_REASON;
	e->stack_id = -1;
	e->state = TT_NO_STATE;
	e->sub = 0;
	e->_pad = 0;
}

/* The cookie of SK if it has one (no helper: the fault hooks' sk may be a
 * request or timewait sock). BTF: SK is a read-only cast, a plain load. */
static __always_inline __u64 any_cookie(const struct sock *sk, const int btf)
{
	if (!btf)
		return tt_sk_cookie_peek(sk);
	if (!bpf_core_field_exists(sk->__sk_common.skc_cookie))
		return 0;
	return sk->__sk_common.skc_cookie.counter;
}

/* A sock of a fault hook as a read-only cast: BTF programs then read it
 * with plain loads whatever the hook's argument type (sock, request sock,
 * an skb's sk). */
static __always_inline const struct sock *any_sock_btf(const struct sock *sk)
{
	return bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct sock));
}

/* Identity of a sock of any kind. Full socks read as for their state
 * events (so the tuples match); request and timewait socks have only
 * sock_common. COOKIE: a full sock's cookie is wanted. BTF: with plain
 * loads (SK from any_sock_btf()). */
static __always_inline void fill_any_sock(struct tt_fault_event *e, const struct sock *sk,
					  bool cookie, const int btf)
{
	__u16 family = TT_SK_READ(btf, sk, __sk_common.skc_family);
	__u8 state = TT_SK_READ(btf, sk, __sk_common.skc_state);
	const struct sock_common *c = &sk->__sk_common;
	int i;

	e->state = state;
	if (state != TCP_NEW_SYN_RECV && state != TCP_TIME_WAIT) {
		if (btf)
			fill_sock_btf(&e->sk, sk, family, cookie ? any_cookie(sk, 1) : 0);
		else
			fill_sock(&e->sk, sk, family, cookie ? tt_sk_cookie_peek(sk) : 0);
		return;
	}
	e->sk.kind = state == TCP_TIME_WAIT ? TT_SK_TIMEWAIT : TT_SK_REQUEST;
	e->sk.skaddr = (__u64)(unsigned long)sk;
	e->sk.cookie = any_cookie(sk, btf);
	e->sk.netns = tt_sk_netns_x(sk, btf);
	e->sk.family = family;
	e->sk.sport = TT_SK_READ(btf, sk, __sk_common.skc_num);
	e->sk.dport = bpf_ntohs(TT_SK_READ(btf, sk, __sk_common.skc_dport));
	if (btf) {
		if (family == AF_INET) {
			*(__u32 *)e->sk.saddr = c->skc_rcv_saddr;
			*(__u32 *)e->sk.daddr = c->skc_daddr;
		} else {
			for (i = 0; i < 4; i++) {
				((__u32 *)e->sk.saddr)[i] = c->skc_v6_rcv_saddr.in6_u.u6_addr32[i];
				((__u32 *)e->sk.daddr)[i] = c->skc_v6_daddr.in6_u.u6_addr32[i];
			}
		}
	} else if (family == AF_INET) {
		bpf_core_read(e->sk.saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->sk.daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(e->sk.saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->sk.daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

/* The filter for a sock of any kind (tt_skip_sock reads full-sock fields). */
static __always_inline bool skip_any_sock(const struct sock *sk, const int btf)
{
	__u8 state = TT_SK_READ(btf, sk, __sk_common.skc_state);
	__u16 family;

	if (state != TCP_NEW_SYN_RECV && state != TCP_TIME_WAIT)
		return tt_skip_sock_x(sk, btf);
	family = TT_SK_READ(btf, sk, __sk_common.skc_family);
	return tt_skip_tuple(family, TT_SK_READ(btf, sk, __sk_common.skc_num),
			     bpf_ntohs(TT_SK_READ(btf, sk, __sk_common.skc_dport)),
			     tt_sk_netns_x(sk, btf));
}

static __always_inline struct tt_fault_event *reserve_fault(__u16 kind)
{
	struct tt_fault_event *e = reserve_event(sizeof(*e));

	if (!e)
		return NULL;
	fill_hdr(&e->h, kind, sizeof(*e));
	clear_fault(e);
	return e;
}

/*
 * An RST this host sends. SK: the socket it concerns (any kind) or NULL;
 * SKB: the segment it answers, NULL for an active reset; SOURCE: REPLY or
 * ACTIVE, UNKNOWN to tell from SKB (the tcp_send_reset tracepoint passes
 * no segment for tcp_send_active_reset). ON_ENTRY: hooked at the entry of
 * tcp_v4/v6_send_reset, which sends nothing in answer to an RST.
 */
static __always_inline int handle_reset_sent(void *ctx, const struct sock *sk,
					     const struct sk_buff *skb, __s64 reason,
					     __u8 source, bool on_entry, const int btf)
{
	struct tt_fault_event *e;
	struct tt_seg g = {};

	if (source == TT_RST_SRC_UNKNOWN)
		source = skb ? TT_RST_SRC_REPLY : TT_RST_SRC_ACTIVE;
	if (skb && read_rx_seg(skb, &g))
		g.family = 0;
	if (on_entry && g.family && (g.flags & TT_TCPH_RST))
		return 0;
	if (sk) {
		if (btf)
			sk = any_sock_btf(sk);
		if (skip_any_sock(sk, btf))
			return 0;
	} else if (!g.family || tt_skip_tuple(g.family, g.dport, g.sport, skb_netns(skb))) {
		return 0;
	}

	e = reserve_fault(TT_EV_RESET_SENT);
	if (!e)
		return 0;
	if (sk)
		fill_any_sock(e, sk, true, btf);
	else
		e->sk.netns = skb_netns(skb);
	e->seg = g;
	e->reason = reason;
	e->sub = source;
	fill_task(&e->task, btf);
	e->stack_id = take_stack(ctx, e->h.ts_ns);
	submit(e);
	return 0;
}

/* An RST a full socket accepted (tcp_reset()); the segment is not passed. */
static __always_inline int handle_reset_recv(void *ctx, const struct sock *sk, const int btf)
{
	struct tt_fault_event *e;

	if (!sk)
		return 0;
	if (btf)
		sk = any_sock_btf(sk);
	if (tt_skip_sock_x(sk, btf))
		return 0;
	e = reserve_fault(TT_EV_RESET_RECV);
	if (!e)
		return 0;
	fill_any_sock(e, sk, true, btf);
	fill_task(&e->task, btf);
	e->stack_id = take_stack(ctx, e->h.ts_ns);
	submit(e);
	return 0;
}

/*
 * A data or SYN retransmit: SKB is in the write queue, its TCP header not
 * built yet, so the segment comes from the control block and the socket.
 */
static __always_inline int handle_retrans(const struct sock *sk, const struct sk_buff *skb,
					  const int btf)
{
	const struct tcp_skb_cb *cb = (const struct tcp_skb_cb *)&skb->cb[0];
	struct tt_fault_event *e;
	__u32 end_seq;
	__u8 flags = 0;

	if (!sk || !skb)
		return 0;
	if (btf)
		sk = any_sock_btf(sk);
	if (tt_skip_sock_x(sk, btf))
		return 0;
	e = reserve_fault(TT_EV_RETRANS);
	if (!e)
		return 0;
	fill_any_sock(e, sk, true, btf);
	/* tcp_flags grew from u8 to u16: its low byte is the flag byte (LE) */
	bpf_core_read(&flags, 1, &cb->tcp_flags);
	e->seg.family = e->sk.family;
	e->seg.flags = flags;
	e->seg.sport = e->sk.sport;
	e->seg.dport = e->sk.dport;
	__builtin_memcpy(e->seg.saddr, e->sk.saddr, 16);
	__builtin_memcpy(e->seg.daddr, e->sk.daddr, 16);
	e->seg.seq = BPF_CORE_READ(cb, seq);
	end_seq = BPF_CORE_READ(cb, end_seq);
	e->seg.ack = BPF_CORE_READ((const struct tcp_sock *)sk, rcv_nxt);
	e->seg.len = end_seq - e->seg.seq - !!(flags & TT_TCPH_SYN) - !!(flags & TT_TCPH_FIN);
	/* a full socket's SYN-ACK: a Fast Open child in SYN_RECV */
	if (flags & TT_TCPH_SYN)
		e->sub = (flags & TT_TCPH_ACK) ? TT_RETRANS_SYNACK : TT_RETRANS_SYN;
	else
		e->sub = e->state == TCP_SYN_SENT ? TT_RETRANS_SYN : TT_RETRANS_DATA;
	fill_task(&e->task, btf);
	submit(e);
	return 0;
}

/* A SYN-ACK retransmitted for request sock REQ of a listener. */
static __always_inline int handle_synack(const struct request_sock *req, const int btf)
{
	const struct sock *rsk = (const struct sock *)req;
	const struct tcp_request_sock *treq = (const struct tcp_request_sock *)req;
	struct tt_fault_event *e;

	if (!req)
		return 0;
	if (btf)
		rsk = any_sock_btf(rsk);
	if (skip_any_sock(rsk, btf))
		return 0;
	e = reserve_fault(TT_EV_RETRANS);
	if (!e)
		return 0;
	fill_any_sock(e, rsk, false, btf);
	e->seg.family = e->sk.family;
	e->seg.flags = TT_TCPH_SYN | TT_TCPH_ACK;
	e->seg.sport = e->sk.sport;
	e->seg.dport = e->sk.dport;
	__builtin_memcpy(e->seg.saddr, e->sk.saddr, 16);
	__builtin_memcpy(e->seg.daddr, e->sk.daddr, 16);
	e->seg.seq = BPF_CORE_READ(treq, snt_isn);
	e->seg.ack = BPF_CORE_READ(treq, rcv_nxt);
	e->sub = TT_RETRANS_SYNACK;
	fill_task(&e->task, btf);
	submit(e);
	return 0;
}

/*
 * skb:kfree_skb, the hottest hook here: every freed packet of every
 * protocol. Checks go cheapest first, in the wrappers: the reason (a
 * register), skb->protocol; then here one read of the IP header. Only TCP
 * segments with a real drop reason get further. P: where SKB's bytes are;
 * RX_SK: receiving socket (newer kernels) or NULL.
 */
static __always_inline bool drop_reason_wanted(__u32 reason)
{
	/* SKB_NOT_DROPPED_YET, SKB_CONSUMED, NOT_SPECIFIED: no reason given */
	if (reason <= bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED))
		return false;
	/* a destroyed socket's queue: every orphan that gets its peer's FIN in
	 * FIN_WAIT2 frees it so; unread data at close shows as an RST anyway */
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE))
		return false;
	return true;
}

static __always_inline bool drop_proto_wanted(__be16 proto)
{
	return proto == ETH_P_IP_BE || proto == ETH_P_IPV6_BE;
}

static __always_inline int handle_drop(void *ctx, const struct sk_buff *skb,
				       const struct tt_pkt *p, __u32 reason,
				       const struct sock *rx_sk, const int btf)
{
	struct tt_fault_event *e;
	const struct sock *sk;
	struct tt_seg g = {};
	struct tt_l4 l4;

	if (read_ip(p, &g, &l4))
		return 0;
	if (tt_skip_family(g.family))
		return 0;
	if (read_tcp(p, &l4, &g))
		g.sport = g.dport = 0;

	/* the socket: receiving one, else the owner (transmit path, early demux) */
	sk = rx_sk ? rx_sk : BPF_CORE_READ(skb, sk);
	if (sk) {
		__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);

		/* a raw or packet socket's copy is not a TCP socket's drop */
		if (state != TCP_NEW_SYN_RECV && state != TCP_TIME_WAIT &&
		    (tt_sk_protocol(sk) != IPPROTO_TCP || tt_sk_type(sk) != SOCK_STREAM))
			sk = NULL;
	}
	if (sk) {
		if (btf)
			sk = any_sock_btf(sk);
		if (skip_any_sock(sk, btf))
			return 0;
	} else if (tt_skip_tuple(g.family, g.dport, g.sport, skb_netns(skb))) {
		return 0;
	}

	e = reserve_fault(TT_EV_DROP);
	if (!e)
		return 0;
	if (sk)
		fill_any_sock(e, sk, true, btf);
	else
		e->sk.netns = skb_netns(skb);
	e->seg = g;
	e->reason = reason;
	fill_task(&e->task, btf);
	if (drop_stacks)
		e->stack_id = take_stack(ctx, e->h.ts_ns);
	submit(e);
	return 0;
}

/* ---- resets sent ---- */

/* v6.10+: every RST, with the reason; skb NULL for tcp_send_active_reset. */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(tt_rst_btf, const struct sock *sk, const struct sk_buff *skb,
	     enum sk_rst_reason reason)
{
	return handle_reset_sent(ctx, sk, skb, reason, TT_RST_SRC_UNKNOWN, false, 1);
}

/* Needs the reason field (v6.10+): before, the tracepoint skipped resets
 * without a socket, so this fails to load and the chain moves on. */
SEC("tracepoint/tcp/tcp_send_reset")
int tt_rst_tp(struct trace_event_raw_tcp_send_reset *ctx)
{
	return handle_reset_sent(ctx, ctx->skaddr, ctx->skbaddr, ctx->reason,
				 TT_RST_SRC_UNKNOWN, false, 0);
}

/* Kernels without the reason: hook the three senders, no reason known. */
SEC("fentry/tcp_v4_send_reset")
int BPF_PROG(tt_rst4_fentry, const struct sock *sk, struct sk_buff *skb)
{
	return handle_reset_sent(ctx, sk, skb, TT_NO_REASON, TT_RST_SRC_REPLY, true, 1);
}

SEC("fentry/tcp_v6_send_reset")
int BPF_PROG(tt_rst6_fentry, const struct sock *sk, struct sk_buff *skb)
{
	return handle_reset_sent(ctx, sk, skb, TT_NO_REASON, TT_RST_SRC_REPLY, true, 1);
}

SEC("fentry/tcp_send_active_reset")
int BPF_PROG(tt_rsta_fentry, struct sock *sk)
{
	return handle_reset_sent(ctx, sk, NULL, TT_NO_REASON, TT_RST_SRC_ACTIVE, false, 1);
}

SEC("kprobe/tcp_v4_send_reset")
int BPF_KPROBE(tt_rst4_kprobe, const struct sock *sk, struct sk_buff *skb)
{
	return handle_reset_sent(ctx, sk, skb, TT_NO_REASON, TT_RST_SRC_REPLY, true, 0);
}

SEC("kprobe/tcp_v6_send_reset")
int BPF_KPROBE(tt_rst6_kprobe, const struct sock *sk, struct sk_buff *skb)
{
	return handle_reset_sent(ctx, sk, skb, TT_NO_REASON, TT_RST_SRC_REPLY, true, 0);
}

SEC("kprobe/tcp_send_active_reset")
int BPF_KPROBE(tt_rsta_kprobe, struct sock *sk)
{
	return handle_reset_sent(ctx, sk, NULL, TT_NO_REASON, TT_RST_SRC_ACTIVE, false, 0);
}

/* ---- resets received ---- */

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tt_rstrx_btf, struct sock *sk)
{
	return handle_reset_recv(ctx, sk, 1);
}

SEC("tracepoint/tcp/tcp_receive_reset")
int tt_rstrx_tp(struct trace_event_raw_tcp_event_sk *ctx)
{
	return handle_reset_recv(ctx, ctx->skaddr, 0);
}

/* ---- retransmits ---- */

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tt_retrans_btf, const struct sock *sk, const struct sk_buff *skb)
{
	/* with the err argument failed attempts are traced too: nothing was sent */
	if (retrans_err_arg && (int)ctx[2])
		return 0;
	return handle_retrans(sk, skb, 1);
}

struct trace_event_raw_tcp_retransmit_skb___err {
	int err;
} __attribute__((preserve_access_index));

SEC("tracepoint/tcp/tcp_retransmit_skb")
int tt_retrans_tp(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	struct trace_event_raw_tcp_retransmit_skb___err *x = (void *)ctx;

	if (bpf_core_field_exists(x->err) && x->err)
		return 0;
	return handle_retrans(ctx->skaddr, ctx->skbaddr, 0);
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(tt_synack_btf, const struct sock *sk, const struct request_sock *req)
{
	return handle_synack(req, 1);
}

SEC("tracepoint/tcp/tcp_retransmit_synack")
int tt_synack_tp(struct trace_event_raw_tcp_retransmit_synack *ctx)
{
	return handle_synack(ctx->req, 0);
}

/* ---- drops ---- */

/* Kernels that pass the receiving socket as an argument. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(tt_drop_btf, struct sk_buff *skb, void *location, enum skb_drop_reason reason,
	     struct sock *rx_sk)
{
	struct tt_pkt p;

	if (!drop_reason_wanted(reason))
		return 0;
	/* BTF pointer: plain loads, no probe reads, for the filter */
	p.proto = skb->protocol;
	if (!drop_proto_wanted(p.proto))
		return 0;
	p.head = skb->head;
	p.tail = skb->tail;
	p.nh = skb->network_header;
	if (!seg_is_tcp_fast(&p))
		return 0;
	return handle_drop(ctx, skb, &p, reason, rx_sk, 1);
}

struct trace_event_raw_kfree_skb___rx {
	void *rx_sk;
} __attribute__((preserve_access_index));

/* The reason field (v5.17+) is required; rx_sk is used where it exists. */
SEC("tracepoint/skb/kfree_skb")
int tt_drop_tp(struct trace_event_raw_kfree_skb *ctx)
{
	struct trace_event_raw_kfree_skb___rx *x = (void *)ctx;
	const struct sk_buff *skb = ctx->skbaddr;
	const struct sock *rx_sk = NULL;
	struct tt_pkt p;

	if (!drop_reason_wanted(ctx->reason))
		return 0;
	/* the event stores skb->protocol in host order */
	p.proto = bpf_htons(ctx->protocol);
	if (!drop_proto_wanted(p.proto))
		return 0;
	p.head = BPF_CORE_READ(skb, head);
	p.tail = BPF_CORE_READ(skb, tail);
	p.nh = BPF_CORE_READ(skb, network_header);
	if (bpf_core_field_exists(x->rx_sk))
		rx_sk = x->rx_sk;
	return handle_drop(ctx, skb, &p, ctx->reason, rx_sk, 0);
}

#endif
