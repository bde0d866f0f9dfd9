/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Event layout shared by the kernel programs (bpf/tcptrail.bpf.c) and the
 * recorder (record/). Fixed-width types only; ports in host byte order,
 * addresses in network byte order (IPv4 in the first 4 bytes, rest zero).
 */
#ifndef TCPTRAIL_BPF_H
#define TCPTRAIL_BPF_H

#define TT_COMM_LEN 16

/* Every ring-buffer record starts with struct tt_hdr; kind says the rest.
 * Numbers are grouped by concern so each can grow on its own. */
enum tt_event_kind {
	TT_EV_STATE = 1,	/* TCP state change (inet_sock_set_state) */
	/* 2..15: lifecycle: request socks, TIME_WAIT, close, destroy */
	/* 16..31: faults: resets, retransmits, drops */
};

/* Slots of the per-CPU "counters" map: things the kernel side dropped. */
enum tt_counter {
	TT_CNT_RINGBUF_FULL = 0,	/* bpf_ringbuf_reserve() failed */
	TT_CNT_MAX,
};

struct tt_hdr {
	__u64 ts_ns;		/* bpf_ktime_get_boot_ns() */
	__u16 kind;		/* enum tt_event_kind */
	__u16 size;		/* bytes of the whole record */
	__u32 _pad;
};

/* A socket's identity as the kernel side sees it. */
struct tt_sock {
	__u64 skaddr;
	__u64 cookie;		/* 0 where the attach type cannot read it */
	__u32 netns;		/* inode of the socket's network namespace */
	__u16 family;		/* AF_INET / AF_INET6 */
	__u16 sport;		/* local port, host order */
	__u16 dport;		/* remote port, host order */
	__u16 _pad0;
	__u32 _pad1;
	__u8 saddr[16];		/* local */
	__u8 daddr[16];		/* remote */
};

/* The task current when the event happened (unrelated in softirq). */
struct tt_task {
	__u32 pid;		/* tgid */
	__u32 tid;
	char comm[TT_COMM_LEN];
};

struct tt_state_event {
	struct tt_hdr h;
	struct tt_sock sk;
	struct tt_task task;
	__u16 oldstate;
	__u16 newstate;
	__u32 _pad;
};

_Static_assert(sizeof(struct tt_hdr) == 16, "tt_hdr layout");
_Static_assert(sizeof(struct tt_sock) == 64, "tt_sock layout");
_Static_assert(__builtin_offsetof(struct tt_sock, saddr) == 32, "tt_sock saddr");
_Static_assert(sizeof(struct tt_task) == 24, "tt_task layout");
_Static_assert(sizeof(struct tt_state_event) == 112, "tt_state_event layout");
_Static_assert(__builtin_offsetof(struct tt_state_event, oldstate) == 104, "tt_state_event states");

#endif
