// SPDX-License-Identifier: BSD-2-Clause
/* The capture header and loss report. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ana.h"
#include "util.h"

#define SAFE_LEN 1024	/* long meta values are cut when shown */

void ana_print__init(struct ana_print *p, FILE *out, struct ana_capture *cap,
		     const struct ana_tasks *tasks)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	p->cap = cap;
	p->tasks = tasks;
	if (cap->have_ts)
		ana_clock__fmt_date(&cap->clock, cap->first_ts, p->date0, sizeof(p->date0));
}

static void kv(const struct ana_print *p, const char *label, const char *value)
{
	char buf[SAFE_LEN];

	fprintf(p->out, "  %-12s %s\n", label, ana_safe(value, buf, sizeof(buf)));
}

static void meta_line(const struct ana_print *p, const char *label, const char *key)
{
	const char *v = ana_capture__meta(p->cap, key);

	kv(p, label, v ? v : "(not recorded)");
}

/* All meta keys starting with PREFIX, as "name=value; ..." on one line. */
static void prefixed(const struct ana_print *p, const char *label, const char *prefix)
{
	const struct ana_capture *cap = p->cap;
	size_t plen = strlen(prefix);
	char k[128], v[SAFE_LEN];
	uint32_t i;
	int any = 0;

	for (i = 0; i < cap->nmeta; i++) {
		if (strncmp(cap->meta[i].key, prefix, plen))
			continue;
		fprintf(p->out, any ? "\n  %-12s %s: %s" : "  %-12s %s: %s", any ? "" : label,
			ana_safe(cap->meta[i].key + plen, k, sizeof(k)),
			ana_safe(cap->meta[i].value, v, sizeof(v)));
		any = 1;
	}
	if (any)
		fputc('\n', p->out);
	else if (!strcmp(prefix, "probe."))
		kv(p, label, "(not recorded)");
}

static void times(const struct ana_print *p)
{
	struct ana_capture *cap = p->cap;
	char a[64], b[64], d[32];
	int64_t step;

	meta_line(p, "started", "start.realtime");
	if (!cap->have_ts) {
		kv(p, "events", "no state changes");
	} else {
		ana_clock__fmt_full(&cap->clock, cap->first_ts, a, sizeof(a));
		ana_clock__fmt(&cap->clock, cap->last_ts, b, sizeof(b));
		ana_ms((int64_t)(cap->last_ts - cap->first_ts), d, sizeof(d));
		fprintf(p->out, "  %-12s %s .. %s (%s ms)\n", "span", a, b, d);
	}
	if (!cap->clock.len) {
		kv(p, "clock", "no CLOCK anchor: times are boot time (boot+seconds)");
		return;
	}
	step = ana_clock__max_step(&cap->clock);
	fprintf(p->out, "  %-12s %zu anchor%s", "clock", cap->clock.len,
		cap->clock.len == 1 ? "" : "s");
	if (step > 1000000)
		fprintf(p->out, "; the wall clock stepped by up to %s ms during the recording,"
			" times use the nearest anchor", ana_ms(step, d, sizeof(d)));
	fprintf(p->out, "; times in %s\n", cap->clock.local ? "local time" : "UTC");
}

static void ending(const struct ana_print *p)
{
	const struct ana_capture *cap = p->cap;
	char m[SAFE_LEN];

	ana_safe(cap->message, m, sizeof(m));
	switch (cap->status) {
	case TRAIL_OK:
		if (cap->rc < 0) {
			fprintf(p->out, "  %-12s reading stopped: %s\n", "end", m);
			break;
		}
		fprintf(p->out, "  %-12s clean (END: %" PRIu64 " records, %" PRIu64
			" sockets, %" PRIu64 " blocks)\n", "end", cap->end.records,
			cap->end.socks, cap->end.blocks);
		if (cap->have_end && (cap->end.records != cap->ntimed ||
				      cap->end.socks != cap->nsocks))
			fprintf(p->out, "  %-12s END counts differ from what was read: %" PRIu64
				" records, %" PRIu64 " sockets\n", "", cap->ntimed, cap->nsocks);
		break;
	case TRAIL_NO_END:
		fprintf(p->out, "  %-12s no END block: the recorder did not stop cleanly;"
			" everything up to the last block is analysed (%s)\n", "end", m);
		break;
	case TRAIL_TRUNCATED:
		fprintf(p->out, "  %-12s TRUNCATED: %s; the complete blocks before it are"
			" analysed\n", "end", m);
		break;
	case TRAIL_CORRUPT:
	default:
		fprintf(p->out, "  %-12s CORRUPT: %s; only the data before it is analysed\n",
			"end", m);
		break;
	}
}

void ana_print__header(const struct ana_print *p)
{
	const struct ana_capture *cap = p->cap;
	const char *rel = ana_capture__meta(cap, "kernel.release");
	const char *mach = ana_capture__meta(cap, "kernel.machine");
	const char *ver = ana_capture__meta(cap, "tool.version");
	char buf[SAFE_LEN], a[256], b[64];

	fprintf(p->out, "tcptrail capture %s\n", ana_safe(cap->path, buf, sizeof(buf)));
	fprintf(p->out, "  %-12s %u.%u\n", "format", cap->major, cap->minor);
	meta_line(p, "host", "host.name");
	snprintf(buf, sizeof(buf), "%s%s%s%s", rel ? rel : "(not recorded)",
		 mach ? " (" : "", mach ? mach : "", mach ? ")" : "");
	kv(p, "kernel", buf);
	if (ver) {
		snprintf(buf, sizeof(buf), "tcptrail %s", ver);
		kv(p, "recorder", buf);
	} else {
		kv(p, "recorder", "(not recorded)");
	}
	meta_line(p, "command", "cmdline");
	prefixed(p, "probes", "probe.");
	prefixed(p, "filters", "filter.");
	times(p);
	b[0] = 0;
	if (cap->nunknown)
		snprintf(b, sizeof(b), ", %" PRIu64 " of kinds this version skips", cap->nunknown);
	snprintf(a, sizeof(a), "%" PRIu64 " (%" PRIu64 " state changes, %" PRIu64 " sockets%s)",
		 cap->nrecords, cap->nstates, cap->nsocks, b);
	kv(p, "records", a);
	if (!cap->states.have_table)
		kv(p, "states", "no tcp_state table in the file: states shown as numbers,"
		   " roles and closers not derived");
	if (cap->meta_dropped)
		fprintf(p->out, "  %-12s %" PRIu64 " metadata keys over the limit not kept\n",
			"", cap->meta_dropped);
	ending(p);
}

void ana_print__losses(const struct ana_print *p)
{
	const struct ana_capture *cap = p->cap;
	uint64_t total = ana_capture__loss_total(cap);
	char n[128];
	uint32_t i;

	if (!cap->have_loss) {
		fprintf(p->out, "  %-12s unknown: the file has no LOSS record\n", "losses");
		return;
	}
	if (!total) {
		fprintf(p->out, "  %-12s none\n", "losses");
	} else {
		fprintf(p->out, "  %-12s !!! %" PRIu64 " events LOST: THE CAPTURE IS INCOMPLETE !!!\n",
			"losses", total);
		fprintf(p->out, "  %-12s ring buffer full: %" PRIu64 " (over %u CPUs)\n", "",
			cap->loss_ringbuf, cap->loss_ncpus);
	}
	/* real losses first, then notes (degradations that lost no event) */
	for (int notes = 0; notes < 2; notes++)
		for (i = 0; i < cap->loss_ncounters; i++)
			if (cap->loss_counters[i].value &&
			    ana_counter_is_note(cap->loss_counters[i].name) == notes)
				fprintf(p->out, "  %-12s %s: %" PRIu64 "%s\n", "",
					ana_safe(cap->loss_counters[i].name, n, sizeof(n)),
					cap->loss_counters[i].value,
					notes ? " (no event lost)" : "");
}

void ana_print__warnings(const struct ana_capture *cap, const char *prog)
{
	uint64_t total = ana_capture__loss_total(cap);
	char m[SAFE_LEN], f[SAFE_LEN];

	ana_safe(cap->path, f, sizeof(f));
	ana_safe(cap->message, m, sizeof(m));
	if (total)
		fprintf(stderr, "%s: warning: %s: %" PRIu64 " events lost, the capture is"
			" incomplete\n", prog, f, total);
	switch (cap->status) {
	case TRAIL_OK:
		if (cap->rc < 0)
			fprintf(stderr, "%s: warning: %s: %s\n", prog, f, m);
		break;
	case TRAIL_NO_END:
		fprintf(stderr, "%s: warning: %s: no END block, the recorder did not stop"
			" cleanly (%s)\n", prog, f, m);
		break;
	case TRAIL_TRUNCATED:
		fprintf(stderr, "%s: warning: %s: truncated: %s\n", prog, f, m);
		break;
	case TRAIL_CORRUPT:
	default:
		fprintf(stderr, "%s: error: %s: corrupt: %s; analysed the data before it\n",
			prog, f, m);
		break;
	}
}
