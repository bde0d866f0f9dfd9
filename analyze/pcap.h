/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The pcap recorded beside a capture (`tcptrail-record --pcap`): its TCP
 * packets decoded (pcap_decode.c), their CLOCK_REALTIME times mapped to the
 * capture's boot time, loopback/bridge duplicates folded (pcap.c), and each
 * packet attached to its connection and to the kernel event it caused or
 * was caused by (packets.c).
 *
 * The pcap comes from a bug ticket: every length is checked, a bad packet
 * is counted and skipped with a message naming the file and packet number.
 */
#ifndef TCPTRAIL_ANA_PCAP_H
#define TCPTRAIL_ANA_PCAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trail.h"

struct ana_capture;
struct ana_conn;
struct ana_event;
struct ana_load;
struct ana_side;

#define ANA_MAX_PACKETS 4000000u	/* kept; more are counted */
#define ANA_PKT_DUP_NS 1000000ull	/* same headers within 1 ms: one packet seen twice */
#define ANA_PKT_DUP_SCAN 256u		/* packets after one looked at for its copy */

/* Direction bits, from the link header where it says (Linux cooked). */
enum {
	PKT_SEEN_OUT = 1,	/* sent by the capturing host (PACKET_OUTGOING) */
	PKT_SEEN_IN = 2,	/* received by it */
};

/* How a packet relates to the kernel event it is tied to. */
enum ana_pkt_rel {
	PKT_REL_NONE = 0,
	PKT_REL_RST_SENT,	/* the RST a local sent-RST event made */
	PKT_REL_RST_RECV,	/* the RST a received-RST event took in */
	PKT_REL_RETRANS,	/* the segment a retransmit event resent */
	PKT_REL_DROP,		/* the segment a drop event dropped */
	PKT_REL_SYN,		/* the SYN that created a request sock */
};

struct ana_pkt {
	uint64_t ts;		/* CLOCK_BOOTTIME through the CLOCK anchors */
	int64_t real_ns;	/* the pcap's own time, CLOCK_REALTIME */
	uint32_t num;		/* packet number in the pcap file, from 1 */
	uint16_t ipid;		/* IPv4 identification, 0 for IPv6 */
	uint8_t dir;		/* PKT_SEEN_* bits; 0: not known */
	uint8_t copies;		/* 1 + duplicates folded into this one (saturates) */
	struct trail_segment seg;	/* len: payload bytes from the IP lengths */
	/* attachment (packets.c) */
	const struct ana_conn *conn;	/* NULL: unmatched */
	uint8_t from;		/* 0: sent by the client lane, 1: by the server lane */
	uint8_t translated;	/* the tuple is the server socket's, not the client's view */
	uint8_t rel;		/* enum ana_pkt_rel of EV: RST_SENT, RETRANS or NONE */
	uint8_t eff_rel;	/* enum ana_pkt_rel of EFF: RST_RECV, DROP, SYN or NONE */
	uint8_t external;	/* an RST from a recorded end that its TCP stack did not send */
	const struct ana_event *ev;	/* the event that made it (sent RST, retransmit) */
	const struct ana_side *ev_side;	/* whose event; NULL for an orphan event */
	const struct ana_event *eff;	/* the event it made (RST received, drop, SYN arrival) */
	const struct ana_side *eff_side;
};

struct ana_pkts {
	char path[4096];	/* the pcap read */
	const char *from;	/* "--pcap" or "the capture's pcap.file" */
	int linktype;
	struct ana_pkt *v;	/* by time */
	size_t n, cap;
	uint64_t read;		/* packet records read */
	uint64_t bad;		/* truncated or malformed: skipped */
	uint64_t other;		/* not IPv4/IPv6 TCP */
	uint64_t dups;		/* second copies folded */
	uint64_t not_kept;	/* over ANA_MAX_PACKETS */
	uint64_t attached, unmatched, with_event;
	int flags;		/* ANA_PKTS_* */
	uint64_t events_from, events_to;	/* the capture's event times: probes were on */
	int file_error;		/* libpcap stopped early (truncated file) */
	char message[512];	/* libpcap's message for FILE_ERROR */
	/* events -> packet, for the rules (packets.c) */
	struct ana_evpkt *byev;
	size_t nbyev;
	/* attached packets by connection: order[first[id - 1] .. first[id]) */
	uint32_t *order;
	size_t *first;
	size_t nconns;
};

/* Configuration from the command line, kept on the capture (main.c). */
struct ana_pcap_cfg {
	const char *path;	/* --pcap FILE, or NULL: the META pcap.file beside it */
	int disabled;		/* --no-pcap */
	struct ana_pkts *pkts;	/* read and attached, or NULL */
};

/* Boot time of K (for code that sees the packet only as a pointer). */
static inline uint64_t ana_pkt__ts(const struct ana_pkt *k)
{
	return k->ts;
}

/* Decode one link-layer frame (pcap_decode.c). Returns 0 with OUT->seg,
 * ipid and dir filled for an IPv4/IPv6 TCP segment, 1 for a frame that is
 * not one (ARP, UDP, a later fragment: skipped), or -EBADMSG with *WHY
 * saying what was short or wrong. Reads only the CAPLEN bytes at P. */
int ana_pcap__decode(int dlt, const uint8_t *p, uint32_t caplen, struct ana_pkt *out,
		     const char **why);
/* Is DLT a link type ana_pcap__decode understands? */
int ana_pcap__dlt_ok(int dlt);

/* Read PATH into P: decode, map to boot time through CAP's anchors, fold
 * duplicates, sort. Bad packets are reported on stderr (PROG: pcap PATH:
 * packet N: ...) and skipped. 0, or a negative errno with ERR set when the
 * file cannot be read at all. */
int ana_pkts__read(struct ana_pkts *p, const char *path, struct ana_capture *cap,
		   const char *prog, char *err, size_t errlen);
/* Fold copies of one packet seen twice (loopback out and in, a bridge):
 * same headers within ANA_PKT_DUP_NS. P->v sorted by time. */
void ana_pkts__dedup(struct ana_pkts *p);
void ana_pkts__free(struct ana_pkts *p);

/* The hook of ana_load__run(): with a pcap configured on CAP, read it and
 * attach its packets to LD's connections and events. 0 or a negative errno
 * (a default pcap that cannot be read is a note on stderr, not an error). */
int ana_pkts__load(struct ana_capture *cap, const struct ana_load *ld);
/* Will ana_pkts__load() read a pcap for CAP (--pcap, or a pcap.file META
 * found beside it)? Looks at the file's first records only. */
int ana_pkts__wanted(const struct ana_capture *cap);
/* Attach P's packets to LD (packets.c). */
int ana_pkts__attach(struct ana_pkts *p, const struct ana_load *ld);
/* The capture recorded sent RSTs (META probe.reset): an RST packet from a
 * recorded end without one is external. Set before ana_pkts__attach(). */
#define ANA_PKTS_SENT_RST_PROBED 1
/* Indices into P->v of connection C's packets, in time order; *N of them. */
const uint32_t *ana_pkts__conn(const struct ana_pkts *p, const struct ana_conn *c, size_t *n);
/* The packet tied to event EV, or NULL. */
struct ana_pkt *ana_pkts__of_event(const struct ana_pkts *p, const struct ana_event *ev);
/* Packets of connection C: counts by kind. */
struct ana_pkt_counts {
	uint64_t all, syn, synack, fin, rst, data, pure_ack, from[2];
};
void ana_pkts__count(const struct ana_pkts *p, const struct ana_conn *c,
		     struct ana_pkt_counts *out);
/* Sequence numbers relative to each direction's SYN (else its first packet),
 * as Wireshark shows them. */
struct ana_pkt_base {
	uint32_t isn[2];	/* by lane: 0 client, 1 server */
	uint8_t have[2];	/* 2: from a SYN, 1: from the first packet */
};
void ana_pkt_base__init(struct ana_pkt_base *b, const struct ana_pkts *p,
			const struct ana_conn *c);
/* "PSH,ACK seq=1 ack=1 len=10", relative to B. */
char *ana_pkt__label(const struct ana_pkt *k, const struct ana_pkt_base *b, char *buf,
		     size_t len);
/* The packet as a line: "SYN,ACK seq 0 ack 1 len 0" with absolute numbers. */
char *ana_pkt__text(const struct ana_pkt *k, char *buf, size_t len);
/* "sent", "received", "sent and received (seen twice)" or NULL when unknown. */
const char *ana_pkt__dir(const struct ana_pkt *k);
/* One summary line about the pcap for OUT (nothing without packets). */
void ana_pkts__summary(const struct ana_pkts *p, FILE *out);
/* "  packets: ..." line of connection C (connprint.c). */
void ana_pkts__conn_line(const struct ana_pkts *p, const struct ana_conn *c, FILE *out);

#endif
