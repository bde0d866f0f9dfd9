/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The end of a connection: which task called close(), the timewait sock
 * that continues an active closer after FIN_WAIT2/CLOSING -> CLOSE, and
 * the socket's destruction. Part of lifecycle.bpf.h.
 */
#ifndef TCPTRAIL_CLOSING_BPF_H
#define TCPTRAIL_CLOSING_BPF_H

static __always_inline int emit_life(__u16 kind, const struct sock *sk, __u16 state,
				     __u16 flags, __u64 cookie)
{
	struct tt_life_event *e;
	__u16 family;

	if (tt_skip_sock(sk))
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(TT_CNT_RINGBUF_FULL);
		return 0;
	}
	fill_hdr(&e->h, kind, sizeof(*e));
	fill_sock(&e->sk, sk, family, cookie);
	fill_task(&e->task);
	e->state = state;
	e->flags = flags;
	e->_pad = 0;
	submit(e);
	return 0;
}

/* ---- close() ---- */

SEC("fentry/tcp_close")
int BPF_PROG(tt_close_fentry, struct sock *sk, long timeout)
{
	return emit_life(TT_EV_CLOSE, sk, BPF_CORE_READ(sk, __sk_common.skc_state),
			 TT_LIFE_OWNED, bpf_get_socket_cookie(sk));
}

SEC("kprobe/tcp_close")
int BPF_KPROBE(tt_close_kprobe, struct sock *sk)
{
	return emit_life(TT_EV_CLOSE, sk, BPF_CORE_READ(sk, __sk_common.skc_state),
			 TT_LIFE_OWNED, tt_sk_cookie_peek(sk));
}

/* The transitions tcp_close() itself makes (tcp_close_state(), aborts). */
static __always_inline bool close_transition(int old, int new)
{
	switch (new) {
	case TCP_FIN_WAIT1:
		return old == TCP_ESTABLISHED || old == TCP_SYN_RECV || old == TCP_FIN_WAIT1;
	case TCP_LAST_ACK:
		return old == TCP_CLOSE_WAIT || old == TCP_LAST_ACK;
	case TCP_FIN_WAIT2:
	case TCP_CLOSING:
		return old == new;
	case TCP_CLOSE:
		return old == TCP_LISTEN || old == TCP_SYN_SENT || old == TCP_SYN_RECV ||
		       old == TCP_ESTABLISHED || old == TCP_CLOSE_WAIT;
	}
	return false;
}

/*
 * Without a tcp_close() hook: a close transition made while the task that
 * holds the socket lock releases the socket's last file reference. That is
 * close() (or exit) and not shutdown(), which keeps the file.
 */
static __always_inline int close_by_state(const struct sock *sk, int old, int new)
{
	const struct socket *sock;
	const struct file *file;

	if (!close_transition(old, new))
		return 0;
	sock = BPF_CORE_READ(sk, sk_socket);
	if (!sock)
		return 0;
	file = BPF_CORE_READ(sock, file);
	if (!file || !tt_file_released(file) || !BPF_CORE_READ(sk, sk_lock.owned))
		return 0;
	return emit_life(TT_EV_CLOSE, sk, old, TT_LIFE_OWNED, tt_sk_cookie_peek(sk));
}

/* ---- TIME_WAIT entry ---- */

static __always_inline int emit_tw(const struct sock *sk, const struct sock_common *tw,
				   __u8 oldstate, __u64 timeout_ns)
{
	struct tt_tw_event *e;
	__u16 family;

	if (tt_skip_sock(sk))
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(TT_CNT_RINGBUF_FULL);
		return 0;
	}
	fill_hdr(&e->h, TT_EV_TW_ENTER, sizeof(*e));
	fill_sock(&e->sk, sk, family, tt_sk_cookie_peek(sk));
	e->tw = (__u64)(unsigned long)tw;
	e->timeout_ns = timeout_ns;
	e->substate = tw ? BPF_CORE_READ((const struct inet_timewait_sock *)tw, tw_substate) : 0;
	e->oldstate = oldstate;
	e->_pad0 = 0;
	e->_pad1 = 0;
	submit(e);
	return 0;
}

/* Nanoseconds until the tw timer fires, 0 if the kernel's HZ is unknown. */
static __always_inline __u64 tw_timeout_ns(const struct sock_common *tw)
{
	long left = (long)(BPF_CORE_READ((const struct inet_timewait_sock *)tw, tw_timer.expires) -
			   bpf_jiffies64());

	if (!CONFIG_HZ || left <= 0)
		return 0;
	return (__u64)left * (1000000000ull / CONFIG_HZ);
}

/* Both IPv6 addresses of mini socket SKC and socket SK are the same. */
static __always_inline bool same_v6_addrs(const struct sock_common *skc, const struct sock *sk)
{
	__u64 a[4], b[4];

	bpf_core_read(&a[0], 16, &skc->skc_v6_daddr);
	bpf_core_read(&a[2], 16, &skc->skc_v6_rcv_saddr);
	bpf_core_read(&b[0], 16, &sk->__sk_common.skc_v6_daddr);
	bpf_core_read(&b[2], 16, &sk->__sk_common.skc_v6_rcv_saddr);
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/*
 * tcp_time_wait() puts the timewait sock at the head of the socket's ehash
 * chain, then closes the socket: here, at that CLOSE, it is the TIME_WAIT
 * entry with the same hash, ports, addresses and netns. None: the socket
 * closed without TIME_WAIT (tw bucket limit, linger2 < 0, RST, ...).
 */
static __always_inline const struct sock_common *find_tw(const struct sock *sk)
{
	const struct inet_hashinfo *h = tt_sk_ehash(sk);
	const struct inet_ehash_bucket *b;
	const struct hlist_nulls_node *n;
	const struct sock_common *skc;
	__u16 family, num, dport;
	__u32 hash, mask;
	__u64 addrs, net;
	int i;

	if (!h)
		return NULL;
	hash = BPF_CORE_READ(sk, __sk_common.skc_hash);
	mask = BPF_CORE_READ(h, ehash_mask);
	/* the port from inet_sport: closing zeroed skc_num already */
	num = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	addrs = BPF_CORE_READ(sk, __sk_common.skc_addrpair);
	net = (__u64)(unsigned long)BPF_CORE_READ(sk, __sk_common.skc_net.net);
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	b = BPF_CORE_READ(h, ehash);
	if (!b)
		return NULL;
	b = (const void *)b + (__u64)(hash & mask) * bpf_core_type_size(struct inet_ehash_bucket);
	n = BPF_CORE_READ(b, chain.first);
#pragma unroll
	for (i = 0; i < TT_EHASH_WALK; i++) {
		/* an odd pointer is the chain's nulls marker */
		if (!n || ((unsigned long)n & 1))
			return NULL;
		skc = (const void *)n - bpf_core_field_offset(struct sock_common, skc_nulls_node);
		if (BPF_CORE_READ(skc, skc_state) == TCP_TIME_WAIT &&
		    BPF_CORE_READ(skc, skc_hash) == hash &&
		    BPF_CORE_READ(skc, skc_num) == num && BPF_CORE_READ(skc, skc_dport) == dport &&
		    (__u64)(unsigned long)BPF_CORE_READ(skc, skc_net.net) == net &&
		    (family == AF_INET ? BPF_CORE_READ(skc, skc_addrpair) == addrs :
		     same_v6_addrs(skc, sk)))
			return skc;
		n = BPF_CORE_READ(n, next);
	}
	return NULL;
}

static __always_inline int tw_by_state(const struct sock *sk, int old, int new)
{
	const struct sock_common *tw;

	if (new != TCP_CLOSE || (old != TCP_FIN_WAIT2 && old != TCP_CLOSING))
		return 0;
	tw = find_tw(sk);
	return emit_tw(sk, tw, old, tw ? tw_timeout_ns(tw) : 0);
}

/* inet_twsk_alloc() copies the identity; tcp_time_wait() hashes it next. */
SEC("fexit/inet_twsk_alloc")
int BPF_PROG(tt_tw_fexit, const struct sock *sk, struct inet_timewait_death_row *dr,
	     const int state, struct inet_timewait_sock *tw)
{
	if (!tw || tt_sk_protocol(sk) != IPPROTO_TCP)
		return 0;
	return emit_tw(sk, (const struct sock_common *)tw,
		       BPF_CORE_READ(sk, __sk_common.skc_state), 0);
}

/* ---- close() and TIME_WAIT entry from state changes: one program ---- */

static __always_inline int handle_life_state(const struct sock *sk, int old, int new)
{
	/* integer tests first: most state changes are neither */
	if ((life_state_roles & TT_ROLE_TW) && new == TCP_CLOSE &&
	    (old == TCP_FIN_WAIT2 || old == TCP_CLOSING)) {
		if (tt_sk_protocol(sk) != IPPROTO_TCP)
			return 0;
		return tw_by_state(sk, old, new);
	}
	if ((life_state_roles & TT_ROLE_CLOSE) && close_transition(old, new)) {
		if (tt_sk_protocol(sk) != IPPROTO_TCP)
			return 0;
		return close_by_state(sk, old, new);
	}
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tt_life_state_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	return handle_life_state(sk, oldstate, newstate);
}

SEC("tracepoint/sock/inet_sock_set_state")
int tt_life_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	return handle_life_state(ctx->skaddr, ctx->oldstate, ctx->newstate);
}

/* ---- destruction ---- */

static __always_inline int handle_destroy(const struct sock *sk, __u64 cookie)
{
	__u16 flags = BPF_CORE_READ(sk, sk_lock.owned) ? TT_LIFE_OWNED : 0;

	if (tt_sk_protocol(sk) != IPPROTO_TCP)
		return 0;
	return emit_life(TT_EV_DESTROY, sk, BPF_CORE_READ(sk, __sk_common.skc_state), flags,
			 cookie);
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(tt_destroy_btf, struct sock *sk)
{
	return handle_destroy(sk, bpf_get_socket_cookie(sk));
}

SEC("tracepoint/tcp/tcp_destroy_sock")
int tt_destroy_tp(struct trace_event_raw_tcp_event_sk *ctx)
{
	return handle_destroy(ctx->skaddr, ctx->sock_cookie);
}

/* Kernels that lack the tcp_destroy_sock tracepoint: v6 calls this too. */
SEC("fentry/tcp_v4_destroy_sock")
int BPF_PROG(tt_destroy_fentry, struct sock *sk)
{
	return handle_destroy(sk, bpf_get_socket_cookie(sk));
}

#endif
