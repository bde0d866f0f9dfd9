// SPDX-License-Identifier: BSD-2-Clause
/* `anomalies`: findings as text, JSON or Markdown; and the summary's share. */
#include <errno.h>
#include <stdio.h>

#include "ana.h"
#include "finding.h"
#include "load.h"

static void detect_opts(const struct ana_opts *o, struct ana_detect_opts *d)
{
	d->close_wait_ns = o->close_wait_ns ? o->close_wait_ns : 5000ull * 1000000;
}

int ana_summary__findings(struct ana_capture *cap, const struct ana_load *ld,
			  const struct ana_opts *o, FILE *out)
{
	struct ana_findings f = { 0 };
	struct ana_detect_opts d;
	int err;

	detect_opts(o, &d);
	err = ana_findings__detect(&f, cap, ld, &d);
	if (!err) {
		fputc('\n', out);
		ana_findings__print(&f, cap, ana_conns__tasks(ld->tracker), FMT_TEXT, out);
	}
	ana_findings__free(&f);
	return err;
}

int ana_anomalies__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out)
{
	struct ana_load ld = { 0 };
	struct ana_findings f = { 0 };
	struct ana_detect_opts d;
	int err;

	cap->clock.local = o->local_time;
	detect_opts(o, &d);
	err = ana_load__run(&ld, cap);
	if (!err)
		err = ana_findings__detect(&f, cap, &ld, &d);
	if (!err)
		ana_findings__print(&f, cap, ana_conns__tasks(ld.tracker),
				    o->json ? FMT_JSON : o->markdown ? FMT_MARKDOWN : FMT_TEXT, out);
	ana_findings__free(&f);
	ana_load__free(&ld);
	return err;
}
