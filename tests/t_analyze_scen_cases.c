// SPDX-License-Identifier: BSD-2-Clause
/* The scenarios: one anomaly each (or none, for the healthy ones). */
#include "t_analyze_scen.h"

#define LO "127.0.0.1"
#define REMOTE "192.0.2.7"

static const char *const send_reset_stack[] = {
	"tcp_v4_send_reset+0x1a4", "tcp_v4_rcv+0x7f2", "ip_protocol_deliver_rcu+0x3a",
	"ip_local_deliver_finish+0x76", "__netif_receive_skb_one_core+0x8b",
};
static const char *const active_reset_stack[] = {
	"tcp_send_active_reset+0x5", "__tcp_close+0x3b1", "tcp_close+0x25", "inet_release+0x48",
	"__sock_release+0x3d", "sock_close+0x15", "__fput+0xf1",
};

/* Listener L on PORT; client CPORT -> DPORT; a request sock, then its child.
 * Returns the client; *srv the child. Handshake at T0 (+0 .. +70 us). */
static uint64_t handshake(uint64_t t0, uint64_t l, uint16_t cport, uint16_t dport,
			  uint16_t port, uint64_t *srv)
{
	uint64_t c, r, s;

	c = sock(TRAIL_SOCK_FULL, LO, 0, LO, dport);
	st(c, t0, T_CLIENT, CLOSE, SYN_SENT);
	tuple(c, LO, cport, LO, dport);
	r = sock(TRAIL_SOCK_REQUEST, LO, port, LO, cport);
	lnk(r, l, TRAIL_LINK_REQ_OF_LISTENER);
	life(r, t0 + US(20), T_CLIENT, TRAIL_LIFE_SYN_ARRIVED, 0);
	st(c, t0 + US(40), T_SOFTIRQ, SYN_SENT, ESTABLISHED);
	s = sock(TRAIL_SOCK_FULL, LO, port, LO, cport);
	lnk(s, r, TRAIL_LINK_CHILD_OF_REQ);
	st(s, t0 + US(60), T_CLIENT, LISTEN, SYN_RECV);
	st(s, t0 + US(70), T_CLIENT, SYN_RECV, ESTABLISHED);
	retire(r);
	*srv = s;
	return c;
}

static uint64_t listener(uint64_t t, uint16_t port)
{
	uint64_t l = sock(TRAIL_SOCK_FULL, "0.0.0.0", port, "0.0.0.0", 0);

	st(l, t, T_SERVER, CLOSE, LISTEN);
	return l;
}

/* client closes first, with TIME_WAIT; server follows */
static void close_normally(uint64_t t, uint64_t c, uint64_t s)
{
	uint64_t tw;

	life(c, t, T_CLIENT, TRAIL_LIFE_CLOSE_CALL, 0);
	st(c, t + US(1), T_CLIENT, ESTABLISHED, FIN_WAIT1);
	st(s, t + US(10), T_SOFTIRQ, ESTABLISHED, CLOSE_WAIT);
	st(c, t + US(20), T_SOFTIRQ, FIN_WAIT1, FIN_WAIT2);
	life(s, t + MS(1), T_SERVER, TRAIL_LIFE_CLOSE_CALL, 0);
	st(s, t + MS(1) + US(1), T_SERVER, CLOSE_WAIT, LAST_ACK);
	tw = sock(TRAIL_SOCK_TIMEWAIT, LO, 0, LO, 0);
	lnk(tw, c, TRAIL_LINK_TIMEWAIT_OF);
	life(tw, t + MS(1) + US(10), T_SOFTIRQ, TRAIL_LIFE_TIMEWAIT_ENTER, TIME_WAIT);
	st(c, t + MS(1) + US(11), T_SOFTIRQ, FIN_WAIT2, CLOSE);
	life(c, t + MS(1) + US(12), T_SOFTIRQ, TRAIL_LIFE_DESTROY, 0);
	retire(c);
	st(s, t + MS(1) + US(20), T_SOFTIRQ, LAST_ACK, CLOSE);
	life(s, t + MS(1) + US(21), T_SOFTIRQ, TRAIL_LIFE_DESTROY, 0);
	retire(s);
	life(tw, t + S(60), T_SOFTIRQ, TRAIL_LIFE_TIMEWAIT_END, 0);
	retire(tw);
}

static void healthy(void)
{
	uint64_t l = listener(0, 8080), c, s, tw;
	int i;

	/* TIME_WAIT from before the recording ends: not a connection */
	tw = sock(TRAIL_SOCK_TIMEWAIT, LO, 39999, LO, 8080);
	life(tw, MS(5), T_SOFTIRQ, TRAIL_LIFE_TIMEWAIT_END, TIME_WAIT | 1u << 8);
	retire(tw);

	for (i = 0; i < 5; i++) {
		c = handshake(S(1) + MS(10) * i, l, (uint16_t)(40000 + i), 8080, 8080, &s);
		close_normally(S(1) + MS(10) * i + MS(2), c, s);
	}
}

static void closed_port(void)
{
	uint64_t c = sock(TRAIL_SOCK_FULL, LO, 0, LO, 9);

	stack(1, send_reset_stack, 5);
	st(c, S(1), T_CLIENT, CLOSE, SYN_SENT);
	tuple(c, LO, 40500, LO, 9);
	drop(S(1) + US(10), 0, DROP_NO_SOCKET, seg(LO, 40500, LO, 9, 0x02, 1000, 0));
	rst_sent(S(1) + US(11), 0, T_CLIENT, TRAIL_RST_SRC_REPLY, -1, RST_NO_SOCKET, 1,
		 seg(LO, 40500, LO, 9, 0x02, 1000, 0));
	rst_recv(S(1) + US(20), c, SYN_SENT, seg(LO, 9, LO, 40500, 0x14, 0, 1001));
	st(c, S(1) + US(21), T_SOFTIRQ, SYN_SENT, CLOSE);
	retire(c);
}

/* REDIRECT 1112 -> 80: the client talks to :1112, the server socket is :80 */
static void nat(void)
{
	uint64_t l = listener(0, 80), c, s;

	stack(1, send_reset_stack, 5);
	c = handshake(S(1), l, 40100, 1112, 80, &s);
	rst_sent(S(2), 0, T_SOFTIRQ, TRAIL_RST_SRC_REPLY, -1, RST_NO_SOCKET, 1,
		 seg(LO, 40100, LO, 1112, 0x18, 5000, 7000));
	rst_recv(S(2) + US(5), c, ESTABLISHED, seg(LO, 1112, LO, 40100, 0x04, 7000, 0));
	st(c, S(2) + US(6), T_SOFTIRQ, ESTABLISHED, CLOSE);
	retire(c);
	st(s, S(3), T_SERVER, ESTABLISHED, CLOSE);
	retire(s);
}

/* the final ACK and the next segment race: the lookup misses the new child */
static void lookup_race(void)
{
	uint64_t l = listener(0, 8080), c, r, s;

	stack(1, send_reset_stack, 5);
	c = sock(TRAIL_SOCK_FULL, LO, 0, LO, 8080);
	st(c, S(1), T_CLIENT, CLOSE, SYN_SENT);
	tuple(c, LO, 40200, LO, 8080);
	r = sock(TRAIL_SOCK_REQUEST, LO, 8080, LO, 40200);
	lnk(r, l, TRAIL_LINK_REQ_OF_LISTENER);
	life(r, S(1) + US(20), T_CLIENT, TRAIL_LIFE_SYN_ARRIVED, 0);
	st(c, S(1) + US(40), T_SOFTIRQ, SYN_SENT, ESTABLISHED);
	rst_sent(S(1) + US(45), 0, T_SOFTIRQ, TRAIL_RST_SRC_REPLY, -1, RST_NO_SOCKET, 1,
		 seg(LO, 40200, LO, 8080, 0x18, 1001, 2001));
	s = sock(TRAIL_SOCK_FULL, LO, 8080, LO, 40200);
	lnk(s, r, TRAIL_LINK_CHILD_OF_REQ);
	st(s, S(1) + US(60), T_SOFTIRQ, LISTEN, SYN_RECV);
	st(s, S(1) + US(70), T_SOFTIRQ, SYN_RECV, ESTABLISHED);
	retire(r);
	rst_recv(S(1) + US(80), c, ESTABLISHED, seg(LO, 8080, LO, 40200, 0x04, 2001, 0));
	st(c, S(1) + US(81), T_SOFTIRQ, ESTABLISHED, CLOSE);
	retire(c);
	close_normally(S(2), sock(TRAIL_SOCK_FULL, LO, 1, LO, 2), s);
}

static void abort_on(int reason)
{
	uint64_t l = listener(0, 8080), c, s;

	stack(2, active_reset_stack, 7);
	c = handshake(S(1), l, 40300, 8080, 8080, &s);
	life(c, S(2), T_CLIENT, TRAIL_LIFE_CLOSE_CALL, 0);
	rst_sent(S(2) + US(1), c, T_CLIENT, TRAIL_RST_SRC_ACTIVE, ESTABLISHED, reason, 2,
		 seg(LO, 40300, LO, 8080, 0x14, 3000, 4000));
	st(c, S(2) + US(2), T_CLIENT, ESTABLISHED, CLOSE);
	retire(c);
	rst_recv(S(2) + US(10), s, ESTABLISHED, seg(LO, 40300, LO, 8080, 0x14, 3000, 4000));
	st(s, S(2) + US(11), T_SOFTIRQ, ESTABLISHED, CLOSE);
	retire(s);
}

static void linger(void) { abort_on(RST_ABORT_ON_LINGER); }
static void unread(void) { abort_on(RST_ABORT_ON_CLOSE); }
/* a reason name from a hostile file */
static void hostile(void) { abort_on(77); }

/* the server's socket answers a segment that does not fit its state */
static void reply_rst(void)
{
	uint64_t l = listener(0, 8080), c, s;

	stack(1, send_reset_stack, 5);
	c = handshake(S(1), l, 40700, 8080, 8080, &s);
	rst_sent(S(2), s, T_SOFTIRQ, TRAIL_RST_SRC_REPLY, ESTABLISHED, RST_STATE, 1,
		 seg(LO, 40700, LO, 8080, 0x10, 1, 99999));
	rst_recv(S(2) + US(5), c, ESTABLISHED, seg(LO, 8080, LO, 40700, 0x04, 99999, 0));
	st(c, S(2) + US(6), T_SOFTIRQ, ESTABLISHED, CLOSE);
	retire(c);
	st(s, S(2) + US(7), T_SOFTIRQ, ESTABLISHED, CLOSE);
	retire(s);
}

static void external(void)
{
	uint64_t l = listener(0, 8080), c, s;

	c = handshake(S(1), l, 40400, 8080, 8080, &s);
	rst_recv(S(2), s, ESTABLISHED, seg(LO, 40400, LO, 8080, 0x04, 3000, 0));
	st(s, S(2) + US(1), T_SOFTIRQ, ESTABLISHED, CLOSE);
	retire(s);
	close_normally(S(3), c, sock(TRAIL_SOCK_FULL, LO, 3, LO, 4));
}

static void peer_reset(void)
{
	uint64_t c = sock(TRAIL_SOCK_FULL, "10.0.0.1", 0, REMOTE, 443);

	st(c, S(1), T_CLIENT, CLOSE, SYN_SENT);
	tuple(c, "10.0.0.1", 50000, REMOTE, 443);
	st(c, S(1) + MS(20), T_SOFTIRQ, SYN_SENT, ESTABLISHED);
	rst_recv(S(3), c, ESTABLISHED, seg(REMOTE, 443, "10.0.0.1", 50000, 0x04, 9000, 0));
	st(c, S(3) + US(1), T_SOFTIRQ, ESTABLISHED, CLOSE);
	retire(c);
}

/* a refused connect recorded by a recorder without reset probes: no timeout */
static void refused_states_only(void)
{
	uint64_t c = sock(TRAIL_SOCK_FULL, LO, 0, LO, 9);

	st(c, S(1), T_CLIENT, CLOSE, SYN_SENT);
	tuple(c, LO, 40800, LO, 9);
	st(c, S(1) + US(100), T_CLIENT, SYN_SENT, CLOSE);
	retire(c);
}

static void syn_timeout(void)
{
	uint64_t c = sock(TRAIL_SOCK_FULL, "10.0.0.1", 0, REMOTE, 81);
	int i;

	st(c, S(1), T_CLIENT, CLOSE, SYN_SENT);
	tuple(c, "10.0.0.1", 50100, REMOTE, 81);
	for (i = 0; i < 3; i++)
		retrans(S(1) + S(1u << i), c, TRAIL_RETRANS_SYN, SYN_SENT,
			seg("10.0.0.1", 50100, REMOTE, 81, 0x02, 77, 0));
	st(c, S(16), T_SOFTIRQ, SYN_SENT, CLOSE);
	retire(c);
}

static void synack_timeout(void)
{
	uint64_t l = listener(0, 8080), r;

	r = sock(TRAIL_SOCK_REQUEST, "10.0.0.2", 8080, REMOTE, 5000);
	lnk(r, l, TRAIL_LINK_REQ_OF_LISTENER);
	life(r, S(1), T_SOFTIRQ, TRAIL_LIFE_SYN_ARRIVED, 0);
	retrans(S(2), r, TRAIL_RETRANS_SYNACK, NEW_SYN_RECV,
		seg("10.0.0.2", 8080, REMOTE, 5000, 0x12, 500, 78));
	retrans(S(4), r, TRAIL_RETRANS_SYNACK, NEW_SYN_RECV,
		seg("10.0.0.2", 8080, REMOTE, 5000, 0x12, 500, 78));
	life(r, S(8), T_SOFTIRQ, TRAIL_LIFE_REQ_DROPPED, 0);
	retire(r);
}

static void overflow(void)
{
	uint64_t l = listener(0, 8080);
	int i;

	for (i = 0; i < 3; i++)
		drop(S(1) + MS(i), l, DROP_LISTEN_OVERFLOW,
		     seg(REMOTE, (uint16_t)(6000 + i), "10.0.0.2", 8080, 0x10, 1, 1));
}

static void close_wait(void)
{
	uint64_t l = listener(0, 8080), c, s;

	c = handshake(S(1), l, 40600, 8080, 8080, &s);
	st(c, S(2), T_CLIENT, ESTABLISHED, FIN_WAIT1);
	st(s, S(2) + US(10), T_SOFTIRQ, ESTABLISHED, CLOSE_WAIT);
	st(c, S(2) + US(20), T_SOFTIRQ, FIN_WAIT1, FIN_WAIT2);
	st(s, S(10), T_SERVER, CLOSE_WAIT, LAST_ACK);
	st(c, S(10) + US(10), T_SOFTIRQ, FIN_WAIT2, CLOSE);
	retire(c);
	st(s, S(10) + US(20), T_SOFTIRQ, LAST_ACK, CLOSE);
	retire(s);
}

/* the peer (remote, not recorded) never sends its FIN */
static void fin_wait2(void)
{
	uint64_t c = sock(TRAIL_SOCK_FULL, "10.0.0.1", 0, REMOTE, 80), tw;

	st(c, S(1), T_CLIENT, CLOSE, SYN_SENT);
	tuple(c, "10.0.0.1", 50200, REMOTE, 80);
	st(c, S(1) + MS(1), T_SOFTIRQ, SYN_SENT, ESTABLISHED);
	life(c, S(2), T_CLIENT, TRAIL_LIFE_CLOSE_CALL, 0);
	st(c, S(2) + US(1), T_CLIENT, ESTABLISHED, FIN_WAIT1);
	st(c, S(2) + MS(1), T_SOFTIRQ, FIN_WAIT1, FIN_WAIT2);
	tw = sock(TRAIL_SOCK_TIMEWAIT, "10.0.0.1", 50200, REMOTE, 80);
	lnk(tw, c, TRAIL_LINK_TIMEWAIT_OF);
	life(tw, S(2) + MS(2), T_SOFTIRQ, TRAIL_LIFE_TIMEWAIT_ENTER, FIN_WAIT2);
	st(c, S(2) + MS(2) + 1, T_SOFTIRQ, FIN_WAIT2, CLOSE);
	retire(c);
	life(tw, S(62) + MS(2), T_SOFTIRQ, TRAIL_LIFE_TIMEWAIT_END, 0);
	retire(tw);
}

static void lost(void)
{
	uint64_t ring[2] = { 0, 7 };
	struct trail_loss loss = { ring, 2, NULL, 0 };

	healthy();
	trail_writer__loss(w, &loss);
}

const struct scenario scenarios[] = {
	{ "healthy", healthy },
	{ "closed_port", closed_port },
	{ "nat", nat },
	{ "lookup_race", lookup_race },
	{ "linger", linger },
	{ "unread", unread },
	{ "hostile", hostile },
	{ "external", external },
	{ "reply_rst", reply_rst },
	{ "peer_reset", peer_reset },
	{ "refused_states_only", refused_states_only },
	{ "syn_timeout", syn_timeout },
	{ "synack_timeout", synack_timeout },
	{ "overflow", overflow },
	{ "close_wait", close_wait },
	{ "fin_wait2", fin_wait2 },
	{ "lost", lost },
	{ 0 },
};
