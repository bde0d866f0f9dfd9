// SPDX-License-Identifier: BSD-2-Clause
/* Rules for resets: who sent each RST, and why the kernel says it did. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "detect_int.h"
#include "pcap.h"

#define RST_WINDOW_NS (1000ull * 1000000)	/* a sent RST explains one received within 1 s */

static const struct ana_side *peer_of(const struct ana_conn *c, const struct ana_side *s)
{
	return !c ? NULL : c->client == s ? c->server : c->client;
}

static const struct ana_pkts *pkts_of(const struct det *d)
{
	return d->cap->pcap ? d->cap->pcap->pkts : NULL;
}

static void det__pkt(struct ana_finding *f, const struct ana_pkt *k, const char *role)
{
	if (!f || f->nev >= ANA_MAX_EVIDENCE)
		return;
	memset(&f->ev[f->nev], 0, sizeof(f->ev[0]));
	f->ev[f->nev].role = role;
	f->ev[f->nev].pkt = k;
	f->nev++;
}

/* The role of the lane that sent K. */
static const char *pkt_role(const struct ana_conn *c, const struct ana_pkt *k)
{
	if (!c->roles_known)
		return k->from ? "side B" : "side A";
	return k->from ? "server" : "client";
}

/* The packet EV made or that made it, as evidence. */
static void with_packet(struct det *d, struct ana_finding *f, const struct ana_conn *c,
			const struct ana_event *ev)
{
	const struct ana_pkt *k = ana_pkts__of_event(pkts_of(d), ev);

	if (k)
		det__pkt(f, k, c ? pkt_role(c, k) : "-");
}

/* The task that aborted: the RST's own, else the last close() before it. */
static uint32_t abort_task(const struct ana_side *s, const struct ana_event *ev)
{
	uint32_t i, t = ev->task;

	if (t != ANA_NO_TASK)
		return t;
	for (i = 0; i < s->nevents; i++)
		if (s->events[i].type == EV_CLOSE_CALL && s->events[i].ts_ns <= ev->ts_ns &&
		    s->events[i].task != ANA_NO_TASK)
			t = s->events[i].task;
	return t;
}

static const struct ana_event *close_call(const struct ana_side *s, uint64_t before)
{
	const struct ana_event *e = NULL;
	uint32_t i;

	for (i = 0; i < s->nevents; i++)
		if (s->events[i].type == EV_CLOSE_CALL && s->events[i].ts_ns <= before)
			e = &s->events[i];
	return e;
}

/* Frame I of ST is function FN ("fn+0x..."). */
static int frame_is(const struct trail_stack *st, uint32_t i, const char *fn)
{
	size_t n = strlen(fn);

	return i < st->nframes && st->frames[i] && !strncmp(st->frames[i], fn, n) &&
	       st->frames[i][n] == '+';
}

/* EV's stack: the RST came from tcp_disconnect() called by A (or B). */
static int disconnect_from(struct det *d, const struct ana_event *ev, const char *a,
			   const char *b)
{
	const struct trail_stack *st = ev->stack_id ?
		trail_reader__stack(d->cap->r, ev->stack_id) : NULL;
	uint32_t i;

	for (i = 0; st && i + 1 < st->nframes && i < 4; i++)
		if (frame_is(st, i, "tcp_disconnect"))
			return frame_is(st, i + 1, a) || (b && frame_is(st, i + 1, b));
	return 0;
}

/* close() of a socket with SO_LINGER {1, 0}: __tcp_close() calls
 * tcp_disconnect(), which sends the RST. Kernels name that RST by the state
 * it was sent in (TCP_STATE, DISCONNECT_WITH_DATA) or not at all, so the
 * stack is what tells it; __tcp_close() calls tcp_disconnect() for nothing
 * else that resets (TCP_REPAIR sockets disconnect without RST). */
static int linger_stack(struct det *d, const struct ana_event *ev)
{
	return disconnect_from(d, ev, "__tcp_close", "tcp_close");
}

/* Closing a listener aborts the children still in its accept queue:
 * inet_csk_listen_stop() -> inet_child_forget() -> tcp_disconnect(). */
static int listener_closed_stack(struct det *d, const struct ana_event *ev)
{
	return disconnect_from(d, ev, "inet_child_forget", "inet_csk_listen_stop");
}

static void active(struct det *d, const struct ana_conn *c, const struct ana_side *s,
		   const struct ana_event *ev)
{
	const char *role = det__role(c, s);
	const struct ana_event *cc = close_call(s, ev->ts_ns);
	char rs[160], task[128], st[32];
	struct ana_finding *f;
	enum ana_kind k = K_RST_ABORT;
	int by_stack = 0;

	if (det__is(d, TRAIL_ENUM_RST_REASON, ev->reason, "ABORT_ON_CLOSE"))
		k = K_RST_CLOSE_UNREAD;
	else if ((by_stack = linger_stack(d, ev)) ||
		 det__is(d, TRAIL_ENUM_RST_REASON, ev->reason, "ABORT_ON_LINGER"))
		k = K_RST_LINGER_ABORT;
	f = det__new(d, k, c, ev->ts_ns);
	if (!f)
		return;
	det__enum(d, TRAIL_ENUM_RST_REASON, ev->reason, rs, sizeof(rs));
	det__task(d, abort_task(s, ev), task, sizeof(task));
	ana_states__name(&d->cap->states, ev->state, st, sizeof(st));
	if (cc)
		det__ev(f, s, role, cc, NULL);
	det__ev(f, s, role, ev, NULL);
	with_packet(d, f, c, ev);
	snprintf(f->summary, sizeof(f->summary), "the %s aborted the connection with RST"
		 " (%s), process %s", role, rs, task);
	if (k == K_RST_CLOSE_UNREAD)
		snprintf(f->explain, sizeof(f->explain), "This host sent the RST itself"
			 " (tcp_send_active_reset, reason %s): the process closed the socket while"
			 " received data was still unread, and the kernel resets instead of sending"
			 " FIN so the peer learns the data was not consumed. Check the application"
			 " of %s: it closes before reading the whole request/response (early error"
			 " path, short read, half-close handling).", rs, task);
	else if (k == K_RST_LINGER_ABORT && by_stack)
		snprintf(f->explain, sizeof(f->explain), "This host sent the RST itself"
			 " (tcp_send_active_reset, reason %s). The recorded stack shows it came"
			 " from close() through __tcp_close() and tcp_disconnect(): the kernel"
			 " takes that path only for a socket with SO_LINGER set and a zero linger"
			 " time, and names the RST by the state it aborted, not by linger; this"
			 " cause is inferred from the stack. close() aborted the connection with"
			 " RST instead of FIN and discarded unsent data. Check the application of"
			 " %s for setsockopt(SO_LINGER, {1, 0}); it is sometimes used on purpose"
			 " to avoid TIME_WAIT.", rs, task);
	else if (k == K_RST_LINGER_ABORT)
		snprintf(f->explain, sizeof(f->explain), "This host sent the RST itself"
			 " (tcp_send_active_reset, reason %s): the process closed a socket that"
			 " was in FIN_WAIT2 and had TCP_LINGER2 set negative, so instead of"
			 " waiting for the peer's FIN the kernel aborted the connection with RST"
			 " (tcp_close). Check the application of %s for setsockopt(TCP_LINGER2)"
			 " with a negative value.", rs, task);
	else if (listener_closed_stack(d, ev))
		snprintf(f->explain, sizeof(f->explain), "This host sent the RST itself"
			 " (tcp_send_active_reset, reason %s). The recorded stack shows why: the"
			 " listening socket was closed (inet_csk_listen_stop) while this connection"
			 " waited in its accept queue, never accepted, and closing a listener aborts"
			 " those connections (inet_child_forget, tcp_disconnect). The peer had"
			 " completed its handshake and sees a reset. Check the application of %s:"
			 " it closed its listening socket, or exited, with connections not yet"
			 " accepted (a restart, or accept() not keeping up).", rs, task);
	else
		snprintf(f->explain, sizeof(f->explain), "This host sent the RST itself"
			 " (tcp_send_active_reset) in state %s, reason %s%s. Active resets come from"
			 " close() with unread data, SO_LINGER 0, memory pressure (orphan limit) or"
			 " a keepalive timeout%s. Check the process %s and the kernel reason.",
			 st, rs, ev->reason == TRAIL_NO_REASON ?
			 " (this kernel or recorder gives no reason, so the capture cannot tell"
			 " which)" : "", cc ? "; close() was called just before it" : "", task);
}

/* Evidence around TS on S: the moments just before and after it. */
static void around(struct ana_finding *f, const struct ana_conn *c, const struct ana_side *s,
		   uint64_t ts)
{
	const struct ana_event *eb = NULL, *ea = NULL;
	const struct ana_change *cb = NULL, *ca = NULL;
	uint32_t i;

	if (!s)
		return;
	for (i = 0; i < s->nchanges; i++) {
		const struct ana_change *ch = &s->changes[i];

		if (ch->ts_ns <= ts && (!cb || ch->ts_ns >= cb->ts_ns))
			cb = ch;
		if (ch->ts_ns > ts && (!ca || ch->ts_ns < ca->ts_ns))
			ca = ch;
	}
	for (i = 0; i < s->nevents; i++) {
		const struct ana_event *e = &s->events[i];

		if (e->type != EV_SYN_ARRIVED && e->type != EV_RST_RECV)
			continue;
		if (e->ts_ns <= ts && (!eb || e->ts_ns >= eb->ts_ns))
			eb = e;
		if (e->ts_ns > ts && (!ea || e->ts_ns < ea->ts_ns))
			ea = e;
	}
	if (eb)
		det__ev(f, s, det__role(c, s), eb, NULL);
	if (cb)
		det__ev(f, s, det__role(c, s), NULL, cb);
	if (ca)
		det__ev(f, s, det__role(c, s), NULL, ca);
	if (ea)
		det__ev(f, s, det__role(c, s), ea, NULL);
}

static int same_seg(const struct trail_segment *a, const struct trail_segment *b)
{
	return a->family && a->family == b->family && a->flags == b->flags &&
	       a->sport == b->sport && a->dport == b->dport && a->seq == b->seq &&
	       a->ack == b->ack && !memcmp(a->saddr, b->saddr, sizeof(a->saddr)) &&
	       !memcmp(a->daddr, b->daddr, sizeof(a->daddr));
}

/* The kernel records both the RST with no socket and the drop of the
 * segment it answers: the other one of the pair on S, or NULL. */
static const struct ana_event *twin(const struct ana_side *s, const struct ana_event *ev)
{
	uint8_t want = ev->type == EV_DROP ? EV_RST_SENT : EV_DROP;
	uint32_t i;

	for (i = 0; s && i < s->nevents; i++) {
		const struct ana_event *e = &s->events[i];

		if (e->type == want && e->match == ev->match && same_seg(&e->seg, &ev->seg) &&
		    e->ts_ns <= ev->ts_ns + RST_WINDOW_NS && e->ts_ns + RST_WINDOW_NS >= ev->ts_ns)
			return e;
	}
	return NULL;
}

/* When the side of C that segment G was addressed to went to CLOSE at or
 * before TS (its socket gone, so the lookup failed): that time, else 0.
 * *WHO is that side. */
static uint64_t closed_before(struct det *d, const struct ana_conn *c, const struct ana_side *s,
			      const struct trail_segment *g, uint64_t ts,
			      const struct ana_side **who)
{
	const struct ana_side *r = s && s->sport == g->dport ? s : peer_of(c, s);
	uint64_t at = 0;
	uint32_t i;

	*who = r;
	for (i = 0; r && i < r->nchanges && r->changes[i].ts_ns <= ts; i++)
		if (ana_states__kind(&d->cap->states, r->changes[i].newstate) == ST_CLOSE)
			at = r->changes[i].ts_ns;
	return at;
}

static void nosock(struct det *d, const struct ana_conn *c, const struct ana_side *s,
		   const struct ana_event *ev)
{
	const struct ana_side *gone;
	uint64_t gone_at;
	const struct ana_event *dr;
	const char *role = det__role(c, s);
	char seg[160], tup[160], rs[160], st[32];
	struct ana_finding *f;
	enum ana_kind k = ev->match == MATCH_NAT ? K_NAT_MISMATCH :
			  ev->match == MATCH_RECEIVER ? K_RST_LOOKUP_RACE : K_RST_NO_SOCKET;
	const char *what = ev->type == EV_DROP ? "dropped" : "answered with RST";

	if (ev->type == EV_DROP && (k != K_NAT_MISMATCH || twin(s, ev)))
		return;	/* not a finding, or the RST's finding shows it */
	f = det__new(d, k, c, ev->ts_ns);
	if (!f)
		return;
	det__seg(&ev->seg, seg, sizeof(seg));
	det__tuple(s, tup, sizeof(tup));
	det__enum(d, ev->type == EV_DROP ? TRAIL_ENUM_DROP_REASON : TRAIL_ENUM_RST_REASON,
		  ev->reason, rs, sizeof(rs));
	/* placed on the side that sent the segment: no side of ours sent the RST */
	det__ev(f, s, ev->match == MATCH_SENDER ? "-" : role, ev, NULL);
	if (ev->type == EV_RST_SENT && (dr = twin(s, ev)))
		det__ev(f, s, ev->match == MATCH_SENDER ? "-" : role, dr, NULL);
	with_packet(d, f, c, ev);
	/* the other end's view (the sender's own when there is no other end),
	 * and for a race the moments around it */
	if ((k == K_NAT_MISMATCH || k == K_RST_NO_SOCKET) && peer_of(c, s))
		around(f, c, peer_of(c, s), ev->ts_ns);
	else
		around(f, c, s, ev->ts_ns);
	switch (k) {
	case K_NAT_MISMATCH:
		snprintf(f->summary, sizeof(f->summary), "segment %s %s without a socket; it is"
			 " the untranslated form of this connection (%s socket %s)", seg, what,
			 role, tup);
		snprintf(f->explain, sizeof(f->explain), "The segment %s (reason %s) matched no"
			 " socket, but it comes from the same client endpoint as the live %s socket"
			 " %s, whose local port is %u, not %u. The connection was set up"
			 " through an address translation (NAT, e.g. iptables REDIRECT/DNAT to port"
			 " %u), and this segment reached TCP without it, so the lookup found nothing"
			 " and the kernel %s (article 002). Check the NAT rules (iptables -t nat -S,"
			 " nft list ruleset) and the conntrack entry of the client endpoint"
			 " (conntrack -L): a rule changed or an entry expired or was flushed while"
			 " the connection was open.", seg, rs, role, tup, s->sport, ev->seg.dport,
			 s->sport, what);
		break;
	case K_RST_LOOKUP_RACE:
		ana_states__name(&d->cap->states, ev->state, st, sizeof(st));
		snprintf(f->summary, sizeof(f->summary), "RST sent for %s with no socket while"
			 " this connection's socket with that tuple was alive", seg);
		snprintf(f->explain, sizeof(f->explain), "The kernel found no socket for %s"
			 " (reason %s) and answered with RST, yet the %s socket %s of this connection"
			 " existed at that instant. The lookup missed a live socket: the race of"
			 " article 002, where the request sock is replaced by its child socket"
			 " (inet_ehash_insert) while a concurrent lookup on another CPU sees"
			 " neither. Check whether the segment arrived while this connection's"
			 " handshake was completing (compare the times below), and the kernel"
			 " version for fixes to the established-hash insertion race.", seg, rs,
			 role, tup);
		break;
	default:
		snprintf(f->summary, sizeof(f->summary), "no socket for %s: the kernel answered"
			 " with RST", seg);
		gone_at = c && !(ev->seg.flags & TRAIL_TCP_SYN) ?
			  closed_before(d, c, s, &ev->seg, ev->ts_ns, &gone) : 0;
		if (gone_at) {
			/* a late segment to an end that had already closed */
			const char *gr = det__role(c, gone), *sr = det__role(c, peer_of(c, gone));

			snprintf(f->explain, sizeof(f->explain), "The segment %s (flags 0x%02x,"
				 " reason %s) was addressed to the %s's end of this connection, whose"
				 " socket had gone to CLOSE %.3f ms before, so no socket matched and"
				 " the kernel answered with RST (tcp_v4/v6_send_reset). The %s had not"
				 " learned that the connection was over and went on sending. The fault,"
				 " if any, is what ended the %s's socket first (see the findings and"
				 " events before this one, e.g. a reset it received); this RST is its"
				 " consequence.", seg, ev->seg.flags, rs, gr,
				 (double)(ev->ts_ns - gone_at) / 1e6, sr, gr);
			break;
		}
		snprintf(f->explain, sizeof(f->explain), "The segment %s (flags 0x%02x, reason %s)"
			 " arrived for an address and port with no socket%s, so the kernel answered"
			 " with RST (tcp_v4/v6_send_reset). %s Check that the server is running and"
			 " listening on port %u in this network namespace, and the client's"
			 " configured port.", seg, ev->seg.flags, rs,
			 ev->seg.flags & TRAIL_TCP_SYN ? " (a connection attempt: no listener)" : "",
			 ev->seg.flags & TRAIL_TCP_SYN ? "The client sees 'connection refused'." :
			 "The connection had ended on the receiving side (or never existed there).",
			 ev->seg.dport);
		break;
	}
}

/* This host's socket answered a segment with RST. */
static void reply(struct det *d, const struct ana_conn *c, const struct ana_side *s,
		  const struct ana_event *ev)
{
	const char *role = det__role(c, s);
	char seg[160], rs[160], st[32];
	struct ana_finding *f = det__new(d, K_RST_SENT, c, ev->ts_ns);

	if (!f)
		return;
	det__ev(f, s, role, ev, NULL);
	with_packet(d, f, c, ev);
	det__seg(&ev->seg, seg, sizeof(seg));
	det__enum(d, TRAIL_ENUM_RST_REASON, ev->reason, rs, sizeof(rs));
	ana_states__name(&d->cap->states, ev->state, st, sizeof(st));
	snprintf(f->summary, sizeof(f->summary), "the %s's socket answered %s with RST in state"
		 " %s (%s)", role, seg, ev->state == TRAIL_NO_STATE ? "(not recorded)" : st, rs);
	snprintf(f->explain, sizeof(f->explain), "The socket existed but the segment %s did not"
		 " fit its state, so the kernel answered with RST (tcp_v4/v6_send_reset, reason"
		 " %s). Typical causes: a segment for a connection this side already closed"
		 " (a timewait sock answering a new SYN or data), an ACK for data never sent, or"
		 " a peer that kept sending after this side aborted. Check what the peer sent"
		 " (the segment's flags, seq and ack) against this side's state changes.", seg, rs);
}

/* A sent RST on either side of C close to TS (it explains a received one). */
static const struct ana_event *local_sender(const struct ana_conn *c, uint64_t ts)
{
	const struct ana_side *sides[2] = { c ? c->client : NULL, c ? c->server : NULL };
	uint32_t i, j;

	for (j = 0; j < 2; j++) {
		const struct ana_side *s = sides[j];

		for (i = 0; s && i < s->nevents; i++) {
			const struct ana_event *e = &s->events[i];

			if (e->type == EV_RST_SENT && e->ts_ns <= ts + RST_WINDOW_NS &&
			    e->ts_ns + RST_WINDOW_NS >= ts)
				return e;
		}
	}
	return NULL;
}

/* The last packet of C from lane LANE before packet K: the segment an RST answered. */
static const struct ana_pkt *answered(const struct ana_pkts *p, const struct ana_conn *c,
				      const struct ana_pkt *k, int lane)
{
	const struct ana_pkt *best = NULL;
	const uint32_t *idx = NULL;
	size_t n, i;

	idx = ana_pkts__conn(p, c, &n);
	for (i = 0; i < n && &p->v[idx[i]] != k; i++)
		if ((p->v[idx[i]].from & 1) == lane)
			best = &p->v[idx[i]];
	return best;
}

/* With a pcap: RST packets that leave side S's end although its TCP stack
 * sent no RST matching them (packets.c marks them external). */
static void external_packets(struct det *d, const struct ana_conn *c, const struct ana_side *s)
{
	const struct ana_pkts *p = pkts_of(d);
	const char *role = det__role(c, s);
	const uint32_t *idx;
	char src[ANA_EPSTRLEN], dst[ANA_EPSTRLEN], fl[48], safe[4200];
	size_t n, i;
	int lane;

	if (!p || !c)
		return;
	lane = s == c->client ? 0 : 1;
	idx = ana_pkts__conn(p, c, &n);
	for (i = 0; i < n && !d->err; i++) {
		const struct ana_pkt *k = &p->v[idx[i]], *q;
		struct ana_finding *f;

		if (!k->external || (k->from & 1) != lane)
			continue;
		f = det__new(d, K_RST_EXTERNAL, c, k->ts);
		if (!f)
			return;
		q = answered(p, c, k, !lane);
		if (q)
			det__pkt(f, q, pkt_role(c, q));
		det__pkt(f, k, role);
		if (k->eff && k->eff->type == EV_RST_RECV)
			det__ev(f, k->eff_side, det__role(c, k->eff_side), k->eff, NULL);
		around(f, c, s, k->ts);
		ana_endpoint(k->seg.family, k->seg.saddr, k->seg.sport, src, sizeof(src));
		ana_endpoint(k->seg.family, k->seg.daddr, k->seg.dport, dst, sizeof(dst));
		ana_tcp_flags(k->seg.flags, fl, sizeof(fl));
		snprintf(f->summary, sizeof(f->summary), "RST packet #%u %s -> %s on the wire that"
			 " the %s's TCP stack did not send", k->num, src, dst, role);
		snprintf(f->explain, sizeof(f->explain), "Packet #%u of the pcap %s is an RST (%s,"
			 " seq %u) from %s, the address and port of the %s's socket recorded in this"
			 " capture, but that TCP stack recorded no RST for it: no tcp_v4/v6_send_reset"
			 " or tcp_send_active_reset event with this tuple and sequence number (the"
			 " recorder's reset probe was on). So something outside TCP made it: a"
			 " firewall rule (iptables/nft REJECT --reject-with tcp-reset), conntrack, a"
			 " middlebox, or a forged packet.%s%s Check the firewall rules where the"
			 " packet was captured (iptables -S, nft list ruleset) for one matching port"
			 " %u%s.", k->num, ana_safe(p->path, safe, 1024), fl, k->seg.seq, src, role,
			 q ? " It answered the packet before it from the other side." : "",
			 k->eff && k->eff->type == EV_RST_RECV ? " The receiving TCP took it in and"
			 " reset the connection." : "",
			 k->seg.sport, ana_capture__loss_total(d->cap) ? " (the capture lost events,"
			 " so a sent RST may be missing from it: compare with the loss counters)" : "");
	}
}

static void received(struct det *d, const struct ana_conn *c, const struct ana_side *s,
		     const struct ana_event *ev)
{
	const struct ana_side *peer = peer_of(c, s);
	const struct ana_pkt *k = ana_pkts__of_event(pkts_of(d), ev);
	const char *role = det__role(c, s);
	char seg[160], st[32];
	struct ana_finding *f;

	if (local_sender(c, ev->ts_ns))
		return;	/* the local sender's finding explains it */
	if (k && k->external)
		return;	/* its packet's rst_external finding explains it */
	f = det__new(d, peer ? K_RST_EXTERNAL : K_RST_RECEIVED, c, ev->ts_ns);
	if (!f)
		return;
	if (k)
		det__pkt(f, k, pkt_role(c, k));
	det__seg(&ev->seg, seg, sizeof(seg));
	if (ev->state == TRAIL_NO_STATE)
		snprintf(st, sizeof(st), "(state not recorded)");
	else
		ana_states__name(&d->cap->states, ev->state, st, sizeof(st));
	det__ev(f, s, role, ev, NULL);
	if (peer) {
		snprintf(f->summary, sizeof(f->summary), "the %s received an RST (%s) that no"
			 " local TCP stack sent", role, seg);
		snprintf(f->explain, sizeof(f->explain), "Both ends of this connection are on"
			 " this host and were recorded, but neither TCP stack recorded sending an RST"
			 " within 1 s of it: it was most likely made"
			 " outside TCP, by a firewall rule (iptables/nft REJECT --reject-with"
			 " tcp-reset), a middlebox or conntrack, or it is forged. Check the"
			 " firewall rules on the path and, if a pcap was taken, where the RST"
			 " appeared.");
	} else {
		snprintf(f->summary, sizeof(f->summary), "the %s received an RST from the peer"
			 " in state %s (%s)", role, st, seg);
		snprintf(f->explain, sizeof(f->explain), "The peer (not recorded in this"
			 " capture) or something between reset the connection while this side was"
			 " %s. A peer resets when its application aborts (SO_LINGER 0, close with"
			 " unread data), when it has no socket for the connection (restarted,"
			 " timed out, NAT state lost) or when a firewall injects it. Check the"
			 " peer's logs and a capture on the peer's side.", st);
	}
}

void det__resets(struct det *d, const struct ana_conn *c, const struct ana_side *s)
{
	uint32_t i;

	external_packets(d, c, s);
	for (i = 0; i < s->nevents && !d->err; i++) {
		const struct ana_event *ev = &s->events[i];

		if (ev->type == EV_RST_SENT && ev->match != MATCH_SOCK)
			nosock(d, c, s, ev);
		else if (ev->type == EV_DROP && ev->match == MATCH_NAT)
			nosock(d, c, s, ev);
		else if (ev->type == EV_RST_SENT && ev->sub == TRAIL_RST_SRC_ACTIVE)
			active(d, c, s, ev);
		else if (ev->type == EV_RST_SENT)
			reply(d, c, s, ev);
		else if (ev->type == EV_RST_RECV)
			received(d, c, s, ev);
	}
}

void det__orphan(struct det *d, const struct ana_event *ev)
{
	char seg[160], rs[160];
	struct ana_finding *f;

	if (ev->type == EV_RST_SENT) {
		nosock(d, NULL, NULL, ev);
		return;
	}
	if (ev->type == EV_DROP && det__is(d, TRAIL_ENUM_DROP_REASON, ev->reason, "LISTEN_OVERFLOW")) {
		f = det__new(d, K_LISTEN_OVERFLOW, NULL, ev->ts_ns);
		if (!f)
			return;
		det__ev(f, NULL, "-", ev, NULL);
		snprintf(f->summary, sizeof(f->summary), "segment %s dropped: listen queue"
			 " overflow", det__seg(&ev->seg, seg, sizeof(seg)));
		snprintf(f->explain, sizeof(f->explain), "The kernel dropped this segment"
			 " (reason %s): the listener's accept queue was full, so the handshake"
			 " could not complete. Check that the application calls accept() fast"
			 " enough, its listen() backlog and net.core.somaxconn.",
			 det__enum(d, TRAIL_ENUM_DROP_REASON, ev->reason, rs, sizeof(rs)));
		return;
	}
	if (ev->type == EV_RST_RECV) {
		f = det__new(d, K_RST_RECEIVED, NULL, ev->ts_ns);
		if (!f)
			return;
		det__ev(f, NULL, "-", ev, NULL);
		snprintf(f->summary, sizeof(f->summary), "RST %s received for no known socket",
			 det__seg(&ev->seg, seg, sizeof(seg)));
		snprintf(f->explain, sizeof(f->explain), "An RST arrived that the capture cannot"
			 " tie to a recorded connection (it may belong to one opened before the"
			 " recording started). Check the peer named in the segment.");
	}
}
