// SPDX-License-Identifier: BSD-2-Clause
/*
 * One pcap frame to a TCP segment. Link types: Linux cooked v1 and v2,
 * Ethernet (two VLAN tags at most), raw IP, IPv4, IPv6, BSD loopback
 * (NULL/LOOP). Every read is checked against the captured length; the
 * payload length comes from the IP header (pcaps from `tcptrail-record
 * --pcap` keep only headers), checked against the header lengths.
 */
#include <errno.h>
#include <string.h>
#include <pcap/dlt.h>

#include "pcap.h"

#define SLL_OUTGOING 4		/* PACKET_OUTGOING */
#define MAX_V6_EXT 8		/* extension headers followed */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int ana_pcap__dlt_ok(int dlt)
{
	switch (dlt) {
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_EN10MB:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
		return 1;
	default:
		return 0;
	}
}

static int bad(const char **why, const char *w)
{
	*why = w;
	return -EBADMSG;
}

/* The link header: offset of the network header and its ethertype (0: by
 * the IP version nibble). */
static int link(int dlt, const uint8_t *p, uint32_t caplen, uint32_t *off, uint16_t *etype,
		uint8_t *dir, const char **why)
{
	uint32_t i;

	*etype = 0;
	*dir = 0;
	switch (dlt) {
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return bad(why, "truncated Linux cooked header (16 bytes)");
		*dir = be16(p) == SLL_OUTGOING ? PKT_SEEN_OUT : be16(p) <= 3 ? PKT_SEEN_IN : 0;
		*etype = be16(p + 14);
		*off = 16;
		return 0;
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return bad(why, "truncated Linux cooked v2 header (20 bytes)");
		*dir = p[10] == SLL_OUTGOING ? PKT_SEEN_OUT : p[10] <= 3 ? PKT_SEEN_IN : 0;
		*etype = be16(p);
		*off = 20;
		return 0;
	case DLT_EN10MB:
		if (caplen < 14)
			return bad(why, "truncated Ethernet header (14 bytes)");
		*etype = be16(p + 12);
		*off = 14;
		for (i = 0; i < 2 && (*etype == 0x8100 || *etype == 0x88a8); i++) {
			if (caplen < *off + 4)
				return bad(why, "truncated VLAN tag");
			*etype = be16(p + *off + 2);
			*off += 4;
		}
		return 0;
	case DLT_NULL:
	case DLT_LOOP:
		if (caplen < 4)
			return bad(why, "truncated loopback header (4 bytes)");
		*off = 4;
		return 0;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		*off = 0;
		return 0;
	default:
		return bad(why, "unsupported link type");
	}
}

/* TCP header at P (AVAIL bytes captured) with L4LEN bytes by the IP header. */
static int tcp(const uint8_t *p, uint32_t avail, uint32_t l4len, struct ana_pkt *out,
	       const char **why)
{
	uint32_t doff;

	if (avail < 20)
		return bad(why, "truncated TCP header (20 bytes)");
	doff = (uint32_t)(p[12] >> 4) * 4;
	if (doff < 20)
		return bad(why, "TCP data offset under 20 bytes");
	if (l4len < doff)
		return bad(why, "IP length shorter than the TCP header");
	out->seg.sport = be16(p);
	out->seg.dport = be16(p + 2);
	out->seg.seq = be32(p + 4);
	out->seg.ack = be32(p + 8);
	out->seg.flags = p[13];
	out->seg.len = l4len - doff;
	return 0;
}

static int ipv4(const uint8_t *p, uint32_t avail, struct ana_pkt *out, const char **why)
{
	uint32_t ihl, tot;

	if (avail < 20)
		return bad(why, "truncated IPv4 header (20 bytes)");
	if (p[0] >> 4 != 4)
		return bad(why, "IPv4 ethertype with another IP version");
	ihl = (uint32_t)(p[0] & 0xf) * 4;
	tot = be16(p + 2);
	if (ihl < 20)
		return bad(why, "IPv4 header length under 20 bytes");
	if (tot < ihl)
		return bad(why, "IPv4 total length shorter than its header");
	if (avail < ihl)
		return bad(why, "truncated IPv4 options");
	if (p[9] != 6)
		return 1;
	if (be16(p + 6) & 0x1fff)
		return 1;	/* a later fragment: no TCP header */
	out->seg.family = TRAIL_FAMILY_INET;
	memcpy(out->seg.saddr, p + 12, 4);
	memcpy(out->seg.daddr, p + 16, 4);
	out->ipid = be16(p + 4);
	return tcp(p + ihl, avail - ihl, tot - ihl, out, why);
}

static int ipv6(const uint8_t *p, uint32_t avail, struct ana_pkt *out, const char **why)
{
	uint32_t off = 40, plen, hl, i;
	uint8_t nh;

	if (avail < 40)
		return bad(why, "truncated IPv6 header (40 bytes)");
	if (p[0] >> 4 != 6)
		return bad(why, "IPv6 ethertype with another IP version");
	plen = be16(p + 4);
	nh = p[6];
	for (i = 0; i < MAX_V6_EXT && nh != 6; i++) {
		if (nh != 0 && nh != 43 && nh != 60 && nh != 44 && nh != 51)
			return 1;	/* not TCP (or an extension we do not follow) */
		if (avail < off + 8)
			return bad(why, "truncated IPv6 extension header");
		if (nh == 44) {
			if (be16(p + off + 2) & 0xfff8)
				return 1;	/* a later fragment */
			hl = 8;
		} else if (nh == 51) {
			hl = ((uint32_t)p[off + 1] + 2) * 4;
		} else {
			hl = ((uint32_t)p[off + 1] + 1) * 8;
		}
		nh = p[off];
		off += hl;
		if (off - 40 > plen)
			return bad(why, "IPv6 extension headers longer than the payload length");
	}
	if (nh != 6)
		return 1;
	if (avail < off)
		return bad(why, "truncated IPv6 extension header");
	out->seg.family = TRAIL_FAMILY_INET6;
	memcpy(out->seg.saddr, p + 8, 16);
	memcpy(out->seg.daddr, p + 24, 16);
	out->ipid = 0;
	return tcp(p + off, avail - off, plen - (off - 40), out, why);
}

int ana_pcap__decode(int dlt, const uint8_t *p, uint32_t caplen, struct ana_pkt *out,
		     const char **why)
{
	uint32_t off;
	uint16_t etype;
	uint8_t dir;
	int ret;

	*why = "";
	memset(&out->seg, 0, sizeof(out->seg));
	ret = link(dlt, p, caplen, &off, &etype, &dir, why);
	if (ret)
		return ret;
	out->dir = dir;
	if (off >= caplen)
		return bad(why, "no network header after the link header");
	if (etype == 0x0800 || (!etype && p[off] >> 4 == 4 && dlt != DLT_IPV6))
		return ipv4(p + off, caplen - off, out, why);
	if (etype == 0x86dd || (!etype && p[off] >> 4 == 6 && dlt != DLT_IPV4))
		return ipv6(p + off, caplen - off, out, why);
	if (!etype)
		return bad(why, "not an IPv4 or IPv6 header");
	return 1;
}
