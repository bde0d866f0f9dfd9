// SPDX-License-Identifier: BSD-2-Clause
/*
 * tcptrail-record: record the kernel's TCP events into a .trail capture,
 * for the life of a command (like perf record) or until stopped.
 */
#include <errno.h>
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

#define POLL_MS 100
#define LOSS_EVERY_NS 1000000000ull	/* and flush the events block */
#define CLOCK_EVERY_NS 10000000000ull

struct run {
	struct opts o;
	int argc;
	char **argv;
	struct output *out;
	struct capture *cap;
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

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Kernel-side loss counters into r->percpu (zeros if the read fails: the
 * final LOSS block says what we know). */
static void read_percpu(struct run *r)
{
	__u32 key = TT_CNT_RINGBUF_FULL;
	struct tcptrail_bpf *skel = probe_set__skel(r->ps);

	if (bpf_map__lookup_elem(skel->maps.counters, &key, sizeof(key), r->percpu,
				 sizeof(uint64_t) * r->ncpus, 0))
		memset(r->percpu, 0, sizeof(uint64_t) * r->ncpus);
}

static int write_loss(struct run *r, int force)
{
	read_percpu(r);
	return output__loss(r->out, r->sink, r->percpu, r->ncpus, force);
}

static int rotate(struct run *r)
{
	int err;

	read_percpu(r);
	err = output__rotate(r->out, r->sink, r->percpu, r->ncpus);
	if (err && !r->write_err)
		r->write_err = err;
	return err;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct run *r = ctx;
	int err;

	/* -C: the event goes into the next file once this one is full */
	if (r->o.limit_bytes && output__over_limit(r->out) && rotate(r))
		return r->write_err;
	err = sink__event(r->sink, data, len);
	if (err && !r->write_err)
		r->write_err = err;
	return err;
}

/* Events lost in the kernel: ring buffer full, program runs skipped. */
static uint64_t kernel_lost(const struct run *r)
{
	uint64_t n = probe_set__misses(r->ps);
	int i;

	for (i = 0; i < r->ncpus; i++)
		n += r->percpu[i];
	return n;
}

static int preflight(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "%s: must run as root: it loads BPF programs into the kernel\n", PROG);
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) < 0) {
		fprintf(stderr, "%s: kernel BTF not found at /sys/kernel/btf/vmlinux; "
			"tcptrail needs a kernel built with CONFIG_DEBUG_INFO_BTF=y\n", PROG);
		return -ENOENT;
	}
	return 0;
}

static int open_capture(struct run *r)
{
	struct capture_cfg cc = { 0 };
	char expr[4200], nspath[64];
	int err;

	err = filter__pcap_expr(&r->o.filter, expr, sizeof(expr));
	if (err)
		return err;
	cc.iface = r->o.iface;
	cc.snaplen = r->o.snaplen;
	cc.filter = expr;
	if (r->o.filter.netns) {
		/* packets are captured in one namespace: the filter's */
		if (filter__netns_path(&r->o.filter, nspath, sizeof(nspath))) {
			fprintf(stderr, "%s: --pcap: no process lives in network namespace %u; "
				"give --netns a namespace file such as /run/netns/NAME\n", PROG,
				r->o.filter.netns);
			return -ENOENT;
		}
		cc.netns_path = nspath;
	}
	return capture__open(&r->cap, &cc);
}

/* Everything up to the moment probes are attached and the command runs. */
static int start(struct run *r)
{
	struct probe_cfg pc = { 0 };
	struct output_cfg oc = { 0 };
	struct privs_cfg prc = { 0 };
	int err, i;

	err = preflight();
	if (err)
		return err;
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

	pc.filter = &r->o.filter;
	pc.ring_bytes = r->o.ring_mb << 20;
	pc.verbose = r->o.verbose;
	pc.stacks_per_sec = r->o.stacks_per_sec;
	err = probe_set__open(&r->ps, &pc);
	if (err)
		return err;
	if (r->o.filter.npids)
		filter__seed_pids(&r->o.filter, probe_set__skel(r->ps), r->o.quiet);
	if (r->o.pcap_path) {
		err = open_capture(r);
		if (err)
			return err;
	}

	/* only now: a failed load leaves an existing FILE as it was */
	oc.path = r->o.path;
	oc.pcap_path = r->o.pcap_path;
	oc.cap = r->cap;
	oc.limit_bytes = r->o.limit_bytes;
	oc.max_files = r->o.max_files;
	oc.argc = r->argc;
	oc.argv = r->argv;
	oc.filter = &r->o.filter;
	oc.probes = r->ps;
	err = output__open(&r->out, &oc);
	if (err)
		return err;
	err = sink__new(&r->sink, output__writer(r->out), r->o.max_socks);
	if (err)
		return err;
	/* now, while kallsyms still shows addresses to us */
	err = faults__new(&r->faults, bpf_map__fd(probe_set__skel(r->ps)->maps.stacks));
	if (err)
		return err;
	sink__set_faults(r->sink, r->faults);
	sink__configure(r->sink, r->ps);
	/* a LOSS block up front: a capture cut short still states its losses */
	if (!err)
		err = output__loss(r->out, r->sink, r->percpu, r->ncpus, 1);
	output__head_done(r->out);
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
		char why[256];

		for (i = 0; i < probe_set__count(r->ps); i++) {
			const char *m = probe_set__method(r->ps, i);
			int n = probe_set__passed_over(r->ps, i, why, sizeof(why));

			fprintf(stderr, "%s: probe %s: %s%s%s%s\n", PROG, probe_set__name(r->ps, i),
				m, !n ? "" : strcmp(m, "none") ? " (after " : " (", why, n ? ")" : "");
		}
	}
	/* attached and open: the rest needs (almost) no privilege; before
	 * the capture thread, capabilities are per thread */
	prc.user = r->o.user;
	prc.paths[0] = r->o.path;
	prc.paths[1] = r->o.pcap_path;
	prc.rotate = r->o.limit_bytes > 0;
	prc.has_child = r->o.cmd != NULL;
	prc.bpf_map_fd = bpf_map__fd(probe_set__skel(r->ps)->maps.counters);
	prc.bpf_value_size = sizeof(uint64_t) * r->ncpus;
	err = privs__drop(&prc, r->o.quiet);
	if (err)
		return err;
	if (r->cap) {
		err = capture__start(r->cap);
		if (err) {
			fprintf(stderr, "%s: cannot start the pcap thread: %s\n", PROG,
				strerror(-err));
			return err;
		}
	}
	if (!r->o.quiet) {
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
		/* the pcap file grows without events too */
		if (r->o.limit_bytes && output__over_limit(r->out) && rotate(r))
			return r->write_err;
		if (now - t_loss >= LOSS_EVERY_NS) {
			t_loss = now;
			/* events first: blocks stay in time order */
			err = trail_writer__flush(output__writer(r->out));
			if (!err)
				err = write_loss(r, 0);
			if (err)
				return r->write_err = err;
		}
		if (now - t_clock >= CLOCK_EVERY_NS) {
			t_clock = now;
			err = meta__write_clock(output__writer(r->out));
			if (err)
				return r->write_err = err;
		}
	}
}

/*
 * Stop the probes and the capture, take what is still queued, close the
 * files. After a write error only the close: the writer already cut the
 * file back to its last complete block. Returns 0 or the write error.
 */
static int finish(struct run *r)
{
	struct capture_stats cs = { 0 };
	uint64_t bytes, runs, run_ns;
	int err = r->write_err, cerr;

	probe_set__detach(r->ps);
	if (!err) {
		/* a program that was running during detach may still commit */
		ring_buffer__poll(r->rb, 10);
		ring_buffer__consume(r->rb);
		err = r->write_err;
	}
	/* the closed sockets' ids end with the file, not a second later */
	if (!err)
		err = r->write_err = sink__flush_closed(r->sink);
	if (r->cap) {
		cerr = capture__stop(r->cap);
		capture__file_stats(r->cap, &cs);
		if (cerr && !err)
			fprintf(stderr, "%s: the pcap capture failed: %s\n", PROG, strerror(-cerr));
	}
	read_percpu(r);
	cerr = output__close(r->out, r->sink, r->percpu, r->ncpus, err);
	if (!err)
		err = cerr;
	bytes = output__bytes(r->out);
	if (err) {
		/* the event count would overstate the file: say what it holds */
		fprintf(stderr, "%s: writing %s failed: %s; recording stopped, the capture "
			"holds what was recorded up to its last complete block (%llu bytes)\n",
			PROG, output__path(r->out), strerror(-err), (unsigned long long)bytes);
		return err;
	}
	if (!r->o.quiet || kernel_lost(r) || sink__evicted(r->sink) || cs.dropped) {
		fprintf(stderr, "%s: %llu events, %llu lost", PROG,
			(unsigned long long)sink__events(r->sink),
			(unsigned long long)kernel_lost(r));
		if (sink__evicted(r->sink))
			fprintf(stderr, ", %llu sockets evicted (table full)",
				(unsigned long long)sink__evicted(r->sink));
		if (sink__decode_errors(r->sink))
			fprintf(stderr, ", %llu unreadable",
				(unsigned long long)sink__decode_errors(r->sink));
		fprintf(stderr, ", %llu bytes written to %s", (unsigned long long)bytes,
			output__files(r->out) > 1 ? r->o.path : output__path(r->out));
		if (output__files(r->out) > 1)
			fprintf(stderr, " and the files after it (%u in all, last %s)",
				output__files(r->out), output__path(r->out));
		if (r->cap)
			fprintf(stderr, "; pcap: %llu packets in the last file, %llu dropped",
				(unsigned long long)cs.packets, (unsigned long long)cs.dropped);
		fprintf(stderr, "\n");
	}
	runs = probe_set__runs(r->ps, &run_ns);
	if (runs && !r->o.quiet)
		fprintf(stderr, "%s: kernel programs ran %llu times, %.0f ns each on average "
			"(kernel.bpf_stats_enabled)\n", PROG, (unsigned long long)runs,
			(double)run_ns / runs);
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

static int list_probes(const struct opts *o)
{
	struct probe_cfg pc = { 0 };

	if (preflight())
		return 1;
	pc.filter = &o->filter;
	pc.ring_bytes = o->ring_mb << 20;
	pc.verbose = o->verbose;
	return probes__list(&pc, stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct run r;
	int err, status = 0, exited = 0, rc;

	memset(&r, 0, sizeof(r));
	r.child.go_fd = -1;
	r.argc = argc;
	r.argv = argv;
	if (options__parse(&r.o, argc, argv))
		return 2;
	if (r.o.list_probes)
		return list_probes(&r.o);

	err = start(&r);
	if (err) {
		child__abort(&r.child);
		/* nothing was recorded: leave no empty capture behind */
		if (r.out) {
			output__abandon(r.out);
			r.out = NULL;
			unlink(r.o.path);
			if (r.o.pcap_path)
				unlink(r.o.pcap_path);
		}
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
	/* a failed recording still ends with closed, readable files */
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
	output__abandon(r.out);
	capture__destroy(r.cap);
	ring_buffer__free(r.rb);
	sink__free(r.sink);
	faults__free(r.faults);
	probe_set__destroy(r.ps);
	meta__cleanup();
	free(r.percpu);
	return rc;
}
