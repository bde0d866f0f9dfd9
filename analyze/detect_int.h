/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared by the detection rules (detect.c, rules_rst.c, rules_conn.c). */
#ifndef TCPTRAIL_ANA_DETECT_INT_H
#define TCPTRAIL_ANA_DETECT_INT_H

#include "finding.h"
#include "util.h"

/* texts are cut to their buffers on purpose: bounded output from any file */
#pragma GCC diagnostic ignored "-Wformat-truncation"

struct det {
	struct ana_findings *f;
	struct ana_capture *cap;
	const struct ana_load *ld;
	const struct ana_tasks *tasks;
	struct ana_detect_opts opts;
	int err;
};

struct ana_finding *det__new(struct det *d, enum ana_kind kind, const struct ana_conn *c,
			     uint64_t ts);
void det__ev(struct ana_finding *f, const struct ana_side *s, const char *role,
	     const struct ana_event *ev, const struct ana_change *ch);
const char *det__role(const struct ana_conn *c, const struct ana_side *s);
const char *det__enum(struct det *d, const char *table, int64_t v, char *buf, size_t len);
int det__is(struct det *d, const char *table, int64_t v, const char *suffix);
char *det__seg(const struct trail_segment *g, char *buf, size_t len);
char *det__tuple(const struct ana_side *s, char *buf, size_t len);
char *det__task(struct det *d, uint32_t idx, char *buf, size_t len);

void det__lost(struct det *d);

/* rules_rst.c */
void det__resets(struct det *d, const struct ana_conn *c, const struct ana_side *s);
void det__orphan(struct det *d, const struct ana_event *ev);
/* rules_conn.c */
void det__conn(struct det *d, const struct ana_conn *c);
void det__listener(struct det *d, const struct ana_side *l);

#endif
