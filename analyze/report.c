// SPDX-License-Identifier: BSD-2-Clause
/*
 * `report FILE -o report.html`: one self-contained HTML file for a bug
 * ticket: the findings first, the diagrams of the connections they name
 * (inline SVG), then the full summary. No scripts, no external resources;
 * every string from the capture is escaped.
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

/* The summary text, escaped into a <pre>. */
static int summary(FILE *out, struct ana_capture *cap, const struct ana_load *ld,
		   const struct ana_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return -ENOMEM;
	ana_summary__print(cap, ld, o, m, 1);
	if (fclose(m)) {
		free(buf);
		return -ENOMEM;
	}
	fprintf(out, "<pre>");
	esc_html(out, buf);	/* already printable ASCII: \n stays a line break */
	fprintf(out, "</pre>\n");
	free(buf);
	return 0;
}

static int write_report(FILE *out, struct ana_capture *cap, const struct ana_load *ld,
			const struct ana_findings *f, const struct ana_opts *o)
{
	const struct ana_tasks *tasks = ana_conns__tasks(ld->tracker);
	uint8_t *drawn = ld->nconns ? calloc(ld->nconns, 1) : NULL;
	char safe[1024];
	unsigned ndrawn = 0;
	size_t i;
	int err;

	if (ld->nconns && !drawn)
		return -ENOMEM;
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<title>tcptrail report: ");
	esc_html(out, ana_safe(cap->path, safe, sizeof(safe)));
	fprintf(out, "</title>\n<style>%s</style></head>\n<body>\n<h1>tcptrail report: ", style);
	esc_html(out, ana_safe(cap->path, safe, sizeof(safe)));
	fprintf(out, "</h1>\n<p>%zu connection%s, %zu finding%s.</p>\n", ld->nconns,
		ld->nconns == 1 ? "" : "s", f->len, f->len == 1 ? "" : "s");
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
		finding(out, &f->v[i], i, cap, tasks);
	fprintf(out, "<h2>Diagrams</h2>\n");
	/* the connections the findings name first, then the first ones */
	for (i = 0; i < f->len && ndrawn < MAX_DIAGRAMS; i++) {
		const struct ana_conn *c = f->v[i].conn;

		if (!c || !c->id || c->id > ld->nconns || drawn[c->id - 1])
			continue;
		drawn[c->id - 1] = 1;
		diagram(out, c, cap);
		ndrawn++;
	}
	for (i = 0; i < ld->nconns && ndrawn < (f->len ? 0u : 10u); i++) {
		drawn[i] = 1;
		diagram(out, ld->conns[i], cap);
		ndrawn++;
	}
	if (!ndrawn)
		fprintf(out, "<p>No connections.</p>\n");
	fprintf(out, "<h2>Summary</h2>\n");
	err = summary(out, cap, ld, o);
	fprintf(out, "</body></html>\n");
	free(drawn);
	return err;
}

int ana_report__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out)
{
	struct ana_load ld = { 0 };
	struct ana_findings f = { 0 };
	struct ana_detect_opts d = { .close_wait_ns = o->close_wait_ns ? o->close_wait_ns :
				     5000ull * 1000000 };
	FILE *file = out;
	int err;

	cap->clock.local = o->local_time;
	ana_progress__start(cap);
	err = ana_load__run(&ld, cap);
	ana_progress__end(cap);
	if (!err)
		err = ana_findings__detect(&f, cap, &ld, &d);
	if (err)
		goto cleanup;
	if (o->output && strcmp(o->output, "-")) {
		file = fopen(o->output, "w");
		if (!file) {
			err = -errno;
			goto cleanup;
		}
	}
	err = write_report(file, cap, &ld, &f, o);
	if (file != out && fclose(file) && !err)
		err = -EIO;
cleanup:
	ana_findings__free(&f);
	ana_load__free(&ld);
	return err;
}
