// SPDX-License-Identifier: BSD-2-Clause
/*
 * `scan`: read and correlate the whole capture in streaming mode (each
 * connection is freed as soon as it is finished), then print counts, time
 * and peak memory. What scripts/bench-analyze.sh measures; also a quick
 * check that a big capture reads to its end.
 */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#include "ana.h"
#include "load.h"

struct scan {
	uint64_t conns, listeners, idle, orphans, events;
};

static void on_conn(struct ana_conn *c, void *ctx)
{
	struct scan *s = ctx;

	s->conns++;
	if (c->client)
		s->events += c->client->nchanges + c->client->nevents;
	if (c->server)
		s->events += c->server->nchanges + c->server->nevents;
	ana_conn__free(c);
}

static void on_listener(struct ana_side *l, void *ctx)
{
	((struct scan *)ctx)->listeners++;
	ana_side__free(l);
}

static void on_idle(struct ana_side *l, void *ctx)
{
	((struct scan *)ctx)->idle++;
	ana_side__free(l);
}

static void on_orphan(const struct ana_event *ev, void *ctx)
{
	(void)ev;
	((struct scan *)ctx)->orphans++;
}

static int on_record(struct ana_capture *cap, const struct trail_record *rec, void *ctx)
{
	return ana_conns__feed(ctx, cap, rec);
}

static double tv_secs(const struct timeval *t)
{
	return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

int ana_scan__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out)
{
	struct scan s = { 0 };
	struct ana_conns_ops ops = { on_conn, on_listener, on_idle, on_orphan, &s };
	struct ana_conns *t = NULL;
	struct ana_sink sink = { .record = on_record };
	struct timespec a, b;
	struct rusage ru, ru0;
	struct mallinfo2 mi;
	double secs, cpu;
	int err;

	(void)o;
	err = ana_conns__new(&t, &cap->states, &ops);
	if (err)
		return err;
	sink.ctx = t;
	getrusage(RUSAGE_SELF, &ru0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	ana_progress__start(cap);
	err = ana_capture__run(cap, &sink);
	ana_progress__end(cap);
	if (!err)
		ana_conns__finish(t);
	clock_gettime(CLOCK_MONOTONIC, &b);
	/* the heap: what correlation holds (the mmap'd file counts in RSS) */
	mi = mallinfo2();
	ana_conns__free(t);
	if (err)
		return err;
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	getrusage(RUSAGE_SELF, &ru);
	/* CPU time too: on a shared machine the wall clock counts waiting */
	cpu = tv_secs(&ru.ru_utime) + tv_secs(&ru.ru_stime) - tv_secs(&ru0.ru_utime) -
	      tv_secs(&ru0.ru_stime);
	fprintf(out, "records %" PRIu64 "\ntimed %" PRIu64 "\nsockets %" PRIu64
		"\nconnections %" PRIu64 "\nlisteners %" PRIu64 "\nidle %" PRIu64
		"\norphans %" PRIu64 "\nseconds %.3f\nevents_per_sec %.0f\ncpu_seconds %.3f"
		"\npeak_rss_kb %ld\nheap_kb %zu\n",
		cap->nrecords, cap->ntimed, cap->nsocks, s.conns, s.listeners, s.idle, s.orphans,
		secs, secs > 0 ? (double)cap->ntimed / secs : 0.0, cpu, ru.ru_maxrss,
		(mi.arena + mi.hblkhd) / 1024);
	return 0;
}
