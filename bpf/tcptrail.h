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
	TT_EV_REQ = 2,		/* request sock queued: a SYN arrived (tt_req_event) */
	TT_EV_REQ_TIMER = 3,	/* a request sock's SYN-ACK timer fired (tt_mini_event) */
	TT_EV_TW_ENTER = 4,	/* FIN_WAIT2/CLOSING -> CLOSE: the timewait sock (tt_tw_event) */
	TT_EV_TW_END = 5,	/* a timewait sock's timer fired: it dies (tt_mini_event) */
	TT_EV_CLOSE = 6,	/* a task closed a TCP socket (tt_life_event) */
	TT_EV_DESTROY = 7,	/* a TCP socket was destroyed (tt_life_event) */
	/* 16..31: faults: resets, retransmits, drops */
	TT_EV_RESET_SENT = 16,	/* RST sent by this host (struct tt_fault_event) */
	TT_EV_RESET_RECV = 17,	/* RST accepted by a socket */
	TT_EV_RETRANS = 18,	/* data, SYN or SYN-ACK retransmitted */
	TT_EV_DROP = 19,	/* TCP segment freed with a drop reason */
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

/* What a tt_sock is (values as trail_sock_kind). */
enum tt_sock_kind {
	TT_SK_FULL = 0,		/* struct tcp_sock, any state */
	TT_SK_REQUEST = 1,	/* request sock (TCP_NEW_SYN_RECV) */
	TT_SK_TIMEWAIT = 2,	/* timewait sock */
};

/* A socket's identity as the kernel side sees it. */
struct tt_sock {
	__u64 skaddr;
	__u64 cookie;		/* 0 where the attach type cannot read it */
	__u32 netns;		/* inode of the socket's network namespace */
	__u16 family;		/* AF_INET / AF_INET6 */
	__u16 sport;		/* local port, host order */
	__u16 dport;		/* remote port, host order */
	__u16 kind;		/* enum tt_sock_kind */
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

/* tt_state_event.life: what else the state change is (the state program
 * reports it on the state record rather than in a record of its own) */
#define TT_STATE_CLOSE	0x1	/* a task's close(): TT_EV_CLOSE of oldstate, TT_LIFE_OWNED */
#define TT_STATE_TW	0x2	/* TIME_WAIT entry: the record is a tt_state_tw_event */

struct tt_state_event {
	struct tt_hdr h;
	struct tt_sock sk;
	struct tt_task task;
	__u16 oldstate;
	__u16 newstate;
	__u8 life;		/* TT_STATE_* */
	__u8 tw_substate;	/* TT_STATE_TW: as tt_tw_event.substate */
	__u16 _pad;
};

/* A state record with TT_STATE_TW: the TT_EV_TW_ENTER of the same change. */
struct tt_state_tw_event {
	struct tt_state_event s;
	__u64 tw;		/* as tt_tw_event */
	__u64 timeout_ns;
};

/* ---- faults: resets, retransmits, drops ---- */

/* Values of tt_fault_event.sub for TT_EV_RESET_SENT (= trail_reset_source). */
enum tt_rst_source {
	TT_RST_SRC_UNKNOWN = 0,
	TT_RST_SRC_REPLY = 1,	/* tcp_v4/v6_send_reset: answers a segment */
	TT_RST_SRC_ACTIVE = 2,	/* tcp_send_active_reset: this host aborts */
};

/* Values of tt_fault_event.sub for TT_EV_RETRANS (= trail_retrans_kind). */
enum tt_retrans_kind {
	TT_RETRANS_DATA = 1,
	TT_RETRANS_SYN = 2,
	TT_RETRANS_SYNACK = 3,
};

#define TT_STACK_DEPTH 64	/* frames kept per kernel stack */
#define TT_STACK_ENTRIES 4096	/* stack map buckets: distinct stacks */
#define TT_NO_REASON (-1LL)	/* tt_fault_event.reason unknown */
#define TT_NO_STATE 0xffff	/* tt_fault_event.state unknown */

/* A TCP segment as on the wire: s* is its source. family 0: none known. */
struct tt_seg {
	__u16 family;		/* AF_INET / AF_INET6 / 0 */
	__u8 flags;		/* TCP header flag byte */
	__u8 _pad0;
	__u16 sport;		/* host order */
	__u16 dport;
	__u32 seq;		/* host order */
	__u32 ack;
	__u32 len;		/* payload bytes */
	__u32 _pad1;
	__u8 saddr[16];		/* network order */
	__u8 daddr[16];
};

/* One record layout for every fault kind; h.kind tells which. */
struct tt_fault_event {
	struct tt_hdr h;
	struct tt_sock sk;	/* sk.skaddr 0: no socket */
	struct tt_task task;
	struct tt_seg seg;	/* reset sent: segment answered; received: none */
	__s64 reason;		/* sk_rst_reason / skb_drop_reason, TT_NO_REASON */
	__s32 stack_id;		/* stack map id, negative: none (-errno) */
	__u16 state;		/* kernel TCP state of sk, TT_NO_STATE */
	__u8 sub;		/* enum tt_rst_source / tt_retrans_kind */
	__u8 _pad;
};

/* ---- lifecycle (TT_EV_REQ .. TT_EV_DESTROY) ---- */

/* A request sock (TCP_NEW_SYN_RECV) was queued by its listener. */
struct tt_req_event {
	struct tt_hdr h;
	struct tt_sock req;	/* skaddr, cookie, tuple, netns of the request sock */
	struct tt_sock listener;	/* skaddr 0: not known */
};

/* tt_mini_event.verdict of TT_EV_REQ_TIMER */
enum tt_req_verdict {
	TT_REQ_RESEND = 0,	/* SYN-ACK retransmitted, timer rearmed */
	TT_REQ_EXPIRE = 1,	/* retries used up: the request sock is dropped */
	TT_REQ_ORPHAN = 2,	/* its listener is no longer listening: dropped */
};

/* A timer of a mini socket (request or timewait sock) fired. */
struct tt_mini_event {
	struct tt_hdr h;
	struct tt_sock sk;	/* the mini socket */
	__u8 substate;		/* TT_EV_TW_END: tw_substate (TIME_WAIT, FIN_WAIT2) */
	__u8 verdict;		/* TT_EV_REQ_TIMER: enum tt_req_verdict */
	__u8 num_timeout;	/* TT_EV_REQ_TIMER: expiries before this one */
	__u8 max_retries;	/* TT_EV_REQ_TIMER: SYN-ACK retries allowed */
	__u32 _pad;
};

/* A full socket went FIN_WAIT2/CLOSING -> CLOSE; tw is what replaced it. */
struct tt_tw_event {
	struct tt_hdr h;
	struct tt_sock sk;	/* the full socket */
	__u64 tw;		/* timewait sock address, 0: none (no TIME_WAIT) */
	__u64 timeout_ns;	/* until the tw timer fires, 0: unknown */
	__u8 substate;		/* tw_substate: TCP_TIME_WAIT or TCP_FIN_WAIT2 */
	__u8 oldstate;		/* FIN_WAIT2 or CLOSING */
	__u16 _pad0;
	__u32 _pad1;
};

/* state_btf_roles, state_tp_roles: what each program on inet_sock_set_state
 * reports, for the probes that chose it */
#define TT_ROLE_CLOSE	0x1	/* close() calls (TT_EV_CLOSE) */
#define TT_ROLE_TW	0x2	/* TIME_WAIT entry (TT_EV_TW_ENTER) */
#define TT_ROLE_STATE	0x4	/* state changes (TT_EV_STATE) */

/* tt_life_event.flags */
#define TT_LIFE_OWNED	0x1	/* a task held the socket lock: process context */

/* close() (TT_EV_CLOSE) or destruction (TT_EV_DESTROY) of a socket. */
struct tt_life_event {
	struct tt_hdr h;
	struct tt_sock sk;
	struct tt_task task;
	__u16 state;		/* TCP state when it happened (close: before) */
	__u16 flags;		/* TT_LIFE_* */
	__u32 _pad;
};

_Static_assert(sizeof(struct tt_hdr) == 16, "tt_hdr layout");
_Static_assert(sizeof(struct tt_sock) == 64, "tt_sock layout");
_Static_assert(__builtin_offsetof(struct tt_sock, saddr) == 32, "tt_sock saddr");
_Static_assert(sizeof(struct tt_task) == 24, "tt_task layout");
_Static_assert(sizeof(struct tt_state_event) == 112, "tt_state_event layout");
_Static_assert(__builtin_offsetof(struct tt_state_event, oldstate) == 104, "tt_state_event states");
_Static_assert(sizeof(struct tt_state_tw_event) == 128, "tt_state_tw_event layout");
_Static_assert(sizeof(struct tt_seg) == 56, "tt_seg layout");
_Static_assert(__builtin_offsetof(struct tt_seg, saddr) == 24, "tt_seg saddr");
_Static_assert(sizeof(struct tt_fault_event) == 176, "tt_fault_event layout");
_Static_assert(__builtin_offsetof(struct tt_fault_event, seg) == 104, "tt_fault_event seg");
_Static_assert(__builtin_offsetof(struct tt_fault_event, reason) == 160, "tt_fault_event reason");
_Static_assert(sizeof(struct tt_req_event) == 144, "tt_req_event layout");
_Static_assert(sizeof(struct tt_mini_event) == 88, "tt_mini_event layout");
_Static_assert(__builtin_offsetof(struct tt_mini_event, substate) == 80, "tt_mini_event fields");
_Static_assert(sizeof(struct tt_tw_event) == 104, "tt_tw_event layout");
_Static_assert(__builtin_offsetof(struct tt_tw_event, substate) == 96, "tt_tw_event fields");
_Static_assert(sizeof(struct tt_life_event) == 112, "tt_life_event layout");
_Static_assert(__builtin_offsetof(struct tt_life_event, state) == 104, "tt_life_event fields");

#endif
