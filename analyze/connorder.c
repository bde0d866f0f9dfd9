// SPDX-License-Identifier: BSD-2-Clause
/* Connection numbers in streaming mode; see connorder.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connorder.h"
#include "load.h"
#include "util.h"

void ana_order__fix_start(struct ana_conn *c)
{
	uint64_t t;

	if (c->server && c->server->syn_ts) {
		t = c->server->syn_ts;
		if (t < c->start_ts || c->start_ts == 0)
			c->start_ts = t;
	}
}

struct ana_okey ana_order__key(const struct ana_conn *c)
{
	struct ana_okey k = { c->start_ts, 0 };

	k.sock = c->client ? c->client->sock_id : c->server ? c->server->sock_id : 0;
	return k;
}

static int key_cmp(const struct ana_okey *x, const struct ana_okey *y)
{
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->sock < y->sock ? -1 : x->sock > y->sock;
}

static int key_qcmp(const void *a, const void *b)
{
	return key_cmp(a, b);
}

static int push_key(struct ana_order *o, struct ana_okey k)
{
	if (ana_grow((void **)&o->keys, &o->capkeys, o->nkeys, sizeof(*o->keys)))
		return -ENOMEM;
	o->keys[o->nkeys++] = k;
	return 0;
}

int ana_order__add(struct ana_order *o, const struct ana_conn *c)
{
	struct ana_okey k = ana_order__key(c);

	if (o->n && key_cmp(&o->last, &k) >= 0)
		o->unsorted = 1;
	o->last = k;
	o->n++;
	return o->keep ? push_key(o, k) : 0;
}

static void collect(struct ana_conn *c, void *ctx)
{
	struct ana_order *o = ctx;

	ana_order__fix_start(c);
	if (!o->ranked && push_key(o, ana_order__key(c)))
		o->ranked = -ENOMEM;
	ana_conn__free(c);
}

static void drop_side(struct ana_side *s, void *ctx)
{
	(void)ctx;
	ana_side__free(s);
}

int ana_order__ranks(struct ana_order *o, struct ana_capture *cap)
{
	struct ana_conns_ops ops = { collect, drop_side, drop_side, NULL, o };
	int err;

	if (!o->unsorted || o->ranked > 0)
		return 0;
	if (!o->keep) {
		o->nkeys = 0;
		err = ana_order__reread(cap, &ops);
		if (!err && o->ranked < 0)
			err = o->ranked;
		if (err)
			return err;
		if (o->nkeys != o->n)
			return -EIO;	/* the file changed under us */
	}
	if (o->nkeys > 1)
		qsort(o->keys, o->nkeys, sizeof(*o->keys), key_qcmp);
	o->ranked = 1;
	return 0;
}

uint32_t ana_order__id(const struct ana_order *o, uint64_t idx, const struct ana_conn *c)
{
	struct ana_okey k;
	size_t lo = 0, hi = o->nkeys;

	if (!o->unsorted)
		return (uint32_t)(idx + 1);
	if (o->ranked <= 0)
		return 0;
	k = ana_order__key(c);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(&o->keys[mid], &k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (uint32_t)(lo + 1);
}

void ana_order__free(struct ana_order *o)
{
	free(o->keys);
	memset(o, 0, sizeof(*o));
}

static int feed(struct ana_capture *cap, const struct trail_record *rec, void *ctx)
{
	return ana_conns__feed(ctx, cap, rec);
}

/* CAP's file again, as far as CAP read it: a recorder may still append. */
static int reopen(struct ana_capture **out, const struct ana_capture *cap)
{
	struct ana_capture *c = calloc(1, sizeof(*c));
	char err[512];
	int rc;

	if (!c)
		return -ENOMEM;
	rc = trail_reader__open_prefix(&c->r, cap->path, trail_reader__size(cap->r), err,
				       sizeof(err));
	if (rc) {
		free(c);
		return rc;
	}
	c->path = cap->path;
	trail_reader__version(c->r, &c->major, &c->minor);
	ana_states__load(&c->states, c->r);
	*out = c;
	return 0;
}

int ana_order__reread(struct ana_capture *cap, const struct ana_conns_ops *ops)
{
	struct ana_capture *again = NULL;
	struct ana_conns *t = NULL;
	struct ana_sink sink = { .record = feed };
	int rc;

	if (!cap->path || !strcmp(cap->path, "-"))
		return -ESPIPE;
	rc = reopen(&again, cap);
	if (rc)
		return rc;
	rc = ana_conns__new(&t, &again->states, ops);
	if (!rc) {
		sink.ctx = t;
		rc = ana_capture__run(again, &sink);
		/* the same records as the first time, or the file changed */
		if (!rc && (again->nrecords != cap->nrecords || again->status != cap->status))
			rc = -EIO;
		if (!rc)
			ana_conns__finish(t);
	}
	ana_conns__free(t);
	ana_capture__close(again);
	return rc;
}
