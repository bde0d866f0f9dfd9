/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A whole capture read into finished connections, listeners and orphan
 * events (resets/drops that matched no socket), sorted and numbered the
 * same way for every command, so `--conn ID` means the same connection in
 * `connections`, `anomalies`, `diagram` and `report`.
 */
#ifndef TCPTRAIL_ANA_LOAD_H
#define TCPTRAIL_ANA_LOAD_H

#include <stddef.h>

#include "capture.h"
#include "conn.h"
#include "connorder.h"

#define ANA_MAX_ORPHANS 100000u	/* kept; more are counted */

struct ana_load {
	struct ana_conn **conns;	/* by start time; conns[i]->id == i + 1 */
	size_t nconns, capconns;
	struct ana_side **listeners;
	size_t nlisteners, caplisteners;
	struct ana_event *orphans;	/* by time */
	size_t norphans, caporphans;
	uint64_t orphans_dropped;
	int err;
	struct ana_conns *tracker;
	struct ana_conn *one;	/* ana_load__run_one: the connection asked for */
};

/* ---- streaming (stream.c): memory for open connections, the ones with
 * findings, and the listeners asked for ---- */
struct ana_stream;
struct ana_findings;
struct ana_detect_opts;

struct ana_stream_hooks {
	/* Every finished connection, before detection (which may free it). */
	void (*conn)(struct ana_conn *c, void *ctx);
	void *ctx;
	int keep_listeners;	/* keep every listener, not only those with findings */
	int no_detect;		/* numbering only: no findings */
	size_t keep_first;	/* also keep the first N to finish without a finding */
};

/* ana_stream__run (finding.h) with hooks H (may be NULL). */
int ana_stream__run_with(struct ana_stream **out, struct ana_capture *cap,
			 const struct ana_detect_opts *o, struct ana_findings *f,
			 const struct ana_stream_hooks *h);
const struct ana_conns_stats *ana_stream__stats(const struct ana_stream *s);
/* How the connections of the run are numbered (connorder.h). */
struct ana_order *ana_stream__order(struct ana_stream *s);
/* Listeners kept, by start time. */
struct ana_side *const *ana_stream__listeners(const struct ana_stream *s, size_t *n);
/* Connections kept (with findings, or keep_first), numbered, in finish order. */
struct ana_conn *const *ana_stream__kept(const struct ana_stream *s, size_t *n);
/* Socket-less resets and drops kept (at most ANA_MAX_ORPHANS), as they came. */
const struct ana_event *ana_stream__orphans(const struct ana_stream *s, size_t *n);

/* Give record REC of CAP to tracker T. 0 or -ENOMEM. */
int ana_conns__feed(struct ana_conns *t, struct ana_capture *cap,
		    const struct trail_record *rec);
/* Read CAP to the end into LD. 0 or a negative errno. Free LD either way. */
int ana_load__run(struct ana_load *ld, struct ana_capture *cap);
/* Only connection ID (numbered as everywhere): LD->one is it (NULL if there
 * is no such number), LD->nconns counts all, nothing else is kept. Memory
 * is the open connections: the file is read two or three times (once
 * whole into memory when it comes from a pipe). `diagram --conn` uses this. */
int ana_load__run_one(struct ana_load *ld, struct ana_capture *cap, uint32_t id);
void ana_load__free(struct ana_load *ld);
/* Earliest time of S: its SYN arrival if known, else its first record. */
uint64_t ana_side__start(const struct ana_side *s);
/* qsort order of struct ana_side pointers: by start, then socket id. */
int ana_side__by_start(const void *a, const void *b);

#endif
