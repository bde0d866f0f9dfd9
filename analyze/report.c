// SPDX-License-Identifier: BSD-2-Clause
/*
 * `report FILE -o report.html`: one self-contained HTML file for a bug
 * ticket: the findings first, the diagrams of the connections they name
 * (inline SVG), then the full summary. No scripts, no external resources;
 * every string from the capture is escaped. Memory: streamed like
 * `anomalies` (open connections, the ones with findings, ten more to draw)
 * unless a pcap or a pipe needs the capture whole; the summary goes through
 * a temporary file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ana.h"
#include "diagram.h"
#include "esc.h"
#include "finding.h"
#include "load.h"
#include "pcap.h"
#include "util.h"

#define MAX_DIAGRAMS 50u	/* connections drawn; the summary lists the rest */
#define MAX_FIRST 10u		/* drawn when no finding names a connection */

static const char style[] =
	"body{font-family:sans-serif;margin:2em;max-width:1200px;color:#222}"
	"h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;margin-top:2em}"
	".f{border-left:4px solid #c0392b;padding:.3em 1em;margin:1em 0;background:#fdf3f2}"
	".k{font-family:monospace;font-weight:bold;color:#c0392b}"
	"pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:12px}"
	".ok{color:#117a65;font-weight:bold}svg{border:1px solid #ddd;max-width:100%;height:auto}";

static void finding(FILE *out, const struct ana_finding *x, size_t i, struct ana_capture *cap,
		    const struct ana_tasks *tasks)
{
	char t[64], line[1024], tup[160], fr[300];
	const struct trail_stack *st;
	uint32_t j, k;

	ana_clock__fmt_full(&cap->clock, x->ts, t, sizeof(t));
	fprintf(out, "<div class=\"f\"><p><span class=\"k\">%zu. %s</span> ", i + 1,
		ana_kind__name(x->kind));
	esc_html(out, x->summary);
	fprintf(out, "</p>\n<p>");
	esc_html(out, t);
	if (x->conn) {
		fprintf(out, ", <a href=\"#conn-%u\">connection #%u</a> ", x->conn->id, x->conn->id);
		esc_html(out, ana_conn__tuple(x->conn, tup, sizeof(tup)));
	}
	fprintf(out, "</p>\n<p><b>Why:</b> ");
	esc_html(out, x->explain);
	fprintf(out, "</p>\n<pre>");
	for (j = 0; j < x->nev; j++) {
		ana_evref__text(&x->ev[j], cap, tasks, x->conn ? x->conn->start_ts : x->ts, line,
				sizeof(line));
		esc_html(out, line);
		fputc('\n', out);
		st = ana_evref__stack(cap, &x->ev[j]);
		for (k = 0; st && k < st->nframes && k < 16; k++) {
			fprintf(out, "    %s ", k ? "      " : "stack:");
			esc_html(out, ana_safe(st->frames[k], fr, sizeof(fr)));
			fputc('\n', out);
		}
	}
	fprintf(out, "</pre></div>\n");
}

static void diagram(FILE *out, const struct ana_conn *c, struct ana_capture *cap)
{
	struct dg d;

	fprintf(out, "<h3 id=\"conn-%u\">Connection #%u</h3>\n", c->id, c->id);
	if (dg__build(&d, c, cap->pcap ? cap->pcap->pkts : NULL)) {
		fprintf(out, "<p>(out of memory drawing this connection)</p>\n");
		return;
	}
	dg__svg(&d, cap, out);
	dg__free(&d);
}

/* What the report draws from, loaded whole or streamed. */
struct report_in {
	const struct ana_tasks *tasks;
	size_t nconns;			/* in the capture */
	struct ana_conn *const *first;	/* drawn when no finding names one */
	size_t nfirst;
	FILE *summary;			/* the summary text, read from its start */
};

/* The summary text, escaped into a <pre>, a line at a time. */
static int copy_summary(FILE *out, FILE *in)
{
	char *line = NULL;
	size_t cap = 0;

	rewind(in);
	fprintf(out, "<pre>");
	while (getline(&line, &cap, in) > 0)
		esc_html(out, line);	/* already printable ASCII: \n stays a line break */
	fprintf(out, "</pre>\n");
	free(line);
	return ferror(in) ? -EIO : 0;
}

static int by_id(const void *a, const void *b)
{
	const struct ana_conn *x = *(struct ana_conn *const *)a;
	const struct ana_conn *y = *(struct ana_conn *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int write_report(FILE *out, struct ana_capture *cap, const struct report_in *in,
			const struct ana_findings *f)
{
	uint32_t drawn[MAX_DIAGRAMS];
	char safe[1024];
	unsigned ndrawn = 0, j;
	size_t i;
	int err;

	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<title>tcptrail report: ");
	esc_html(out, ana_safe(cap->path, safe, sizeof(safe)));
	fprintf(out, "</title>\n<style>%s</style></head>\n<body>\n<h1>tcptrail report: ", style);
	esc_html(out, ana_safe(cap->path, safe, sizeof(safe)));
	fprintf(out, "</h1>\n<p>%zu connection%s, %zu finding%s.</p>\n", in->nconns,
		in->nconns == 1 ? "" : "s", f->len, f->len == 1 ? "" : "s");
	if (cap->pcap && cap->pcap->pkts) {	/* the packets drawn below come from it */
		const struct ana_pkts *p = cap->pcap->pkts;

		fprintf(out, "<p>Packets from the pcap ");
		esc_html(out, ana_safe(p->path, safe, sizeof(safe)));
		fprintf(out, ": %zu TCP packets, %" PRIu64 " attached to connections, %" PRIu64
			" unmatched.</p>\n", p->n, p->attached, p->unmatched);
	}
	fprintf(out, "<h2>Findings (%zu)</h2>\n", f->len);
	if (!f->len)
		fprintf(out, "<p class=\"ok\">Nothing in this capture looks wrong.</p>\n");
	for (i = 0; i < f->len; i++)
		finding(out, &f->v[i], i, cap, in->tasks);
	fprintf(out, "<h2>Diagrams</h2>\n");
	/* the connections the findings name first, then the first ones */
	for (i = 0; i < f->len && ndrawn < MAX_DIAGRAMS; i++) {
		const struct ana_conn *c = f->v[i].conn;

		if (!c || !c->id)
			continue;
		for (j = 0; j < ndrawn && drawn[j] != c->id; j++)
			;
		if (j < ndrawn)
			continue;
		drawn[ndrawn++] = c->id;
		diagram(out, c, cap);
	}
	for (i = 0; i < in->nfirst && ndrawn < (f->len ? 0u : MAX_FIRST); i++, ndrawn++)
		diagram(out, in->first[i], cap);
	if (!ndrawn)
		fprintf(out, "<p>No connections.</p>\n");
	fprintf(out, "<h2>Summary</h2>\n");
	err = copy_summary(out, in->summary);
	fprintf(out, "</body></html>\n");
	return err;
}

/* With a pcap (packets attach to any connection) or from a pipe: all of it. */
static int run_loaded(struct ana_capture *cap, const struct ana_opts *o,
		      const struct ana_detect_opts *d, FILE *out, FILE *summary)
{
	struct ana_load ld = { 0 };
	struct ana_findings f = { 0 };
	struct report_in in = { .summary = summary };
	int err;

	err = ana_findings__load(&f, &ld, cap, d);
	if (!err) {
		ana_summary__print(cap, &ld, o, summary, 1);
		in.tasks = ana_conns__tasks(ld.tracker);
		in.nconns = ld.nconns;
		in.first = ld.conns;
		in.nfirst = ld.nconns < MAX_FIRST ? ld.nconns : MAX_FIRST;
		err = write_report(out, cap, &in, &f);
	}
	ana_findings__free(&f);
	ana_load__free(&ld);
	return err;
}

/* The summary's own streaming passes, on the file opened afresh (CAP has
 * been read to its end). */
static int summary_pass(const struct ana_capture *cap, const struct ana_opts *o, FILE *summary)
{
	struct ana_capture *again = NULL;
	char err[512], safe[1024];
	int rc;

	rc = ana_capture__open(&again, cap->path, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "tcptrail-analyze: report: %s\n", ana_safe(err, safe, sizeof(safe)));
		return rc;
	}
	again->pcap = cap->pcap;
	rc = ana_summary__body(again, o, summary);
	ana_capture__close(again);
	return rc;
}

/* Streamed: the connections with findings and the first few to finish are
 * kept; the summary comes from its own streaming pass. */
static int run_streamed(struct ana_capture *cap, const struct ana_opts *o,
			const struct ana_detect_opts *d, FILE *out, FILE *summary)
{
	struct ana_stream_hooks h = { .keep_first = MAX_FIRST };
	struct ana_stream *s = NULL;
	struct ana_findings f = { 0 };
	struct report_in in = { .summary = summary };
	struct ana_conn *const *kept;
	struct ana_conn **first = NULL;
	size_t n, i;
	int err;

	ana_progress__start(cap);
	err = ana_stream__run_with(&s, cap, d, &f, &h);
	ana_progress__end(cap);
	if (!err)
		err = summary_pass(cap, o, summary);
	if (err)
		goto cleanup;
	kept = ana_stream__kept(s, &n);
	first = n ? malloc(n * sizeof(*first)) : NULL;
	if (n && !first) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < n; i++)
		first[i] = kept[i];
	if (n > 1)
		qsort(first, n, sizeof(*first), by_id);
	in.tasks = ana_stream__tasks(s);
	in.nconns = ana_stream__order(s)->n;
	in.first = first;
	in.nfirst = n < MAX_FIRST ? n : MAX_FIRST;
	err = write_report(out, cap, &in, &f);
cleanup:
	free(first);
	ana_findings__free(&f);
	ana_stream__free(s);
	return err;
}

int ana_report__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out)
{
	struct ana_detect_opts d;
	FILE *file = out, *summary = tmpfile();
	int err;

	if (!summary)
		return -errno;
	ana_detect_opts__init(&d, o);
	cap->clock.local = o->local_time;
	if (o->output && strcmp(o->output, "-")) {
		file = fopen(o->output, "w");
		if (!file) {
			err = -errno;
			fclose(summary);
			return err;
		}
	}
	if (!cap->path || !strcmp(cap->path, "-") || ana_pkts__wanted(cap))
		err = run_loaded(cap, o, &d, file, summary);
	else
		err = run_streamed(cap, o, &d, file, summary);
	if (file != out && fclose(file) && !err)
		err = -EIO;
	fclose(summary);
	return err;
}
