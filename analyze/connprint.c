// SPDX-License-Identifier: BSD-2-Clause
/* Connections and listeners as text: one block per connection, one
 * timeline per side. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ana.h"
#include "conninfo.h"
#include "diagram.h"
#include "pcap.h"
#include "util.h"

/* Wall-clock time; the date only when it is not the capture's first day. */
static char *when(const struct ana_print *p, uint64_t ts, char *buf, size_t len)
{
	char d[16], t[32];

	ana_clock__fmt_date(&p->cap->clock, ts, d, sizeof(d));
	ana_clock__fmt(&p->cap->clock, ts, t, sizeof(t));
	if (d[0] && strcmp(d, p->date0))
		snprintf(buf, len, "%s %s", d, t);
	else
		snprintf(buf, len, "%s", t);
	return buf;
}

/* "+m.uuu" (or "-m.uuu") milliseconds after the connection started. */
static char *rel_ms(const struct ana_conn *c, uint64_t ts, char *buf, size_t len)
{
	char m[28];	/* "-" + 20 digits + ".uuu" fits */
	int64_t d = (int64_t)(ts - c->start_ts);

	ana_ms(d, m, sizeof(m));
	snprintf(buf, len, "%s%s", d < 0 ? "" : "+", m);
	return buf;
}

static char *task_label(const struct ana_print *p, uint32_t idx, char *buf, size_t len)
{
	const struct ana_task *t = p->tasks ? ana_tasks__get(p->tasks, idx) : NULL;
	char c[80];

	if (!t)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s[%u]", ana_safe(t->comm, c, sizeof(c)), t->pid);
	return buf;
}

static const char *st_name(const struct ana_print *p, uint16_t v, char *buf, size_t len)
{
	return ana_states__name(&p->cap->states, v, buf, len);
}

/* The process that owns S: the task of a change only a system call makes
 * (connect, listen, close); others may run in softirq on any task. */
static uint32_t owner(const struct ana_print *p, const struct ana_side *s)
{
	uint32_t i;
	enum ana_st n;

	for (i = 0; i < s->nchanges; i++) {
		if (s->changes[i].task == ANA_NO_TASK)
			continue;
		n = ana_states__kind(&p->cap->states, s->changes[i].newstate);
		if (n == ST_SYN_SENT || n == ST_LISTEN || n == ST_FIN_WAIT1 || n == ST_LAST_ACK)
			return s->changes[i].task;
	}
	return ANA_NO_TASK;
}

static void side_ids(const struct ana_print *p, const struct ana_side *s)
{
	fprintf(p->out, "sock %" PRIu64 ", skaddr %" PRIx64 ", netns %u", s->sock_id, s->skaddr,
		s->netns);
	if (s->cookie)
		fprintf(p->out, ", cookie %" PRIu64, s->cookie);
}

static void dwell(const struct ana_print *p, const struct ana_side *s)
{
	struct ana_dwell d[ANA_MAX_DWELL];
	uint32_t i, n = ana_side__dwell(s, d);
	char nb[32], ms[32];

	if (!n)
		return;
	fprintf(p->out, "      time in state:");
	for (i = 0; i < n; i++) {
		fprintf(p->out, "%s %s %s ms", i ? "," : "", st_name(p, d[i].state, nb, sizeof(nb)),
			ana_ms(d[i].ns, ms, sizeof(ms)));
		if (d[i].times > 1)
			fprintf(p->out, " (%ux)", d[i].times);
	}
	fputc('\n', p->out);
}

static int ev_cmp(const void *a, const void *b)
{
	const struct ana_event *x = *(const struct ana_event *const *)a;
	const struct ana_event *y = *(const struct ana_event *const *)b;

	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

/* S's events in time order (a folded request sock's come in late); NULL if none. */
static const struct ana_event **sorted_events(const struct ana_side *s)
{
	const struct ana_event **v;
	uint32_t i;

	if (!s->nevents)
		return NULL;
	v = malloc(s->nevents * sizeof(*v));
	if (!v)
		return NULL;
	for (i = 0; i < s->nevents; i++)
		v[i] = &s->events[i];
	qsort(v, s->nevents, sizeof(*v), ev_cmp);
	return v;
}

static void event(const struct ana_print *p, const struct ana_conn *c,
		  const struct ana_side *s, const struct ana_event *e)
{
	struct dg_item it = { e->ts_ns, 0, NULL, e };
	char t[64], rel[32], lab[320], task[96];

	(void)s;
	dg__label(p->cap, &it, lab, sizeof(lab));
	fprintf(p->out, "    %s  %11s ms  * %s%s%s\n", when(p, e->ts_ns, t, sizeof(t)),
		rel_ms(c, e->ts_ns, rel, sizeof(rel)), lab, e->task == ANA_NO_TASK ? "" : "  ",
		e->task == ANA_NO_TASK ? "" : task_label(p, e->task, task, sizeof(task)));
}

static void side(const struct ana_print *p, const struct ana_conn *c, const struct ana_side *s,
		 const char *label)
{
	char ep[ANA_EPSTRLEN], t[64], rel[32], o[32], n[32], task[96];
	const struct ana_event **evs;
	uint32_t i, j;

	fprintf(p->out, "  %-6s %s  %s  (", label,
		ana_endpoint(s->family, s->saddr, s->sport, ep, sizeof(ep)),
		task_label(p, owner(p, s), task, sizeof(task)));
	side_ids(p, s);
	fprintf(p->out, ")\n");
	if (s->revived)
		fprintf(p->out, "      the recorder's socket table was full: re-added %u time%s,"
			" last as sock %" PRIu64 "\n", s->revived, s->revived == 1 ? "" : "s", s->live_id);
	if (s->listener_id)
		fprintf(p->out, "      accepted from the listener on port %u (sock %" PRIu64 ")\n",
			s->sport, s->listener_id);
	evs = sorted_events(s);
	for (i = 0, j = 0; i < s->nchanges || j < s->nevents; ) {
		const struct ana_change *ch;

		if (j < s->nevents && (!evs || i >= s->nchanges ||
				       evs[j]->ts_ns < s->changes[i].ts_ns)) {
			if (evs)
				event(p, c, s, evs[j]);
			j++;
			continue;
		}
		ch = &s->changes[i];
		if (i && s->changes[i - 1].newstate != ch->oldstate)
			fprintf(p->out, "      (a change is missing here: the socket was %s, not %s)\n",
				st_name(p, s->changes[i - 1].newstate, n, sizeof(n)),
				st_name(p, ch->oldstate, o, sizeof(o)));
		fprintf(p->out, "    %s  %11s ms  %-11s -> %-11s  %s\n",
			when(p, ch->ts_ns, t, sizeof(t)), rel_ms(c, ch->ts_ns, rel, sizeof(rel)),
			st_name(p, ch->oldstate, o, sizeof(o)), st_name(p, ch->newstate, n, sizeof(n)),
			task_label(p, ch->task, task, sizeof(task)));
		i++;
	}
	free(evs);
	if (s->ev_dropped)
		fprintf(p->out, "      ... %" PRIu64 " more events not kept (limit %u per socket)\n",
			s->ev_dropped, ANA_MAX_EVENTS);
	if (s->dropped)
		fprintf(p->out, "      ... %" PRIu64 " more state changes not kept (limit %u per"
			" socket)\n", s->dropped, ANA_MAX_CHANGES);
	if (!s->nchanges)
		fprintf(p->out, "      no state changes recorded\n");
	dwell(p, s);
	if (s->open_at_end && s->nchanges)
		fprintf(p->out, "      still %s when the capture ended\n",
			st_name(p, s->changes[s->nchanges - 1].newstate, n, sizeof(n)));
}

static const char *role_name(const struct ana_conn *c, const struct ana_side *s)
{
	if (!c->roles_known)
		return s == c->client ? "side A" : "side B";
	return s == c->client ? "client" : "server";
}

/* Did S receive an RST at or before TS? */
static int got_rst(const struct ana_side *s, uint64_t ts)
{
	uint32_t i;

	for (i = 0; s && i < s->nevents; i++)
		if (s->events[i].type == EV_RST_RECV && s->events[i].ts_ns <= ts)
			return 1;
	return 0;
}

static void closing(const struct ana_print *p, const struct ana_conn *c)
{
	struct ana_close cl;
	char rel[32], o[32], n[32];

	ana_conn__close(c, &p->cap->states, &cl);
	if (cl.kind != CLOSE_NONE)
		rel_ms(c, cl.ts_ns, rel, sizeof(rel));
	switch (cl.kind) {
	case CLOSE_FIN:
		fprintf(p->out, "  closed first by the %s (active close: %s -> %s at %s ms)\n",
			role_name(c, cl.closer), st_name(p, cl.oldstate, o, sizeof(o)),
			st_name(p, cl.newstate, n, sizeof(n)), rel);
		break;
	case CLOSE_SIMULTANEOUS:
		fprintf(p->out, "  simultaneous close: both sides sent FIN; the %s first (%s -> %s"
			" at %s ms)\n", role_name(c, cl.closer),
			st_name(p, cl.oldstate, o, sizeof(o)), st_name(p, cl.newstate, n, sizeof(n)),
			rel);
		break;
	case CLOSE_ABORT:
		if (got_rst(cl.closer, cl.ts_ns)) {
			fprintf(p->out, "  reset: the %s received an RST (%s -> %s at %s ms)\n",
				role_name(c, cl.closer), st_name(p, cl.oldstate, o, sizeof(o)),
				st_name(p, cl.newstate, n, sizeof(n)), rel);
			break;
		}
		fprintf(p->out, "  aborted by the %s without FIN (%s -> %s at %s ms: reset or"
			" abort)\n", role_name(c, cl.closer), st_name(p, cl.oldstate, o, sizeof(o)),
			st_name(p, cl.newstate, n, sizeof(n)), rel);
		break;
	case CLOSE_BY_PEER:
		fprintf(p->out, "  closed first by the unrecorded peer (%s -> %s at %s ms)\n",
			st_name(p, cl.oldstate, o, sizeof(o)), st_name(p, cl.newstate, n, sizeof(n)),
			rel);
		break;
	case CLOSE_NONE:
	default:
		fprintf(p->out, "  no close seen in the capture\n");
		break;
	}
}

void ana_print__conn(const struct ana_print *p, const struct ana_conn *c)
{
	const struct ana_side *a = c->client, *b = c->server, *s = a ? a : b;
	char l[ANA_EPSTRLEN], r[ANA_EPSTRLEN], t[64], d[32];

	if (!s)
		return;
	/* shown from the client's end: client -> server */
	if (a) {
		ana_endpoint(a->family, a->saddr, a->sport, l, sizeof(l));
		ana_endpoint(a->family, a->daddr, a->dport, r, sizeof(r));
	} else {
		ana_endpoint(b->family, b->daddr, b->dport, l, sizeof(l));
		ana_endpoint(b->family, b->saddr, b->sport, r, sizeof(r));
	}
	fprintf(p->out, "#%u  %s %s %s  tcp%c  %s  %s %s ms\n", c->id, l,
		c->roles_known ? "->" : "<->", r, s->family == TRAIL_FAMILY_INET6 ? '6' : '4',
		when(p, c->start_ts, t, sizeof(t)),
		(a && a->open_at_end) || (b && b->open_at_end) ? "open at the end, seen for" :
		"lasted", ana_ms((int64_t)(c->end_ts - c->start_ts), d, sizeof(d)));
	if (c->nat && a && b)
		fprintf(p->out, "  address translation: the client connected to %s, the server's"
			" socket is %s\n", r, ana_endpoint(b->family, b->saddr, b->sport, l, sizeof(l)));
	if (p->cap->pcap && p->cap->pcap->pkts)	/* pcap.h */
		ana_pkts__conn_line(p->cap->pcap->pkts, c, p->out);
	if (!c->roles_known)
		fprintf(p->out, "  roles unknown: neither side was seen connecting or being"
			" accepted\n");
	if (a)
		side(p, c, a, role_name(c, a));
	if (b)
		side(p, c, b, role_name(c, b));
	if (!a || !b)
		fprintf(p->out, "  the %s end was not recorded (another host, or outside the"
			" capture)\n", a ? (c->roles_known ? "server" : "other") : "client");
	closing(p, c);
}

void ana_print__listener(const struct ana_print *p, const struct ana_side *l)
{
	char ep[ANA_EPSTRLEN], t0[64], t1[64], d[32], task[96];
	uint64_t from = 0, to = 0;
	uint32_t i;
	int listening = 0;

	/* listening time: from entering LISTEN to leaving it */
	for (i = 0; i < l->nchanges; i++) {
		enum ana_st o = ana_states__kind(&p->cap->states, l->changes[i].oldstate);
		enum ana_st n = ana_states__kind(&p->cap->states, l->changes[i].newstate);

		if (n == ST_LISTEN && !listening) {
			from = l->changes[i].ts_ns;
			listening = 1;
		} else if (o == ST_LISTEN && listening) {
			to = l->changes[i].ts_ns;
			listening = 2;
		}
	}
	fprintf(p->out, "  %s  %s  ", ana_endpoint(l->family, l->saddr, l->sport, ep, sizeof(ep)),
		task_label(p, owner(p, l), task, sizeof(task)));
	if (listening == 2)
		fprintf(p->out, "%s .. %s (%s ms)", when(p, from, t0, sizeof(t0)),
			when(p, to, t1, sizeof(t1)), ana_ms((int64_t)(to - from), d, sizeof(d)));
	else if (listening == 1)
		fprintf(p->out, "from %s, still listening at the end", when(p, from, t0, sizeof(t0)));
	fprintf(p->out, "  accepted %" PRIu64 "  (", l->accepted);
	side_ids(p, l);
	fprintf(p->out, ")\n");
}
