// SPDX-License-Identifier: BSD-2-Clause
/*
 * tcptrail-record: record the kernel's TCP events into a .trail capture,
 * for the life of a command (like perf record) or until stopped.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "record.h"
#include "tcptrail.h"
#include "tcptrail.skel.h"

#define DEFAULT_RING_MB 8
#define MAX_RING_MB 1024
#define DEFAULT_MAX_SOCKS (256u << 10)
#define POLL_MS 100
#define LOSS_EVERY_NS 1000000000ull	/* and flush the events block */
#define CLOCK_EVERY_NS 10000000000ull

enum { OPT_DURATION = 256, OPT_RING, OPT_FORCE, OPT_MAX_SOCKS, OPT_STACKS };

struct opts {
	const char *path;
	double duration;	/* seconds, 0 = unbounded */
	uint16_t family;
	uint32_t ring_mb;
	uint32_t max_socks;
	uint32_t stacks_per_sec;	/* 0: the kernel side's default */
	int quiet, verbose;
	char **cmd;		/* NULL without a command */
};

struct run {
	struct opts o;
	struct trail_writer *w;
	struct probe_set *ps;
	struct sink *sink;
	struct faults *faults;
	struct ring_buffer *rb;
	struct child child;
	int ncpus;
	uint64_t *percpu;
	int write_err;		/* first writer error: ends the recording */
};

static volatile sig_atomic_t nsignals, last_signal, child_pid;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	nsignals++;
	last_signal = sig;
	/* a terminal's ^C reached the command already; kill(1)'s did not */
	if (child_pid > 0 && si && si->si_code <= 0)
		kill(child_pid, sig);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s -w FILE [options] [-- COMMAND [ARGS...]]\n"
"Record TCP state changes, handshakes, TIME_WAIT, closes, resets,\n"
"retransmits and drops of all sockets into the capture FILE.\n"
"With COMMAND: record for exactly its life, exit with its status.\n"
"Without: record until SIGINT/SIGTERM or --duration.\n"
"\n"
"  -w, --write FILE      capture file to write (required)\n"
"      --duration S      stop after S seconds (a command gets SIGTERM)\n"
"  -4                    IPv4 sockets only\n"
"  -6                    IPv6 sockets only\n"
"      --ring-size MB    BPF ring buffer size, power of two (default %d)\n"
"  -q, --quiet           only errors and warnings\n"
"  -v, --verbose         show libbpf's messages (twice: debug)\n"
"  -h, --help            this text\n"
"  -V, --version         print the version\n",
		PROG, DEFAULT_RING_MB);
}

static int parse_uint(const char *what, const char *s, unsigned long lo,
		      unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < lo || v > hi) {
		fprintf(stderr, "%s: %s wants a whole number from %lu to %lu, got '%s'\n",
			PROG, what, lo, hi, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "write", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "ring-size", required_argument, NULL, OPT_RING },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		/* for tests and troubleshooting, not in --help */
		{ "force-method", required_argument, NULL, OPT_FORCE },
		{ "max-sockets", required_argument, NULL, OPT_MAX_SOCKS },
		{ "stacks-per-sec", required_argument, NULL, OPT_STACKS },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	char *end;
	int c;

	o->ring_mb = DEFAULT_RING_MB;
	o->max_socks = DEFAULT_MAX_SOCKS;
	/* '+': options end at the command, its own options are its own */
	while ((c = getopt_long(argc, argv, "+w:46qvhV", longs, NULL)) != -1) {
		switch (c) {
		case 'w':
			o->path = optarg;
			break;
		case OPT_DURATION:
			errno = 0;
			o->duration = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->duration > 0) ||
			    o->duration > 366.0 * 86400) {
				fprintf(stderr, "%s: --duration wants seconds > 0, got '%s'\n",
					PROG, optarg);
				return -EINVAL;
			}
			break;
		case '4':
		case '6':
			if (o->family) {
				fprintf(stderr, "%s: give one of -4 and -6\n", PROG);
				return -EINVAL;
			}
			o->family = c == '4' ? AF_INET : AF_INET6;
			break;
		case OPT_RING:
			if (parse_uint("--ring-size", optarg, 1, MAX_RING_MB, &v))
				return -EINVAL;
			o->ring_mb = v;
			break;
		case OPT_FORCE:
			if (probes__force(optarg))
				return -EINVAL;
			break;
		case OPT_STACKS:
			if (parse_uint("--stacks-per-sec", optarg, 1, 1000000000, &v))
				return -EINVAL;
			o->stacks_per_sec = v;
			break;
		case OPT_MAX_SOCKS:
			if (parse_uint("--max-sockets", optarg, 1, 1u << 24, &v))
				return -EINVAL;
			o->max_socks = v;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("%s %s\n", PROG, TCPTRAIL_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (!o->path) {
		fprintf(stderr, "%s: -w FILE is required\n", PROG);
		usage(stderr);
		return -EINVAL;
	}
	if (optind < argc)
		o->cmd = argv + optind;
	/* the ring buffer size must be a power of two */
	while (o->ring_mb & (o->ring_mb - 1))
		o->ring_mb += o->ring_mb & -o->ring_mb;
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct run *r = ctx;
	int err = sink__event(r->sink, data, len);

	if (err && !r->write_err)
		r->write_err = err;
	return err;
}

static int write_loss(struct run *r, int force)
{
	__u32 key = TT_CNT_RINGBUF_FULL;
	struct tcptrail_bpf *skel = probe_set__skel(r->ps);
	int err;

	err = bpf_map__lookup_elem(skel->maps.counters, &key, sizeof(key), r->percpu,
				   sizeof(uint64_t) * r->ncpus, 0);
	if (err) {
		/* keep recording; the final LOSS block will say what we know */
		memset(r->percpu, 0, sizeof(uint64_t) * r->ncpus);
	}
	return sink__loss(r->sink, r->percpu, r->ncpus, force);
}

static uint64_t ringbuf_lost(const struct run *r)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < r->ncpus; i++)
		n += r->percpu[i];
	return n;
}

/* Everything up to the moment probes are attached and the command runs. */
static int start(struct run *r, int argc, char **argv)
{
	struct probe_cfg pc = { 0 };
	struct meta_info mi;
	int err, i;

	if (geteuid() != 0) {
		fprintf(stderr, "%s: must run as root: it loads BPF programs into the kernel\n", PROG);
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) < 0) {
		fprintf(stderr, "%s: kernel BTF not found at /sys/kernel/btf/vmlinux; "
			"tcptrail needs a kernel built with CONFIG_DEBUG_INFO_BTF=y\n", PROG);
		return -ENOENT;
	}
	r->ncpus = libbpf_num_possible_cpus();
	if (r->ncpus <= 0 || (uint32_t)r->ncpus > TRAIL_MAX_CPUS) {
		fprintf(stderr, "%s: cannot count possible CPUs (%d)\n", PROG, r->ncpus);
		return -EINVAL;
	}
	r->percpu = calloc(r->ncpus, sizeof(uint64_t));
	if (!r->percpu)
		return -ENOMEM;

	/* before anything is opened: the command inherits none of it */
	if (r->o.cmd) {
		err = child__start(&r->child, r->o.cmd);
		if (err) {
			fprintf(stderr, "%s: cannot fork: %s\n", PROG, strerror(-err));
			return err;
		}
		child_pid = r->child.pid;
	}

	pc.family = r->o.family;
	pc.ring_bytes = r->o.ring_mb << 20;
	pc.verbose = r->o.verbose;
	pc.stacks_per_sec = r->o.stacks_per_sec;
	err = probe_set__open(&r->ps, &pc);
	if (err)
		return err;
	/* only now: a failed load leaves an existing FILE as it was */
	err = trail_writer__open(&r->w, r->o.path, NULL);
	if (err) {
		fprintf(stderr, "%s: cannot create %s: %s\n", PROG, r->o.path, strerror(-err));
		return err;
	}
	err = sink__new(&r->sink, r->w, r->o.max_socks);
	if (err)
		return err;
	/* now, while kallsyms still shows addresses to us */
	err = faults__new(&r->faults, bpf_map__fd(probe_set__skel(r->ps)->maps.stacks));
	if (err)
		return err;
	sink__set_faults(r->sink, r->faults);
	sink__configure(r->sink, r->ps);

	mi.argc = argc;
	mi.argv = argv;
	mi.family = r->o.family;
	mi.probes = r->ps;
	err = meta__write(r->w, &mi);
	if (!err)
		err = meta__write_enums(r->w);
	if (!err)
		err = meta__write_clock(r->w);
	/* a LOSS block up front: a capture cut short still states its losses */
	if (!err)
		err = sink__loss(r->sink, r->percpu, r->ncpus, 1);
	if (err) {
		fprintf(stderr, "%s: writing %s: %s\n", PROG, r->o.path, strerror(-err));
		return err;
	}

	r->rb = ring_buffer__new(bpf_map__fd(probe_set__skel(r->ps)->maps.events),
				 on_event, r, NULL);
	if (!r->rb) {
		err = errno ? -errno : -EINVAL;
		fprintf(stderr, "%s: cannot set up the ring buffer: %s\n", PROG, strerror(-err));
		return err;
	}

	if (!r->o.quiet) {
		for (i = 0; i < probe_set__count(r->ps); i++)
			fprintf(stderr, "%s: probe %s: %s\n", PROG, probe_set__name(r->ps, i),
				probe_set__method(r->ps, i));
		if (r->o.cmd)
			fprintf(stderr, "%s: recording to %s while %s runs\n", PROG,
				r->o.path, r->o.cmd[0]);
		else
			fprintf(stderr, "%s: recording to %s; Ctrl-C to stop\n", PROG, r->o.path);
	}
	return 0;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO;	/* no SA_RESTART: wake the poll */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Poll until the command exits, a signal, the duration, or a write error. */
static int record_loop(struct run *r, int *status, int *exited)
{
	uint64_t now = mono_ns(), t_loss = now, t_clock = now;
	uint64_t t_end = r->o.duration > 0 ? now + (uint64_t)(r->o.duration * 1e9) : 0;
	int err;

	for (;;) {
		err = ring_buffer__poll(r->rb, POLL_MS);
		/* the kernel side wakes us only for a full batch: take the rest */
		if (err >= 0 || err == -EINTR)
			err = ring_buffer__consume(r->rb);
		if (r->write_err)
			return r->write_err;
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "%s: reading the ring buffer: %s\n", PROG, strerror(-err));
			return err;
		}
		if (r->o.cmd && !*exited && child__reap(&r->child, status, 0) == 1) {
			*exited = 1;
			child_pid = 0;
			return 0;
		}
		/* with a command, its own end is what stops us; a second signal too */
		if (nsignals >= (r->o.cmd ? 2 : 1))
			return 0;
		now = mono_ns();
		if (t_end && now >= t_end) {
			if (r->o.cmd && child_pid > 0)
				kill(child_pid, SIGTERM);
			return 0;
		}
		if (now - t_loss >= LOSS_EVERY_NS) {
			t_loss = now;
			/* events first: blocks stay in time order */
			err = trail_writer__flush(r->w);
			if (!err)
				err = write_loss(r, 0);
			if (err)
				return r->write_err = err;
		}
		if (now - t_clock >= CLOCK_EVERY_NS) {
			t_clock = now;
			err = meta__write_clock(r->w);
			if (err)
				return r->write_err = err;
		}
	}
}

/*
 * Stop the probes, take what is still queued, close the file. After a write
 * error only the close: the writer already cut the file back to its last
 * complete block. Returns 0 or the write error.
 */
static int finish(struct run *r)
{
	struct stat st;
	uint64_t bytes;
	int err = r->write_err, cerr;

	probe_set__detach(r->ps);
	if (!err) {
		/* a program that was running during detach may still commit */
		ring_buffer__poll(r->rb, 10);
		ring_buffer__consume(r->rb);
		err = r->write_err;
	}
	if (!err)
		err = trail_writer__flush(r->w);
	if (!err)
		err = write_loss(r, 1);
	if (!err)
		err = meta__write_clock(r->w);
	bytes = trail_writer__bytes(r->w);
	cerr = trail_writer__close(r->w);
	r->w = NULL;
	if (!err)
		err = cerr;
	if (stat(r->o.path, &st) == 0 && S_ISREG(st.st_mode))
		bytes = st.st_size;
	if (err) {
		/* the event count would overstate the file: say what it holds */
		fprintf(stderr, "%s: writing %s failed: %s; recording stopped, the capture "
			"holds what was recorded up to its last complete block (%llu bytes)\n",
			PROG, r->o.path, strerror(-err), (unsigned long long)bytes);
		return err;
	}
	if (!r->o.quiet || ringbuf_lost(r) || sink__evicted(r->sink)) {
		fprintf(stderr, "%s: %llu events, %llu lost", PROG,
			(unsigned long long)sink__events(r->sink),
			(unsigned long long)ringbuf_lost(r));
		if (sink__evicted(r->sink))
			fprintf(stderr, ", %llu sockets evicted (table full)",
				(unsigned long long)sink__evicted(r->sink));
		if (sink__decode_errors(r->sink))
			fprintf(stderr, ", %llu unreadable",
				(unsigned long long)sink__decode_errors(r->sink));
		fprintf(stderr, ", %llu bytes written to %s\n", (unsigned long long)bytes,
			r->o.path);
	}
	return err;
}

/* Wait for the command to exit; 1 when it did, 0 if a signal came first. */
static int wait_child(struct child *c, int *status)
{
	const struct timespec tick = { 0, POLL_MS * 1000000L };
	sig_atomic_t seen = nsignals;
	int r;

	while ((r = child__reap(c, status, 0)) == 0 && nsignals == seen)
		nanosleep(&tick, NULL);
	return r == 1;
}

int main(int argc, char **argv)
{
	struct run r;
	int err, status = 0, exited = 0, rc;

	memset(&r, 0, sizeof(r));
	r.child.go_fd = -1;
	if (parse_args(&r.o, argc, argv))
		return 2;

	err = start(&r, argc, argv);
	if (err) {
		child__abort(&r.child);
		/* nothing was recorded: leave no empty capture behind */
		if (r.w)
			unlink(r.o.path);
		rc = 1;
		goto cleanup;
	}
	install_signals();
	if (r.o.cmd) {
		err = child__release(&r.child);
		if (err) {
			fprintf(stderr, "%s: cannot start %s: %s\n", PROG, r.o.cmd[0],
				strerror(-err));
		}
	}
	if (!err)
		err = record_loop(&r, &status, &exited);
	/* a failed recording still ends with a closed, readable file */
	rc = finish(&r) || err ? 1 : 0;

	if (r.o.cmd && !exited && r.child.pid > 0) {
		/* the recording stopped first: wait for the command, not twice */
		exited = nsignals < 2 && wait_child(&r.child, &status) == 1;
		if (!exited)
			fprintf(stderr, "%s: %s (pid %d) still runs, not waiting for it\n",
				PROG, r.o.cmd[0], (int)r.child.pid);
	}
	if (r.o.cmd && !rc)
		rc = exited ? status : 128 + (last_signal ? last_signal : SIGTERM);
cleanup:
	trail_writer__abandon(r.w);
	ring_buffer__free(r.rb);
	sink__free(r.sink);
	faults__free(r.faults);
	probe_set__destroy(r.ps);
	free(r.percpu);
	return rc;
}
