/* SPDX-License-Identifier: BSD-2-Clause */
/* Summary figures accumulated as connections finish (stats.c): memory is
 * bounded whatever the number of connections. */
#ifndef TCPTRAIL_ANA_STATS_H
#define TCPTRAIL_ANA_STATS_H

#include "ana.h"

struct ana_stats;

int ana_stats__new(struct ana_stats **out);
void ana_stats__conn(struct ana_stats *st, struct ana_capture *cap, const struct ana_conn *c);
void ana_stats__listener(struct ana_stats *st, struct ana_capture *cap, const struct ana_side *l);
void ana_stats__orphan(struct ana_stats *st, struct ana_capture *cap, const struct ana_event *e);
/* The summary's figures lines. */
void ana_stats__write(struct ana_stats *st, const struct ana_print *p);
void ana_stats__free(struct ana_stats *st);

#endif
