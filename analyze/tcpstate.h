/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP states as the capture names them. A state number means what the
 * file's own tcp_state enum table says it means; the analyzer never
 * assumes a kernel numbering. ana_st is our internal vocabulary, found
 * by the kernel's enumerator names.
 */
#ifndef TCPTRAIL_ANA_TCPSTATE_H
#define TCPTRAIL_ANA_TCPSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "trail.h"

enum ana_st {
	ST_UNKNOWN = 0,		/* not in the table, or no table */
	ST_ESTABLISHED,
	ST_SYN_SENT,
	ST_SYN_RECV,
	ST_FIN_WAIT1,
	ST_FIN_WAIT2,
	ST_TIME_WAIT,
	ST_CLOSE,
	ST_CLOSE_WAIT,
	ST_LAST_ACK,
	ST_LISTEN,
	ST_CLOSING,
	ST_NEW_SYN_RECV,
	ST_BOUND_INACTIVE,
	ST__COUNT,
};

struct ana_states {
	const struct trail_reader *r;
	int have_table;
	uint8_t known[ST__COUNT];
	int64_t value[ST__COUNT];
	uint8_t small[256];	/* kind of values 0..255, the usual case: one load */
};

/* (Re)read the file's tcp_state table; call after each ENUM record for it. */
void ana_states__load(struct ana_states *s, const struct trail_reader *r);
/* Our name for kernel state VALUE; ST_UNKNOWN if the table lacks it. */
enum ana_st ana_states__kind(const struct ana_states *s, int64_t value);
/* Display name of VALUE without the TCP_ prefix, or the number. */
const char *ana_states__name(const struct ana_states *s, int64_t value, char *buf, size_t len);

#endif
