// SPDX-License-Identifier: BSD-2-Clause
/*
 * `summary` and `connections`, streaming. The first pass (stream.c) finds
 * the anomalies, accumulates the figures (stats.c) and learns how
 * connections are numbered (connorder.h); the second pass reads the file
 * again and prints each connection as it finishes. Connections that finish
 * in number order go straight out; one that finishes early is written to a
 * temporary file until its turn. Memory: the open connections, those with
 * findings, the listeners; when connections do not finish in start order,
 * also a 16-byte key per connection (connorder.h) and a small index entry
 * per connection waiting in the temporary file. A capture read from a pipe
 * cannot be read twice and is loaded whole (it is in memory anyway).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ana.h"
#include "finding.h"
#include "load.h"
#include "pcap.h"
#include "stats.h"

static void print_stats(const struct ana_print *p, const struct ana_conns_stats *st)
{
	if (st->dropped_sides)
		fprintf(p->out, "  %-12s %" PRIu64 " sockets not tracked (limit %u open at once)\n",
			"limits", st->dropped_sides, ANA_MAX_LIVE_SIDES);
	if (st->dropped_changes)
		fprintf(p->out, "  %-12s %" PRIu64 " state changes not kept (limit %u per socket)\n",
			"limits", st->dropped_changes, ANA_MAX_CHANGES);
	if (st->revived)
		fprintf(p->out, "  %-12s %" PRIu64 " sockets retired early by the recorder (table"
			" full) and re-added: joined again\n", "socktab", st->revived);
	if (st->gaps)
		fprintf(p->out, "  %-12s %" PRIu64 " state changes do not follow their socket's"
			" previous state (lost events?)\n", "gaps", st->gaps);
}

/* The part before the connections: header, losses, figures, listeners. */
static void print_head(const struct ana_print *p, const struct ana_conns_stats *st,
		       uint64_t nconns, struct ana_side *const *l, size_t nl,
		       struct ana_stats *figures)
{
	size_t i;

	ana_print__header(p);
	ana_print__losses(p);
	print_stats(p, st);
	fprintf(p->out, "  %-12s %" PRIu64 " (%" PRIu64 " with both ends recorded), %zu listener%s\n",
		"connections", nconns, st->paired, nl, nl == 1 ? "" : "s");
	if (p->cap->pcap)	/* pcap.h */
		ana_pkts__summary(p->cap->pcap->pkts, p->out);
	ana_stats__write(figures, p);
	fprintf(p->out, "\nListeners (%zu)\n", nl);
	for (i = 0; i < nl; i++)
		ana_print__listener(p, l[i]);
	fprintf(p->out, "\nConnections (%" PRIu64 ")\n", nconns);
}

void ana_summary__print(struct ana_capture *cap, const struct ana_load *k,
			const struct ana_opts *o, FILE *out, int full)
{
	const struct ana_conns_stats *st = ana_conns__stats(k->tracker);
	struct ana_stats *figures = NULL;
	struct ana_print p;
	size_t i;
	int first = 1;

	ana_print__init(&p, out, cap, ana_conns__tasks(k->tracker));
	if (full) {
		if (ana_stats__new(&figures))
			return;
		for (i = 0; i < k->nconns; i++)
			ana_stats__conn(figures, cap, k->conns[i]);
		for (i = 0; i < k->nlisteners; i++)
			ana_stats__listener(figures, cap, k->listeners[i]);
		for (i = 0; i < k->norphans; i++)
			ana_stats__orphan(figures, cap, &k->orphans[i]);
		print_head(&p, st, k->nconns, k->listeners, k->nlisteners, figures);
		ana_stats__free(figures);
	}
	for (i = 0; i < k->nconns; i++) {
		if (o && !ana_filter__match(&o->filter, k->conns[i], cap))
			continue;
		if (full || !first)
			fputc('\n', out);
		first = 0;
		ana_print__conn(&p, k->conns[i]);
	}
}

/* A capture from a pipe: loaded whole, as it has to be read once. */
static int run_loaded(struct ana_capture *cap, const struct ana_opts *o, FILE *out, int full,
		      int findings)
{
	struct ana_load k = { 0 };
	int err;

	ana_progress__start(cap);
	err = ana_load__run(&k, cap);
	ana_progress__end(cap);
	if (err)
		goto cleanup;
	ana_summary__print(cap, &k, o, out, full);
	if (full && findings)
		err = ana_summary__findings(cap, &k, o, out);
cleanup:
	ana_load__free(&k);
	return err;
}

/* ---- second pass: connections in number order ---- */

struct spilled {
	long off;	/* in the temporary file; -1: filtered out */
	size_t len;
};

struct printer {
	struct ana_capture *cap;
	const struct ana_opts *o;
	struct ana_print p;	/* to the output */
	struct ana_print tmp;	/* to the temporary file */
	struct ana_order *order;
	int full, first, err;
	uint64_t idx;		/* connections finished so far */
	uint32_t next;		/* number to print next */
	FILE *spill;
	struct idmap waiting;	/* number -> struct spilled */
};

static void separate(struct printer *w)
{
	if (w->full || !w->first)
		fputc('\n', w->p.out);
	w->first = 0;
}

static int copy_back(struct printer *w, const struct spilled *s)
{
	char buf[1 << 16];
	size_t left = s->len, n;

	if (fseek(w->spill, s->off, SEEK_SET))
		return -errno;
	separate(w);
	while (left) {
		n = fread(buf, 1, left < sizeof(buf) ? left : sizeof(buf), w->spill);
		if (!n)
			return -EIO;
		fwrite(buf, 1, n, w->p.out);
		left -= n;
	}
	return fseek(w->spill, 0, SEEK_END) ? -errno : 0;
}

/* Print what waited for the numbers now due. */
static void drain(struct printer *w)
{
	struct spilled *s;

	while (!w->err && (s = idmap__del(&w->waiting, w->next))) {
		if (s->off >= 0)
			w->err = copy_back(w, s);
		free(s);
		w->next++;
	}
}

static int spill(struct printer *w, uint32_t id, const struct ana_conn *c, int show)
{
	struct spilled *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->off = -1;
	if (show) {
		if (!w->spill && !(w->spill = tmpfile())) {
			free(s);
			return -errno;
		}
		s->off = ftell(w->spill);
		w->tmp.out = w->spill;
		ana_print__conn(&w->tmp, c);
		s->len = (size_t)(ftell(w->spill) - s->off);
		if (ferror(w->spill)) {
			free(s);
			return -EIO;
		}
	}
	if (idmap__put(&w->waiting, id, s)) {
		free(s);
		return -ENOMEM;
	}
	return 0;
}

static void print_conn(struct ana_conn *c, void *ctx)
{
	struct printer *w = ctx;
	uint32_t id;
	int show;

	ana_order__fix_start(c);
	id = ana_order__id(w->order, w->idx++, c);
	c->id = id;
	show = !w->o || ana_filter__match(&w->o->filter, c, w->cap);
	if (w->err || !id || id < w->next) {
		w->err = w->err ? w->err : -EIO;	/* numbers out of step: file changed */
	} else if (id == w->next) {
		if (show) {
			separate(w);
			ana_print__conn(&w->p, c);
		}
		w->next++;
		drain(w);
	} else {
		w->err = spill(w, id, c, show);
	}
	ana_conn__free(c);
}

static void free_waiting(uint64_t key, void *val, void *ctx)
{
	(void)key;
	(void)ctx;
	free(val);
}

static void drop_side(struct ana_side *s, void *ctx)
{
	(void)ctx;
	ana_side__free(s);
}

static int print_conns(struct ana_capture *cap, const struct ana_opts *o, FILE *out, int full,
		       struct ana_stream *s)
{
	struct printer w = { .cap = cap, .o = o, .full = full, .first = 1, .next = 1 };
	struct ana_conns_ops ops = { print_conn, drop_side, drop_side, NULL, &w };
	int err;

	w.order = ana_stream__order(s);
	ana_print__init(&w.p, out, cap, ana_stream__tasks(s));
	w.tmp = w.p;
	err = ana_order__reread(cap, &ops);
	if (!err)
		err = w.err;
	if (!err && w.next != w.order->n + 1)
		err = -EIO;
	if (w.spill)
		fclose(w.spill);
	idmap__each(&w.waiting, free_waiting, NULL);
	idmap__free(&w.waiting);
	return err;
}

/* ---- first pass ---- */

struct figures {
	struct ana_stats *st;
	struct ana_capture *cap;
};

static void add_figures(struct ana_conn *c, void *ctx)
{
	struct figures *fg = ctx;

	ana_stats__conn(fg->st, fg->cap, c);
}

static int ev_by_time(const void *a, const void *b)
{
	const struct ana_event *x = a, *y = b;

	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

/* Listeners and orphans join the figures in the order a whole load has. */
static int add_rest(struct ana_stats *figures, struct ana_capture *cap, struct ana_stream *s)
{
	struct ana_side *const *l;
	const struct ana_event *ev;
	struct ana_event *sorted;
	size_t i, n;

	l = ana_stream__listeners(s, &n);
	for (i = 0; i < n; i++)
		ana_stats__listener(figures, cap, l[i]);
	ev = ana_stream__orphans(s, &n);
	if (!n)
		return 0;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, ev, n * sizeof(*sorted));
	if (n > 1)
		qsort(sorted, n, sizeof(*sorted), ev_by_time);
	for (i = 0; i < n; i++)
		ana_stats__orphan(figures, cap, &sorted[i]);
	free(sorted);
	return 0;
}

static int run(struct ana_capture *cap, const struct ana_opts *o, FILE *out, int full,
	       int findings)
{
	struct ana_stream *s = NULL;
	struct ana_findings f = { 0 };
	struct ana_detect_opts d;
	struct ana_stats *figures = NULL;
	struct figures fg = { NULL, cap };
	struct ana_stream_hooks h = { .keep_listeners = full, .no_detect = !full };
	struct ana_side *const *l;
	struct ana_print p;
	size_t nl;
	int err;

	cap->clock.local = o->local_time;
	ana_detect_opts__init(&d, o);
	/* packets attach to any connection: with a pcap, the capture is loaded whole */
	if (!cap->path || !strcmp(cap->path, "-") || ana_pkts__wanted(cap))
		return run_loaded(cap, o, out, full, findings);
	if (full) {
		err = ana_stats__new(&figures);
		if (err)
			return err;
		fg.st = figures;
		h.conn = add_figures;
		h.ctx = &fg;
	}
	ana_progress__start(cap);
	err = ana_stream__run_with(&s, cap, &d, &f, &h);
	ana_progress__end(cap);
	if (!err && full)
		err = add_rest(figures, cap, s);
	if (err)
		goto cleanup;
	if (full) {
		ana_print__init(&p, out, cap, ana_stream__tasks(s));
		l = ana_stream__listeners(s, &nl);
		print_head(&p, ana_stream__stats(s), ana_stream__order(s)->n, l, nl, figures);
	}
	err = print_conns(cap, o, out, full, s);
	if (!err && full && findings) {
		fputc('\n', out);
		ana_findings__print(&f, cap, ana_stream__tasks(s), FMT_TEXT, out);
	}
cleanup:
	ana_findings__free(&f);
	ana_stream__free(s);
	ana_stats__free(figures);
	return err;
}

int ana_summary__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out)
{
	return run(cap, o, out, 1, 1);
}

int ana_summary__body(struct ana_capture *cap, const struct ana_opts *o, FILE *out)
{
	return run(cap, o, out, 1, 0);
}

int ana_connections__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out)
{
	return run(cap, o, out, 0, 0);
}
