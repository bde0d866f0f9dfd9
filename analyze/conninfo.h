/* SPDX-License-Identifier: BSD-2-Clause */
/* Facts derived from a finished connection: who closed first, how long
 * each side spent in each state. Shared by every report. */
#ifndef TCPTRAIL_ANA_CONNINFO_H
#define TCPTRAIL_ANA_CONNINFO_H

#include <stdint.h>

#include "conn.h"
#include "tcpstate.h"

enum ana_close_kind {
	CLOSE_NONE = 0,		/* no close seen in the capture */
	CLOSE_FIN,		/* one side sent FIN first: the active closer */
	CLOSE_SIMULTANEOUS,	/* both sent FIN before seeing the other's */
	CLOSE_ABORT,		/* a side went to CLOSE without FIN (RST, abort) */
	CLOSE_BY_PEER,		/* lone side in CLOSE_WAIT: the unrecorded peer closed */
};

struct ana_close {
	enum ana_close_kind kind;
	const struct ana_side *closer;	/* NULL for CLOSE_NONE and CLOSE_BY_PEER */
	uint64_t ts_ns;			/* the closer's change */
	uint16_t oldstate, newstate;	/* the closer's change */
};

void ana_conn__close(const struct ana_conn *c, const struct ana_states *st,
		     struct ana_close *out);

struct ana_dwell {
	uint16_t state;		/* kernel value */
	uint32_t times;		/* entered this many times */
	int64_t ns;		/* total time spent; <0 only with reordered times */
};

#define ANA_MAX_DWELL 16

/* Time S spent in each state it entered and left, in order of first
 * entry. Returns the number of entries written to OUT (<= ANA_MAX_DWELL;
 * states beyond that are not counted). */
uint32_t ana_side__dwell(const struct ana_side *s, struct ana_dwell out[ANA_MAX_DWELL]);

#endif
