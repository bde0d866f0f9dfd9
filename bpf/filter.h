/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * In-kernel filters, shared by every handler in bpf/. A handler calls the
 * cheapest test that applies before it reserves ring-buffer space, so
 * filtered-out traffic costs a few loads and compares. Filters combine with
 * AND; within one filter (several ports, several pids) with OR. Each test is
 * behind a const volatile switch the verifier resolves at load, so a filter
 * not in use costs nothing at all.
 *
 * Owner filters (--pid, --cgroup) follow sockets, not the CPU's current
 * task, which in softirq context is unrelated:
 * - cgroup: a full socket carries its cgroup (sk_cgrp_data, set when the
 *   socket is created, inherited by a listener's children); a request sock
 *   asks its listener.
 * - pid: a socket belongs to the task that connect()s or listen()s on it,
 *   decided at that moment (state CLOSE, still attached to a file: process
 *   context) and remembered in pid_socks by socket address; a listener's
 *   child belongs to whoever owns the listener's port; sockets that existed
 *   before the recording are seeded by the recorder (by socket cookie, from
 *   sock_diag) into seed_cookies.
 * - timewait socks and segments without a socket have no owner: they are
 *   kept when their local port (and netns) belongs to a wanted socket, as
 *   remembered in owned_ports. A port stays there after its socket is gone
 *   until the LRU map evicts it, so later unrelated traffic on the same
 *   port of the same netns may pass.
 *
 * Port filter (-p): a connect() that fails clears the socket's remote port
 * (tcp_disconnect), so its close() and destruction would no longer match.
 * A socket seen connecting to a wanted port is remembered by cookie in
 * port_socks and stays wanted while its remote port reads 0.
 */
#ifndef TCPTRAIL_FILTER_H
#define TCPTRAIL_FILTER_H

#define AF_INET 2
#define AF_INET6 10

#define TT_MAX_PIDS 256
#define TT_MAX_SEED_COOKIES 65536
#define TT_MAX_CGROUP_LEVEL 64

/* Set by the recorder between open and load: 0 = all, AF_INET, AF_INET6. */
const volatile __u16 target_family = 0;
/* Network namespace inode, 0 = all namespaces. */
const volatile __u32 target_netns = 0;
/* -p: bit P of port_bits set = port P wanted, as local or remote port. */
const volatile bool filter_ports = false;
const volatile __u8 port_bits[65536 / 8] = {};
/* --pid: tgids in the pids map. pid_seeded: seed_cookies is not empty. */
const volatile bool filter_pids = false;
const volatile bool pid_seeded = false;
/* --cgroup: the cgroup with this id at this level, or any descendant. */
const volatile bool filter_cgroup = false;
const volatile __u64 target_cgroup_id = 0;
const volatile __u32 target_cgroup_level = 0;

struct tt_port_key {
	__u32 netns;
	__u16 port;		/* local port, host order */
	__u16 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TT_MAX_PIDS);
	__type(key, __u32);	/* tgid */
	__type(value, __u8);
} pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);	/* socket address */
	__type(value, __u8);
} pid_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TT_MAX_SEED_COOKIES);
	__type(key, __u64);	/* socket cookie */
	__type(value, __u8);
} seed_cookies SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tt_port_key);
	__type(value, __u8);
} owned_ports SEC(".maps");

/* True if events of a socket/segment of FAMILY are not wanted. */
#define TT_MAX_PORT_SOCKS 8192

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TT_MAX_PORT_SOCKS);
	__type(key, __u64);	/* socket cookie */
	__type(value, __u8);
} port_socks SEC(".maps");

static __always_inline bool tt_skip_family(__u16 family)
{
	if (family != AF_INET && family != AF_INET6)
		return true;
	return target_family && family != target_family;
}

static __always_inline bool tt_port_wanted(__u16 port)
{
	return port_bits[(port >> 3) & 8191] & (1u << (port & 7));
}

static __always_inline bool tt_port_owned(__u32 netns, __u16 lport)
{
	struct tt_port_key k = { .netns = netns, .port = lport };

	return lport && bpf_map_lookup_elem(&owned_ports, &k);
}

static __always_inline void tt_own_port(__u32 netns, __u16 lport)
{
	struct tt_port_key k = { .netns = netns, .port = lport };
	__u8 one = 1;

	/* look first: an update per event would cost more than the event */
	if (lport && !bpf_map_lookup_elem(&owned_ports, &k))
		bpf_map_update_elem(&owned_ports, &k, &one, BPF_ANY);
}

/* True if the current task is not one of --pid's. */
static __always_inline bool tt_task_not_wanted_pid(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return !bpf_map_lookup_elem(&pids, &tgid);
}

/* True if cgroup CGRP is --cgroup's or below it. */
static __always_inline bool tt_cgroup_wanted(const struct cgroup *cgrp)
{
	__u32 level;

	if (!cgrp)
		return target_cgroup_level == 0;
	level = BPF_CORE_READ(cgrp, level);
	if (level < target_cgroup_level)
		return false;
	if (level == target_cgroup_level)
		return tt_kn_id(BPF_CORE_READ(cgrp, kn)) == target_cgroup_id;
	return tt_cgroup_ancestor_id(cgrp, target_cgroup_level & (TT_MAX_CGROUP_LEVEL - 1)) ==
	       target_cgroup_id;
}

static __always_inline __u64 tt_sk_cookie_x(const struct sock *sk, bool btf)
{
	if (!btf)
		return tt_sk_cookie_peek(sk);
	return bpf_core_field_exists(sk->__sk_common.skc_cookie) ?
	       sk->__sk_common.skc_cookie.counter : 0;
}

/* -p: full socket SK, remote port RPORT, was seen connecting to a wanted
 * port and has had its remote port cleared since (see the top). */
static __always_inline bool tt_port_followed(const struct sock *sk, __u16 rport, bool btf)
{
	__u64 cookie;

	if (!filter_ports || rport)
		return false;
	cookie = tt_sk_cookie_x(sk, btf);
	return cookie && bpf_map_lookup_elem(&port_socks, &cookie);
}

/*
 * True if events about a TCP endpoint are not wanted: FAMILY, local and
 * remote ports (host order) and network namespace inode. For events with
 * a socket pass its tuple; for a segment without one, the segment's.
 * FOLLOWED: the port filter passes it whatever its ports (tt_port_followed).
 */
static __always_inline bool tt_skip_tuple_x(__u16 family, __u16 lport, __u16 rport, __u32 netns,
					    bool followed)
{
	if (tt_skip_family(family))
		return true;
	if (target_netns && netns != target_netns)
		return true;
	if (filter_ports && !followed && !tt_port_wanted(lport) && !tt_port_wanted(rport))
		return true;
	/* no socket, no owner: the port decides */
	if ((filter_pids || filter_cgroup) && !tt_port_owned(netns, lport))
		return true;
	return false;
}

static __always_inline bool tt_skip_tuple(__u16 family, __u16 lport, __u16 rport, __u32 netns)
{
	return tt_skip_tuple_x(family, lport, rport, netns, false);
}

/*
 * Read a socket field: with BTF (a BTF-typed sk, as in tp_btf and fentry)
 * a plain load, which the verifier turns into a fault-safe one; without, a
 * bpf_probe_read_kernel() call. BTF is a constant in every caller, so each
 * program holds one of the two. A probe read costs ~35 ns on the test
 * machine, a load next to nothing: this is what keeps filtered-out events
 * cheap in tp_btf programs.
 */
#define TT_SK_READ(btf, sk, ...) \
	((btf) ? (sk)->__VA_ARGS__ : BPF_CORE_READ(sk, __VA_ARGS__))

/* inet_sport of a BTF-typed sk: it lies past struct sock, so through a
 * read-only cast, still a plain load. */
static __always_inline __u16 tt_inet_sport_btf(const struct sock *sk)
{
	const struct inet_sock *inet = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct inet_sock));

	return bpf_ntohs(inet->inet_sport);
}

/* Local port of a full, request or timewait sock: each keeps it elsewhere. */
static __always_inline __u16 tt_sk_lport(const struct sock *sk, __u8 state, bool btf)
{
	__u16 num;

	if (state == TCP_NEW_SYN_RECV || state == TCP_TIME_WAIT)
		return TT_SK_READ(btf, sk, __sk_common.skc_num);
	/* skc_num where it still holds the port (until TCP_CLOSE unhashes) */
	if (btf && (num = sk->__sk_common.skc_num))
		return num;
	/* inet_sport, as the tracepoint: skc_num is zeroed before TCP_CLOSE */
	if (btf)
		return tt_inet_sport_btf(sk);
	return bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
}

static __always_inline __u32 tt_sk_netns_x(const struct sock *sk, bool btf)
{
	if (!btf)
		return tt_sk_netns(sk);
	if (!bpf_core_field_exists(sk->__sk_common.skc_net.net))
		return 0;
	return sk->__sk_common.skc_net.net->ns.inum;
}

/* -p for a full socket: its ports, or (remote port cleared) its history. */
static __always_inline bool tt_sk_ports_wanted(const struct sock *sk, __u8 state, __u16 lport,
					       bool btf)
{
	__u16 rport = bpf_ntohs(TT_SK_READ(btf, sk, __sk_common.skc_dport));
	__u64 cookie;
	__u8 one = 1;

	if (tt_port_wanted(lport) || tt_port_wanted(rport)) {
		if (state == TCP_SYN_SENT && (cookie = tt_sk_cookie_x(sk, btf)))
			bpf_map_update_elem(&port_socks, &cookie, &one, BPF_ANY);
		return true;
	}
	return state != TCP_NEW_SYN_RECV && state != TCP_TIME_WAIT &&
	       tt_port_followed(sk, rport, btf);
}

/* --pid for a full socket: see the top of this file. */
static __always_inline bool tt_sk_pid_wanted(const struct sock *sk, __u8 state,
					     __u32 netns, __u16 lport, bool btf)
{
	__u64 key = (__u64)(unsigned long)sk, cookie;
	bool born = false, wanted;
	__u8 one = 1;

	if (state == TCP_CLOSE && TT_SK_READ(btf, sk, sk_socket)) {
		/* connect(), listen(): the task decides; forget an earlier
		 * socket that had this address */
		born = true;
		wanted = !tt_task_not_wanted_pid();
	} else if (state == TCP_LISTEN && !TT_SK_READ(btf, sk, sk_socket)) {
		/* a listener's child being cloned: not yet in a file */
		born = true;
		wanted = tt_port_owned(netns, lport);
	}
	if (born) {
		if (wanted)
			bpf_map_update_elem(&pid_socks, &key, &one, BPF_ANY);
		else
			bpf_map_delete_elem(&pid_socks, &key);
		return wanted;
	}
	if (bpf_map_lookup_elem(&pid_socks, &key))
		return true;
	if (pid_seeded) {
		cookie = tt_sk_cookie_x(sk, btf);
		if (cookie && bpf_map_lookup_elem(&seed_cookies, &cookie)) {
			bpf_map_update_elem(&pid_socks, &key, &one, BPF_ANY);
			return true;
		}
	}
	return false;
}

/* Owner filters for any kind of sock; remembers the port of a wanted one. */
static __always_inline bool tt_sk_owner_wanted(const struct sock *sk, __u8 state,
					       __u32 netns, __u16 lport, bool btf)
{
	if (state == TCP_TIME_WAIT)
		return tt_port_owned(netns, lport);
	if (state == TCP_NEW_SYN_RECV) {
		if (filter_pids && !tt_port_owned(netns, lport))
			return false;
		return !filter_cgroup ||
		       tt_cgroup_wanted(tt_sk_cgroup(BPF_CORE_READ(sk, __sk_common.skc_listener)));
	}
	if (filter_cgroup && !tt_cgroup_wanted(tt_sk_cgroup(sk)))
		return false;
	if (filter_pids && !tt_sk_pid_wanted(sk, state, netns, lport, btf))
		return false;
	tt_own_port(netns, lport);
	return true;
}

static __always_inline bool tt_skip_sock_x(const struct sock *sk, bool btf)
{
	__u16 family = TT_SK_READ(btf, sk, __sk_common.skc_family);
	__u16 lport = 0;
	__u32 netns = 0;
	__u8 state = 0;

	if (tt_skip_family(family))
		return true;
	if (target_netns || filter_pids || filter_cgroup) {
		netns = tt_sk_netns_x(sk, btf);
		if (target_netns && netns != target_netns)
			return true;
	}
	if (filter_ports || filter_pids || filter_cgroup) {
		state = TT_SK_READ(btf, sk, __sk_common.skc_state);
		lport = tt_sk_lport(sk, state, btf);
	}
	if (filter_ports && !tt_sk_ports_wanted(sk, state, lport, btf))
		return true;
	if ((filter_pids || filter_cgroup) && !tt_sk_owner_wanted(sk, state, netns, lport, btf))
		return true;
	return false;
}

/* tt_skip_tuple() for a socket (full, request or timewait sock). */
static __always_inline bool tt_skip_sock(const struct sock *sk)
{
	return tt_skip_sock_x(sk, false);
}

/* The same for a BTF-typed sk (tp_btf, fentry: not raw_tp or tracepoint
 * arguments), with plain loads instead of probe reads. */
static __always_inline bool tt_skip_sock_btf(const struct sock *sk)
{
	return tt_skip_sock_x(sk, true);
}

/* True if events caused by the current task are not wanted (pid and cgroup
 * filters); only for events that happen in the task's own context. */
static __always_inline bool tt_skip_task(void)
{
	struct task_struct *t;

	if (filter_pids && tt_task_not_wanted_pid())
		return true;
	if (filter_cgroup) {
		t = (struct task_struct *)bpf_get_current_task();
		if (!tt_cgroup_wanted(BPF_CORE_READ(t, cgroups, dfl_cgrp)))
			return true;
	}
	return false;
}

#endif
