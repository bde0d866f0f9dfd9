// SPDX-License-Identifier: BSD-2-Clause
/* Findings as text, JSON (schema in ANOMALIES.md) and Markdown. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "esc.h"
#include "finding.h"
#include "pcap.h"
#include "util.h"

#define MAX_FRAMES_SHOWN 16u

const char *ana_event__name(const struct ana_event *e)
{
	switch (e->type) {
	case EV_SYN_ARRIVED: return "SYN arrived (NEW_SYN_RECV)";
	case EV_REQ_DROPPED: return "request sock dropped";
	case EV_TW_ENTER: return "timewait entered";
	case EV_TW_END: return "timewait ended";
	case EV_CLOSE_CALL: return "close() called";
	case EV_DESTROY: return "socket destroyed";
	case EV_RST_SENT:
		return e->sub == TRAIL_RST_SRC_ACTIVE ? "RST sent (abort by this host)" :
		       e->match != MATCH_SOCK ? "RST sent (reply, no socket)" : "RST sent (reply)";
	case EV_RST_RECV: return "RST received";
	case EV_RETRANS:
		return e->sub == TRAIL_RETRANS_SYN ? "SYN retransmitted" :
		       e->sub == TRAIL_RETRANS_SYNACK ? "SYN-ACK retransmitted" : "data retransmitted";
	case EV_DROP: return "segment dropped";
	default: return "event";
	}
}

const char *ana_match__name(uint8_t m)
{
	switch (m) {
	case MATCH_RECEIVER: return "no socket; tuple of this live socket";
	case MATCH_NAT: return "no socket; untranslated tuple of this connection";
	case MATCH_SENDER: return "no socket; for a segment this connection sent";
	default: return NULL;
	}
}

char *ana_tcp_flags(uint8_t f, char *buf, size_t len)
{
	static const char *const n[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };
	size_t o = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < 8; i++)
		if (f & (1u << i))
			o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? "," : "", n[i]);
	if (!buf[0])
		snprintf(buf, len, "none");
	return buf;
}

static const char *reason_table(const struct ana_event *e)
{
	return e->type == EV_DROP ? TRAIL_ENUM_DROP_REASON : TRAIL_ENUM_RST_REASON;
}

const char *ana_enum__name(struct ana_capture *cap, const char *table, int64_t v, char *buf,
			   size_t len)
{
	const char *n = trail_reader__enum_name(cap->r, table, v);

	if (n)
		return ana_safe(n, buf, len);
	snprintf(buf, len, "%" PRId64, v);
	return buf;
}

void ana_evref__text(const struct ana_evref *e, struct ana_capture *cap,
		     const struct ana_tasks *tasks, uint64_t t0, char *buf, size_t len)
{
	char t[48], a[40], b[32], rs[160], seg[200], fl[48], x[ANA_EPSTRLEN], y[ANA_EPSTRLEN];
	char task[96], c[64];
	const struct ana_task *tk;
	uint64_t ts = e->pkt ? e->pkt->ts : e->ev ? e->ev->ts_ns : e->ch->ts_ns;
	uint32_t ti = e->pkt ? ANA_NO_TASK : e->ev ? e->ev->task : e->ch->task;

	ana_clock__fmt(&cap->clock, ts, t, sizeof(t));
	ana_ms((int64_t)(ts - t0), b, sizeof(b));
	snprintf(a, sizeof(a), "%s%s", ts >= t0 ? "+" : "", b);
	if (e->pkt) {
		const struct ana_pkt *k = e->pkt;
		const char *dir = ana_pkt__dir(k);

		snprintf(buf, len, "%s %10s ms  %-8s packet #%u %s -> %s [%s] seq %u ack %u len %u"
			 "%s%s%s", t, a, e->role, k->num,
			 ana_endpoint(k->seg.family, k->seg.saddr, k->seg.sport, x, sizeof(x)),
			 ana_endpoint(k->seg.family, k->seg.daddr, k->seg.dport, y, sizeof(y)),
			 ana_tcp_flags(k->seg.flags, fl, sizeof(fl)), k->seg.seq, k->seg.ack,
			 k->seg.len, dir ? " (" : "", dir ? dir : "", dir ? ")" : "");
		if (k->external && strlen(buf) + 40 < len)
			strcat(buf, ", sent by no recorded TCP stack");
		return;
	}
	tk = ti == ANA_NO_TASK ? NULL : ana_tasks__get(tasks, ti);
	task[0] = 0;
	if (tk)
		snprintf(task, sizeof(task), ", by %s[%u]", ana_safe(tk->comm, c, sizeof(c)), tk->pid);
	if (e->ch) {
		snprintf(buf, len, "%s %10s ms  %-8s state %s -> %s%s", t, a, e->role,
			 ana_states__name(&cap->states, e->ch->oldstate, rs, sizeof(rs)),
			 ana_states__name(&cap->states, e->ch->newstate, b, sizeof(b)), task);
		return;
	}
	rs[0] = seg[0] = 0;
	if (e->ev->reason != TRAIL_NO_REASON) {
		char rn[140];

		snprintf(rs, sizeof(rs), ", reason %s", ana_enum__name(cap, reason_table(e->ev),
								       e->ev->reason, rn, sizeof(rn)));
	}
	if (e->ev->seg.family == TRAIL_FAMILY_INET || e->ev->seg.family == TRAIL_FAMILY_INET6)
		snprintf(seg, sizeof(seg), ", segment %s -> %s [%s] seq %u ack %u len %u",
			 ana_endpoint(e->ev->seg.family, e->ev->seg.saddr, e->ev->seg.sport, x, sizeof(x)),
			 ana_endpoint(e->ev->seg.family, e->ev->seg.daddr, e->ev->seg.dport, y, sizeof(y)),
			 ana_tcp_flags(e->ev->seg.flags, fl, sizeof(fl)), e->ev->seg.seq, e->ev->seg.ack,
			 e->ev->seg.len);
	b[0] = 0;
	if (e->ev->state != TRAIL_NO_STATE) {
		char sn[32];

		snprintf(b, sizeof(b), ", in %s", ana_states__name(&cap->states, e->ev->state, sn,
								    sizeof(sn)));
	}
	snprintf(buf, len, "%s %10s ms  %-8s %s%s%s%s%s%s%s", t, a, e->role, ana_event__name(e->ev), b, rs,
		 ana_match__name(e->ev->match) ? " (" : "", ana_match__name(e->ev->match) ?
		 ana_match__name(e->ev->match) : "", ana_match__name(e->ev->match) ? ")" : "", seg);
	if (task[0] && strlen(buf) + strlen(task) < len)
		strcat(buf, task);
}

const struct trail_stack *ana_evref__stack(struct ana_capture *cap, const struct ana_evref *e)
{
	if (!e->ev || !e->ev->stack_id)
		return NULL;
	return trail_reader__stack(cap->r, e->ev->stack_id);
}

static uint64_t t0_of(const struct ana_finding *f)
{
	return f->conn ? f->conn->start_ts : f->ts;
}

char *ana_conn__tuple(const struct ana_conn *c, char *buf, size_t len)
{
	const struct ana_side *a = c->client, *b = c->server;
	char l[ANA_EPSTRLEN], r[ANA_EPSTRLEN];

	if (a) {
		ana_endpoint(a->family, a->saddr, a->sport, l, sizeof(l));
		ana_endpoint(a->family, a->daddr, a->dport, r, sizeof(r));
	} else if (b) {
		ana_endpoint(b->family, b->daddr, b->dport, l, sizeof(l));
		ana_endpoint(b->family, b->saddr, b->sport, r, sizeof(r));
	} else {
		snprintf(buf, len, "?");
		return buf;
	}
	snprintf(buf, len, "%s -> %s", l, r);
	return buf;
}

/* Wrap TEXT at 76 columns with INDENT. */
static void wrap(FILE *out, const char *text, const char *indent)
{
	size_t col = 0, n;
	const char *p = text, *sp;
	char safe[2048];

	ana_safe(text, safe, sizeof(safe));
	p = safe;
	fputs(indent, out);
	while (*p) {
		sp = strchr(p, ' ');
		n = sp ? (size_t)(sp - p) : strlen(p);
		if (col && col + n + 1 > 76) {
			fprintf(out, "\n%s", indent);
			col = 0;
		} else if (col) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, n, out);
		col += n;
		p += n;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

static void text(const struct ana_findings *f, struct ana_capture *cap,
		 const struct ana_tasks *tasks, FILE *out)
{
	char t[64], line[1024], tup[160], fr[300];
	const struct trail_stack *st;
	size_t i;
	uint32_t j, k;

	fprintf(out, "Findings (%zu)\n", f->len);
	if (!f->len)
		fprintf(out, "  none: nothing in this capture looks wrong\n");
	for (i = 0; i < f->len; i++) {
		const struct ana_finding *x = &f->v[i];

		ana_clock__fmt_full(&cap->clock, x->ts, t, sizeof(t));
		fprintf(out, "\n[%zu] %s  %s", i + 1, ana_kind__name(x->kind), t);
		if (x->conn)
			fprintf(out, "  connection #%u %s", x->conn->id,
				ana_conn__tuple(x->conn, tup, sizeof(tup)));
		fputc('\n', out);
		wrap(out, x->summary, "    ");
		if (x->nev)
			fprintf(out, "    evidence:\n");
		for (j = 0; j < x->nev; j++) {
			ana_evref__text(&x->ev[j], cap, tasks, t0_of(x), line, sizeof(line));
			fprintf(out, "      %s\n", line);
			st = ana_evref__stack(cap, &x->ev[j]);
			for (k = 0; st && k < st->nframes && k < MAX_FRAMES_SHOWN; k++)
				fprintf(out, "        %s %s\n", k ? "  " : "stack:",
					ana_safe(st->frames[k], fr, sizeof(fr)));
		}
		fprintf(out, "    why:\n");
		wrap(out, x->explain, "      ");
	}
	if (f->dropped)
		fprintf(out, "\n(%" PRIu64 " more findings not shown: limit %u)\n", f->dropped,
			ANA_MAX_FINDINGS);
}

static void markdown(const struct ana_findings *f, struct ana_capture *cap,
		     const struct ana_tasks *tasks, FILE *out)
{
	char t[64], line[1024], tup[160], fr[300], *p;
	const struct trail_stack *st;
	size_t i;
	uint32_t j, k;

	fprintf(out, "## Anomalies (%zu)\n\n", f->len);
	if (!f->len)
		fprintf(out, "None: nothing in this capture looks wrong.\n");
	for (i = 0; i < f->len; i++) {
		const struct ana_finding *x = &f->v[i];

		ana_clock__fmt_full(&cap->clock, x->ts, t, sizeof(t));
		fprintf(out, "### %zu. `%s`: ", i + 1, ana_kind__name(x->kind));
		esc_md(out, x->summary);
		fprintf(out, "\n\n- **time**: %s\n", t);
		if (x->conn) {
			fprintf(out, "- **connection**: #%u ", x->conn->id);
			esc_md(out, ana_conn__tuple(x->conn, tup, sizeof(tup)));
			fputc('\n', out);
		}
		fprintf(out, "- **why**: ");
		esc_md(out, x->explain);
		fprintf(out, "\n\n```\n");
		for (j = 0; j < x->nev; j++) {
			ana_evref__text(&x->ev[j], cap, tasks, t0_of(x), line, sizeof(line));
			for (p = line; *p; p++)	/* nothing may close the fence */
				if (*p == '`')
					*p = '\'';
			fprintf(out, "%s\n", line);
			st = ana_evref__stack(cap, &x->ev[j]);
			for (k = 0; st && k < st->nframes && k < MAX_FRAMES_SHOWN; k++) {
				ana_safe(st->frames[k], fr, sizeof(fr));
				for (p = fr; *p; p++)
					if (*p == '`')
						*p = '\'';
				fprintf(out, "    %s %s\n", k ? "  " : "stack:", fr);
			}
		}
		fprintf(out, "```\n\n");
	}
}

void ana_findings__print(const struct ana_findings *f, struct ana_capture *cap,
			 const struct ana_tasks *tasks, enum ana_fmt fmt, FILE *out)
{
	if (fmt == FMT_JSON)
		ana_findings__json(f, cap, tasks, out);
	else if (fmt == FMT_MARKDOWN)
		markdown(f, cap, tasks, out);
	else
		text(f, cap, tasks, out);
}
