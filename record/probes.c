// SPDX-License-Identifier: BSD-2-Clause
/*
 * Which kernel programs the recorder loads: the one place that decides.
 * Each probe has a chain of attach methods, best first. Loading tries the
 * first method of every probe with all other programs' autoload off; a probe
 * whose method fails (to load or to attach) moves to its next method and the
 * skeleton is reopened. Load failures are not attributed to a program by
 * libbpf, so then each probe is tried alone to find the culprit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "record.h"
#include "tcptrail.h"
#include "tcptrail.skel.h"

#define MAX_METHODS 4
#define MAX_MORE 2		/* programs a method loads besides prog */
#define MAX_PROGS (1 + MAX_MORE)
#define NEED_TRACEFS 0x1
#define NEED_CGROUP 0x2		/* attached to the root of the cgroup v2 hierarchy */

/*
 * Two probes may choose the same program (one hook serving both): it is
 * attached once, and the roles of the probes using it are ORed into its
 * rodata roles word (roles_of()), so it reports what each probe stands for.
 */
struct probe_method {
	const char *kind;	/* "tp_btf", "tracepoint", "fentry", ... */
	const char *target;	/* what it hooks, as written in probe.NAME */
	const char *prog;	/* program name in bpf/tcptrail.bpf.c */
	unsigned flags;		/* NEED_TRACEFS, NEED_CGROUP */
	const char *more[MAX_MORE];	/* further programs the method needs */
	unsigned role;		/* TT_ROLE_* of a shared lifecycle program */
};

struct probe {
	const char *name;	/* META key probe.NAME, --force-method NAME= */
	int required;		/* no working method is an error, not "none" */
	struct probe_method methods[MAX_METHODS];
};

/* One row per event kind. */
static const struct probe probes[] = {
	{ "state", 1, {
		{ "tp_btf", "inet_sock_set_state", "tt_state_btf", 0, { 0 }, TT_ROLE_STATE },
		{ "tracepoint", "sock/inet_sock_set_state", "tt_state_tp", NEED_TRACEFS,
		  { 0 }, TT_ROLE_STATE },
	} },
	/*
	 * Tracepoint first: since it carries sk_rst_reason (v6.10) it fires for
	 * every RST sent, reply or active. Older kernels lack that argument,
	 * the tracepoint programs fail to load there, and the three senders are
	 * hooked instead (no reason known).
	 */
	{ "reset", 0, {
		{ "tp_btf", "tcp_send_reset", "tt_rst_btf", 0 },
		{ "tracepoint", "tcp/tcp_send_reset", "tt_rst_tp", NEED_TRACEFS },
		{ "fentry", "tcp_v4_send_reset,tcp_v6_send_reset,tcp_send_active_reset",
		  "tt_rst4_fentry", 0, { "tt_rst6_fentry", "tt_rsta_fentry" } },
		{ "kprobe", "tcp_v4_send_reset,tcp_v6_send_reset,tcp_send_active_reset",
		  "tt_rst4_kprobe", 0, { "tt_rst6_kprobe", "tt_rsta_kprobe" } },
	} },
	{ "reset_recv", 0, {
		{ "tp_btf", "tcp_receive_reset", "tt_rstrx_btf", 0 },
		{ "tracepoint", "tcp/tcp_receive_reset", "tt_rstrx_tp", NEED_TRACEFS },
	} },
	{ "retrans", 0, {
		{ "tp_btf", "tcp_retransmit_skb", "tt_retrans_btf", 0 },
		{ "tracepoint", "tcp/tcp_retransmit_skb", "tt_retrans_tp", NEED_TRACEFS },
	} },
	{ "retrans_synack", 0, {
		{ "tp_btf", "tcp_retransmit_synack", "tt_synack_btf", 0 },
		{ "tracepoint", "tcp/tcp_retransmit_synack", "tt_synack_tp", NEED_TRACEFS },
	} },
	/* tp_btf with the receiving socket argument; else the classic event,
	 * which needs the drop reason field (v5.17) */
	{ "drop", 0, {
		{ "tp_btf", "kfree_skb", "tt_drop_btf", 0 },
		{ "tracepoint", "skb/kfree_skb", "tt_drop_tp", NEED_TRACEFS },
	} },
	/* request sock queued at SYN arrival (TCP_NEW_SYN_RECV); sockops sees
	 * it in TIMEOUT_INIT with is_fullsock 0 */
	{ "reqsk", 0, {
		{ "fentry", "inet_csk_reqsk_queue_hash_add", "tt_req_fentry", 0 },
		{ "kprobe", "inet_csk_reqsk_queue_hash_add", "tt_req_kprobe", 0 },
		{ "sockops", "BPF_SOCK_OPS_TIMEOUT_INIT", "tt_req_sockops", NEED_CGROUP },
	} },
	/* SYN-ACK timer of request socks, end of timewait socks: only timers
	 * that expire pass here, far fewer than are started or cancelled */
	{ "mini_timers", 0, {
		{ "tp_btf", "timer_expire_entry", "tt_timer_btf", 0 },
		{ "tracepoint", "timer/timer_expire_entry", "tt_timer_tp", NEED_TRACEFS },
	} },
	/* the timewait sock that continues an active closer */
	{ "timewait", 0, {
		{ "fexit", "inet_twsk_alloc", "tt_tw_fexit", 0 },
		{ "tp_btf", "inet_sock_set_state", "tt_state_btf", 0, { 0 }, TT_ROLE_TW },
		{ "tracepoint", "sock/inet_sock_set_state", "tt_state_tp", NEED_TRACEFS,
		  { 0 }, TT_ROLE_TW },
	} },
	/* close() by a task; the state methods take the close transitions made
	 * while the socket's last file reference is released */
	{ "close", 0, {
		{ "fentry", "tcp_close", "tt_close_fentry", 0 },
		{ "kprobe", "tcp_close", "tt_close_kprobe", 0 },
		{ "tp_btf", "inet_sock_set_state", "tt_state_btf", 0, { 0 }, TT_ROLE_CLOSE },
		{ "tracepoint", "sock/inet_sock_set_state", "tt_state_tp", NEED_TRACEFS,
		  { 0 }, TT_ROLE_CLOSE },
	} },
	{ "destroy", 0, {
		{ "tp_btf", "tcp_destroy_sock", "tt_destroy_btf", 0 },
		{ "tracepoint", "tcp/tcp_destroy_sock", "tt_destroy_tp", NEED_TRACEFS },
		{ "fentry", "tcp_v4_destroy_sock", "tt_destroy_fentry", 0 },
	} },
};

#define NPROBES ((int)(sizeof(probes) / sizeof(probes[0])))
#define NO_METHOD (-1)

static const char *forced[NPROBES];	/* method kind per probe, or NULL */

struct probe_set {
	struct probe_cfg cfg;
	struct tcptrail_bpf *skel;
	struct bpf_link *links[NPROBES][MAX_PROGS];
	int retrans_err_arg;		/* rodata of the fault programs */
	int choice[NPROBES];		/* index into methods[], or NO_METHOD */
	int err[NPROBES][MAX_METHODS];	/* why each tried method failed */
	char method[NPROBES][192];	/* "METHOD TARGET" of the choice */
	int cgroup_fd;			/* cgroup v2 root, -1 until needed */
	char cgroup_path[128];
};

/* ---- libbpf messages: kept for the error report, shown live with -v ---- */

static char libbpf_log[16384];
static size_t libbpf_log_len;
static int libbpf_verbose;
static int listing;	/* --list-probes: report, do not complain */

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static char line[65536];	/* a verifier log comes in one piece */
	size_t n;

	if (level == LIBBPF_DEBUG && libbpf_verbose < 2)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (libbpf_verbose)
		fputs(line, stderr);
	n = strlen(line);
	/* keep the most recent messages: the reason is at the end */
	if (n >= sizeof(libbpf_log))
		n = sizeof(libbpf_log) - 1;
	if (libbpf_log_len + n >= sizeof(libbpf_log)) {
		size_t drop = libbpf_log_len + n - sizeof(libbpf_log) + 1;

		memmove(libbpf_log, libbpf_log + drop, libbpf_log_len - drop);
		libbpf_log_len -= drop;
	}
	memcpy(libbpf_log + libbpf_log_len, line, n);
	libbpf_log_len += n;
	libbpf_log[libbpf_log_len] = '\0';
	return 0;
}

static void log_reset(void)
{
	libbpf_log_len = 0;
	libbpf_log[0] = '\0';
}

int probes__force(const char *spec)
{
	const char *eq = strchr(spec, '=');
	int i, m;

	if (!eq || eq == spec || !eq[1]) {
		fprintf(stderr, "%s: --force-method wants PROBE=METHOD, got '%s'\n", PROG, spec);
		return -EINVAL;
	}
	for (i = 0; i < NPROBES; i++) {
		if (strlen(probes[i].name) != (size_t)(eq - spec) ||
		    strncmp(probes[i].name, spec, eq - spec))
			continue;
		for (m = 0; m < MAX_METHODS && probes[i].methods[m].kind; m++) {
			if (!strcmp(probes[i].methods[m].kind, eq + 1)) {
				forced[i] = probes[i].methods[m].kind;
				return 0;
			}
		}
		fprintf(stderr, "%s: --force-method: probe '%s' has no method '%s' (has:",
			PROG, probes[i].name, eq + 1);
		for (m = 0; m < MAX_METHODS && probes[i].methods[m].kind; m++)
			fprintf(stderr, " %s", probes[i].methods[m].kind);
		fprintf(stderr, ")\n");
		return -EINVAL;
	}
	fprintf(stderr, "%s: --force-method: no probe named '%.*s'\n", PROG,
		(int)(eq - spec), spec);
	return -EINVAL;
}

/* First usable method of probe P at or after FROM, or NO_METHOD. */
static int next_method(int p, int from)
{
	int m;

	for (m = from; m < MAX_METHODS && probes[p].methods[m].kind; m++) {
		if (!forced[p] || !strcmp(forced[p], probes[p].methods[m].kind))
			return m;
	}
	return NO_METHOD;
}

/*
 * fentry/fexit or kprobes refused by this kernel altogether (lockdown, no
 * trampolines, kprobes not built): found once, by a minimal program or the
 * kprobe PMU, instead of one failed skeleton load per probe that lists
 * them. Returns the refusal as a negative errno, 0 if usable or unknown
 * (the real load then decides).
 */
static int probe_fentry(void)
{
	/* r0 = 0; exit */
	const struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 },
		{ .code = 0x95 },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_FENTRY);
	int id = libbpf_find_vmlinux_btf_id("tcp_close", BPF_TRACE_FENTRY);
	int fd, err;

	if (id < 0)
		return 0;
	o.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "tt_fentry_probe", "GPL", insns, 2, &o);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	err = -errno;
	return err == -EPERM || err == -EOPNOTSUPP || err == -524 /* ENOTSUPP */ ? err : 0;
}

static int probe_kprobe(void)
{
	if (access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0 ||
	    access("/sys/kernel/tracing/kprobe_events", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/kprobe_events", F_OK) == 0)
		return 0;
	/* tracefs may just be unmounted: only a missing PMU with tracefs there counts */
	if (access("/sys/kernel/tracing/events", F_OK) < 0)
		return 0;
	return -ENOENT;
}

static int kind_refused(const char *kind)
{
	static int fentry = 1, kprobe = 1;	/* 1: not probed yet */

	if (!strcmp(kind, "fentry") || !strcmp(kind, "fexit")) {
		if (fentry == 1)
			fentry = probe_fentry();
		return fentry;
	}
	if (!strcmp(kind, "kprobe")) {
		if (kprobe == 1)
			kprobe = probe_kprobe();
		return kprobe;
	}
	return 0;
}

/* next_method() past the kinds the kernel refuses; their error is kept
 * for the report and said like that of a method tried. */
static int usable_method(struct probe_set *ps, int p, int from)
{
	int m = next_method(p, from), n, err;

	while (m != NO_METHOD && (err = kind_refused(probes[p].methods[m].kind))) {
		ps->err[p][m] = err;
		n = next_method(p, m + 1);
		if (n != NO_METHOD && ps->cfg.verbose)
			fprintf(stderr, "%s: probe %s: %s %s failed (%s), trying %s\n", PROG,
				probes[p].name, probes[p].methods[m].kind,
				probes[p].methods[m].target, strerror(-err),
				probes[p].methods[n].kind);
		m = n;
	}
	return m;
}

/* Classic tracepoints are attached through tracefs; mount it if missing. */
static int ensure_tracefs(void)
{
	static const char *dirs[] = {
		"/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events",
	};
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (access(dirs[i], F_OK) == 0)
			return 0;
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) < 0) {
		int err = -errno;

		if (!listing)
			fprintf(stderr, "%s: classic tracepoints need tracefs, and mounting it on "
				"/sys/kernel/tracing failed: %s\n", PROG, strerror(-err));
		return err;
	}
	if (!listing)
		fprintf(stderr, "%s: mounted tracefs on /sys/kernel/tracing\n", PROG);
	return 0;
}

static void destroy_links(struct probe_set *ps)
{
	int p, i;

	for (p = 0; p < NPROBES; p++) {
		for (i = 0; i < MAX_PROGS; i++) {
			bpf_link__destroy(ps->links[p][i]);
			ps->links[p][i] = NULL;
		}
	}
}

/* Program I of method M: its prog, then its more[]; NULL past the end. */
static const char *method_prog(const struct probe_method *m, int i)
{
	if (i == 0)
		return m->prog;
	return i < MAX_PROGS ? m->more[i - 1] : NULL;
}

/* Undo the octal escapes /proc/self/mounts uses for blanks in paths. */
static void unescape_mount_path(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/* The root of the cgroup v2 hierarchy, where sockops sees every socket. */
static int cgroup_root_fd(struct probe_set *ps)
{
	char line[512], dev[128], dir[256], type[64];
	FILE *f;
	int fd;

	if (ps->cgroup_fd >= 0)
		return ps->cgroup_fd;
	f = fopen("/proc/self/mounts", "re");
	if (!f)
		return -errno;
	dir[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %255s %63s", dev, dir, type) == 3 &&
		    !strcmp(type, "cgroup2"))
			break;
		dir[0] = '\0';
	}
	fclose(f);
	if (!dir[0]) {
		fprintf(stderr, "%s: no cgroup v2 hierarchy in /proc/self/mounts\n", PROG);
		return -ENOENT;
	}
	unescape_mount_path(dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		fprintf(stderr, "%s: cannot open the cgroup v2 root %s: %s\n", PROG, dir,
			strerror(-fd));
		return fd;
	}
	snprintf(ps->cgroup_path, sizeof(ps->cgroup_path), "%s", dir);
	ps->cgroup_fd = fd;
	return fd;
}

/* True if a probe before P (in an attempt of all) attaches program NAME. */
static int attached_earlier(const struct probe_set *ps, int p, int only, const char *name)
{
	int q, i;

	if (only >= 0)
		return 0;
	for (q = 0; q < p; q++) {
		const struct probe_method *m;

		if (ps->choice[q] == NO_METHOD)
			continue;
		m = &probes[q].methods[ps->choice[q]];
		for (i = 0; i < MAX_PROGS && method_prog(m, i); i++)
			if (!strcmp(method_prog(m, i), name))
				return 1;
	}
	return 0;
}

static struct bpf_link *attach_prog(struct probe_set *ps, const struct probe_method *m,
				    struct bpf_program *prog)
{
	int fd;

	if (!(m->flags & NEED_CGROUP))
		return bpf_program__attach(prog);
	fd = cgroup_root_fd(ps);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	/* a link: coexists with programs attached there, as BPF_F_ALLOW_MULTI */
	return bpf_program__attach_cgroup(prog, fd);
}

static void close_skel(struct probe_set *ps)
{
	destroy_links(ps);
	tcptrail_bpf__destroy(ps->skel);
	ps->skel = NULL;
}

/* The rodata roles word of a program probes share, or NULL. */
static __u32 *roles_of(struct tcptrail_bpf *skel, const char *prog)
{
	if (!strcmp(prog, "tt_state_btf"))
		return (__u32 *)&skel->rodata->state_btf_roles;
	if (!strcmp(prog, "tt_state_tp"))
		return (__u32 *)&skel->rodata->state_tp_roles;
	return NULL;
}

/*
 * Open, load and attach with the current choices, only probe ONLY if it is
 * not negative. On an attach failure *bad names the probe; on a load failure
 * it is -1. Returns 0 with ps->skel live, or a negative errno.
 */
static int attempt(struct probe_set *ps, int only, int *bad)
{
	struct bpf_program *prog;
	__u32 *roles;
	int p, i, err;

	*bad = -1;
	log_reset();
	ps->skel = tcptrail_bpf__open();
	if (!ps->skel)
		return errno ? -errno : -EINVAL;
	filter__rodata(ps->cfg.filter, ps->skel);
	ps->skel->rodata->retrans_err_arg = ps->retrans_err_arg;
	if (ps->cfg.stacks_per_sec)
		ps->skel->rodata->stacks_per_sec = ps->cfg.stacks_per_sec;
	/* the reader polls every 100 ms; wake it early when an eighth is full */
	ps->skel->rodata->wakeup_bytes = ps->cfg.ring_bytes / 8;
	err = bpf_map__set_max_entries(ps->skel->maps.events, ps->cfg.ring_bytes);
	if (err)
		goto fail;

	bpf_object__for_each_program(prog, ps->skel->obj)
		bpf_program__set_autoload(prog, false);
	for (p = 0; p < NPROBES; p++) {
		const struct probe_method *m;

		if (ps->choice[p] == NO_METHOD || (only >= 0 && p != only))
			continue;
		m = &probes[p].methods[ps->choice[p]];
		for (i = 0; i < MAX_PROGS && method_prog(m, i); i++) {
			prog = bpf_object__find_program_by_name(ps->skel->obj, method_prog(m, i));
			if (!prog) {
				fprintf(stderr, "%s: internal error: no program %s\n", PROG,
					method_prog(m, i));
				err = -ENOENT;
				goto fail;
			}
			bpf_program__set_autoload(prog, true);
		}
		roles = roles_of(ps->skel, m->prog);
		if (roles && m->role)
			*roles |= m->role;
		if (m->flags & NEED_TRACEFS) {
			err = ensure_tracefs();
			if (err) {
				*bad = p;
				goto fail;
			}
		}
	}

	err = tcptrail_bpf__load(ps->skel);
	if (!err)
		err = filter__maps(ps->cfg.filter, ps->skel);
	if (err)
		goto fail;

	for (p = 0; p < NPROBES; p++) {
		const struct probe_method *m;

		if (ps->choice[p] == NO_METHOD || (only >= 0 && p != only))
			continue;
		m = &probes[p].methods[ps->choice[p]];
		for (i = 0; i < MAX_PROGS && method_prog(m, i); i++) {
			if (attached_earlier(ps, p, only, method_prog(m, i)))
				continue;
			prog = bpf_object__find_program_by_name(ps->skel->obj, method_prog(m, i));
			ps->links[p][i] = attach_prog(ps, m, prog);
			if (!ps->links[p][i]) {
				err = errno ? -errno : -EINVAL;
				*bad = p;
				goto fail;
			}
		}
	}
	return 0;
fail:
	close_skel(ps);
	return err;
}

/* Probe P's current method failed with ERR: move on. 0, or -ENOENT at the
 * end of the chain of a required probe. */
static int fall_back(struct probe_set *ps, int p, int err)
{
	int m = ps->choice[p];

	ps->err[p][m] = err;
	ps->choice[p] = usable_method(ps, p, m + 1);
	if (ps->choice[p] != NO_METHOD) {
		if (ps->cfg.verbose)
			fprintf(stderr, "%s: probe %s: %s %s failed (%s), trying %s\n", PROG,
				probes[p].name, probes[p].methods[m].kind,
				probes[p].methods[m].target, strerror(-err),
				probes[p].methods[ps->choice[p]].kind);
		return 0;
	}
	return probes[p].required ? -ENOENT : 0;
}

static void report_failure(const struct probe_set *ps, int p, int err)
{
	int m;

	if (p < 0) {
		fprintf(stderr, "%s: loading the BPF programs failed: %s\n", PROG,
			strerror(-err));
	} else {
		fprintf(stderr, "%s: no attach method works for probe '%s':\n", PROG,
			probes[p].name);
		for (m = 0; m < MAX_METHODS && probes[p].methods[m].kind; m++) {
			if (next_method(p, m) != m) {
				fprintf(stderr, "  %s %s: not allowed by --force-method\n",
					probes[p].methods[m].kind, probes[p].methods[m].target);
				continue;
			}
			fprintf(stderr, "  %s %s: %s\n", probes[p].methods[m].kind,
				probes[p].methods[m].target,
				ps->err[p][m] ? strerror(-ps->err[p][m]) : "not tried");
		}
	}
	if (libbpf_log_len) {
		fprintf(stderr, "%s: libbpf said (last attempt):\n", PROG);
		fputs(libbpf_log, stderr);
	}
	if (err == -EPERM && geteuid() == 0)
		fprintf(stderr, "%s: EPERM although running as root: kernel lockdown, a security "
			"module or a missing kernel feature forbids this attach type\n", PROG);
	else if (err == -EPERM)
		fprintf(stderr, "%s: permission denied: run as root (CAP_BPF, CAP_PERFMON)\n", PROG);
}

/* Number of probes with a method to try; *last is one of them. */
static int enabled(const struct probe_set *ps, int *last)
{
	int p, n = 0;

	for (p = 0; p < NPROBES; p++) {
		if (ps->choice[p] != NO_METHOD) {
			*last = p;
			n++;
		}
	}
	return n;
}

/*
 * The load of all probes together failed with ERR: load each alone, moving
 * the ones that fail down their chain. 0 if some probe moved (worth another
 * try together), else a negative errno after reporting.
 */
static int isolate(struct probe_set *ps, int err)
{
	int p, e, bad, moved = 0;

	for (p = 0; p < NPROBES; p++) {
		while (ps->choice[p] != NO_METHOD) {
			e = attempt(ps, p, &bad);
			if (!e) {
				close_skel(ps);
				break;
			}
			moved = 1;
			if (fall_back(ps, p, e)) {
				report_failure(ps, p, e);
				return e;
			}
		}
	}
	if (!moved) {
		/* each loads alone but not together: nothing left to try */
		report_failure(ps, -1, err);
		return err;
	}
	return 0;
}

int probe_set__open(struct probe_set **out, const struct probe_cfg *cfg)
{
	struct probe_set *ps;
	int p, bad, err, tries;
	/* every failure consumes a method, so this bounds the loop */
	const int max_tries = NPROBES * MAX_METHODS * 2 + 2;

	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ps->cgroup_fd = -1;
	ps->cfg = *cfg;
	libbpf_verbose = cfg->verbose;
	libbpf_set_print(libbpf_print);
	/* no BTF to tell: the programs assume the older prototype */
	faults__tp_args(&ps->retrans_err_arg);
	for (p = 0; p < NPROBES; p++) {
		ps->choice[p] = usable_method(ps, p, 0);
		if (ps->choice[p] == NO_METHOD && probes[p].required) {
			report_failure(ps, p, -ENOENT);
			err = -ENOENT;
			goto cleanup;
		}
	}

	for (tries = 0; tries < max_tries; tries++) {
		err = attempt(ps, -1, &bad);
		if (!err)
			break;
		if (bad >= 0) {
			if (fall_back(ps, bad, err)) {
				report_failure(ps, bad, err);
				goto cleanup;
			}
			continue;
		}
		if (enabled(ps, &p) == 1) {
			if (fall_back(ps, p, err)) {
				report_failure(ps, p, err);
				goto cleanup;
			}
			continue;
		}
		err = isolate(ps, err);
		if (err)
			goto cleanup;
		err = -EAGAIN;
	}
	if (err) {
		report_failure(ps, -1, err);
		goto cleanup;
	}

	for (p = 0; p < NPROBES; p++) {
		const struct probe_method *m;

		if (ps->choice[p] == NO_METHOD) {
			snprintf(ps->method[p], sizeof(ps->method[p]), "none");
			continue;
		}
		m = &probes[p].methods[ps->choice[p]];
		if (m->flags & NEED_CGROUP)
			snprintf(ps->method[p], sizeof(ps->method[p]), "%s %s cgroup %s", m->kind,
				 m->target, ps->cgroup_path);
		else
			snprintf(ps->method[p], sizeof(ps->method[p]), "%s %s", m->kind, m->target);
	}
	*out = ps;
	return 0;
cleanup:
	probe_set__destroy(ps);
	return err ? err : -EINVAL;
}

/* ---- --list-probes ---- */

/* What libbpf said about the program in the last attempt (its first line
 * naming a program), else its last line: usually why a load failed. */
static void last_reason(char *buf, size_t cap)
{
	const char *line = libbpf_log, *end, *pick = NULL, *pick_end = NULL, *p;

	buf[0] = '\0';
	while (*line) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		p = memmem(line, end - line, "libbpf: ", 8);
		if (p) {
			p += 8;
			if (!pick || (memmem(p, end - p, "prog '", 6) && !memmem(pick, pick_end - pick,
										  "prog '", 6))) {
				pick = p;
				pick_end = end;
			} else if (!memmem(pick, pick_end - pick, "prog '", 6)) {
				pick = p;
				pick_end = end;
			}
		}
		line = *end ? end + 1 : end;
	}
	if (pick)
		snprintf(buf, cap, "%.*s", (int)(pick_end - pick), pick);
}

static const char *hint(const char *kind, int err)
{
	if (err == -EPERM && (!strcmp(kind, "fentry") || !strcmp(kind, "fexit")))
		return "BPF trampolines not allowed here (lockdown, LSM or no support)";
	if (err == -EPERM)
		return "not allowed";
	if (err == -ENOENT || err == -ESRCH)
		return "not in this kernel";
	if (err == -EOPNOTSUPP || err == -ENOTSUP)
		return "not supported by this kernel";
	if (err == -EACCES || err == -EINVAL)
		return "rejected by the verifier or the kernel";
	return NULL;
}

int probes__list(const struct probe_cfg *cfg, FILE *out)
{
	struct probe_set *ps;
	struct utsname u;
	char why[160];
	int p, m, q, bad, err, chosen, missing = 0;

	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ps->cfg = *cfg;
	libbpf_verbose = cfg->verbose;
	libbpf_set_print(libbpf_print);
	faults__tp_args(&ps->retrans_err_arg);
	listing = 1;
	/* a tracefs we mount to try tracepoints stays private to this listing */
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	uname(&u);
	fprintf(out, "Probes on this kernel (%s %s); * marks the method a recording uses:\n",
		u.release, u.machine);
	for (p = 0; p < NPROBES; p++) {
		chosen = NO_METHOD;
		fprintf(out, "%s%s\n", probes[p].name, probes[p].required ? " (required)" : "");
		for (m = 0; m < MAX_METHODS && probes[p].methods[m].kind; m++) {
			const struct probe_method *pm = &probes[p].methods[m];
			const char *h;

			for (q = 0; q < NPROBES; q++)
				ps->choice[q] = NO_METHOD;
			ps->choice[p] = m;
			err = attempt(ps, p, &bad);
			last_reason(why, sizeof(why));
			if (!err)
				close_skel(ps);
			if (!err && chosen == NO_METHOD && next_method(p, m) == m)
				chosen = m;
			if (!err) {
				fprintf(out, "  %c %-11s %-36s ok%s\n", chosen == m ? '*' : ' ',
					pm->kind, pm->target,
					next_method(p, m) == m ? "" : " (excluded by --force-method)");
				continue;
			}
			h = hint(pm->kind, err);
			if ((pm->flags & NEED_TRACEFS) && bad == p)
				snprintf(why, sizeof(why), "needs tracefs, which is not mounted "
					 "and cannot be");
			fprintf(out, "    %-11s %-36s failed: %s%s%s%s%s\n", pm->kind, pm->target,
				strerror(-err), h ? " (" : "", h ? h : "", h ? ")" : "",
				"");
			if (why[0])
				fprintf(out, "      %s\n", why);
		}
		if (chosen == NO_METHOD) {
			fprintf(out, "  => none: %s\n", probes[p].required ?
				"a recording cannot start on this kernel" :
				"these events are not recorded on this kernel");
			missing |= probes[p].required;
		}
	}
	free(ps);
	listing = 0;
	return missing ? -ENOENT : 0;
}

struct tcptrail_bpf *probe_set__skel(const struct probe_set *ps)
{
	return ps->skel;
}

int probe_set__count(const struct probe_set *ps)
{
	(void)ps;
	return NPROBES;
}

const char *probe_set__name(const struct probe_set *ps, int i)
{
	(void)ps;
	return i >= 0 && i < NPROBES ? probes[i].name : NULL;
}

const char *probe_set__method(const struct probe_set *ps, int i)
{
	return i >= 0 && i < NPROBES ? ps->method[i] : NULL;
}

int probe_set__passed_over(const struct probe_set *ps, int i, char *buf, size_t size)
{
	size_t len = 0;
	int m, n = 0;

	if (size)
		buf[0] = '\0';
	if (i < 0 || i >= NPROBES)
		return 0;
	for (m = 0; m < MAX_METHODS && probes[i].methods[m].kind; m++) {
		if (!ps->err[i][m] || m == ps->choice[i] || len >= size)
			continue;
		len += snprintf(buf + len, size - len, "%s%s: %s", n ? "; " : "",
				probes[i].methods[m].kind, strerror(-ps->err[i][m]));
		n++;
	}
	return n;
}

/* Sum of the attached programs' runtime statistics. */
static void prog_stats(const struct probe_set *ps, uint64_t *misses, uint64_t *runs,
		       uint64_t *run_ns)
{
	struct bpf_prog_info info;
	struct bpf_program *prog;
	__u32 len;
	int p, i;

	*misses = *runs = *run_ns = 0;
	for (p = 0; p < NPROBES; p++) {
		const struct probe_method *m;

		/* still loaded after probe_set__detach(): the final count */
		if (!ps->skel || ps->choice[p] == NO_METHOD)
			continue;
		m = &probes[p].methods[ps->choice[p]];
		for (i = 0; i < MAX_PROGS && method_prog(m, i); i++) {
			prog = bpf_object__find_program_by_name(ps->skel->obj, method_prog(m, i));
			memset(&info, 0, sizeof(info));
			len = sizeof(info);
			if (!prog || bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
				continue;
			*misses += info.recursion_misses;
			*runs += info.run_cnt;
			*run_ns += info.run_time_ns;
		}
	}
}

uint64_t probe_set__misses(const struct probe_set *ps)
{
	uint64_t misses, runs, ns;

	prog_stats(ps, &misses, &runs, &ns);
	return misses;
}

uint64_t probe_set__runs(const struct probe_set *ps, uint64_t *run_ns)
{
	uint64_t misses, runs;

	prog_stats(ps, &misses, &runs, run_ns);
	return runs;
}

void probe_set__detach(struct probe_set *ps)
{
	if (ps)
		destroy_links(ps);
}

void probe_set__destroy(struct probe_set *ps)
{
	if (!ps)
		return;
	close_skel(ps);
	if (ps->cgroup_fd >= 0)
		close(ps->cgroup_fd);
	free(ps);
}

int probe_set__active(const struct probe_set *ps, const char *name)
{
	int p;

	for (p = 0; p < NPROBES; p++)
		if (!strcmp(probes[p].name, name))
			return ps->choice[p] != NO_METHOD;
	return 0;
}
