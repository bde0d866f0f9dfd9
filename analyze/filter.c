// SPDX-License-Identifier: BSD-2-Clause
/* `connections` filters: --port, --since, --until, --state, --outcome. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ana.h"
#include "conninfo.h"
#include "load.h"

static const char *const outcomes[] = { "fin", "abort", "reset", "refused", "timeout", "open",
					"none", NULL };

int ana_filter__parse(struct ana_filter *f, const char *opt, const char *arg)
{
	char *end;
	double d;
	long v;
	int i;

	if (!strcmp(opt, "port")) {
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || end == arg || *end || v < 1 || v > 65535 ||
		    f->nports >= ANA_MAX_PORT_FILTERS)
			return -EINVAL;
		f->ports[f->nports++] = (uint16_t)v;
		return 0;
	}
	if (!strcmp(opt, "since") || !strcmp(opt, "until")) {
		errno = 0;
		d = strtod(arg, &end);
		if (errno || end == arg || *end || !isfinite(d) || d < 0 || d > 1e9)
			return -EINVAL;
		if (opt[0] == 's') {
			f->have_since = 1;
			f->since_ns = (uint64_t)(d * 1e9);
		} else {
			f->have_until = 1;
			f->until_ns = (uint64_t)(d * 1e9);
		}
		return 0;
	}
	if (!strcmp(opt, "state")) {
		f->state = !strncasecmp(arg, "TCP_", 4) ? arg + 4 : arg;
		return *f->state ? 0 : -EINVAL;
	}
	if (!strcmp(opt, "outcome")) {
		for (i = 0; outcomes[i]; i++)
			if (!strcmp(arg, outcomes[i])) {
				f->outcome = outcomes[i];
				return 0;
			}
		return -EINVAL;
	}
	return -EINVAL;
}

static int side_has_port(const struct ana_side *s, const struct ana_filter *f)
{
	int i;

	for (i = 0; s && i < f->nports; i++)
		if (s->sport == f->ports[i] || s->dport == f->ports[i])
			return 1;
	return 0;
}

static int side_entered(const struct ana_side *s, const struct ana_capture *cap,
			const char *want)
{
	char n[32];
	uint32_t i;

	for (i = 0; s && i < s->nchanges; i++)
		if (!strcasecmp(ana_states__name(&cap->states, s->changes[i].newstate, n,
						 sizeof(n)), want))
			return 1;
	if (s && s->syn_ts && !strcasecmp(want, "NEW_SYN_RECV"))
		return 1;
	return 0;
}

static int side_event(const struct ana_side *s, enum ana_ev_type t)
{
	uint32_t i;

	for (i = 0; s && i < s->nevents; i++)
		if (s->events[i].type == t)
			return 1;
	return 0;
}

/* One word for how C ended, for --outcome. */
const char *ana_conn__outcome(const struct ana_conn *c, const struct ana_capture *cap)
{
	struct ana_close cl;
	const struct ana_side *a = c->client, *b = c->server;
	int rst = side_event(a, EV_RST_SENT) || side_event(a, EV_RST_RECV) ||
		  side_event(b, EV_RST_SENT) || side_event(b, EV_RST_RECV);
	int est = side_entered(a, cap, "ESTABLISHED") || side_entered(b, cap, "ESTABLISHED");

	if (!est && rst)
		return "refused";
	if (rst)
		return "reset";
	if ((a && a->open_at_end) || (b && b->open_at_end))
		return "open";
	if (!est && (side_entered(a, cap, "CLOSE") || side_entered(b, cap, "CLOSE")))
		return "timeout";
	ana_conn__close(c, &cap->states, &cl);
	switch (cl.kind) {
	case CLOSE_FIN:
	case CLOSE_SIMULTANEOUS:
	case CLOSE_BY_PEER:
		return "fin";
	case CLOSE_ABORT:
		return "abort";
	default:
		return "none";
	}
}

int ana_filter__match(const struct ana_filter *f, const struct ana_conn *c,
		      const struct ana_capture *cap)
{
	uint64_t t0 = cap->have_ts ? cap->first_ts : 0;

	if (f->nports && !side_has_port(c->client, f) && !side_has_port(c->server, f))
		return 0;
	if (f->have_since && c->end_ts < t0 + f->since_ns)
		return 0;
	if (f->have_until && c->start_ts > t0 + f->until_ns)
		return 0;
	if (f->state && !side_entered(c->client, cap, f->state) &&
	    !side_entered(c->server, cap, f->state))
		return 0;
	if (f->outcome && strcmp(ana_conn__outcome(c, cap), f->outcome))
		return 0;
	return 1;
}
