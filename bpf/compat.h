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

/*
 * A socket's cgroup (v2). sock_cgroup_data was a tagged union until v5.15
 * (8520e224f547 "bpf, cgroups: Fix cgroup v2 fallback on v1/v2 mixed mode",
 * also in stable): val held the cgroup pointer, or data with bit 0 set when
 * net_cls/net_prio were in use, which meant "the root cgroup" (NULL here).
 */
struct sock_cgroup_data___old {
	__u64 val;
};

static __always_inline struct cgroup *tt_sk_cgroup(const struct sock *sk)
{
	__u64 val;

	if (bpf_core_field_exists(struct sock_cgroup_data, cgroup))
		return BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
	val = BPF_CORE_READ((const struct sock_cgroup_data___old *)&sk->sk_cgrp_data, val);
	return (val & 1) ? NULL : (struct cgroup *)(unsigned long)val;
}

/*
 * A cgroup's id, the inode number of its directory in cgroup2fs. A u64
 * since v5.5 (67c0496e87d1 "kernfs: convert kernfs_node->id from union
 * kernfs_node_id to u64"); older kernels lack bpf_ktime_get_boot_ns() (v5.8)
 * and cannot run tcptrail at all, so no shim. (A flavour of the old union
 * would also make libbpf search module BTF, which needs CAP_SYS_ADMIN.)
 */
static __always_inline __u64 tt_kn_id(const struct kernfs_node *kn)
{
	return BPF_CORE_READ(kn, id);
}

/*
 * Id of CGRP's ancestor at LEVEL (LEVEL <= CGRP's level, 0 is the root).
 * cgroup kept ancestor ids until v6.1 (7f203bc89eb6 "cgroup: Replace
 * cgroup->ancestor_ids[] with ->ancestors[]"), pointers since.
 */
struct cgroup___old {
	__u64 ancestor_ids[0];
};

static __always_inline __u64 tt_cgroup_ancestor_id(const struct cgroup *cgrp, __u32 level)
{
	__u64 id = 0;
	struct cgroup *anc = NULL;

	if (bpf_core_field_exists(struct cgroup___old, ancestor_ids)) {
		bpf_probe_read_kernel(&id, sizeof(id), (const void *)cgrp +
				      bpf_core_field_offset(struct cgroup___old, ancestor_ids) +
				      level * sizeof(__u64));
		return id;
	}
	bpf_probe_read_kernel(&anc, sizeof(anc), (const void *)cgrp +
			      bpf_core_field_offset(struct cgroup, ancestors) +
			      level * sizeof(anc));
	return anc ? tt_kn_id(BPF_CORE_READ(anc, kn)) : 0;
}

/*
 * A read-only view of kernel memory as a kernel type, whose loads are plain
 * loads (faults caught), far cheaper than a bpf_probe_read_kernel() call
 * (a35b9af4ec2c "bpf: Add a kfunc for generic type cast", v6.2). Weak:
 * on older kernels only the programs that use it fail to load, and their
 * probes fall back along their chains.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
/* The kernel's struct behind a program's context, the same way
 * (fb4e3b33e3e7 "bpf: Add kfunc bpf_cast_to_kern_ctx", v6.2). */
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;

/* ---- lifecycle (bpf/lifecycle.bpf.h) ---- */

/*
 * The established hash a socket of NET lives in. Since v6.1 TCP reaches it
 * through the netns (e9bd0cca09d1 "tcp: Don't allocate tcp_death_row outside
 * of struct netns_ipv4.", d1e5e6408b30 "tcp: Introduce optional per-netns
 * ehash.") and tcp_prot.h.hashinfo is NULL (429e42c1c54e "tcp: Set NULL to
 * sk->sk_prot->h.hashinfo."); before, the proto's hashinfo is the one.
 * DIRECT: SK is a BTF pointer, read with plain loads.
 */
static __always_inline struct inet_hashinfo *tt_sk_ehash(const struct sock *sk, const int direct)
{
	if (bpf_core_field_exists(((struct inet_timewait_death_row *)0)->hashinfo))
		return direct ? sk->__sk_common.skc_net.net->ipv4.tcp_death_row.hashinfo :
				BPF_CORE_READ(sk, __sk_common.skc_net.net, ipv4.tcp_death_row.hashinfo);
	return direct ? sk->__sk_common.skc_prot->h.hashinfo :
			BPF_CORE_READ(sk, __sk_common.skc_prot, h.hashinfo);
}

/* struct file before v6.13 */
struct file___f_count {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

/*
 * True if FILE has no reference left: it is being released (__fput), so
 * the socket it holds is closed for good, not shut down. DIRECT: FILE is
 * a BTF pointer, read with a plain load. v6.13 replaced
 * f_count with a biased file_ref_t that is negative once the last
 * reference is gone (90ee6ed776c0 "fs: port files to file_ref").
 */
static __always_inline bool tt_file_released(const struct file *file, const int direct)
{
	if (bpf_core_field_exists(file->f_ref))
		return (__s64)(direct ? file->f_ref.refcnt.counter :
				BPF_CORE_READ(file, f_ref.refcnt.counter)) < 0;
	return BPF_CORE_READ((const struct file___f_count *)file, f_count.counter) == 0;
}

#endif
