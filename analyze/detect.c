// SPDX-License-Identifier: BSD-2-Clause
/*
 * Anomaly detection over finished connections, listeners and orphan
 * events. Each rule states only what its evidence shows; where the
 * capture cannot tell two causes apart, the explanation says so.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"
#include "pcap.h"

static const char *const kind_names[K__COUNT] = {
	[K_RST_NO_SOCKET] = "rst_no_socket",
	[K_NAT_MISMATCH] = "nat_mismatch",
	[K_RST_LOOKUP_RACE] = "rst_lookup_race",
	[K_RST_CLOSE_UNREAD] = "rst_close_unread",
	[K_RST_LINGER_ABORT] = "rst_linger_abort",
	[K_RST_ABORT] = "rst_abort",
	[K_RST_SENT] = "rst_sent",
	[K_RST_EXTERNAL] = "rst_external",
	[K_RST_RECEIVED] = "rst_received",
	[K_SYN_RETRANSMIT] = "syn_retransmit",
	[K_SYNACK_RETRANSMIT] = "synack_retransmit",
	[K_HANDSHAKE_TIMEOUT] = "handshake_timeout",
	[K_LISTEN_OVERFLOW] = "listen_overflow",
	[K_CLOSE_WAIT_STUCK] = "close_wait_stuck",
	[K_FIN_WAIT2_TIMEOUT] = "fin_wait2_timeout",
	[K_EVENTS_LOST] = "events_lost",
};

const char *ana_kind__name(enum ana_kind k)
{
	return (unsigned)k < K__COUNT ? kind_names[k] : "unknown";
}

struct ana_finding *det__new(struct det *d, enum ana_kind kind, const struct ana_conn *c,
			     uint64_t ts)
{
	struct ana_findings *f = d->f;
	struct ana_finding *n;
	size_t ncap;

	f->by_kind[kind]++;
	if (f->len >= ANA_MAX_FINDINGS) {
		f->dropped++;
		return NULL;
	}
	if (f->len == f->cap) {
		ncap = f->cap ? f->cap * 2 : 32;
		n = realloc(f->v, ncap * sizeof(*n));
		if (!n) {
			d->err = -ENOMEM;
			return NULL;
		}
		f->v = n;
		f->cap = ncap;
	}
	n = &f->v[f->len++];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->conn = c;
	n->ts = ts;
	return n;
}

void det__ev(struct ana_finding *f, const struct ana_side *s, const char *role,
	     const struct ana_event *ev, const struct ana_change *ch)
{
	if (!f || f->nev >= ANA_MAX_EVIDENCE)
		return;
	f->ev[f->nev].side = s;
	f->ev[f->nev].role = role;
	f->ev[f->nev].ev = ev;
	f->ev[f->nev].ch = ch;
	f->nev++;
}

const char *det__role(const struct ana_conn *c, const struct ana_side *s)
{
	if (!c)
		return s && s->role == ROLE_LISTENER ? "listener" : "-";
	if (!c->roles_known)
		return s == c->client ? "side A" : "side B";
	return s == c->client ? "client" : "server";
}

/* Name of kernel value V in enum table TABLE, made printable. */
const char *det__enum(struct det *d, const char *table, int64_t v, char *buf, size_t len)
{
	const char *n;

	if (v == TRAIL_NO_REASON) {
		snprintf(buf, len, "not recorded");
		return buf;
	}
	n = trail_reader__enum_name(d->cap->r, table, v);
	if (!n) {
		snprintf(buf, len, "%" PRId64, v);
		return buf;
	}
	return ana_safe(n, buf, len);
}

/* Does kernel value V of TABLE name an enumerator ending in SUFFIX? */
int det__is(struct det *d, const char *table, int64_t v, const char *suffix)
{
	const char *n;
	size_t ln, ls = strlen(suffix);

	if (v == TRAIL_NO_REASON)
		return 0;
	n = trail_reader__enum_name(d->cap->r, table, v);
	if (!n)
		return 0;
	ln = strlen(n);
	return ln >= ls && !strcmp(n + ln - ls, suffix);
}

char *det__seg(const struct trail_segment *g, char *buf, size_t len)
{
	char a[ANA_EPSTRLEN], b[ANA_EPSTRLEN];

	if (g->family != TRAIL_FAMILY_INET && g->family != TRAIL_FAMILY_INET6) {
		snprintf(buf, len, "(segment not recorded)");
		return buf;
	}
	snprintf(buf, len, "%s -> %s", ana_endpoint(g->family, g->saddr, g->sport, a, sizeof(a)),
		 ana_endpoint(g->family, g->daddr, g->dport, b, sizeof(b)));
	return buf;
}

/* "local <- remote" of a side, the way the server sees it, or "local -> remote". */
char *det__tuple(const struct ana_side *s, char *buf, size_t len)
{
	char a[ANA_EPSTRLEN], b[ANA_EPSTRLEN];

	if (!s) {
		snprintf(buf, len, "(no socket)");
		return buf;
	}
	snprintf(buf, len, "%s %s %s", ana_endpoint(s->family, s->saddr, s->sport, a, sizeof(a)),
		 s->role == ROLE_SERVER ? "<-" : "->",
		 ana_endpoint(s->family, s->daddr, s->dport, b, sizeof(b)));
	return buf;
}

char *det__task(struct det *d, uint32_t idx, char *buf, size_t len)
{
	const struct ana_task *t = ana_tasks__get(d->tasks, idx);
	char c[80];

	if (idx == ANA_NO_TASK || !t)
		snprintf(buf, len, "(process not recorded)");
	else
		snprintf(buf, len, "%s (pid %u)", ana_safe(t->comm, c, sizeof(c)), t->pid);
	return buf;
}

#define LOST_CAVEAT " This capture lost events (events_lost): an event missing here could" \
	" also be why this looks wrong."

static uint64_t ev_ts(const struct ana_evref *e)
{
	return e->ev ? e->ev->ts_ns : e->ch ? e->ch->ts_ns : e->pkt ? ana_pkt__ts(e->pkt) : 0;
}

static int ev_by_time(const void *a, const void *b)
{
	uint64_t x = ev_ts(a), y = ev_ts(b);

	return x < y ? -1 : x > y;
}

static int by_time(const void *a, const void *b)
{
	const struct ana_finding *x = a, *y = b;
	uint32_t ix = x->conn ? x->conn->id : 0, iy = y->conn ? y->conn->id : 0;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (ix != iy)
		return ix < iy ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

void det__lost(struct det *d)
{
	uint64_t n = ana_capture__loss_total(d->cap);
	struct ana_finding *f;

	if (!n)
		return;
	f = det__new(d, K_EVENTS_LOST, NULL, d->cap->first_ts);
	if (!f)
		return;
	snprintf(f->summary, sizeof(f->summary), "%" PRIu64 " events were lost while recording",
		 n);
	snprintf(f->explain, sizeof(f->explain),
		 "The capture's LOSS counters total %" PRIu64 " (ring buffer full: %" PRIu64
		 "; other counters: the rest). Events are missing, so a connection may look"
		 " incomplete, and an anomaly may be missing from this report. Check: record"
		 " with a larger ring buffer, narrower filters (ports, netns), or less load.",
		 n, d->cap->loss_ringbuf);
}

int ana_findings__detect(struct ana_findings *f, struct ana_capture *cap,
			 const struct ana_load *ld, const struct ana_detect_opts *o)
{
	struct det d = { .f = f, .cap = cap, .ld = ld, .tasks = ana_conns__tasks(ld->tracker),
			 .opts = *o };
	size_t i;

	det__lost(&d);
	for (i = 0; i < ld->nconns && !d.err; i++)
		det__conn(&d, ld->conns[i]);
	for (i = 0; i < ld->nlisteners && !d.err; i++)
		det__listener(&d, ld->listeners[i]);
	for (i = 0; i < ld->norphans && !d.err; i++)
		det__orphan(&d, &ld->orphans[i]);
	ana_findings__sort(f);
	return d.err;
}

/* The last pass of both detectors (full and streaming): in a capture that
 * lost events, a finding may come from an event that is missing. */
void ana_findings__sort(struct ana_findings *f)
{
	size_t i;

	for (i = 0; f->by_kind[K_EVENTS_LOST] && i < f->len; i++)
		if (f->v[i].kind != K_EVENTS_LOST && !strstr(f->v[i].explain, LOST_CAVEAT))
			ana_append(f->v[i].explain, sizeof(f->v[i].explain), "%s", LOST_CAVEAT);

	for (i = 0; i < f->len; i++)
		if (f->v[i].nev > 1)
			qsort(f->v[i].ev, f->v[i].nev, sizeof(f->v[i].ev[0]), ev_by_time);
	if (f->len > 1)
		qsort(f->v, f->len, sizeof(*f->v), by_time);
}

void ana_findings__free(struct ana_findings *f)
{
	free(f->v);
	memset(f, 0, sizeof(*f));
}
