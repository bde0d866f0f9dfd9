// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "util.h"

#define ANA_MAX_META 256u	/* distinct keys kept; a recorder writes ~20 */

int ana_capture__open(struct ana_capture **out, const char *path, char *err, size_t errlen)
{
	struct ana_capture *cap = calloc(1, sizeof(*cap));
	int ret;

	if (!cap) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = trail_reader__open(&cap->r, path, err, errlen);
	if (ret) {
		free(cap);
		return ret;
	}
	cap->path = path;
	trail_reader__version(cap->r, &cap->major, &cap->minor);
	/* names resolve through the reader even before any table arrives */
	ana_states__load(&cap->states, cap->r);
	*out = cap;
	return 0;
}

static int note_meta(struct ana_capture *cap, const struct trail_meta *m)
{
	struct ana_kv *n;
	char *v;
	uint32_t i, ncap;

	if (!m->key || !m->value)
		return 0;
	for (i = 0; i < cap->nmeta; i++) {
		if (strcmp(cap->meta[i].key, m->key))
			continue;
		v = strdup(m->value);
		if (!v)
			return -ENOMEM;
		free(cap->meta[i].value);
		cap->meta[i].value = v;
		return 0;
	}
	if (cap->nmeta >= ANA_MAX_META) {
		cap->meta_dropped++;
		return 0;
	}
	if (cap->nmeta == cap->capmeta) {
		ncap = cap->capmeta ? cap->capmeta * 2 : 32;
		n = realloc(cap->meta, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		cap->meta = n;
		cap->capmeta = ncap;
	}
	n = &cap->meta[cap->nmeta];
	n->key = strdup(m->key);
	n->value = strdup(m->value);
	if (!n->key || !n->value) {
		free(n->key);
		free(n->value);
		return -ENOMEM;
	}
	cap->nmeta++;
	return 0;
}

static void free_loss(struct ana_capture *cap)
{
	uint32_t i;

	for (i = 0; i < cap->loss_ncounters; i++)
		free(cap->loss_counters[i].name);
	free(cap->loss_counters);
	cap->loss_counters = NULL;
	cap->loss_ncounters = 0;
}

/* LOSS counters are cumulative: the latest record replaces the totals. */
static int note_loss(struct ana_capture *cap, const struct trail_loss *l)
{
	uint64_t ring = 0;
	uint32_t i, n = l->ncounters;

	for (i = 0; i < l->ncpus && l->percpu_ringbuf; i++)
		ring = ana_sat_add(ring, l->percpu_ringbuf[i]);
	free_loss(cap);
	cap->have_loss = 1;
	cap->loss_ringbuf = ring;
	cap->loss_ncpus = l->ncpus;
	if (!n || !l->counters)
		return 0;
	cap->loss_counters = calloc(n, sizeof(*cap->loss_counters));
	if (!cap->loss_counters)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		cap->loss_counters[i].name = strdup(l->counters[i].name ? l->counters[i].name : "");
		if (!cap->loss_counters[i].name)
			return -ENOMEM;
		cap->loss_counters[i].value = l->counters[i].value;
		cap->loss_ncounters = i + 1;
	}
	return 0;
}

static int timed(struct ana_capture *cap, uint64_t ts)
{
	cap->ntimed++;
	if (!cap->have_ts || ts < cap->first_ts)
		cap->first_ts = ts;
	if (!cap->have_ts || ts > cap->last_ts)
		cap->last_ts = ts;
	cap->have_ts = 1;
	return 0;
}

static int note(struct ana_capture *cap, const struct trail_record *rec)
{
	cap->nrecords++;
	switch (rec->type) {
	case TRAIL_REC_META:
		return note_meta(cap, &rec->meta);
	case TRAIL_REC_ENUM:
		if (rec->enumt.name && !strcmp(rec->enumt.name, TRAIL_ENUM_TCP_STATE))
			ana_states__load(&cap->states, cap->r);
		return 0;
	case TRAIL_REC_CLOCK:
		return ana_clock__add(&cap->clock, &rec->clock);
	case TRAIL_REC_LOSS:
		return note_loss(cap, &rec->loss);
	case TRAIL_REC_END:
		cap->have_end = 1;
		cap->end = rec->end;
		return 0;
	case TRAIL_REC_SOCK:
		cap->nsocks++;
		return 0;
	case TRAIL_REC_STATE:
		cap->nstates++;
		return timed(cap, rec->state.ts_ns);
	case TRAIL_REC_LIFE:
		return timed(cap, rec->life.ts_ns);
	case TRAIL_REC_RESET:
		return timed(cap, rec->reset.ts_ns);
	case TRAIL_REC_RETRANS:
		return timed(cap, rec->retrans.ts_ns);
	case TRAIL_REC_DROP:
		return timed(cap, rec->drop.ts_ns);
	case TRAIL_REC_UNKNOWN:
		cap->nunknown++;
		return 0;
	default:
		return 0;
	}
}

int ana_capture__run(struct ana_capture *cap, const struct ana_sink *sink)
{
	struct trail_record rec;
	int ret;

	for (;;) {
		ret = trail_reader__next(cap->r, &rec);
		if (ret <= 0)
			break;
		ret = note(cap, &rec);
		if (cap->progress && !(cap->nrecords & 0xfffff))
			ana_capture__tick(cap);
		if (!ret && sink && sink->record)
			ret = sink->record(cap, &rec, sink->ctx);
		if (ret < 0)
			return ret;
	}
	cap->rc = ret;
	cap->status = trail_reader__status(cap->r);
	snprintf(cap->message, sizeof(cap->message), "%s",
		 trail_reader__message(cap->r) ? trail_reader__message(cap->r) : "");
	return 0;
}

const char *ana_capture__meta(const struct ana_capture *cap, const char *key)
{
	uint32_t i;

	for (i = 0; i < cap->nmeta; i++)
		if (!strcmp(cap->meta[i].key, key))
			return cap->meta[i].value;
	return NULL;
}

uint64_t ana_capture__loss_total(const struct ana_capture *cap)
{
	uint64_t t = cap->loss_ringbuf;
	uint32_t i;

	for (i = 0; i < cap->loss_ncounters; i++)
		if (!ana_counter_is_note(cap->loss_counters[i].name))
			t = ana_sat_add(t, cap->loss_counters[i].value);
	return t;
}

void ana_capture__close(struct ana_capture *cap)
{
	uint32_t i;

	if (!cap)
		return;
	trail_reader__close(cap->r);
	for (i = 0; i < cap->nmeta; i++) {
		free(cap->meta[i].key);
		free(cap->meta[i].value);
	}
	free(cap->meta);
	free_loss(cap);
	ana_clock__free(&cap->clock);
	free(cap);
}
