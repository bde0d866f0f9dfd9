/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Connection lifecycle beyond state changes: the request sock a SYN creates
 * (TCP_NEW_SYN_RECV) and its SYN-ACK timer, the timewait sock that replaces
 * an active closer, close() calls and socket destruction. Included from
 * tcptrail.bpf.c after its helpers; record/probes.c picks the wrappers.
 */
#ifndef TCPTRAIL_LIFECYCLE_BPF_H
#define TCPTRAIL_LIFECYCLE_BPF_H

/* Timer callbacks of the two mini sockets; libbpf resolves them from kallsyms. */
extern const void tw_timer_handler __ksym __weak;
extern const void reqsk_timer_handler __ksym __weak;
extern unsigned int CONFIG_HZ __kconfig __weak;

#define TT_EHASH_WALK 8		/* chain entries looked at for a timewait sock */
#define TT_RTO_MAX_S 120	/* TCP_RTO_MAX */

/* Identity of a request or timewait sock: only sock_common is theirs. */
static __always_inline void fill_mini(struct tt_sock *e, const struct sock_common *skc,
				      __u16 family, __u64 cookie, __u16 kind)
{
	e->kind = kind;
	e->_pad1 = 0;
	e->skaddr = (__u64)(unsigned long)skc;
	e->cookie = cookie;
	e->netns = tt_sk_netns((const struct sock *)skc);
	e->family = family;
	e->sport = BPF_CORE_READ(skc, skc_num);
	e->dport = bpf_ntohs(BPF_CORE_READ(skc, skc_dport));
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (family == AF_INET) {
		bpf_core_read(e->saddr, 4, &skc->skc_rcv_saddr);
		bpf_core_read(e->daddr, 4, &skc->skc_daddr);
	} else {
		bpf_core_read(e->saddr, 16, &skc->skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, 16, &skc->skc_v6_daddr);
	}
}

/* Filter test for a mini socket (tt_skip_sock() reads inet_sock fields). */
static __always_inline bool skip_mini(const struct sock_common *skc, __u16 family)
{
	return tt_skip_tuple(family, BPF_CORE_READ(skc, skc_num),
			     bpf_ntohs(BPF_CORE_READ(skc, skc_dport)),
			     tt_sk_netns((const struct sock *)skc));
}

/* ---- request socks ---- */

static int handle_req(const struct request_sock *req, const struct sock *listener,
		      __u64 cookie)
{
	const struct sock_common *skc = (const struct sock_common *)req;
	struct tt_req_event *e;
	__u16 family;

	if (!req)
		return 0;
	family = BPF_CORE_READ(skc, skc_family);
	if (skip_mini(skc, family))
		return 0;
	e = reserve_event(sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->h, TT_EV_REQ, sizeof(*e));
	fill_mini(&e->req, skc, family, cookie, TT_SK_REQUEST);
	if (listener)
		fill_sock(&e->listener, listener, BPF_CORE_READ(listener, __sk_common.skc_family),
			  tt_sk_cookie_peek(listener));
	else
		__builtin_memset(&e->listener, 0, sizeof(e->listener));
	submit(e);
	return 0;
}

/* The request sock is complete (tuple, listener) when it is hashed and queued. */
SEC("fentry/inet_csk_reqsk_queue_hash_add")
int BPF_PROG(tt_req_fentry, struct sock *sk, struct request_sock *req)
{
	return handle_req(req, sk, bpf_get_socket_cookie(req));
}

SEC("kprobe/inet_csk_reqsk_queue_hash_add")
int BPF_KPROBE(tt_req_kprobe, struct sock *sk, struct request_sock *req)
{
	return handle_req(req, sk, tt_sk_cookie_peek((const struct sock *)req));
}

/*
 * TIMEOUT_INIT runs for the request sock right before it is queued (not for
 * syncookies), with is_fullsock 0. Its tuple comes from the context; the
 * context hides the request sock's address, taken from the kernel's
 * bpf_sock_ops_kern, and what we read of the request sock and its listener
 * (netns; the listener's bound address and family, which may differ from
 * the request sock's) are plain loads through read-only casts. The cookie
 * made here is inherited by the child socket. Returns 1 and leaves reply
 * alone: the kernel keeps its default timeout.
 */
SEC("sockops")
int tt_req_sockops(struct bpf_sock_ops *ops)
{
	const struct bpf_sock_ops_kern *k;
	const struct sock_common *req, *l;
	struct tt_req_event *e;
	__u16 family, sport, dport;
	__u32 netns = 0;

	if (ops->op != BPF_SOCK_OPS_TIMEOUT_INIT || ops->is_fullsock)
		return 1;
	family = ops->family;
	sport = ops->local_port;
	dport = bpf_ntohl(ops->remote_port);
	k = bpf_cast_to_kern_ctx(ops);
	req = bpf_rdonly_cast(k->sk, bpf_core_type_id_kernel(struct sock_common));
	if (!req)
		return 1;
	if (bpf_core_field_exists(req->skc_net.net))
		netns = req->skc_net.net->ns.inum;
	if (tt_skip_tuple(family, sport, dport, netns))
		return 1;
	e = reserve_event(sizeof(*e));
	if (!e)
		return 1;
	fill_hdr(&e->h, TT_EV_REQ, sizeof(*e));
	__builtin_memset(&e->req, 0, sizeof(e->req));
	__builtin_memset(&e->listener, 0, sizeof(e->listener));
	e->req.kind = TT_SK_REQUEST;
	e->req.skaddr = (__u64)(unsigned long)req;
	e->req.cookie = bpf_get_socket_cookie(ops);
	e->req.netns = netns;
	e->req.family = family;
	e->req.sport = sport;
	e->req.dport = dport;
	if (family == AF_INET) {
		*(__u32 *)e->req.saddr = ops->local_ip4;
		*(__u32 *)e->req.daddr = ops->remote_ip4;
	} else {
		__u32 *s = (__u32 *)e->req.saddr, *d = (__u32 *)e->req.daddr;

		s[0] = ops->local_ip6[0]; s[1] = ops->local_ip6[1];
		s[2] = ops->local_ip6[2]; s[3] = ops->local_ip6[3];
		d[0] = ops->remote_ip6[0]; d[1] = ops->remote_ip6[1];
		d[2] = ops->remote_ip6[2]; d[3] = ops->remote_ip6[3];
	}
	/* skc_listener shares a union with skc_flags: cast what it holds */
	l = bpf_rdonly_cast((const void *)req->skc_listener,
			    bpf_core_type_id_kernel(struct sock_common));
	if (l) {
		int i;

		e->listener.kind = TT_SK_FULL;
		e->listener.skaddr = (__u64)(unsigned long)l;
		if (bpf_core_field_exists(l->skc_cookie))
			e->listener.cookie = l->skc_cookie.counter;
		e->listener.netns = netns;
		e->listener.family = l->skc_family;
		e->listener.sport = sport;
		if (e->listener.family == AF_INET)
			*(__u32 *)e->listener.saddr = l->skc_rcv_saddr;
		else
			for (i = 0; i < 4; i++)
				((__u32 *)e->listener.saddr)[i] =
					l->skc_v6_rcv_saddr.in6_u.u6_addr32[i];
	}
	submit(e);
	return 1;
}

/*
 * What reqsk_timer_handler() is about to do with REQ (same rules: retries
 * from the listener or the netns sysctl, fewer when the queue is clogged
 * with old requests, TCP_DEFER_ACCEPT). Misses only a failed retransmit
 * and reuseport migration; the recorder's time bound covers those.
 */
static __always_inline __u8 req_verdict(const struct request_sock *req, __u8 *max_out)
{
	const struct sock *l = BPF_CORE_READ(req, __req_common.skc_listener);
	const struct inet_connection_sock *icsk = (const void *)l;
	__u32 n, max, qlen, backlog, defer, acked;
	__u64 young;
	int i;

	*max_out = 0;
	if (!l || BPF_CORE_READ(l, __sk_common.skc_state) != TCP_LISTEN)
		return TT_REQ_ORPHAN;
	max = BPF_CORE_READ(icsk, icsk_syn_retries);
	if (!max)
		max = BPF_CORE_READ(l, __sk_common.skc_net.net, ipv4.sysctl_tcp_synack_retries);
	qlen = BPF_CORE_READ(icsk, icsk_accept_queue.qlen.counter);
	young = (__u64)BPF_CORE_READ(icsk, icsk_accept_queue.young.counter) << 1;
	backlog = BPF_CORE_READ(l, sk_max_ack_backlog);
	if ((qlen << 1) > (backlog > 8 ? backlog : 8)) {
		/* young doubles each round: 40 rounds pass any qlen */
		for (i = 0; i < 40 && max > 2; i++) {
			if (qlen < young)
				break;
			max--;
			young <<= 1;
		}
	}
	n = BPF_CORE_READ_BITFIELD_PROBED(req, num_timeout);
	defer = BPF_CORE_READ(icsk, icsk_accept_queue.rskq_defer_accept);
	acked = BPF_CORE_READ_BITFIELD_PROBED((const struct inet_request_sock *)req, acked);
	*max_out = max > 255 ? 255 : max;
	if (n >= max && (!defer || !acked || n >= defer))
		return TT_REQ_EXPIRE;
	return TT_REQ_RESEND;
}

/* ---- timers of mini sockets: SYN-ACK timer, end of TIME_WAIT ---- */

static __always_inline int mini_timer_event(const struct timer_list *timer, int is_tw)
{
	const struct sock_common *skc;
	struct tt_mini_event *e;
	__u16 family;

	if (is_tw)
		skc = (const void *)timer -
		      bpf_core_field_offset(struct inet_timewait_sock, tw_timer);
	else
		skc = (const void *)timer - bpf_core_field_offset(struct request_sock, rsk_timer);
	family = BPF_CORE_READ(skc, skc_family);
	if (skip_mini(skc, family))
		return 0;
	e = reserve_event(sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->h, is_tw ? TT_EV_TW_END : TT_EV_REQ_TIMER, sizeof(*e));
	fill_mini(&e->sk, skc, family, tt_sk_cookie_peek((const struct sock *)skc),
		  is_tw ? TT_SK_TIMEWAIT : TT_SK_REQUEST);
	e->_pad = 0;
	e->substate = 0;
	e->verdict = 0;
	e->num_timeout = 0;
	e->max_retries = 0;
	if (is_tw) {
		e->substate = BPF_CORE_READ((const struct inet_timewait_sock *)skc, tw_substate);
	} else {
		e->num_timeout = BPF_CORE_READ_BITFIELD_PROBED((const struct request_sock *)skc,
							      num_timeout);
		e->verdict = req_verdict((const struct request_sock *)skc, &e->max_retries);
	}
	submit(e);
	return 0;
}

/* Every expiring timer in the system passes here: compare one pointer first. */
static __always_inline int handle_mini_timer(const struct timer_list *timer, const void *fn)
{
	if (fn && fn == (const void *)&tw_timer_handler)
		return mini_timer_event(timer, 1);
	if (fn && fn == (const void *)&reqsk_timer_handler)
		return mini_timer_event(timer, 0);
	return 0;
}

SEC("tp_btf/timer_expire_entry")
int BPF_PROG(tt_timer_btf, struct timer_list *timer, unsigned long baseclk)
{
	return handle_mini_timer(timer, (const void *)timer->function);
}

SEC("tracepoint/timer/timer_expire_entry")
int tt_timer_tp(struct trace_event_raw_timer_expire_entry *ctx)
{
	return handle_mini_timer(ctx->timer, ctx->function);
}

#include "closing.bpf.h"

#endif
