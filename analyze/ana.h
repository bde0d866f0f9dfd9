/* SPDX-License-Identifier: BSD-2-Clause */
/* tcptrail-analyze: options and the commands main.c dispatches to. */
#ifndef TCPTRAIL_ANA_H
#define TCPTRAIL_ANA_H

#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "conn.h"

/* Exit codes, documented in --help. */
enum {
	ANA_EXIT_OK = 0,	/* analysed (a file cut short is analysed too) */
	ANA_EXIT_UNREADABLE = 1,	/* not readable as a capture at all */
	ANA_EXIT_USAGE = 2,
	ANA_EXIT_CORRUPT = 3,	/* damaged inside; the part before was analysed */
};

#define ANA_MAX_PORT_FILTERS 16

/* connections filters; a connection passes when it matches all given */
struct ana_filter {
	uint16_t ports[ANA_MAX_PORT_FILTERS];	/* either end, any side */
	int nports;
	int have_since, have_until;
	uint64_t since_ns, until_ns;	/* after the capture's first event */
	const char *state;		/* a side entered this state */
	const char *outcome;		/* fin|abort|reset|refused|timeout|open|none */
};

struct ana_opts {
	const char *file;
	struct ana_filter filter;
	int json, markdown;	/* anomalies output */
	uint64_t close_wait_ns;	/* close_wait_stuck threshold */
	uint32_t conn_id;	/* diagram --conn */
	const char *format;	/* diagram --format */
	const char *output;	/* report -o */
	int local_time;		/* local time zone instead of UTC */
	int timestamp;		/* tcpstates -T */
	int wide;		/* tcpstates -w */
};

/* Commands: read CAP to the end and print to OUT. 0 or a negative errno. */
int ana_summary__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out);
/* The summary without its findings (the report shows them first). */
int ana_summary__body(struct ana_capture *cap, const struct ana_opts *o, FILE *out);
int ana_connections__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out);
int ana_tcpstates__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out);
/* Hidden: every record, one line each (dump.c). */
int ana_dump__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out);
int ana_anomalies__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out);
int ana_diagram__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out);
int ana_report__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out);
int ana_scan__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out);

struct ana_load;
struct ana_findings;
struct ana_detect_opts;
/* Detection options from the command line (--close-wait-ms, 5000 ms if not
 * given). */
void ana_detect_opts__init(struct ana_detect_opts *d, const struct ana_opts *o);
/* The whole capture into LD (progress on stderr), then its findings into F.
 * 0 or a negative errno; free both either way. */
int ana_findings__load(struct ana_findings *f, struct ana_load *ld, struct ana_capture *cap,
		       const struct ana_detect_opts *d);
/* The findings section of the summary. */
int ana_summary__findings(struct ana_capture *cap, const struct ana_load *ld,
			  const struct ana_opts *o, FILE *out);
/* Summary text of a loaded capture; FULL: header, stats, listeners too. */
void ana_summary__print(struct ana_capture *cap, const struct ana_load *ld,
			const struct ana_opts *o, FILE *out, int full);
/* Connections by outcome, handshake latency, state durations, RSTs and drops
 * by reason (stats.c). */
struct ana_print;
void ana_stats__print(const struct ana_print *p, const struct ana_load *ld);
/* Progress on stderr while reading, only when stderr is a terminal (progress.c). */
void ana_progress__start(struct ana_capture *cap);
void ana_progress__end(struct ana_capture *cap);
/* One word for how C ended (filter.c). */
const char *ana_conn__outcome(const struct ana_conn *c, const struct ana_capture *cap);
/* Does connection C pass filter F? (filter.c) */
int ana_filter__match(const struct ana_filter *f, const struct ana_conn *c,
		      const struct ana_capture *cap);
/* Parse a filter option's argument into F; 0 or -EINVAL. */
int ana_filter__parse(struct ana_filter *f, const char *opt, const char *arg);

/* ---- printing helpers (print.c) ---- */

struct ana_print {
	FILE *out;
	struct ana_capture *cap;
	const struct ana_tasks *tasks;
	char date0[16];		/* date of the capture start: times on it omit it */
};

void ana_print__init(struct ana_print *p, FILE *out, struct ana_capture *cap,
		     const struct ana_tasks *tasks);
/* The capture header: file, host, kernel, tool, probes, times, ending. */
void ana_print__header(const struct ana_print *p);
/* The losses line(s); loud when anything was lost. */
void ana_print__losses(const struct ana_print *p);
/* A one-line warning on stderr if the capture is incomplete or cut short. */
void ana_print__warnings(const struct ana_capture *cap, const char *prog);
void ana_print__listener(const struct ana_print *p, const struct ana_side *l);
void ana_print__conn(const struct ana_print *p, const struct ana_conn *c);

#endif
