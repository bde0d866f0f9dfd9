/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tcptrail capture format ("trail"): public API shared by the recorder and
 * the analyzer. The on-disk layout is specified in format/FORMAT.md; this
 * header is the in-memory view of it. Nothing here depends on libbpf or on
 * kernel headers: the analyzer is built from this alone.
 *
 * Conventions: functions return 0 (or a positive count where stated) on
 * success and a negative errno on failure; destroy/close functions accept
 * NULL. Ports are host byte order everywhere in this API. Addresses are
 * network byte order (as on the wire), IPv4 in the first 4 bytes.
 */
#ifndef TCPTRAIL_TRAIL_H
#define TCPTRAIL_TRAIL_H

#include <stddef.h>
#include <stdint.h>

#define TRAIL_MAJOR 1
#define TRAIL_MINOR 0

/* Hard limits; a reader rejects anything larger before allocating. */
#define TRAIL_MAX_BLOCK (16u << 20)	/* payload bytes, compressed or not */
#define TRAIL_MAX_STRING 65535u		/* one meta value, enum name, symbol */
#define TRAIL_MAX_ENUM_ENTRIES 4096u
#define TRAIL_MAX_ENUMS 64u
#define TRAIL_MAX_CPUS 4096u
#define TRAIL_MAX_STACK_DEPTH 127u
#define TRAIL_TASK_SLOTS 1024u		/* task records overwrite slots */
#define TRAIL_MAX_STACKS 65536u		/* distinct stack ids per file */
#define TRAIL_MAX_FRAME 255u		/* one symbolized frame */

/* Enum tables every recorder writes (names are the kernel's BTF names). */
#define TRAIL_ENUM_TCP_STATE "tcp_state"
#define TRAIL_ENUM_RST_REASON "sk_rst_reason"
#define TRAIL_ENUM_DROP_REASON "skb_drop_reason"

/* Address families, on-disk values (not AF_*). */
enum trail_family {
	TRAIL_FAMILY_INET = 4,
	TRAIL_FAMILY_INET6 = 6,
};

/* What a record returned by trail_reader__next() carries. */
enum trail_rec_type {
	TRAIL_REC_META = 1,	/* meta: one key/value pair */
	TRAIL_REC_ENUM,		/* enumt: one kernel enum table */
	TRAIL_REC_CLOCK,	/* clock: boot-time <-> real-time anchor */
	TRAIL_REC_SOCK,		/* sock: a new socket identity */
	TRAIL_REC_TUPLE,	/* sock: new tuple of a known socket id */
	TRAIL_REC_RETIRE,	/* retire: socket id no longer used */
	TRAIL_REC_TASK,		/* task: task slot (re)defined */
	TRAIL_REC_STATE,	/* state: a TCP state change */
	TRAIL_REC_LOSS,		/* loss: cumulative loss counters */
	TRAIL_REC_END,		/* end: clean end of capture, totals */
	TRAIL_REC_UNKNOWN,	/* unknown: record kind this reader skips */
	TRAIL_REC_LINK,		/* link: relation between two live sockets */
	TRAIL_REC_STACK,	/* stack: a symbolized kernel stack */
	TRAIL_REC_LIFE,		/* life: lifecycle event of a socket */
	TRAIL_REC_RESET,	/* reset: RST sent or received */
	TRAIL_REC_RETRANS,	/* retrans: a retransmitted segment */
	TRAIL_REC_DROP,		/* drop: a TCP segment the kernel dropped */
};

/* What a socket identity is (on-disk values). */
enum trail_sock_kind {
	TRAIL_SOCK_FULL = 0,		/* a full socket (struct tcp_sock) */
	TRAIL_SOCK_REQUEST = 1,		/* request sock, TCP_NEW_SYN_RECV */
	TRAIL_SOCK_TIMEWAIT = 2,	/* timewait sock */
};

/* LINK relations (on-disk values): sock_id <relation> other_id. */
enum trail_link_rel {
	TRAIL_LINK_REQ_OF_LISTENER = 1,	/* request sock made by listener other */
	TRAIL_LINK_CHILD_OF_REQ = 2,	/* full child replacing request sock other */
	TRAIL_LINK_TIMEWAIT_OF = 3,	/* timewait sock continuing full sock other */
};

/* LIFE events (on-disk values): moments with no kernel state change. */
enum trail_life_event {
	TRAIL_LIFE_SYN_ARRIVED = 1,	/* request sock created: TCP_NEW_SYN_RECV */
	TRAIL_LIFE_REQ_DROPPED = 2,	/* request sock gone without a child */
	TRAIL_LIFE_TIMEWAIT_ENTER = 3,	/* value: kernel substate (TIME_WAIT/FIN_WAIT2) */
	TRAIL_LIFE_TIMEWAIT_END = 4,	/* timewait sock freed */
	TRAIL_LIFE_CLOSE_CALL = 5,	/* tcp_close() called by the task */
	TRAIL_LIFE_DESTROY = 6,		/* socket destroyed (tcp_destroy_sock) */
};

enum trail_reset_dir {
	TRAIL_RST_SENT = 0,
	TRAIL_RST_RECEIVED = 1,
};

enum trail_reset_source {
	TRAIL_RST_SRC_UNKNOWN = 0,
	TRAIL_RST_SRC_REPLY = 1,	/* tcp_v4/v6_send_reset: answer to a segment */
	TRAIL_RST_SRC_ACTIVE = 2,	/* tcp_send_active_reset: abort by this host */
};

enum trail_retrans_kind {
	TRAIL_RETRANS_DATA = 1,
	TRAIL_RETRANS_SYN = 2,
	TRAIL_RETRANS_SYNACK = 3,
};

/* TCP header flag bits of a segment, as on the wire. */
#define TRAIL_TCP_FIN 0x01
#define TRAIL_TCP_SYN 0x02
#define TRAIL_TCP_RST 0x04
#define TRAIL_TCP_PSH 0x08
#define TRAIL_TCP_ACK 0x10
#define TRAIL_TCP_URG 0x20
#define TRAIL_TCP_ECE 0x40
#define TRAIL_TCP_CWR 0x80

/* No reason known / no state known. */
#define TRAIL_NO_REASON INT64_MIN
#define TRAIL_NO_STATE UINT16_MAX

struct trail_meta {
	const char *key;	/* NUL-terminated, valid until next call */
	const char *value;
};

struct trail_enum_entry {
	int64_t value;
	const char *name;
};

struct trail_enumt {
	const char *name;	/* e.g. TRAIL_ENUM_TCP_STATE */
	const struct trail_enum_entry *entries;
	uint32_t count;
};

struct trail_clock {
	uint64_t boot_ns;	/* CLOCK_BOOTTIME */
	uint64_t real_ns;	/* CLOCK_REALTIME, ns since the epoch */
	uint64_t uncertainty_ns;	/* half the sampling window */
};

struct trail_sock {
	uint64_t id;		/* assigned by the writer, never 0 */
	uint8_t kind;		/* enum trail_sock_kind */
	uint64_t cookie;	/* kernel socket cookie, 0 if unknown */
	uint64_t skaddr;	/* kernel address, for matching other tools */
	uint32_t netns;		/* network namespace inode */
	uint8_t family;		/* enum trail_family */
	uint8_t protocol;	/* IPPROTO_TCP */
	uint16_t sport;		/* local port, host order */
	uint16_t dport;		/* remote port, host order */
	uint8_t saddr[16];	/* local address, network order */
	uint8_t daddr[16];	/* remote address, network order */
};

struct trail_task {
	uint32_t slot;		/* < TRAIL_TASK_SLOTS */
	uint32_t pid;		/* tgid */
	uint32_t tid;
	char comm[17];		/* NUL-terminated */
};

/* A task reference of 0 means "no task context known". */
#define TRAIL_NO_TASK UINT32_MAX

struct trail_state {
	uint64_t ts_ns;		/* CLOCK_BOOTTIME */
	uint64_t sock_id;
	uint32_t task_slot;	/* TRAIL_NO_TASK if none */
	uint16_t oldstate;	/* kernel value; name via TRAIL_ENUM_TCP_STATE */
	uint16_t newstate;
};

struct trail_link {
	uint64_t sock_id;
	uint64_t other_id;
	uint8_t relation;	/* enum trail_link_rel */
};

struct trail_stack {
	uint32_t id;		/* != 0, chosen by the writer's caller */
	uint32_t nframes;	/* <= TRAIL_MAX_STACK_DEPTH */
	const char *const *frames;	/* "tcp_v4_send_reset+0x1a4", innermost first */
};

struct trail_life {
	uint64_t ts_ns;
	uint64_t sock_id;
	uint32_t task_slot;	/* TRAIL_NO_TASK if none */
	uint16_t event;		/* enum trail_life_event */
	uint64_t value;		/* event-specific, 0 if unused */
};

/* A TCP segment as on the wire: s* is its source, d* its destination. */
struct trail_segment {
	uint8_t family;		/* 0: no segment known */
	uint8_t flags;		/* TRAIL_TCP_* */
	uint16_t sport, dport;	/* host order */
	uint8_t saddr[16], daddr[16];
	uint32_t seq, ack;	/* host order */
	uint32_t len;		/* payload bytes */
};

struct trail_reset {
	uint64_t ts_ns;
	uint64_t sock_id;	/* 0: no socket (a reply to an unmatched segment) */
	uint32_t task_slot;
	uint32_t netns;
	uint8_t dir;		/* enum trail_reset_dir */
	uint8_t source;		/* enum trail_reset_source */
	uint16_t state;		/* kernel TCP state of the socket, TRAIL_NO_STATE */
	int64_t reason;		/* kernel sk_rst_reason value, TRAIL_NO_REASON */
	uint32_t stack_id;	/* 0: none */
	struct trail_segment seg;	/* sent: the segment answered; received: the RST */
};

struct trail_retrans {
	uint64_t ts_ns;
	uint64_t sock_id;
	uint32_t task_slot;
	uint8_t kind;		/* enum trail_retrans_kind */
	uint16_t state;		/* kernel TCP state, TRAIL_NO_STATE */
	struct trail_segment seg;
};

struct trail_drop {
	uint64_t ts_ns;
	uint64_t sock_id;	/* 0: none */
	uint32_t task_slot;
	uint32_t netns;
	int64_t reason;		/* kernel skb_drop_reason value, TRAIL_NO_REASON */
	uint32_t stack_id;	/* 0: none */
	struct trail_segment seg;
};

struct trail_counter {
	const char *name;
	uint64_t value;
};

struct trail_loss {
	const uint64_t *percpu_ringbuf;	/* reserve failures, cumulative */
	uint32_t ncpus;
	const struct trail_counter *counters;	/* other losses, cumulative */
	uint32_t ncounters;
};

struct trail_end {
	uint64_t records;	/* timed records written */
	uint64_t socks;
	uint64_t blocks;
};

struct trail_record {
	enum trail_rec_type type;
	uint64_t offset;	/* file offset of the containing block */
	union {
		struct trail_meta meta;
		struct trail_enumt enumt;
		struct trail_clock clock;
		struct trail_sock sock;		/* SOCK and TUPLE */
		uint64_t retire;		/* RETIRE: socket id */
		struct trail_task task;
		struct trail_state state;
		struct trail_loss loss;
		struct trail_end end;
		uint32_t unknown_kind;		/* UNKNOWN */
		struct trail_link link;
		struct trail_stack stack;
		struct trail_life life;
		struct trail_reset reset;
		struct trail_retrans retrans;
		struct trail_drop drop;
	};
};

/* ---- writer ---- */

struct trail_writer;

struct trail_writer_opts {
	int compress;		/* 1: zstd events blocks (default), 0: raw */
	int compress_level;	/* zstd level, 0 = library default */
	uint32_t block_bytes;	/* flush an events block at this raw size */
	int fsync_on_flush;	/* fdatasync after each events block */
};

/*
 * Create (truncate) PATH with mode 0600 and write the file preamble.
 * Returns 0 and sets *out, or a negative errno.
 */
int trail_writer__open(struct trail_writer **out, const char *path,
		       const struct trail_writer_opts *opts);
/* Same, on an already open file descriptor the writer takes over. */
int trail_writer__fdopen(struct trail_writer **out, int fd,
			 const struct trail_writer_opts *opts);

/* Metadata and tables are written as their own blocks, immediately. */
int trail_writer__meta(struct trail_writer *w, const char *key, const char *value);
int trail_writer__enum(struct trail_writer *w, const char *name,
		       const struct trail_enum_entry *entries, uint32_t count);
int trail_writer__clock(struct trail_writer *w, const struct trail_clock *c);
int trail_writer__loss(struct trail_writer *w, const struct trail_loss *l);

/* Records, buffered into events blocks. sock->id is ignored; the new id
 * is returned through *id. */
int trail_writer__sock(struct trail_writer *w, const struct trail_sock *sock,
		       uint64_t *id);
int trail_writer__tuple(struct trail_writer *w, const struct trail_sock *sock);
int trail_writer__retire(struct trail_writer *w, uint64_t sock_id);
int trail_writer__task(struct trail_writer *w, const struct trail_task *task);
int trail_writer__state(struct trail_writer *w, const struct trail_state *st);
int trail_writer__link(struct trail_writer *w, const struct trail_link *l);
/* Define stack ST->id (write it before the first record naming it). */
int trail_writer__stack(struct trail_writer *w, const struct trail_stack *st);
int trail_writer__life(struct trail_writer *w, const struct trail_life *l);
int trail_writer__reset(struct trail_writer *w, const struct trail_reset *r);
int trail_writer__retrans(struct trail_writer *w, const struct trail_retrans *r);
int trail_writer__drop(struct trail_writer *w, const struct trail_drop *d);

/* Write out the buffered events block, if any. */
int trail_writer__flush(struct trail_writer *w);
/* Bytes written to the file so far (complete blocks only). */
uint64_t trail_writer__bytes(const struct trail_writer *w);
/* Flush, write the END block, fsync and close. Frees w even on error. */
int trail_writer__close(struct trail_writer *w);
/* Free without an END block (the file stays readable up to its last block). */
void trail_writer__abandon(struct trail_writer *w);

/* ---- reader ---- */

struct trail_reader;

/* Returns 0 and sets *out, or a negative errno with a message in ERR. */
int trail_reader__open(struct trail_reader **out, const char *path,
		       char *err, size_t errlen);
/* Same, reading at most the first LEN bytes of PATH: the same capture as an
 * earlier reader saw (trail_reader__size) while a recorder still appends. */
int trail_reader__open_prefix(struct trail_reader **out, const char *path, uint64_t len,
			      char *err, size_t errlen);
/* Bytes of input this reader reads (the file's size when it was opened). */
uint64_t trail_reader__size(const struct trail_reader *r);
/* Read from memory (tests, fuzzing); DATA must outlive the reader. */
int trail_reader__open_mem(struct trail_reader **out, const void *data,
			   size_t len, char *err, size_t errlen);
void trail_reader__close(struct trail_reader *r);

/*
 * Next record. Returns 1 with *rec filled (pointers valid until the next
 * call), 0 at the end of the usable data, or -ENOMEM. Truncation and
 * corruption end the data like a clean end does: after 0,
 * trail_reader__status() tells whether the file ended cleanly, was
 * truncated or was corrupt, and trail_reader__message() says where.
 */
int trail_reader__next(struct trail_reader *r, struct trail_record *rec);

enum trail_status {
	TRAIL_OK = 0,		/* END block seen, nothing after it */
	TRAIL_NO_END,		/* ended at a block boundary without END */
	TRAIL_TRUNCATED,	/* a partial block at the end */
	TRAIL_CORRUPT,		/* bad checksum or malformed content */
};
enum trail_status trail_reader__status(const struct trail_reader *r);
/* Human-readable message for the status, naming the offset. */
const char *trail_reader__message(const struct trail_reader *r);
uint64_t trail_reader__offset(const struct trail_reader *r);

/* File version seen in the preamble. */
void trail_reader__version(const struct trail_reader *r, unsigned *major,
			   unsigned *minor);
/* Name of VALUE in enum table NAME as recorded in this file, or NULL. */
const char *trail_reader__enum_name(const struct trail_reader *r,
				    const char *name, int64_t value);
/* Value of entry ENTRY in enum NAME, 0 if found, -ENOENT otherwise. */
int trail_reader__enum_value(const struct trail_reader *r, const char *name,
			     const char *entry, int64_t *value);
/* Socket identity of a live id, or NULL. */
const struct trail_sock *trail_reader__sock(const struct trail_reader *r, uint64_t id);
/* Frames of stack ID as defined so far, or NULL. */
const struct trail_stack *trail_reader__stack(const struct trail_reader *r, uint32_t id);
/* Task in SLOT, or NULL. */
const struct trail_task *trail_reader__task(const struct trail_reader *r, uint32_t slot);

/* ---- utilities ---- */
uint32_t trail_crc32c(uint32_t crc, const void *data, size_t len);

#endif
