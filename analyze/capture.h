/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One capture being read: the reader, plus what every analysis needs to
 * know about the file (metadata, clock anchors, state names, losses, how
 * it ended). Records are streamed to a sink as they are read.
 */
#ifndef TCPTRAIL_ANA_CAPTURE_H
#define TCPTRAIL_ANA_CAPTURE_H

#include <stdint.h>
#include <string.h>

#include "clock.h"
#include "tcpstate.h"
#include "trail.h"

struct ana_pcap_cfg;

struct ana_kv {
	char *key;
	char *value;
};

struct ana_counter {
	char *name;
	uint64_t value;
};

struct ana_capture {
	struct trail_reader *r;
	const char *path;
	unsigned major, minor;
	struct ana_clock clock;
	struct ana_states states;

	struct ana_kv *meta;	/* latest value per key, in first-seen order */
	uint32_t nmeta, capmeta;
	uint64_t meta_dropped;

	/* totals from the last LOSS record */
	int have_loss;
	uint64_t loss_ringbuf;
	uint32_t loss_ncpus;
	struct ana_counter *loss_counters;
	uint32_t loss_ncounters;

	int have_end;
	struct trail_end end;

	/* what was read */
	uint64_t nrecords, nstates, nsocks, nunknown;
	uint64_t ntimed;	/* timed records: states, lifecycle, resets, retransmits, drops */
	int have_ts;
	uint64_t first_ts, last_ts;	/* min and max state change time */
	int rc;			/* last trail_reader__next(): 0 or -errno */
	int progress;		/* report progress on stderr (progress.c) */
	uint64_t size;		/* file size, for progress */
	enum trail_status status;
	char message[512];	/* reader's message about how reading stopped */
	struct ana_pcap_cfg *pcap;	/* the pcap beside it (pcap.h), NULL: none */
};

/* Called for each record after the capture has taken note of it. A
 * negative return stops reading and is returned by ana_capture__run(). */
struct ana_sink {
	int (*record)(struct ana_capture *cap, const struct trail_record *rec, void *ctx);
	void *ctx;
};

/* Open PATH. 0, or a negative errno with a message in ERR. */
int ana_capture__open(struct ana_capture **out, const char *path, char *err, size_t errlen);
/* Read to the end or the first error (noted in cap->rc/status/message).
 * Returns 0 when reading ended at the file's end or at damage, or the
 * sink's negative error. */
int ana_capture__run(struct ana_capture *cap, const struct ana_sink *sink);
/* Latest value of meta KEY, or NULL. Untrusted text: print via ana_safe. */
/* One progress line on stderr (progress.c). */
void ana_capture__tick(struct ana_capture *cap);
const char *ana_capture__meta(const struct ana_capture *cap, const char *key);
/* Sum of all losses, saturated. */
uint64_t ana_capture__loss_total(const struct ana_capture *cap);
/* Counters named note.* record a degradation that lost no event. */
static inline int ana_counter_is_note(const char *name)
{
	return name && !strncmp(name, "note.", 5);
}
void ana_capture__close(struct ana_capture *cap);

#endif
