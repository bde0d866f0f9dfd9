/* SPDX-License-Identifier: BSD-2-Clause */
/* A connection as a sequence of moments on two lanes (client, server),
 * drawn as text, Mermaid or SVG. */
#ifndef TCPTRAIL_ANA_DIAGRAM_H
#define TCPTRAIL_ANA_DIAGRAM_H

#include <stdio.h>

#include "capture.h"
#include "conn.h"
#include "pcap.h"

struct dg_item {
	uint64_t ts;
	int lane;			/* 0 client, 1 server; a packet: its sender */
	const struct ana_change *ch;	/* or */
	const struct ana_event *ev;	/* or */
	const struct ana_pkt *pk;	/* a packet of the pcap */
	uint64_t key;			/* sort key: a packet and its event in causal order */
	int after;			/* at equal keys: 1 sorts after 0 */
};

struct dg {
	const struct ana_conn *c;
	struct dg_item *v;
	size_t n;
	char lane[2][96];		/* "client 1.2.3.4:5" */
	struct ana_pkt_base base;	/* relative sequence numbers */
	size_t npkts;
};

/* 0 or -ENOMEM. Items in time order; with PKTS (may be NULL) the packets
 * of C too, each placed on the right side of the event it made or that
 * made it even where the clock mapping puts them a little apart. */
int dg__build(struct dg *d, const struct ana_conn *c, const struct ana_pkts *pkts);
void dg__free(struct dg *d);
/* What happened at IT, in words (printable ASCII); a packet with its
 * numbers relative to D's base (D may be NULL for absolute numbers). */
void dg__label(struct ana_capture *cap, const struct dg_item *it, char *buf, size_t len);
void dg__label_in(const struct dg *d, struct ana_capture *cap, const struct dg_item *it,
		  char *buf, size_t len);
/* 1: a segment from IT's lane to the other one; -1: from the other lane; 0: local. */
int dg__dir(const struct dg_item *it);
/* "+m.uuu ms" after the connection's start. */
char *dg__rel(const struct dg *d, uint64_t ts, char *buf, size_t len);

/* The whole picture as one <svg> element (no XML prolog), for files and HTML. */
void dg__svg(const struct dg *d, struct ana_capture *cap, FILE *out);

#endif
