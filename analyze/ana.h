/* SPDX-License-Identifier: BSD-2-Clause */
/* tcptrail-analyze: options and the commands main.c dispatches to. */
#ifndef TCPTRAIL_ANA_H
#define TCPTRAIL_ANA_H

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

struct ana_opts {
	const char *file;
	int local_time;		/* local time zone instead of UTC */
	int timestamp;		/* tcpstates -T */
	int wide;		/* tcpstates -w */
};

/* Commands: read CAP to the end and print to OUT. 0 or a negative errno. */
int ana_summary__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out);
int ana_connections__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out);
int ana_tcpstates__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out);
/* Hidden: every record, one line each (dump.c). */
int ana_dump__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out);

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
