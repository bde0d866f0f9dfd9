/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The end of a connection: which task called close(), the timewait sock
 * that continues an active closer after FIN_WAIT2/CLOSING -> CLOSE, and
 * the socket's destruction. Part of lifecycle.bpf.h.
 */
#ifndef TCPTRAIL_CLOSING_BPF_H
#define TCPTRAIL_CLOSING_BPF_H

/*
 * These run at every state change and socket destruction, so the tp_btf
 * programs read fields with plain loads (SK is a BTF pointer there) and
 * not with a bpf_probe_read_kernel() call per field, which cost ~30 ns each
 * here. DIRECT is a literal at each call site: 1 for BTF pointers, 0 for
 * the classic tracepoint and kprobe wrappers, where SK is a plain address.
 */
#define TT_RD(direct, p, f) ((direct) ? (p)->f : BPF_CORE_READ(p, f))

/* The identity fill_sock() gives, with plain loads. */
static __always_inline void fill_sock_btf_tuple(struct tt_sock *e, const struct sock *sk,
					  __u16 family, __u16 sport, __u16 dport, __u32 netns,
					  __u64 cookie)
{
	e->kind = TT_SK_FULL;
	e->_pad1 = 0;
	e->skaddr = (__u64)(unsigned long)sk;
	e->cookie = cookie;
	e->netns = netns;
	e->family = family;
	e->sport = sport;
	e->dport = dport;
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (family == AF_INET) {
		*(__u32 *)e->saddr = sk->__sk_common.skc_rcv_saddr;
		*(__u32 *)e->daddr = sk->__sk_common.skc_daddr;
	} else {
		__builtin_memcpy(e->saddr, &sk->__sk_common.skc_v6_rcv_saddr, 16);
		__builtin_memcpy(e->daddr, &sk->__sk_common.skc_v6_daddr, 16);
	}
}

/* What the filter and the identity need of a socket, read once. */
struct sk_key {
	__u16 family, sport, dport;	/* ports host order, sport from inet_sport */
	__u32 netns;
};

static __always_inline void sk_key(struct sk_key *k, const struct sock *sk, const int direct)
{
	k->family = TT_RD(direct, sk, __sk_common.skc_family);
	k->dport = bpf_ntohs(TT_RD(direct, sk, __sk_common.skc_dport));
	if (direct) {
		k->sport = tt_inet_sport_btf(sk);
		k->netns = tt_sk_netns_x(sk, true);
	} else {
		k->sport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
		k->netns = tt_sk_netns(sk);
	}
}

static __always_inline void fill_sock_rd(struct tt_sock *e, const struct sock *sk,
					 const struct sk_key *k, __u64 cookie, const int direct)
{
	if (direct)
		fill_sock_btf_tuple(e, sk, k->family, k->sport, k->dport, k->netns, cookie);
	else
		fill_sock(e, sk, k->family, cookie);
}

static __always_inline int emit_life(__u16 kind, const struct sock *sk, __u16 state,
				     __u16 flags, __u64 cookie, const int direct)
{
	struct tt_life_event *e;
	struct sk_key k;

	/* close() happens in the task's own context: the pid filter applies */
	if (kind == TT_EV_CLOSE && tt_skip_task())
		return 0;
	sk_key(&k, sk, direct);
	if (tt_skip_tuple_x(k.family, k.sport, k.dport, k.netns,
			    tt_port_followed(sk, k.dport, direct)))
		return 0;
	e = reserve_event(sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->h, kind, sizeof(*e));
	fill_sock_rd(&e->sk, sk, &k, cookie, direct);
	fill_task(&e->task, direct);
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
	return emit_life(TT_EV_CLOSE, sk, sk->__sk_common.skc_state, TT_LIFE_OWNED,
			 bpf_get_socket_cookie(sk), 1);
}

SEC("kprobe/tcp_close")
int BPF_KPROBE(tt_close_kprobe, struct sock *sk)
{
	return emit_life(TT_EV_CLOSE, sk, BPF_CORE_READ(sk, __sk_common.skc_state),
			 TT_LIFE_OWNED, tt_sk_cookie_peek(sk), 0);
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
static __always_inline bool closed_by_task(const struct sock *sk, const int direct)
{
	const struct socket *sock;
	const struct file *file;

	sock = TT_RD(direct, sk, sk_socket);
	if (!sock)
		return false;
	file = TT_RD(direct, sock, file);
	return file && tt_file_released(file, direct) && TT_RD(direct, sk, sk_lock.owned);
}

static __always_inline int close_by_state(const struct sock *sk, int old, int new,
					  const int direct)
{
	if (!close_transition(old, new) || !closed_by_task(sk, direct))
		return 0;
	return emit_life(TT_EV_CLOSE, sk, old, TT_LIFE_OWNED,
			 TT_RD(direct, sk, __sk_common.skc_cookie.counter), direct);
}

/* ---- TIME_WAIT entry ---- */

/* What the tw timer and tw_substate of timewait sock TW say. DIRECT: with
 * plain loads (TW is a number from find_tw(), or a BTF pointer). */
static __always_inline __u8 tw_substate(const struct sock_common *tw, const int direct)
{
	if (!tw)
		return 0;
	if (direct)
		return ((const struct inet_timewait_sock *)bpf_rdonly_cast(tw,
			bpf_core_type_id_kernel(struct inet_timewait_sock)))->tw_substate;
	return BPF_CORE_READ((const struct inet_timewait_sock *)tw, tw_substate);
}

/* Nanoseconds until the tw timer fires, 0 if the kernel's HZ is unknown. */
static __always_inline __u64 tw_timeout_ns(const struct sock_common *tw, const int direct)
{
	unsigned long expires;
	long left;

	if (direct)
		expires = ((const struct inet_timewait_sock *)bpf_rdonly_cast(tw,
			   bpf_core_type_id_kernel(struct inet_timewait_sock)))->tw_timer.expires;
	else
		expires = BPF_CORE_READ((const struct inet_timewait_sock *)tw, tw_timer.expires);
	left = (long)(expires - bpf_jiffies64());
	if (!CONFIG_HZ || left <= 0)
		return 0;
	return (__u64)left * (1000000000ull / CONFIG_HZ);
}

static __always_inline int emit_tw(const struct sock *sk, const struct sk_key *k,
				   const struct sock_common *tw, __u8 oldstate, __u64 timeout_ns,
				   const int direct)
{
	struct tt_tw_event *e;

	e = reserve_event(sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->h, TT_EV_TW_ENTER, sizeof(*e));
	fill_sock_rd(&e->sk, sk, k, TT_RD(direct, sk, __sk_common.skc_cookie.counter), direct);
	e->tw = (__u64)(unsigned long)tw;
	e->timeout_ns = timeout_ns;
	e->substate = tw_substate(tw, direct);
	e->oldstate = oldstate;
	e->_pad0 = 0;
	e->_pad1 = 0;
	submit(e);
	return 0;
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

/* Chain entry SKC (plain loads, a read-only cast) is the timewait sock of
 * BTF-typed SK, whose hash, ports, addresses and netns are these. */
static __always_inline bool tw_matches(const struct sock_common *skc, const struct sock *sk,
				       __u16 family, __u32 hash, __u16 num, __u16 dport,
				       __u64 addrs, __u64 net)
{
	const struct sock_common *c = bpf_rdonly_cast(skc, bpf_core_type_id_kernel(struct sock_common));
	const struct sock_common *s = &sk->__sk_common;
	int i;

	if (c->skc_state != TCP_TIME_WAIT || c->skc_hash != hash || c->skc_num != num ||
	    c->skc_dport != dport || (__u64)(unsigned long)c->skc_net.net != net)
		return false;
	if (family == AF_INET)
		return c->skc_addrpair == addrs;
	for (i = 0; i < 4; i++) {
		if (c->skc_v6_daddr.in6_u.u6_addr32[i] != s->skc_v6_daddr.in6_u.u6_addr32[i] ||
		    c->skc_v6_rcv_saddr.in6_u.u6_addr32[i] != s->skc_v6_rcv_saddr.in6_u.u6_addr32[i])
			return false;
	}
	return true;
}

/*
 * tcp_time_wait() puts the timewait sock at the head of the socket's ehash
 * chain, then closes the socket: here, at that CLOSE, it is the TIME_WAIT
 * entry with the same hash, ports, addresses and netns. None: the socket
 * closed without TIME_WAIT (tw bucket limit, linger2 < 0, RST, ...).
 */
static __always_inline const struct sock_common *find_tw(const struct sock *sk,
							const struct sk_key *k, const int direct)
{
	const struct inet_hashinfo *h = tt_sk_ehash(sk, direct);
	const struct inet_ehash_bucket *b;
	const struct hlist_nulls_node *n;
	const struct sock_common *skc;
	__u16 family = k->family, num = k->sport, dport;
	__u32 hash, mask;
	__u64 addrs, net;
	int i;

	if (!h)
		return NULL;
	/* the local port is k->sport, from inet_sport: closing zeroed skc_num */
	hash = TT_RD(direct, sk, __sk_common.skc_hash);
	dport = TT_RD(direct, sk, __sk_common.skc_dport);
	addrs = TT_RD(direct, sk, __sk_common.skc_addrpair);
	net = (__u64)(unsigned long)TT_RD(direct, sk, __sk_common.skc_net.net);
	/* the chain's pointers are probe read, as numbers: its end is an odd
	 * one; with DIRECT the entries' fields are plain loads */
	mask = TT_RD(direct, h, ehash_mask);
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
		if (direct) {
			if (tw_matches(skc, sk, family, hash, num, dport, addrs, net))
				return skc;
		} else if (BPF_CORE_READ(skc, skc_state) == TCP_TIME_WAIT &&
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

static __always_inline int tw_by_state(const struct sock *sk, int old, int new,
				       const int direct)
{
	const struct sock_common *tw;
	struct sk_key k;

	if (new != TCP_CLOSE || (old != TCP_FIN_WAIT2 && old != TCP_CLOSING))
		return 0;
	sk_key(&k, sk, direct);
	if (tt_skip_tuple(k.family, k.sport, k.dport, k.netns))
		return 0;
	tw = find_tw(sk, &k, direct);
	return emit_tw(sk, &k, tw, old, tw ? tw_timeout_ns(tw, direct) : 0, direct);
}

/* inet_twsk_alloc() copies the identity; tcp_time_wait() hashes it next. */
SEC("fexit/inet_twsk_alloc")
int BPF_PROG(tt_tw_fexit, const struct sock *sk, struct inet_timewait_death_row *dr,
	     const int state, struct inet_timewait_sock *tw)
{
	struct sk_key k;

	if (!tw || tt_sk_protocol(sk) != IPPROTO_TCP)
		return 0;
	sk_key(&k, sk, 1);
	if (tt_skip_tuple(k.family, k.sport, k.dport, k.netns))
		return 0;
	return emit_tw(sk, &k, (const struct sock_common *)tw, sk->__sk_common.skc_state, 0, 1);
}

/* ---- close() and TIME_WAIT entry from state changes ---- */

/* The TIME_WAIT entry TT_ROLE_TW stands for: FIN_WAIT2/CLOSING -> CLOSE. */
static __always_inline bool tw_transition(int old, int new)
{
	return new == TCP_CLOSE && (old == TCP_FIN_WAIT2 || old == TCP_CLOSING);
}

/* ROLES (TT_ROLE_*) of a state change whose state record is not written:
 * its close() call or TIME_WAIT entry in records of their own. */
static __always_inline int handle_life_state(const struct sock *sk, int old, int new,
					     __u32 roles, const int direct)
{
	/* integer tests first: most state changes are neither */
	if ((roles & TT_ROLE_TW) && tw_transition(old, new))
		return tw_by_state(sk, old, new, direct);
	if ((roles & TT_ROLE_CLOSE) && close_transition(old, new))
		return close_by_state(sk, old, new, direct);
	return 0;
}

/* ---- destruction ---- */

/* tcp_v4_destroy_sock() is TCP's own (v6 and MPTCP subflows call it too). */
static __always_inline int handle_destroy(const struct sock *sk, __u64 cookie, const int direct)
{
	__u16 flags = TT_RD(direct, sk, sk_lock.owned) ? TT_LIFE_OWNED : 0;

	return emit_life(TT_EV_DESTROY, sk, TT_RD(direct, sk, __sk_common.skc_state), flags,
			 cookie, direct);
}

/* the cookie as set: a socket that had events has one, others we skip */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(tt_destroy_btf, struct sock *sk)
{
	return handle_destroy(sk, sk->__sk_common.skc_cookie.counter, 1);
}

SEC("tracepoint/tcp/tcp_destroy_sock")
int tt_destroy_tp(struct trace_event_raw_tcp_event_sk *ctx)
{
	return handle_destroy(ctx->skaddr, ctx->sock_cookie, 0);
}

/* Kernels that lack the tcp_destroy_sock tracepoint: v6 calls this too. */
SEC("fentry/tcp_v4_destroy_sock")
int BPF_PROG(tt_destroy_fentry, struct sock *sk)
{
	return handle_destroy(sk, sk->__sk_common.skc_cookie.counter, 1);
}

#endif
