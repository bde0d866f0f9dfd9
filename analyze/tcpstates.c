// SPDX-License-Identifier: BSD-2-Clause
/*
 * `tcpstates`: the state changes in the columns of bcc/libbpf-tools
 * tcpstates, so scripts written for it read captures unchanged:
 *   SKADDR PID COMM LADDR LPORT RADDR RPORT OLDSTATE -> NEWSTATE MS
 * MS is the time since the socket's previous change, 0 for its first, and
 * restarts after CLOSE; like tcpstates it is keyed by the kernel address,
 * so a socket the recorder re-added under a new id keeps its clock.
 * Streams: nothing is kept but the last change time of open sockets.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "ana.h"
#include "idmap.h"
#include "util.h"

struct tcpstates {
	FILE *out;
	const struct ana_opts *o;
	struct idmap last;	/* skaddr -> uint64_t time of its previous change */
};

static void header(const struct tcpstates *t)
{
	if (t->o->timestamp)
		fprintf(t->out, "%-8s ", "TIME(s)");
	if (t->o->wide)
		fprintf(t->out, "%-16s %-7s %-16s %-2s %-26s %-5s %-26s %-5s %-11s -> %-11s %s\n",
			"SKADDR", "PID", "COMM", "IP", "LADDR", "LPORT", "RADDR", "RPORT",
			"OLDSTATE", "NEWSTATE", "MS");
	else
		fprintf(t->out, "%-16s %-7s %-10s %-15s %-5s %-15s %-5s %-11s -> %-11s %s\n",
			"SKADDR", "PID", "COMM", "LADDR", "LPORT", "RADDR", "RPORT", "OLDSTATE",
			"NEWSTATE", "MS");
}

/* Microseconds since the socket's previous change, remembering this one. */
static int delta_us(struct tcpstates *t, const struct ana_capture *cap,
		    const struct trail_state *st, const struct trail_sock *s, uint64_t *us)
{
	/* without an address, the socket id (top bit set: no kernel address) */
	uint64_t key = s && s->skaddr ? s->skaddr : st->sock_id | 1ull << 63;
	uint64_t *prev = idmap__get(&t->last, key);

	*us = prev && st->ts_ns > *prev ? (st->ts_ns - *prev) / 1000 : 0;
	if (ana_states__kind(&cap->states, st->newstate) == ST_CLOSE) {
		free(idmap__del(&t->last, key));
		return 0;
	}
	if (!prev) {
		prev = malloc(sizeof(*prev));
		if (!prev)
			return -ENOMEM;
		if (idmap__put(&t->last, key, prev)) {
			free(prev);
			return -ENOMEM;
		}
	}
	*prev = st->ts_ns;
	return 0;
}

static int on_state(struct tcpstates *t, struct ana_capture *cap, const struct trail_state *st)
{
	const struct trail_sock *s = trail_reader__sock(cap->r, st->sock_id);
	const struct trail_task *task = st->task_slot == TRAIL_NO_TASK ? NULL :
					trail_reader__task(cap->r, st->task_slot);
	char sa[ANA_ADDRSTRLEN] = "?", da[ANA_ADDRSTRLEN] = "?", comm[80] = "-", ts[32];
	char o[32], n[32];
	uint64_t us;
	int err;

	err = delta_us(t, cap, st, s, &us);
	if (err)
		return err;
	if (s) {
		ana_addr(s->family, s->saddr, sa, sizeof(sa));
		ana_addr(s->family, s->daddr, da, sizeof(da));
	}
	if (task)
		ana_safe(task->comm, comm, sizeof(comm));
	if (t->o->timestamp)
		fprintf(t->out, "%8s ", ana_clock__fmt_hms(&cap->clock, st->ts_ns, ts, sizeof(ts)));
	if (t->o->wide)
		fprintf(t->out, "%-16" PRIx64 " %-7d %-16s %-2d %-26s %-5d %-26s %-5d %-11s -> %-11s"
			" %.3f\n", s ? s->skaddr : 0, task ? (int)task->pid : 0, comm,
			s && s->family == TRAIL_FAMILY_INET6 ? 6 : 4, sa, s ? s->sport : 0, da,
			s ? s->dport : 0, ana_states__name(&cap->states, st->oldstate, o, sizeof(o)),
			ana_states__name(&cap->states, st->newstate, n, sizeof(n)),
			(double)us / 1000);
	else
		fprintf(t->out, "%-16" PRIx64 " %-7d %-10.10s %-15s %-5d %-15s %-5d %-11s -> %-11s"
			" %.3f\n", s ? s->skaddr : 0, task ? (int)task->pid : 0, comm, sa,
			s ? s->sport : 0, da, s ? s->dport : 0,
			ana_states__name(&cap->states, st->oldstate, o, sizeof(o)),
			ana_states__name(&cap->states, st->newstate, n, sizeof(n)),
			(double)us / 1000);
	return 0;
}

static int on_record(struct ana_capture *cap, const struct trail_record *rec, void *ctx)
{
	struct tcpstates *t = ctx;

	if (rec->type == TRAIL_REC_STATE)
		return on_state(t, cap, &rec->state);
	return 0;
}

static void free_entry(uint64_t key, void *val, void *ctx)
{
	(void)key;
	(void)ctx;
	free(val);
}

int ana_tcpstates__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out)
{
	struct tcpstates t = { .out = out, .o = o };
	struct ana_sink sink = { .record = on_record, .ctx = &t };
	int err;

	cap->clock.local = o->local_time;
	header(&t);
	err = ana_capture__run(cap, &sink);
	idmap__each(&t.last, free_entry, NULL);
	idmap__free(&t.last);
	return err;
}
