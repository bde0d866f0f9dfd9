// SPDX-License-Identifier: BSD-2-Clause
/*
 * `summary` and `connections`: feed the capture through the connection
 * tracker, keep the finished connections and listeners, print them in
 * start order. Keeping them is what costs memory here; the tracker itself
 * only holds open sockets, so a streaming printer can replace `collect`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "ana.h"
#include "load.h"
#include "pcap.h"

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

void ana_summary__print(struct ana_capture *cap, const struct ana_load *k,
			const struct ana_opts *o, FILE *out, int full)
{
	const struct ana_conns_stats *st = ana_conns__stats(k->tracker);
	struct ana_print p;
	size_t i;
	int first = 1;

	ana_print__init(&p, out, cap, ana_conns__tasks(k->tracker));
	if (full) {
		ana_print__header(&p);
		ana_print__losses(&p);
		print_stats(&p, st);
		fprintf(out, "  %-12s %zu (%" PRIu64 " with both ends recorded), %zu listener%s\n",
			"connections", k->nconns, st->paired, k->nlisteners,
			k->nlisteners == 1 ? "" : "s");
		if (cap->pcap)	/* pcap.h */
			ana_pkts__summary(cap->pcap->pkts, out);
		ana_stats__print(&p, k);
		fprintf(out, "\nListeners (%zu)\n", k->nlisteners);
		for (i = 0; i < k->nlisteners; i++)
			ana_print__listener(&p, k->listeners[i]);
		fprintf(out, "\nConnections (%zu)\n", k->nconns);
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

static int run(struct ana_capture *cap, const struct ana_opts *o, FILE *out, int full)
{
	struct ana_load k = { 0 };
	int err;

	cap->clock.local = o->local_time;
	ana_progress__start(cap);
	err = ana_load__run(&k, cap);
	ana_progress__end(cap);
	if (err)
		goto cleanup;
	ana_summary__print(cap, &k, o, out, full);
	if (full)
		err = ana_summary__findings(cap, &k, o, out);
cleanup:
	ana_load__free(&k);
	return err;
}

int ana_summary__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out)
{
	return run(cap, o, out, 1);
}

int ana_connections__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out)
{
	return run(cap, o, out, 0);
}
