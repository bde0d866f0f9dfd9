/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * In-kernel filters, shared by every handler in bpf/. A handler calls the
 * cheapest test that applies before it reserves ring-buffer space, so
 * filtered-out traffic costs a few loads and compares.
 */
#ifndef TCPTRAIL_FILTER_H
#define TCPTRAIL_FILTER_H

#define AF_INET 2
#define AF_INET6 10

/* Set by the recorder between open and load: 0 = all, AF_INET, AF_INET6. */
const volatile __u16 target_family = 0;

/* True if events of a socket/segment of FAMILY are not wanted. */
static __always_inline bool tt_skip_family(__u16 family)
{
	if (family != AF_INET && family != AF_INET6)
		return true;
	return target_family && family != target_family;
}

/*
 * True if events about a TCP endpoint are not wanted: FAMILY, local and
 * remote ports (host order) and network namespace inode. For events with
 * a socket pass its tuple; for a segment without one, the segment's.
 */
static __always_inline bool tt_skip_tuple(__u16 family, __u16 lport, __u16 rport, __u32 netns)
{
	(void)lport;
	(void)rport;
	(void)netns;
	return tt_skip_family(family);
}

/* tt_skip_tuple() for a socket: its family, ports and namespace. */
static __always_inline bool tt_skip_sock(const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (tt_skip_family(family))
		return true;
	return tt_skip_tuple(family, bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport)),
			     bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)), tt_sk_netns(sk));
}

/* True if events caused by the current task are not wanted (pid filter);
 * only for events that happen in the task's own context. */
static __always_inline bool tt_skip_task(void)
{
	return false;
}

#endif
