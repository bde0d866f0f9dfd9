/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Kernel-version shims for the kernel side, all in one place. Each names the
 * kernel change that made it needed. CO-RE only: nothing here is compiled
 * per kernel, libbpf relocates it against the running kernel's BTF.
 */
#ifndef TCPTRAIL_COMPAT_H
#define TCPTRAIL_COMPAT_H

#include <bpf/bpf_core_read.h>

/*
 * sk_protocol was an 8-bit bitfield until v5.6 (bf9765145b85 "sock: Make
 * sk_protocol a 16-bit value"); the probed bitfield read relocates to both.
 */
static __always_inline __u16 tt_sk_protocol(const struct sock *sk)
{
	return (__u16)BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}

/* sk_type: a bitfield next to sk_protocol until the same v5.6 commit. */
static __always_inline __u16 tt_sk_type(const struct sock *sk)
{
	return (__u16)BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type);
}

/*
 * The socket cookie lives in sock_common since v4.1 (33cf7c90fe2f "net: add
 * real socket cookies"). It is generated lazily, so it reads 0 until
 * something (sock_diag, a BPF helper) asked for it.
 */
static __always_inline __u64 tt_sk_cookie_peek(const struct sock *sk)
{
	if (!bpf_core_field_exists(sk->__sk_common.skc_cookie))
		return 0;
	return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

/* possible_net_t has no 'net' member without CONFIG_NET_NS. */
static __always_inline __u32 tt_sk_netns(const struct sock *sk)
{
	if (!bpf_core_field_exists(sk->__sk_common.skc_net.net))
		return 0;
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

#endif
