/* SPDX-License-Identifier: BSD-2-Clause */
/* Boot-time to wall-clock conversion through the capture's CLOCK anchors. */
#ifndef TCPTRAIL_ANA_CLOCK_H
#define TCPTRAIL_ANA_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "trail.h"

struct ana_clock {
	struct trail_clock *anchors;	/* sorted by boot_ns unless unsorted */
	size_t len, cap;
	int unsorted;
	uint64_t dropped;	/* anchors over the limit, not kept */
	int local;		/* print local time instead of UTC */
};

/* Keep anchor C. 0, or -ENOMEM. */
int ana_clock__add(struct ana_clock *c, const struct trail_clock *a);
/* Realtime ns for BOOT_NS via the nearest anchor; -ENOENT without one. */
int ana_clock__real(struct ana_clock *c, uint64_t boot_ns, int64_t *real_ns);
/* Boot time ns for realtime REAL_NS (a pcap's clock) via the anchor nearest
 * in realtime; -ENOENT without one. */
int ana_clock__boot(struct ana_clock *c, int64_t real_ns, uint64_t *boot_ns);
/* Largest step between consecutive anchors' boot->real offsets, in ns. */
int64_t ana_clock__max_step(struct ana_clock *c);

/* "HH:MM:SS.uuuuuu" for BOOT_NS; "boot+S.uuuuuu" without an anchor. */
char *ana_clock__fmt(struct ana_clock *c, uint64_t boot_ns, char *buf, size_t len);
/* "YYYY-MM-DD HH:MM:SS.uuuuuu UTC" (or the local zone) for BOOT_NS. */
char *ana_clock__fmt_full(struct ana_clock *c, uint64_t boot_ns, char *buf, size_t len);
/* "YYYY-MM-DD" of BOOT_NS, or "" without an anchor. */
char *ana_clock__fmt_date(struct ana_clock *c, uint64_t boot_ns, char *buf, size_t len);
/* "HH:MM:SS" as tcpstates -T prints it. */
char *ana_clock__fmt_hms(struct ana_clock *c, uint64_t boot_ns, char *buf, size_t len);

void ana_clock__free(struct ana_clock *c);

#endif
