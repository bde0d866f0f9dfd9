/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Event layout shared by the kernel programs (bpf/tcptrail.bpf.c) and the
 * recorder (record/). Fixed-width types only; ports in host byte order,
 * addresses in network byte order (IPv4 in the first 4 bytes, rest zero).
 */
#ifndef TCPTRAIL_BPF_H
#define TCPTRAIL_BPF_H

#define TT_COMM_LEN 16

enum tt_event_kind {
	TT_EV_STATE = 1,	/* TCP state change (inet_sock_set_state) */
};

/* Slots of the per-CPU "counters" map: things the kernel side dropped. */
enum tt_counter {
	TT_CNT_RINGBUF_FULL = 0,	/* bpf_ringbuf_reserve() failed */
	TT_CNT_MAX,
};

struct tt_event {
	__u64 ts_ns;		/* bpf_ktime_get_boot_ns() */
	__u64 skaddr;
	__u64 cookie;		/* 0 where the attach type cannot read it */
	__u32 netns;		/* inode of the socket's network namespace */
	__u32 pid;		/* tgid of the current task */
	__u32 tid;
	__u16 kind;		/* enum tt_event_kind */
	__u16 family;		/* AF_INET / AF_INET6 */
	__u16 sport;		/* host order */
	__u16 dport;		/* host order */
	__u16 oldstate;
	__u16 newstate;
	__u8 saddr[16];
	__u8 daddr[16];
	char comm[TT_COMM_LEN];
};

_Static_assert(sizeof(struct tt_event) == 96, "tt_event layout");
_Static_assert(__builtin_offsetof(struct tt_event, kind) == 36, "tt_event kind");
_Static_assert(__builtin_offsetof(struct tt_event, saddr) == 48, "tt_event saddr");
_Static_assert(__builtin_offsetof(struct tt_event, comm) == 80, "tt_event comm");

#endif
