/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Connection numbers without keeping every connection. A connection's
 * number is its rank by (start time, first socket id), the same in every
 * command. The tracker finishes connections in a deterministic order; when
 * that order already is start order (the usual case: each connection ends
 * after the ones that began before it) a connection's number is its place
 * in the finish order and nothing is kept per connection. Otherwise one
 * more pass over the capture collects a 16-byte key per connection and
 * numbers come from their ranks.
 */
#ifndef TCPTRAIL_ANA_CONNORDER_H
#define TCPTRAIL_ANA_CONNORDER_H

#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "conn.h"

struct ana_okey {
	uint64_t ts, sock;
};

struct ana_order {
	uint64_t n;		/* connections finished */
	struct ana_okey last;
	int unsorted;		/* finish order is not start order */
	int keep;		/* keep keys as they come (input read once) */
	struct ana_okey *keys;	/* sorted by ana_order__ranks() */
	size_t nkeys, capkeys;
	int ranked;		/* keys complete and sorted */
};

/* The start of C as connections are numbered: its first record, or its
 * server's SYN arrival if that was earlier. */
void ana_order__fix_start(struct ana_conn *c);
struct ana_okey ana_order__key(const struct ana_conn *c);
/* Finished connection C, in finish order. 0 or -ENOMEM. */
int ana_order__add(struct ana_order *o, const struct ana_conn *c);
/* Make numbers available for every connection: nothing to do in start
 * order; otherwise sort the kept keys, or read CAP's file again for them.
 * 0 or a negative errno. */
int ana_order__ranks(struct ana_order *o, struct ana_capture *cap);
/* Number of C, which finished as the IDX-th (0-based); 0 if unknown. */
uint32_t ana_order__id(const struct ana_order *o, uint64_t idx, const struct ana_conn *c);
void ana_order__free(struct ana_order *o);

/* Read CAP's file once more, as far as CAP read it, through a new tracker
 * with OPS (every record, then finish). -EIO if it no longer holds the
 * same records (changed in place). */
int ana_order__reread(struct ana_capture *cap, const struct ana_conns_ops *ops);

#endif
