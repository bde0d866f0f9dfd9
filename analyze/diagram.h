/* SPDX-License-Identifier: BSD-2-Clause */
/* A connection as a sequence of moments on two lanes (client, server),
 * drawn as text, Mermaid or SVG. */
#ifndef TCPTRAIL_ANA_DIAGRAM_H
#define TCPTRAIL_ANA_DIAGRAM_H

#include <stdio.h>

#include "capture.h"
#include "conn.h"

struct dg_item {
	uint64_t ts;
	int lane;			/* 0 client, 1 server */
	const struct ana_change *ch;	/* or */
	const struct ana_event *ev;
};

struct dg {
	const struct ana_conn *c;
	struct dg_item *v;
	size_t n;
	char lane[2][96];		/* "client 1.2.3.4:5" */
};

/* 0 or -ENOMEM. Items in time order. */
int dg__build(struct dg *d, const struct ana_conn *c);
void dg__free(struct dg *d);
/* What happened at IT, in words (printable ASCII). */
void dg__label(struct ana_capture *cap, const struct dg_item *it, char *buf, size_t len);
/* 1: a segment from IT's lane to the other one; -1: from the other lane; 0: local. */
int dg__dir(const struct dg_item *it);
/* "+m.uuu ms" after the connection's start. */
char *dg__rel(const struct dg *d, uint64_t ts, char *buf, size_t len);

/* The whole picture as one <svg> element (no XML prolog), for files and HTML. */
void dg__svg(const struct dg *d, struct ana_capture *cap, FILE *out);

#endif
