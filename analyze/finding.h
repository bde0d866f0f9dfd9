/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Anomaly findings: what looks wrong in a capture, with the evidence and
 * an explanation that holds for that evidence. Kinds are stable names
 * (analyze/ANOMALIES.md); texts are printable ASCII, escaped per output.
 */
#ifndef TCPTRAIL_ANA_FINDING_H
#define TCPTRAIL_ANA_FINDING_H

#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "load.h"

enum ana_kind {
	K_RST_NO_SOCKET,
	K_NAT_MISMATCH,
	K_RST_LOOKUP_RACE,
	K_RST_CLOSE_UNREAD,
	K_RST_LINGER_ABORT,
	K_RST_ABORT,
	K_RST_SENT,
	K_RST_EXTERNAL,
	K_RST_RECEIVED,
	K_SYN_RETRANSMIT,
	K_SYNACK_RETRANSMIT,
	K_HANDSHAKE_TIMEOUT,
	K_LISTEN_OVERFLOW,
	K_CLOSE_WAIT_STUCK,
	K_FIN_WAIT2_TIMEOUT,
	K_EVENTS_LOST,
	K__COUNT,
};

#define ANA_MAX_EVIDENCE 8u
#define ANA_MAX_FINDINGS 10000u

struct ana_pkt;

/* One piece of evidence: an event or a state change of a side, or a
 * packet of the pcap (pcap.h). */
struct ana_evref {
	const struct ana_side *side;	/* NULL: an orphan event, a packet */
	const char *role;		/* "client", "server", "listener", "-"; a packet: its sender */
	const struct ana_event *ev;	/* or */
	const struct ana_change *ch;	/* or */
	const struct ana_pkt *pkt;
};

struct ana_finding {
	enum ana_kind kind;
	const struct ana_conn *conn;	/* NULL: not tied to one connection */
	const struct ana_conn *conn2;	/* nat_mismatch: unused (tuples in text) */
	uint64_t ts;
	char summary[320];
	char explain[1200];
	struct ana_evref ev[ANA_MAX_EVIDENCE];
	uint32_t nev;
};

struct ana_findings {
	struct ana_finding *v;
	size_t len, cap;
	uint64_t dropped;	/* over ANA_MAX_FINDINGS */
	uint64_t by_kind[K__COUNT];
};

struct ana_detect_opts {
	uint64_t close_wait_ns;	/* close_wait_stuck threshold */
};

const char *ana_kind__name(enum ana_kind k);
/* Find everything in LD. 0 or -ENOMEM. Sorted by time. */
int ana_findings__detect(struct ana_findings *f, struct ana_capture *cap,
			 const struct ana_load *ld, const struct ana_detect_opts *o);
void ana_findings__free(struct ana_findings *f);
/* Evidence and findings in time order. */
void ana_findings__sort(struct ana_findings *f);

/* Streaming detection (stream.c): connections are examined as they finish
 * and kept only when something was found, so memory is the open
 * connections (plus 16 bytes per finished one for the numbering when they
 * finish out of start order: connorder.h). */
struct ana_stream;
int ana_stream__run(struct ana_stream **out, struct ana_capture *cap,
		    const struct ana_detect_opts *o, struct ana_findings *f);
const struct ana_tasks *ana_stream__tasks(const struct ana_stream *s);
void ana_stream__free(struct ana_stream *s);

enum ana_fmt { FMT_TEXT, FMT_JSON, FMT_MARKDOWN };
void ana_findings__print(const struct ana_findings *f, struct ana_capture *cap,
			 const struct ana_tasks *tasks, enum ana_fmt fmt, FILE *out);
/* One evidence item as a line of printable ASCII (no trailing newline). */
void ana_evref__text(const struct ana_evref *e, struct ana_capture *cap,
		     const struct ana_tasks *tasks, uint64_t t0, char *buf, size_t len);

/* findprint.c helpers, shared with the JSON, diagram and report writers */
const char *ana_event__name(const struct ana_event *e);
const char *ana_match__name(uint8_t m);
char *ana_tcp_flags(uint8_t f, char *buf, size_t len);
char *ana_conn__tuple(const struct ana_conn *c, char *buf, size_t len);
const struct trail_stack *ana_evref__stack(struct ana_capture *cap, const struct ana_evref *e);
const char *ana_enum__name(struct ana_capture *cap, const char *table, int64_t v, char *buf,
			   size_t len);
void ana_findings__json(const struct ana_findings *f, struct ana_capture *cap,
			const struct ana_tasks *tasks, FILE *out);

#endif
