/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A TCP segment read out of an sk_buff: the IP and TCP headers at the
 * skb's network header, into a struct tt_seg (bpf/tcptrail.h). Used by the
 * fault handlers (faults.bpf.h) for the segment an RST answers and for
 * dropped segments. Header layouts are the protocols' own: no CO-RE.
 */
#ifndef TCPTRAIL_SEGMENT_BPF_H
#define TCPTRAIL_SEGMENT_BPF_H

#define ETH_P_IP_BE bpf_htons(0x0800)	/* skb->protocol values */
#define ETH_P_IPV6_BE bpf_htons(0x86dd)
#define TT_TCPH_RST 0x04
#define TT_TCPH_SYN 0x02
#define TT_TCPH_FIN 0x01
#define TT_TCPH_ACK 0x10
#define NET_HDR_UNSET 0xffff	/* skb->network_header not set */

/* Wire layouts: fixed by the protocols, so no CO-RE. */
struct tt_iph {
	__u8 ver_ihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__u16 check;
	__u8 saddr[4];
	__u8 daddr[4];
};

struct tt_ip6h {
	__be32 ver_tc_flow;
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct tt_tcph {
	__be16 source;
	__be16 dest;
	__be32 seq;
	__be32 ack;
	__u8 doff;		/* data offset in the high nibble */
	__u8 flags;
	__be16 window;
	__u16 check;
	__u16 urg;
};

/* Where a packet's bytes are: skb->head and offsets into it. */
struct tt_pkt {
	const unsigned char *head;
	__u32 tail;		/* end of the linear data (an offset on 64-bit) */
	__u16 nh;		/* network header */
	__be16 proto;		/* skb->protocol */
};

/* Where a segment's TCP header starts, and how many bytes follow it. */
struct tt_l4 {
	__u32 off;		/* from skb->head */
	__u32 len;		/* TCP header + payload */
};

/*
 * The IP header of packet P: fills family and addresses of G and says
 * where TCP starts. Fails (-1) unless it is a TCP packet whose
 * IP header lies in the linear data. The cheap part of the drop filter.
 */
static __always_inline int read_ip(const struct tt_pkt *p, struct tt_seg *g, struct tt_l4 *l4)
{
	if (p->nh == NET_HDR_UNSET)
		return -1;
	if (p->proto == ETH_P_IP_BE) {
		struct tt_iph ip;
		__u32 ihl;

		if (p->nh + sizeof(ip) > p->tail ||
		    bpf_probe_read_kernel(&ip, sizeof(ip), p->head + p->nh))
			return -1;
		ihl = (ip.ver_ihl & 0xf) * 4;
		if (ip.protocol != IPPROTO_TCP || (ip.ver_ihl >> 4) != 4 || ihl < sizeof(ip))
			return -1;
		g->family = AF_INET;
		__builtin_memcpy(g->saddr, ip.saddr, 4);
		__builtin_memcpy(g->daddr, ip.daddr, 4);
		l4->off = p->nh + ihl;
		l4->len = bpf_ntohs(ip.tot_len) - ihl;
		return 0;
	}
	if (p->proto == ETH_P_IPV6_BE) {
		struct tt_ip6h ip6;

		/* a TCP segment behind extension headers is not seen */
		if (p->nh + sizeof(ip6) > p->tail ||
		    bpf_probe_read_kernel(&ip6, sizeof(ip6), p->head + p->nh))
			return -1;
		if (ip6.nexthdr != IPPROTO_TCP)
			return -1;
		g->family = AF_INET6;
		__builtin_memcpy(g->saddr, ip6.saddr, 16);
		__builtin_memcpy(g->daddr, ip6.daddr, 16);
		l4->off = p->nh + sizeof(ip6);
		l4->len = bpf_ntohs(ip6.payload_len);
		return 0;
	}
	return -1;
}

/* Ports, seq, ack, flags and payload length from the TCP header at L4. */
static __always_inline int read_tcp(const struct tt_pkt *p, const struct tt_l4 *l4,
				    struct tt_seg *g)
{
	struct tt_tcph th;
	__u32 doff;

	if (l4->off + sizeof(th) > p->tail ||
	    bpf_probe_read_kernel(&th, sizeof(th), p->head + l4->off))
		return -1;
	g->sport = bpf_ntohs(th.source);
	g->dport = bpf_ntohs(th.dest);
	g->seq = bpf_ntohl(th.seq);
	g->ack = bpf_ntohl(th.ack);
	g->flags = th.flags;
	doff = (th.doff >> 4) * 4;
	g->len = l4->len > doff ? l4->len - doff : 0;
	return 0;
}

/* A received segment whose headers the stack already parsed: the segment
 * an RST answers. */
static __always_inline int read_rx_seg(const struct sk_buff *skb, struct tt_seg *g)
{
	struct tt_pkt p = {
		.head = BPF_CORE_READ(skb, head),
		.tail = BPF_CORE_READ(skb, tail),
		.nh = BPF_CORE_READ(skb, network_header),
		.proto = BPF_CORE_READ(skb, protocol),
	};
	struct tt_l4 l4;

	if (read_ip(&p, g, &l4))
		return -1;
	return read_tcp(&p, &l4, g);
}

/* The IP protocol of P (IPv4 or IPv6) is TCP, read with plain loads. Only
 * for programs whose kernel has bpf_rdonly_cast(); others fail to load and
 * fall back. */
static __always_inline bool seg_is_tcp_fast(const struct tt_pkt *p)
{
	if (p->nh == NET_HDR_UNSET)
		return false;
	if (p->proto == ETH_P_IP_BE) {
		const struct iphdr *ip = bpf_rdonly_cast(p->head + p->nh,
							 bpf_core_type_id_kernel(struct iphdr));

		return p->nh + sizeof(struct tt_iph) <= p->tail && ip->protocol == IPPROTO_TCP;
	} else {
		const struct ipv6hdr *ip6 = bpf_rdonly_cast(p->head + p->nh,
							    bpf_core_type_id_kernel(struct ipv6hdr));

		return p->nh + sizeof(struct tt_ip6h) <= p->tail && ip6->nexthdr == IPPROTO_TCP;
	}
}

/* Network namespace of a segment without a socket: its device's. */
static __always_inline __u32 skb_netns(const struct sk_buff *skb)
{
	return BPF_CORE_READ(skb, dev, nd_net.net, ns.inum);
}

#endif
