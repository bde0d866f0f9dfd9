// SPDX-License-Identifier: BSD-2-Clause
/*
 * `dump` (not in --help): every record of a capture, one line each, in
 * file order, all fields as key=value, for tests and for looking inside a
 * capture. Enum values are shown with the name the file's own tables give
 * them, socket ids with the tuple the file gave that id.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "ana.h"
#include "util.h"

struct dump {
	FILE *out;
	const struct trail_reader *r;
};

static const char *rec_name(enum trail_rec_type t)
{
	static const char *const names[] = {
		[TRAIL_REC_META] = "META", [TRAIL_REC_ENUM] = "ENUM",
		[TRAIL_REC_CLOCK] = "CLOCK", [TRAIL_REC_SOCK] = "SOCK",
		[TRAIL_REC_TUPLE] = "TUPLE", [TRAIL_REC_RETIRE] = "RETIRE",
		[TRAIL_REC_TASK] = "TASK", [TRAIL_REC_STATE] = "STATE",
		[TRAIL_REC_LOSS] = "LOSS", [TRAIL_REC_END] = "END",
		[TRAIL_REC_UNKNOWN] = "UNKNOWN", [TRAIL_REC_LINK] = "LINK",
		[TRAIL_REC_STACK] = "STACK", [TRAIL_REC_LIFE] = "LIFE",
		[TRAIL_REC_RESET] = "RESET", [TRAIL_REC_RETRANS] = "RETRANS",
		[TRAIL_REC_DROP] = "DROP",
	};

	if ((size_t)t < sizeof(names) / sizeof(names[0]) && names[t])
		return names[t];
	return "?";
}

/* " KEY=NAME(VALUE)" from enum table ENUM, "KEY=VALUE" if it has no name. */
static void put_enum(const struct dump *d, const char *key, const char *enumt, int64_t v)
{
	const char *name = trail_reader__enum_name(d->r, enumt, v);
	char safe[160];

	if (name)
		fprintf(d->out, " %s=%s(%" PRId64 ")", key, ana_safe(name, safe, sizeof(safe)), v);
	else
		fprintf(d->out, " %s=%" PRId64, key, v);
}

static void put_state(const struct dump *d, const char *key, uint16_t st)
{
	if (st == TRAIL_NO_STATE)
		fprintf(d->out, " %s=none", key);
	else
		put_enum(d, key, TRAIL_ENUM_TCP_STATE, st);
}

static void put_reason(const struct dump *d, const char *enumt, int64_t reason)
{
	if (reason == TRAIL_NO_REASON)
		fprintf(d->out, " reason=none");
	else
		put_enum(d, "reason", enumt, reason);
}

static void put_tuple(const struct dump *d, const char *key, uint8_t family,
		      const uint8_t *sa, uint16_t sp, const uint8_t *da, uint16_t dp)
{
	char a[ANA_EPSTRLEN], b[ANA_EPSTRLEN];

	fprintf(d->out, " %s=%s>%s", key, ana_endpoint(family, sa, sp, a, sizeof(a)),
		ana_endpoint(family, da, dp, b, sizeof(b)));
}

/* sock=ID and, if the file defined it, its tuple local>remote. */
static void put_sock(const struct dump *d, const char *key, uint64_t id)
{
	const struct trail_sock *s = id ? trail_reader__sock(d->r, id) : NULL;

	fprintf(d->out, " %s=%" PRIu64, key, id);
	if (s)
		put_tuple(d, "sktuple", s->family, s->saddr, s->sport, s->daddr, s->dport);
}

static void put_task(const struct dump *d, uint32_t slot)
{
	const struct trail_task *t = slot == TRAIL_NO_TASK ? NULL : trail_reader__task(d->r, slot);
	char safe[80];

	if (!t) {
		fprintf(d->out, " task=none");
		return;
	}
	fprintf(d->out, " task=%" PRIu32 " pid=%" PRIu32 " comm=%s", slot, t->pid,
		ana_safe(t->comm, safe, sizeof(safe)));
}

static void put_seg(const struct dump *d, const struct trail_segment *g)
{
	static const char letters[] = "FSRPAUEC";
	char flags[9];
	int i, n = 0;

	if (!g->family) {
		fprintf(d->out, " seg=none");
		return;
	}
	for (i = 0; i < 8; i++)
		if (g->flags & (1u << i))
			flags[n++] = letters[i];
	flags[n] = '\0';
	put_tuple(d, "seg", g->family, g->saddr, g->sport, g->daddr, g->dport);
	fprintf(d->out, " flags=%s seq=%" PRIu32 " ack=%" PRIu32 " len=%" PRIu32,
		n ? flags : "-", g->seq, g->ack, g->len);
}

static void put_stack(const struct dump *d, const struct trail_stack *st)
{
	char safe[TRAIL_MAX_FRAME * 4 + 1];
	uint32_t i;

	fprintf(d->out, " id=%" PRIu32 " nframes=%" PRIu32 " frames=", st->id, st->nframes);
	for (i = 0; i < st->nframes; i++)
		fprintf(d->out, "%s%s", i ? ";" : "",
			ana_safe(st->frames[i] ? st->frames[i] : "", safe, sizeof(safe)));
}

static void put_sockrec(const struct dump *d, const struct trail_sock *s)
{
	fprintf(d->out, " id=%" PRIu64 " kind=%u cookie=%" PRIu64 " skaddr=0x%" PRIx64
		" netns=%" PRIu32 " family=%u protocol=%u", s->id, s->kind, s->cookie,
		s->skaddr, s->netns, s->family, s->protocol);
	put_tuple(d, "tuple", s->family, s->saddr, s->sport, s->daddr, s->dport);
}

static void put_loss(const struct dump *d, const struct trail_loss *l)
{
	uint64_t rb = 0;
	uint32_t i;
	char safe[160];

	for (i = 0; i < l->ncpus && l->percpu_ringbuf; i++)
		rb = ana_sat_add(rb, l->percpu_ringbuf[i]);
	fprintf(d->out, " ncpus=%" PRIu32 " ringbuf=%" PRIu64, l->ncpus, rb);
	for (i = 0; i < l->ncounters && l->counters; i++)
		fprintf(d->out, " %s=%" PRIu64,
			ana_safe(l->counters[i].name ? l->counters[i].name : "", safe, sizeof(safe)),
			l->counters[i].value);
}

static int on_record(struct ana_capture *cap, const struct trail_record *rec, void *ctx)
{
	const struct dump *d = ctx;
	char k[160], v[512];

	(void)cap;
	fprintf(d->out, "%s", rec_name(rec->type));
	switch (rec->type) {
	case TRAIL_REC_META:
		fprintf(d->out, " %s=%s", ana_safe(rec->meta.key, k, sizeof(k)),
			ana_safe(rec->meta.value, v, sizeof(v)));
		break;
	case TRAIL_REC_ENUM:
		fprintf(d->out, " name=%s count=%" PRIu32, ana_safe(rec->enumt.name, k, sizeof(k)),
			rec->enumt.count);
		break;
	case TRAIL_REC_CLOCK:
		fprintf(d->out, " boot_ns=%" PRIu64 " real_ns=%" PRIu64 " uncertainty_ns=%" PRIu64,
			rec->clock.boot_ns, rec->clock.real_ns, rec->clock.uncertainty_ns);
		break;
	case TRAIL_REC_SOCK:
	case TRAIL_REC_TUPLE:
		put_sockrec(d, &rec->sock);
		break;
	case TRAIL_REC_RETIRE:
		fprintf(d->out, " id=%" PRIu64, rec->retire);
		break;
	case TRAIL_REC_TASK:
		fprintf(d->out, " slot=%" PRIu32 " pid=%" PRIu32 " tid=%" PRIu32 " comm=%s",
			rec->task.slot, rec->task.pid, rec->task.tid,
			ana_safe(rec->task.comm, k, sizeof(k)));
		break;
	case TRAIL_REC_STATE:
		fprintf(d->out, " ts=%" PRIu64, rec->state.ts_ns);
		put_sock(d, "sock", rec->state.sock_id);
		put_task(d, rec->state.task_slot);
		put_state(d, "old", rec->state.oldstate);
		put_state(d, "new", rec->state.newstate);
		break;
	case TRAIL_REC_LOSS:
		put_loss(d, &rec->loss);
		break;
	case TRAIL_REC_END:
		fprintf(d->out, " records=%" PRIu64 " socks=%" PRIu64 " blocks=%" PRIu64,
			rec->end.records, rec->end.socks, rec->end.blocks);
		break;
	case TRAIL_REC_UNKNOWN:
		fprintf(d->out, " kind=%" PRIu32, rec->unknown_kind);
		break;
	case TRAIL_REC_LINK:
		put_sock(d, "sock", rec->link.sock_id);
		put_sock(d, "other", rec->link.other_id);
		fprintf(d->out, " relation=%u", rec->link.relation);
		break;
	case TRAIL_REC_STACK:
		put_stack(d, &rec->stack);
		break;
	case TRAIL_REC_LIFE:
		fprintf(d->out, " ts=%" PRIu64, rec->life.ts_ns);
		put_sock(d, "sock", rec->life.sock_id);
		put_task(d, rec->life.task_slot);
		fprintf(d->out, " event=%u value=%" PRIu64, rec->life.event, rec->life.value);
		break;
	case TRAIL_REC_RESET:
		fprintf(d->out, " ts=%" PRIu64 " dir=%s source=%s", rec->reset.ts_ns,
			rec->reset.dir == TRAIL_RST_SENT ? "sent" :
			rec->reset.dir == TRAIL_RST_RECEIVED ? "received" : "?",
			rec->reset.source == TRAIL_RST_SRC_REPLY ? "reply" :
			rec->reset.source == TRAIL_RST_SRC_ACTIVE ? "active" : "unknown");
		put_sock(d, "sock", rec->reset.sock_id);
		put_task(d, rec->reset.task_slot);
		fprintf(d->out, " netns=%" PRIu32, rec->reset.netns);
		put_state(d, "state", rec->reset.state);
		put_reason(d, TRAIL_ENUM_RST_REASON, rec->reset.reason);
		fprintf(d->out, " stack=%" PRIu32, rec->reset.stack_id);
		put_seg(d, &rec->reset.seg);
		break;
	case TRAIL_REC_RETRANS:
		fprintf(d->out, " ts=%" PRIu64 " kind=%s", rec->retrans.ts_ns,
			rec->retrans.kind == TRAIL_RETRANS_DATA ? "data" :
			rec->retrans.kind == TRAIL_RETRANS_SYN ? "syn" :
			rec->retrans.kind == TRAIL_RETRANS_SYNACK ? "synack" : "?");
		put_sock(d, "sock", rec->retrans.sock_id);
		put_task(d, rec->retrans.task_slot);
		put_state(d, "state", rec->retrans.state);
		put_seg(d, &rec->retrans.seg);
		break;
	case TRAIL_REC_DROP:
		fprintf(d->out, " ts=%" PRIu64, rec->drop.ts_ns);
		put_sock(d, "sock", rec->drop.sock_id);
		put_task(d, rec->drop.task_slot);
		fprintf(d->out, " netns=%" PRIu32, rec->drop.netns);
		put_reason(d, TRAIL_ENUM_DROP_REASON, rec->drop.reason);
		fprintf(d->out, " stack=%" PRIu32, rec->drop.stack_id);
		put_seg(d, &rec->drop.seg);
		break;
	}
	fputc('\n', d->out);
	return ferror(d->out) ? -EIO : 0;
}

int ana_dump__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out)
{
	struct dump d = { .out = out, .r = cap->r };
	struct ana_sink sink = { .record = on_record, .ctx = &d };

	(void)o;
	return ana_capture__run(cap, &sink);
}
