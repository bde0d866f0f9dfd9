/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internal interfaces of tcptrail-record. Each block is one file of record/:
 * options.c (command line), filter.c + pidseed.c (filters), probes.c (which
 * kernel programs load), meta.c (what the capture says about itself),
 * output.c (files, rotation), pcap.c (--pcap), socktab.c + sink.c (kernel
 * events -> trail records), privs.c (giving up privileges), child.c (the
 * recorded command).
 */
#ifndef TCPTRAIL_RECORD_H
#define TCPTRAIL_RECORD_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "trail.h"

#define PROG "tcptrail-record"

struct tcptrail_bpf;

/* ---- filter.c, pidseed.c: filters, enforced by bpf/filter.h ---- */

#define FILTER_MAX_PORTS 256
#define FILTER_MAX_PIDS 256		/* TT_MAX_PIDS */
#define FILTER_MAX_CGROUP_LEVEL 64	/* TT_MAX_CGROUP_LEVEL */

struct filter_cfg {
	uint16_t family;	/* AF_INET, AF_INET6 or 0 for both */
	uint32_t netns;		/* namespace inode, 0 for all */
	const char *netns_path;	/* a file of that namespace, if known */
	uint32_t nports;
	uint8_t port_bits[65536 / 8];
	uint32_t npids;
	uint32_t pids[FILTER_MAX_PIDS];
	const char *cgroup_path;	/* NULL: no cgroup filter */
	uint64_t cgroup_id;
	uint32_t cgroup_level;
};

/* Option parsers: 0, or a negative errno after printing what was wrong.
 * Lists are comma-separated; the options may be repeated. */
int filter__add_ports(struct filter_cfg *f, const char *list);
int filter__add_pids(struct filter_cfg *f, const char *list);
int filter__set_cgroup(struct filter_cfg *f, const char *path);
int filter__set_netns(struct filter_cfg *f, const char *arg);
/* Kernel side: rodata between open and load, maps between load and attach. */
void filter__rodata(const struct filter_cfg *f, struct tcptrail_bpf *skel);
int filter__maps(const struct filter_cfg *f, struct tcptrail_bpf *skel);
/* After attach: follow the sockets --pid's processes already have. */
int filter__seed_pids(const struct filter_cfg *f, struct tcptrail_bpf *skel, int quiet);
/* META filter.* keys. */
int filter__meta(const struct filter_cfg *f, struct trail_writer *w);
/* A file of the --netns namespace into BUF (a /proc/PID/ns/net of a process
 * in it if only the inode was given). 0, or -ENOENT. */
int filter__netns_path(const struct filter_cfg *f, char *buf, size_t cap);
/* pcap capture filter for the same traffic ("tcp and (port 80)"). */
int filter__pcap_expr(const struct filter_cfg *f, char *buf, size_t cap);

/* ---- options.c: the command line ---- */

struct opts {
	const char *path;	/* -w */
	double duration;	/* seconds, 0 = unbounded */
	uint32_t ring_mb;
	uint32_t max_socks;
	uint32_t stacks_per_sec;	/* 0: the kernel side's default */
	int quiet, verbose;
	int list_probes;
	struct filter_cfg filter;
	const char *pcap_path;	/* --pcap, NULL: none */
	const char *iface;	/* -i, NULL: all */
	uint32_t snaplen;	/* 0: headers only */
	uint64_t limit_bytes;	/* -C MB */
	uint32_t max_files;	/* -W N */
	const char *user;	/* --user */
	char **cmd;		/* NULL without a command */
};

/* Fill O from the command line. 0, or -EINVAL after printing the problem;
 * -h and -V print and exit. */
int options__parse(struct opts *o, int argc, char **argv);

/* Whole number option WHAT in [LO, HI] (options.c): 0, or -EINVAL after
 * printing what was wrong. */
int options__parse_ul(const char *what, const char *s, unsigned long lo,
		      unsigned long hi, unsigned long *out);

/* ---- probes.c ---- */

struct probe_set;

struct probe_cfg {
	const struct filter_cfg *filter;
	uint32_t ring_bytes;	/* BPF ring buffer size, power of two */
	int verbose;		/* show libbpf's messages as they come */
	uint32_t stacks_per_sec;	/* kernel stacks per CPU per second, 0: default */
};

/*
 * Limit probe NAME to method METHOD ("state=tracepoint"), for tests and for
 * kernels where the preferred method misbehaves. Returns 0 or -EINVAL after
 * printing what was wrong.
 */
int probes__force(const char *spec);
/*
 * Open, load and attach the kernel programs, falling back per probe along
 * its chain of attach methods. Returns 0 and sets *out, or a negative errno
 * after printing why (including libbpf's own reason).
 */
int probe_set__open(struct probe_set **out, const struct probe_cfg *cfg);
struct tcptrail_bpf *probe_set__skel(const struct probe_set *ps);
/* Number of probes, and for probe I its name and chosen "METHOD TARGET"
 * ("none" for an optional probe no method worked for). */
int probe_set__count(const struct probe_set *ps);
const char *probe_set__name(const struct probe_set *ps, int i);
const char *probe_set__method(const struct probe_set *ps, int i);
/* Probe I's methods tried before its choice and why each failed, as
 * "fentry: Operation not permitted; kprobe: ..." in BUF; returns how many. */
int probe_set__passed_over(const struct probe_set *ps, int i, char *buf, size_t size);
/*
 * --list-probes: trial-load every method of every probe alone and print, for
 * this kernel, the method each probe would use or why none can. Returns 0 if
 * every required probe has a method, -ENOENT otherwise.
 */
int probes__list(const struct probe_cfg *cfg, FILE *out);
/* Runs of the attached programs the kernel skipped because one was already
 * running on that CPU (prog recursion_misses): events lost, cumulative. */
uint64_t probe_set__misses(const struct probe_set *ps);
/* Runs of the attached programs and their total time in *RUN_NS, counted
 * only while sysctl kernel.bpf_stats_enabled is 1 (else 0). */
uint64_t probe_set__runs(const struct probe_set *ps, uint64_t *run_ns);
/* 1 if probe NAME has a method attached, else 0. */
int probe_set__active(const struct probe_set *ps, const char *name);
/* Detach every program: no event is produced after this returns. */
void probe_set__detach(struct probe_set *ps);
void probe_set__destroy(struct probe_set *ps);

/* ---- meta.c ---- */

struct meta_info {
	int argc;
	char **argv;		/* the recorder's own command line */
	const struct filter_cfg *filter;
	const struct probe_set *probes;
};

/* META block of FORMAT.md. Returns 0 or a negative errno from the writer. */
int meta__write(struct trail_writer *w, const struct meta_info *mi);
/* ENUM blocks read from the host's BTF; missing optional enums are skipped. */
int meta__write_enums(struct trail_writer *w);
/* One CLOCK anchor: realtime, boottime, realtime. */
int meta__write_clock(struct trail_writer *w);
/* Free the kernel BTF meta__write_enums() keeps for the next file. */
void meta__cleanup(void);

/* ---- socktab.c: live sockets, bounded, least recently used goes first ---- */

struct sock_ent {
	uint64_t skaddr;	/* key */
	uint64_t cookie;
	uint64_t id;		/* trail socket id */
	uint32_t netns;
	uint16_t family;	/* AF_INET, AF_INET6 */
	uint16_t kind;		/* enum tt_sock_kind */
	uint16_t sport, dport;
	uint8_t saddr[16], daddr[16];
	uint32_t prev, next;	/* LRU list, node indices */
	uint8_t closed;		/* reached TCP_CLOSE, RETIRE pending (sink.c) */
	uint8_t life;		/* lifecycle.c flags, 0 when inserted */
};

struct socktab;

int socktab__new(struct socktab **out, uint32_t cap);
void socktab__free(struct socktab *t);
/* Entry for KEY (made most recently used), or NULL. */
struct sock_ent *socktab__find(struct socktab *t, uint64_t key);
/* Least recently used entry when the table is full, else NULL. */
struct sock_ent *socktab__victim(struct socktab *t);
/* New entry for KEY, which must not be present and the table not full. */
struct sock_ent *socktab__insert(struct socktab *t, uint64_t key);
void socktab__remove(struct socktab *t, struct sock_ent *e);
uint32_t socktab__size(const struct socktab *t);
/* Walk from the least to the most recently used entry, without reordering. */
struct sock_ent *socktab__oldest(struct socktab *t);
struct sock_ent *socktab__newer(struct socktab *t, const struct sock_ent *e);

/* ---- sink.c: ring-buffer records -> trail records ---- */

struct sink;
struct faults;

int sink__new(struct sink **out, struct trail_writer *w, uint32_t max_socks);
void sink__free(struct sink *s);
/* Ring-buffer callback body. Returns 0, or a negative errno on a write
 * error (which ends the recording). */
int sink__event(struct sink *s, const void *data, size_t len);
struct tt_sock;
struct tt_task;
/* Trail socket id for a kernel socket, writing SOCK/TUPLE records as
 * needed; FRESH: the event proves a new socket at that address. */
int sink__sock_id(struct sink *s, const struct tt_sock *k, int fresh, uint64_t *id);
/* Socket SKADDR reached TCP_CLOSE at TS_NS: its id is retired a little
 * later, so events the kernel emits after the state change (an RST sent
 * on close, the drop of a segment, destroy) still name it. */
int sink__sock_closed(struct sink *s, uint64_t skaddr, uint64_t ts_ns);
/* Retire every socket waiting after its close (the recording ends). */
int sink__flush_closed(struct sink *s);
/* The trail identity of kernel socket K (no id; kind, family mapped). */
void sink__trail_sock(struct trail_sock *ts, const struct tt_sock *k);
/* Task slot for a task, writing a TASK record when the slot changes owner. */
int sink__task_slot(struct sink *s, const struct tt_task *t, uint32_t *slot);
/*
 * LOSS block if any counter moved since the last one, or if FORCE. The
 * counters are those of the current file: what happened since
 * sink__rotate(). EXTRA (NEXTRA entries, may be NULL) are other per-file
 * counters, such as the pcap's.
 */
int sink__loss(struct sink *s, const uint64_t *ringbuf_percpu, uint32_t ncpus,
	       const struct trail_counter *extra, uint32_t nextra, int force);
/*
 * Continue in a new file W: forget task slots, declare every live socket
 * again (SOCK records with new ids), start the file's loss counters from
 * RINGBUF_PERCPU. Returns 0 or a negative errno from the writer.
 */
int sink__rotate(struct sink *s, struct trail_writer *w, const uint64_t *ringbuf_percpu,
		 uint32_t ncpus);
/* Fault records go through F (may be NULL: no stacks); sink does not own it. */
void sink__set_faults(struct sink *s, struct faults *f);
/* Live entry of kernel socket SKADDR, or NULL; writes nothing. */
struct sock_ent *sink__find(struct sink *s, uint64_t skaddr);
/* Tell the sink which probes run (which lifecycle events will come). */
void sink__configure(struct sink *s, const struct probe_set *ps);
/* Trail socket id of a live request sock by its kernel address (events
 * that name a request sock, like SYN-ACK retransmits): 0 or -ENOENT.
 * sink__sock_id() takes request and timewait socks (tt_sock.kind) too. */
int sink__reqsk_id(struct sink *s, uint64_t reqsk, uint64_t *id);
uint64_t sink__events(const struct sink *s);
uint64_t sink__evicted(const struct sink *s);
uint64_t sink__decode_errors(const struct sink *s);

/* ---- pcap.c: --pcap, libpcap in a thread of its own ---- */

struct capture;

struct capture_cfg {
	const char *iface;	/* NULL: "any" */
	uint32_t snaplen;	/* 0: headers only */
	const char *filter;	/* pcap filter expression */
	const char *netns_path;	/* capture in this network namespace, NULL: ours */
};

struct capture_stats {
	uint64_t packets;	/* written to the file */
	uint64_t dropped;	/* kernel ring full */
	uint64_t if_dropped;	/* by the interface */
};

/* Open and activate the capture (needs CAP_NET_RAW). 0, or a negative
 * errno after printing why. */
int capture__open(struct capture **out, const struct capture_cfg *cfg);
/* Write into a new file PATH (0600) from now on; the previous file, if any,
 * is flushed and closed, its counters in *PREV (may be NULL). */
int capture__file(struct capture *c, const char *path, struct capture_stats *prev);
int capture__close_file(struct capture *c, struct capture_stats *prev);
/* Start / stop the capture thread; stop takes what the kernel still holds. */
int capture__start(struct capture *c);
int capture__stop(struct capture *c);
/* Size of the current file (cheap, no lock), and its counters so far. */
uint64_t capture__bytes(struct capture *c);
void capture__file_stats(struct capture *c, struct capture_stats *st);
/* META pcap.* keys of the current file (see pcap.c). */
int capture__meta(struct capture *c, struct trail_writer *w);
void capture__destroy(struct capture *c);

/* ---- output.c: the .trail files (and pcap files), -C/-W rotation ---- */

struct output;
struct sink;

struct output_cfg {
	const char *path;	/* first .trail file */
	const char *pcap_path;	/* first pcap file, with cap */
	struct capture *cap;	/* NULL without --pcap */
	uint64_t limit_bytes;	/* -C, 0: one file */
	uint32_t max_files;	/* -W, 0: no limit */
	int argc;
	char **argv;
	const struct filter_cfg *filter;
	const struct probe_set *probes;
};

/* Create the first file and write its head (META, ENUM, CLOCK). */
int output__open(struct output **out, const struct output_cfg *cfg);
struct trail_writer *output__writer(const struct output *o);
const char *output__path(const struct output *o);
uint32_t output__files(const struct output *o);
uint64_t output__bytes(const struct output *o);
/* LOSS block of the current file, with the pcap's counters. */
int output__loss(struct output *o, struct sink *s, const uint64_t *percpu, uint32_t ncpus,
		 int force);
/* The head of the first file is complete (after its first LOSS block):
 * -C counts from here that a file holds events. */
void output__head_done(struct output *o);
/* 1 if -C says the current file (the .trail or its pcap) is full. */
int output__over_limit(const struct output *o);
/* End the current file (LOSS, CLOCK, END) and continue in the next. */
int output__rotate(struct output *o, struct sink *s, const uint64_t *percpu, uint32_t ncpus);
/* End the last file; after a WRITE_ERR only close it. */
int output__close(struct output *o, struct sink *s, const uint64_t *percpu, uint32_t ncpus,
		  int write_err);
/* Free without END (nothing recorded, or a failed start). */
void output__abandon(struct output *o);

/* ---- privs.c: give up what is not needed once probes are attached ---- */

struct privs_cfg {
	const char *user;	/* --user, NULL: SUDO_UID/SUDO_GID if set, else stay root */
	const char *paths[2];	/* files written; their directories get rotated files */
	int rotate;		/* new files will be created later */
	int has_child;		/* signals are forwarded to the recorded command */
	int bpf_map_fd;		/* a map the recorder keeps reading */
	uint32_t bpf_value_size;
};

/*
 * Keep only the capabilities the rest of the recording needs (normally
 * none), optionally switching to an unprivileged user first, clear the
 * bounding set, set no_new_privs. Call before starting any thread. Returns
 * 0, or a negative errno after printing why (the caller stops).
 */
int privs__drop(const struct privs_cfg *cfg, int quiet);

/* ---- faults.c: resets, retransmits, drops, kernel stacks ---- */

/* STACK_FD: the BPF stack map, or -1 (events then carry no stack). */
int faults__new(struct faults **out, int stack_fd);
void faults__free(struct faults *f);
/* One tt_fault_event into a RESET/RETRANS/DROP record (and the STACK it
 * names, first time in this file). 1 written, 0 malformed (not written),
 * or a negative errno from the writer. F may be NULL: no stacks. */
int faults__event(struct faults *f, struct sink *s, struct trail_writer *w,
		  const void *data, size_t len);
/* The capture continues in a new file: STACK records are written again. */
void faults__file_changed(struct faults *f);
/* Events whose kernel stack could not be taken or read. */
uint64_t faults__stack_misses(const struct faults *f);
/* Kernel-dependent options of the fault programs, from the kernel's BTF. */
int faults__tp_args(int *retrans_err_arg);

/* ---- ksyms.c: /proc/kallsyms ---- */

struct ksyms;

/* Opens /proc/kallsyms now (a failure shows later as bare addresses). */
int ksyms__open(struct ksyms **out);
void ksyms__free(struct ksyms *k);
/* "func+0xoff" (" [module]") for ADDR into BUF; the bare address and
 * -ENOENT if no symbol covers it. Parses the file on first use. */
int ksyms__name(struct ksyms *k, uint64_t addr, char *buf, size_t len);
size_t ksyms__count(const struct ksyms *k);

/* ---- minitab.c: live request and timewait socks, by address and tuple ---- */

enum { MINI_REQ = 0, MINI_TW = 1, MINI_KINDS = 2, MINI_FREE = 0xff };

struct mini_ent {
	uint64_t key;		/* kernel address */
	uint64_t id;		/* trail socket id */
	uint64_t cookie;
	uint64_t deadline;	/* CLOCK_BOOTTIME ns: presumed gone after this */
	uint64_t parent;	/* request sock: its listener's address */
	uint32_t netns;
	uint16_t family;	/* AF_INET, AF_INET6 */
	uint16_t sport, dport;
	uint8_t saddr[16], daddr[16];
	uint8_t kind;		/* MINI_REQ, MINI_TW */
	uint8_t substate;	/* timewait: last known tw_substate */
	uint32_t knext, tnext, prev, next;	/* internal: hash chains, age list */
};

struct minitab;

int minitab__new(struct minitab **out, uint32_t cap);
void minitab__free(struct minitab *t);
struct mini_ent *minitab__find(struct minitab *t, uint64_t key);
/* Entry of KIND with the netns, family and tuple of K, or NULL. */
struct mini_ent *minitab__find_tuple(struct minitab *t, uint8_t kind, const struct tt_sock *k);
/* New entry (KEY must be absent), or NULL when full. */
struct mini_ent *minitab__insert(struct minitab *t, uint8_t kind, uint64_t key,
				 const struct tt_sock *k);
void minitab__remove(struct minitab *t, struct mini_ent *e);
/* Move E to the young end of its kind's age list. */
void minitab__touch(struct minitab *t, struct mini_ent *e);
/* Least recently touched entry of KIND, or NULL; then the next younger. */
struct mini_ent *minitab__oldest(struct minitab *t, uint8_t kind);
struct mini_ent *minitab__younger(struct minitab *t, const struct mini_ent *e);
int minitab__full(const struct minitab *t);
uint32_t minitab__size(const struct minitab *t);

/* ---- lifecycle.c: request socks, TIME_WAIT, close(), destruction ---- */

struct lifecycle;
struct tt_state_event;

int lifecycle__new(struct lifecycle **out, struct sink *s, struct trail_writer *w,
		   uint32_t max_minis);
void lifecycle__free(struct lifecycle *l);
/* DESTROY: the destroy probe runs, so full sockets keep their id until
 * destroyed rather than from their CLOSE on. */
void lifecycle__configure(struct lifecycle *l, int destroy);
/* A TT_EV_REQ .. TT_EV_DESTROY record. 0 or a negative errno (write error). */
int lifecycle__event(struct lifecycle *l, const void *data, size_t len);
/* After the STATE record of E for socket SE: links children to their
 * request socks, ends timewait socks a new connection replaces. */
int lifecycle__state(struct lifecycle *l, const struct tt_state_event *e, struct sock_ent *se);
/* After lifecycle__state() and the socket's close bookkeeping: the close()
 * or TIME_WAIT entry the state record E (LEN bytes) also reports
 * (tt_state_event.life). 0, -EINVAL if E is too short, or a write error. */
int lifecycle__state_life(struct lifecycle *l, const struct tt_state_event *e, size_t len);
/* 1 if a socket reaching CLOSE keeps its id until it is destroyed. */
int lifecycle__keeps(const struct lifecycle *l);
/* Id of request or timewait sock K (tt_sock.kind), made if new. */
int lifecycle__mini_id(struct lifecycle *l, const struct tt_sock *k, uint64_t ts, uint64_t *id);
int lifecycle__reqsk_id(struct lifecycle *l, uint64_t reqsk, uint64_t *id);
uint64_t lifecycle__records(const struct lifecycle *l);
uint64_t lifecycle__evicted(const struct lifecycle *l);
/* Continue in new file W, declaring live request/timewait socks again. */
int lifecycle__rotate(struct lifecycle *l, struct trail_writer *w);

/* ---- child.c: the command recorded, held until probes are attached ---- */

struct child {
	pid_t pid;		/* 0 when there is none */
	int go_fd;		/* write end of the hold pipe, -1 once used */
};

/* Fork ARGV[0]; it waits before exec until child__release(). */
int child__start(struct child *c, char **argv);
int child__release(struct child *c);
/* Let the held child exit without running the command. */
void child__abort(struct child *c);
/* 1 and *status (shell style: code, or 128 + signal) once the child has
 * exited, 0 if it still runs (BLOCK = 0), negative errno on error. */
int child__reap(struct child *c, int *status, int block);

#endif
