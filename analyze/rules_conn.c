// SPDX-License-Identifier: BSD-2-Clause
/* Rules over a connection's life: handshake trouble, closes that hang. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "detect_int.h"

static enum ana_st kind(struct det *d, uint16_t v)
{
	return ana_states__kind(&d->cap->states, v);
}

static int reached(struct det *d, const struct ana_side *s, enum ana_st st)
{
	uint32_t i;

	for (i = 0; s && i < s->nchanges; i++)
		if (kind(d, s->changes[i].newstate) == st)
			return 1;
	return 0;
}

/* S entered ST at or before TS. */
static int reached_by(struct det *d, const struct ana_side *s, enum ana_st st, uint64_t ts)
{
	uint32_t i;

	for (i = 0; s && i < s->nchanges; i++)
		if (kind(d, s->changes[i].newstate) == st && s->changes[i].ts_ns <= ts)
			return 1;
	return 0;
}

static int has_event(const struct ana_side *s, enum ana_ev_type t)
{
	uint32_t i;

	for (i = 0; s && i < s->nevents; i++)
		if (s->events[i].type == t)
			return 1;
	return 0;
}

/* Drops on this host of this connection's segments up to UNTIL (the last
 * resend): added as evidence; their number, the first one's reason in RS. */
static uint32_t drops_until(struct det *d, struct ana_finding *f, const struct ana_conn *c,
			    const struct ana_side *s, uint64_t until, char *rs, size_t len)
{
	const struct ana_side *sides[2] = { s, !c ? NULL : c->client == s ? c->server : c->client };
	const struct ana_event *first = NULL;
	uint32_t i, j, n = 0;

	for (j = 0; j < 2; j++)
		for (i = 0; sides[j] && i < sides[j]->nevents; i++) {
			const struct ana_event *e = &sides[j]->events[i];

			if (e->type != EV_DROP || e->ts_ns > until)
				continue;
			if (!n++ || e->ts_ns < first->ts_ns)
				first = e;
			det__ev(f, sides[j], det__role(c, sides[j]), e, NULL);
		}
	if (first)
		det__enum(d, TRAIL_ENUM_DROP_REASON, first->reason, rs, len);
	return n;
}

static void retransmits(struct det *d, const struct ana_conn *c, const struct ana_side *s)
{
	const struct ana_event *last[2] = { 0 };
	char rs[160];
	uint32_t nd;
	const char *role = det__role(c, s);
	const struct ana_event *first[2] = { 0 };
	struct ana_finding *f;
	uint32_t i, n[2] = { 0 };
	int k;
	char ms[32];

	for (i = 0; i < s->nevents; i++) {
		const struct ana_event *e = &s->events[i];

		if (e->type != EV_RETRANS || (e->sub != TRAIL_RETRANS_SYN &&
					      e->sub != TRAIL_RETRANS_SYNACK))
			continue;
		k = e->sub == TRAIL_RETRANS_SYNACK;
		if (!n[k]++ || e->ts_ns < first[k]->ts_ns)
			first[k] = e;
		if (!last[k] || e->ts_ns > last[k]->ts_ns)
			last[k] = e;
	}
	for (k = 0; k < 2; k++) {
		if (!n[k])
			continue;
		f = det__new(d, k ? K_SYNACK_RETRANSMIT : K_SYN_RETRANSMIT, c, first[k]->ts_ns);
		if (!f)
			return;
		for (i = 0; i < s->nevents && f->nev < ANA_MAX_EVIDENCE; i++)
			if (s->events[i].type == EV_RETRANS && s->events[i].sub == (k ? TRAIL_RETRANS_SYNACK :
										      TRAIL_RETRANS_SYN))
				det__ev(f, s, role, &s->events[i], NULL);
		nd = drops_until(d, f, c, s, last[k]->ts_ns, rs, sizeof(rs));
		ana_ms((int64_t)(first[k]->ts_ns - ana_side__start(s)), ms, sizeof(ms));
		if (!k) {
			snprintf(f->summary, sizeof(f->summary), "the %s sent its SYN %u more"
				 " time%s; the handshake %s", role, n[k], n[k] == 1 ? "" : "s",
				 reached(d, s, ST_ESTABLISHED) ? "then completed" : "never completed");
			snprintf(f->explain, sizeof(f->explain), "No SYN-ACK came back before the"
				 " retransmission timeout (first resend %s ms after connect), so the"
				 " client sent the SYN again (after 1 s, then waits that double, or stay"
				 " at 1 s for the first net.ipv4.tcp_syn_linear_timeouts resends on"
				 " kernels that have it). The SYN or the SYN-ACK was lost or dropped: check that the"
				 " server is reachable, firewalls that drop rather than reject, and the"
				 " server's SYN and accept queues (listen_overflow, SYN cookies).", ms);
		} else {
			snprintf(f->summary, sizeof(f->summary), "the %s sent its SYN-ACK %u more"
				 " time%s", role, n[k], n[k] == 1 ? "" : "s");
			snprintf(f->explain, sizeof(f->explain), "The client's final ACK of the"
				 " handshake did not arrive (or was dropped here) before the timeout,"
				 " so the server resent its SYN-ACK. Common causes: the ACK was dropped"
				 " because the accept queue was full (see listen_overflow), packet loss"
				 " on the path, or a client that gave up. Check drops on this host and"
				 " the listener's backlog.");
		}
		if (nd)
			ana_append(f->explain, sizeof(f->explain), " This host dropped %u segment%s of"
				 " this connection before the last resend (the first with reason %s)%s%s.",
				 nd, nd == 1 ? "" : "s", rs, strstr(rs, "NETFILTER") ?
				 ": a firewall rule here (iptables/nft) dropped " : "",
				 !strstr(rs, "NETFILTER") ? "" : nd == 1 ? "it" : "them");
	}
}

/* The first SYN (or SYN-ACK) retransmission comes after the initial RTO of
 * 1 s: a handshake that ended sooner without one was answered (RST, ICMP
 * error) or abandoned by the application, not timed out. */
#define ANA_INITIAL_RTO_NS (1000ull * 1000000)

static int retransmitted(const struct ana_side *s, uint8_t kind)
{
	uint32_t i;

	for (i = 0; s && i < s->nevents; i++)
		if (s->events[i].type == EV_RETRANS && s->events[i].sub == kind)
			return 1;
	return 0;
}

/* Why a request sock went without a child: REQ_DROPPED's value (FORMAT.md). */
enum { REQ_GONE_RETRIES = 1, REQ_GONE_LISTENER, REQ_GONE_PRESUMED, REQ_GONE_TABLE_FULL };

static void handshake(struct det *d, const struct ana_conn *c, const struct ana_side *s)
{
	const char *role = det__role(c, s);
	uint64_t why = 0;
	const struct ana_change *ch = NULL;
	const struct ana_event *cc = NULL;
	struct ana_finding *f;
	char ms[32];
	uint32_t i;

	if (has_event(s, EV_RST_RECV) || has_event(s, EV_RST_SENT))
		return;	/* refused or reset: the RST rules say why */
	if (s->role == ROLE_CLIENT || (c && s == c->client)) {
		for (i = 0; i < s->nchanges; i++)
			if (kind(d, s->changes[i].oldstate) == ST_SYN_SENT &&
			    kind(d, s->changes[i].newstate) == ST_CLOSE)
				ch = &s->changes[i];
		if (!ch || reached(d, s, ST_ESTABLISHED))
			return;
		if (ch->ts_ns - ana_side__start(s) < ANA_INITIAL_RTO_NS &&
		    !retransmitted(s, TRAIL_RETRANS_SYN))
			return;	/* refused or abandoned, not a timeout */
		f = det__new(d, K_HANDSHAKE_TIMEOUT, c, ch->ts_ns);
		if (!f)
			return;
		for (i = 0; i < s->nevents && !cc; i++)
			if (s->events[i].type == EV_CLOSE_CALL)
				cc = &s->events[i];
		det__ev(f, s, role, NULL, &s->changes[0]);
		det__ev(f, s, role, NULL, ch);
		if (cc)
			det__ev(f, s, role, cc, NULL);
		ana_ms((int64_t)(ch->ts_ns - ana_side__start(s)), ms, sizeof(ms));
		snprintf(f->summary, sizeof(f->summary), "the %s's connect() gave up after %s ms"
			 " in SYN_SENT", role, ms);
		snprintf(f->explain, sizeof(f->explain), "The client stayed in SYN_SENT for %s ms,"
			 " longer than the 1 s initial retransmission timeout, with no SYN-ACK (and no"
			 " RST in this capture), then went to CLOSE: %s. Check that the server address"
			 " is reachable and answers, and firewalls that silently drop SYNs.", ms,
			 cc && cc->ts_ns <= ch->ts_ns ? "the application closed the socket while"
			 " connecting (its own connect timeout)" : cc ? "the kernel gave up"
			 " (its SYN retries, net.ipv4.tcp_syn_retries or the socket's TCP_SYNCNT,"
			 " or TCP_USER_TIMEOUT, ran out) and the application closed the socket"
			 " only after that" : "the kernel ran out of SYN"
			 " retries (net.ipv4.tcp_syn_retries), or the application's timeout fired"
			 " (this capture has no close() call to tell)");
		return;
	}
	for (i = 0; i < s->nevents; i++)
		if (s->events[i].type == EV_REQ_DROPPED)
			why = s->events[i].value;
	if (why == REQ_GONE_TABLE_FULL)
		return;	/* the recorder stopped following it: no news of the handshake */
	if (s->sock_kind == TRAIL_SOCK_REQUEST && !reached(d, s, ST_ESTABLISHED) &&
	    (s->last_ts - ana_side__start(s) >= ANA_INITIAL_RTO_NS ||
	     retransmitted(s, TRAIL_RETRANS_SYNACK))) {
		f = det__new(d, K_HANDSHAKE_TIMEOUT, c, s->last_ts);
		if (!f)
			return;
		for (i = 0; i < s->nevents && f->nev < ANA_MAX_EVIDENCE; i++)
			det__ev(f, s, role, &s->events[i], NULL);
		snprintf(f->summary, sizeof(f->summary), "a SYN arrived but the handshake never"
			 " completed on the %s", role);
		snprintf(f->explain, sizeof(f->explain), "The SYN created a request sock"
			 " (NEW_SYN_RECV) but no child socket followed: the client's final ACK never"
			 " arrived or was dropped%s. Check the client, packet loss, and drops on"
			 " this host (listen queue overflow).",
			 why == REQ_GONE_RETRIES ? ", and the kernel dropped the request sock when"
			 " its SYN-ACK retries (net.ipv4.tcp_synack_retries) ran out" :
			 why == REQ_GONE_LISTENER ? "; the request sock went when its listener was"
			 " closed" : why == REQ_GONE_PRESUMED ? "; the recorder heard no more of"
			 " the request sock and presumed it gone" : "");
	}
}

/* The process that owns S: the one that called close(), moved it to
 * LAST_ACK or FIN_WAIT1 (system calls), or connected it. */
static uint32_t closer_task(struct det *d, const struct ana_side *s)
{
	uint32_t i;

	for (i = 0; i < s->nevents; i++)
		if (s->events[i].type == EV_CLOSE_CALL && s->events[i].task != ANA_NO_TASK)
			return s->events[i].task;
	for (i = 0; i < s->nchanges; i++) {
		enum ana_st n = kind(d, s->changes[i].newstate);

		if ((n == ST_LAST_ACK || n == ST_FIN_WAIT1 || n == ST_SYN_SENT) &&
		    s->changes[i].task != ANA_NO_TASK)
			return s->changes[i].task;
	}
	return ANA_NO_TASK;
}

static void close_wait(struct det *d, const struct ana_conn *c, const struct ana_side *s)
{
	const char *role = det__role(c, s);
	struct ana_finding *f;
	uint64_t end, dur;
	char ms[32], task[128];
	uint32_t i;

	for (i = 0; i < s->nchanges; i++) {
		if (kind(d, s->changes[i].newstate) != ST_CLOSE_WAIT)
			continue;
		end = i + 1 < s->nchanges ? s->changes[i + 1].ts_ns :
		      s->open_at_end ? d->cap->last_ts : s->changes[i].ts_ns;
		dur = end > s->changes[i].ts_ns ? end - s->changes[i].ts_ns : 0;
		if (dur < d->opts.close_wait_ns)
			continue;
		f = det__new(d, K_CLOSE_WAIT_STUCK, c, s->changes[i].ts_ns);
		if (!f)
			return;
		det__ev(f, s, role, NULL, &s->changes[i]);
		if (i + 1 < s->nchanges)
			det__ev(f, s, role, NULL, &s->changes[i + 1]);
		ana_ms((int64_t)dur, ms, sizeof(ms));
		det__task(d, closer_task(d, s), task, sizeof(task));
		snprintf(f->summary, sizeof(f->summary), "the %s stayed in CLOSE_WAIT for %s ms%s",
			 role, ms, i + 1 < s->nchanges ? "" : " (still there at the end)");
		snprintf(f->explain, sizeof(f->explain), "The peer closed its end (FIN received)"
			 " but the application on this side did not call close() for %s ms"
			 " (threshold %" PRIu64 " ms). Sockets stuck in CLOSE_WAIT are usually an application"
			 " bug: a missing close() on an error path, or a thread blocked elsewhere."
			 " Check the process that owns the socket (%s) and"
			 " `ss -tanp state close-wait`.", ms, d->opts.close_wait_ns / 1000000, task);
		return;
	}
}

static void fin_wait2(struct det *d, const struct ana_conn *c, const struct ana_side *s)
{
	const struct ana_side *peer = !c ? NULL : c->client == s ? c->server : c->client;
	const struct ana_event *enter = NULL, *end = NULL;
	const char *role = det__role(c, s);
	struct ana_finding *f;
	char ms[32];
	uint32_t i;

	for (i = 0; i < s->nevents; i++) {
		const struct ana_event *e = &s->events[i];

		if (e->type == EV_TW_ENTER && kind(d, (uint16_t)(e->value & 0xff)) == ST_FIN_WAIT2)
			enter = e;
		else if (e->type == EV_TW_ENTER)
			return;	/* the peer's FIN came: TIME_WAIT */
		else if (e->type == EV_TW_END && enter)
			end = e;
	}
	/* the peer's FIN before the timer: not a timeout (a FIN after it finds no socket) */
	if (!enter || !end || reached_by(d, peer, ST_LAST_ACK, end->ts_ns))
		return;
	f = det__new(d, K_FIN_WAIT2_TIMEOUT, c, end->ts_ns);
	if (!f)
		return;
	det__ev(f, s, role, enter, NULL);
	det__ev(f, s, role, end, NULL);
	ana_ms((int64_t)(end->ts_ns - enter->ts_ns), ms, sizeof(ms));
	snprintf(f->summary, sizeof(f->summary), "the %s waited %s ms in FIN_WAIT2 for the"
		 " peer's FIN, which never came", role, ms);
	snprintf(f->explain, sizeof(f->explain), "This side closed first and its FIN was"
		 " acknowledged, but the peer never sent its own FIN. The kernel kept the"
		 " orphaned socket in FIN_WAIT2 (as a timewait sock) for %s ms and then freed"
		 " it (net.ipv4.tcp_fin_timeout). The peer application kept its end open"
		 " (CLOSE_WAIT there) or vanished. Check the peer.", ms);
}

static void overflow(struct det *d, const struct ana_conn *c, const struct ana_side *s)
{
	const struct ana_event *first = NULL;
	struct ana_finding *f;
	char ep[ANA_EPSTRLEN], rs[160];
	uint32_t i, n = 0;

	for (i = 0; i < s->nevents; i++)
		if (s->events[i].type == EV_DROP &&
		    det__is(d, TRAIL_ENUM_DROP_REASON, s->events[i].reason, "LISTEN_OVERFLOW") &&
		    !n++)
			first = &s->events[i];
	if (!first)
		return;
	f = det__new(d, K_LISTEN_OVERFLOW, c, first->ts_ns);
	if (!f)
		return;
	for (i = 0; i < s->nevents && f->nev < ANA_MAX_EVIDENCE; i++)
		if (s->events[i].type == EV_DROP)
			det__ev(f, s, det__role(c, s), &s->events[i], NULL);
	snprintf(f->summary, sizeof(f->summary), "%u segment%s dropped: the listen queue of"
		 " %s was full", n, n == 1 ? "" : "s",
		 ana_endpoint(s->family, s->saddr, s->sport, ep, sizeof(ep)));
	snprintf(f->explain, sizeof(f->explain), "The kernel dropped handshake segments for"
		 " this listener (reason %s): its accept queue was full, because the application"
		 " does not call accept() fast enough or its backlog is small. Clients see SYN or"
		 " SYN-ACK retransmits and slow or failed connects. Check the listen() backlog,"
		 " net.core.somaxconn and `ss -ltn` (Recv-Q vs Send-Q).",
		 det__enum(d, TRAIL_ENUM_DROP_REASON, first->reason, rs, sizeof(rs)));
}

void det__conn(struct det *d, const struct ana_conn *c)
{
	const struct ana_side *sides[2] = { c->client, c->server };
	int i;

	for (i = 0; i < 2 && !d->err; i++) {
		if (!sides[i])
			continue;
		det__resets(d, c, sides[i]);
		retransmits(d, c, sides[i]);
		handshake(d, c, sides[i]);
		close_wait(d, c, sides[i]);
		fin_wait2(d, c, sides[i]);
		overflow(d, c, sides[i]);
	}
}

void det__listener(struct det *d, const struct ana_side *l)
{
	overflow(d, NULL, l);
	det__resets(d, NULL, l);
}
