// SPDX-License-Identifier: BSD-2-Clause
/* `anomalies`: findings as text, JSON or Markdown; and the summary's share. */
#include <errno.h>
#include <stdio.h>

#include "ana.h"
#include "finding.h"
#include "load.h"
#include "pcap.h"

void ana_detect_opts__init(struct ana_detect_opts *d, const struct ana_opts *o)
{
	d->close_wait_ns = o->close_wait_ns ? o->close_wait_ns : 5000ull * 1000000;
}

int ana_findings__load(struct ana_findings *f, struct ana_load *ld, struct ana_capture *cap,
		       const struct ana_detect_opts *d)
{
	int err;

	ana_progress__start(cap);
	err = ana_load__run(ld, cap);
	ana_progress__end(cap);
	return err ? err : ana_findings__detect(f, cap, ld, d);
}

int ana_summary__findings(struct ana_capture *cap, const struct ana_load *ld,
			  const struct ana_opts *o, FILE *out)
{
	struct ana_findings f = { 0 };
	struct ana_detect_opts d;
	int err;

	ana_detect_opts__init(&d, o);
	err = ana_findings__detect(&f, cap, ld, &d);
	if (!err) {
		fputc('\n', out);
		ana_findings__print(&f, cap, ana_conns__tasks(ld->tracker), FMT_TEXT, out);
	}
	ana_findings__free(&f);
	return err;
}

/* With a pcap: the whole capture loaded, packets attached (pcap.h). */
static int with_packets(struct ana_capture *cap, const struct ana_opts *o,
			const struct ana_detect_opts *d, FILE *out)
{
	struct ana_load ld = { 0 };
	struct ana_findings f = { 0 };
	int err;

	err = ana_findings__load(&f, &ld, cap, d);
	if (!err)
		ana_findings__print(&f, cap, ana_conns__tasks(ld.tracker),
				    o->json ? FMT_JSON : o->markdown ? FMT_MARKDOWN : FMT_TEXT, out);
	ana_findings__free(&f);
	ana_load__free(&ld);
	return err;
}

/* Streaming: memory for open connections and the ones with findings only. */
int ana_anomalies__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out)
{
	struct ana_stream *s = NULL;
	struct ana_findings f = { 0 };
	struct ana_detect_opts d;
	int err;

	cap->clock.local = o->local_time;
	ana_detect_opts__init(&d, o);
	/* packets attach to any connection: with a pcap, keep them all */
	if (ana_pkts__wanted(cap))
		return with_packets(cap, o, &d, out);
	ana_progress__start(cap);
	err = ana_stream__run(&s, cap, &d, &f);
	ana_progress__end(cap);
	if (!err)
		ana_findings__print(&f, cap, ana_stream__tasks(s),
				    o->json ? FMT_JSON : o->markdown ? FMT_MARKDOWN : FMT_TEXT, out);
	ana_findings__free(&f);
	ana_stream__free(s);
	return err;
}
