// SPDX-License-Identifier: BSD-2-Clause
/*
 * The files a recording writes, and -C/-W rotation, as tcpdump does it: the
 * first file is FILE, the next FILE1, FILE2, ...; with -W N the names cycle
 * through FILE, FILE1 .. FILE<N-1>, the oldest overwritten, so at most N
 * exist. A --pcap file PCAP is paired the same way (PCAP, PCAP1, ...) and
 * rotates with it: a new pair starts when either file has grown past -C.
 *
 * The sizes are checked before each event is written and every 100 ms:
 * a .trail grows by compressed blocks of at most a quarter of the limit,
 * a pcap by what the kernel hands over at once (up to 100 ms of packets),
 * so a file can end somewhat past the limit, as with tcpdump's -C.
 *
 * Every file is a complete capture on its own: META (with rotation.seq),
 * ENUM, CLOCK and LOSS at the start, the full sockets still live declared
 * again (request and timewait socks at their first event in the file), then
 * events, and LOSS, CLOCK and END at the end. Its LOSS counters count
 * what was lost while it was the current file.
 *
 * META keys added here: rotation.seq (0 for the first file of the
 * recording), rotation.size_limit (bytes, -C), rotation.max_files (-W).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"

struct output {
	struct output_cfg cfg;
	struct trail_writer *w;
	uint32_t seq;			/* files begun so far - 1 */
	char path[PATH_MAX];		/* current .trail */
	char pcap_path[PATH_MAX];	/* current pcap */
	uint64_t bytes_done;		/* in files already closed */
	struct trail_writer_opts wopts;
	uint64_t head_bytes;		/* of the current file's head */
	uint64_t misses_base;		/* probe_set__misses() at the file's start */
	uint64_t misses_last;		/* as of the last LOSS block */
};

/* BASE with the suffix of file number SEQ: "", "1", "2", ... */
static int file_name(char *buf, size_t cap, const char *base, uint32_t seq, uint32_t max_files)
{
	uint32_t idx = max_files ? seq % max_files : seq;
	int n = idx ? snprintf(buf, cap, "%s%u", base, idx) : snprintf(buf, cap, "%s", base);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int write_head(struct output *o)
{
	struct meta_info mi = {
		.argc = o->cfg.argc, .argv = o->cfg.argv,
		.filter = o->cfg.filter, .probes = o->cfg.probes,
	};
	char buf[32];
	int err;

	err = meta__write(o->w, &mi);
	if (!err && (o->cfg.limit_bytes || o->seq)) {
		snprintf(buf, sizeof(buf), "%u", o->seq);
		err = trail_writer__meta(o->w, "rotation.seq", buf);
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)o->cfg.limit_bytes);
		if (!err)
			err = trail_writer__meta(o->w, "rotation.size_limit", buf);
		snprintf(buf, sizeof(buf), "%u", o->cfg.max_files);
		if (!err && o->cfg.max_files)
			err = trail_writer__meta(o->w, "rotation.max_files", buf);
	}
	if (!err && o->cfg.cap)
		err = capture__meta(o->cfg.cap, o->w);
	if (!err)
		err = meta__write_enums(o->w);
	if (!err)
		err = meta__write_clock(o->w);
	return err;
}

/* Open file pair number o->seq and write its head; the previous pcap file's
 * counters into *PREV. */
static int begin_file(struct output *o, struct capture_stats *prev)
{
	int err;

	err = file_name(o->path, sizeof(o->path), o->cfg.path, o->seq, o->cfg.max_files);
	if (!err && o->cfg.cap)
		err = file_name(o->pcap_path, sizeof(o->pcap_path), o->cfg.pcap_path, o->seq,
				o->cfg.max_files);
	if (err) {
		fprintf(stderr, "%s: file name too long: %s\n", PROG, o->cfg.path);
		return err;
	}
	if (o->cfg.cap) {
		/* a swap: no packet falls between the two files */
		err = capture__file(o->cfg.cap, o->pcap_path, prev);
		if (err) {
			fprintf(stderr, "%s: cannot create %s: %s\n", PROG, o->pcap_path,
				strerror(-err));
			return err;
		}
	}
	err = trail_writer__open(&o->w, o->path, &o->wopts);
	if (err) {
		fprintf(stderr, "%s: cannot create %s: %s\n", PROG, o->path, strerror(-err));
		return err;
	}
	err = write_head(o);
	if (err)
		fprintf(stderr, "%s: writing %s: %s\n", PROG, o->path, strerror(-err));
	return err;
}

int output__open(struct output **out, const struct output_cfg *cfg)
{
	struct output *o = calloc(1, sizeof(*o));
	int err;

	if (!o)
		return -ENOMEM;
	o->cfg = *cfg;
	/* zstd level 1: a third of the reader's time went to level 3 in a
	 * connection storm, for no smaller a file on these records */
	o->wopts.compress = 1;
	o->wopts.compress_level = 1;
	/* with -C a file grows a block at a time: blocks well under the limit */
	if (cfg->limit_bytes)
		o->wopts.block_bytes = cfg->limit_bytes / 4 > (1u << 20) ? (1u << 20) :
				       cfg->limit_bytes / 4 < 4096 ? 4096 : cfg->limit_bytes / 4;
	err = begin_file(o, NULL);
	if (err) {
		output__abandon(o);
		return err;
	}
	*out = o;
	return 0;
}

struct trail_writer *output__writer(const struct output *o)
{
	return o->w;
}

const char *output__path(const struct output *o)
{
	return o->path;
}

uint32_t output__files(const struct output *o)
{
	return o->seq + 1;
}

uint64_t output__bytes(const struct output *o)
{
	return o->bytes_done + (o->w ? trail_writer__bytes(o->w) : 0);
}

/*
 * The counters the sink does not know: program runs the kernel skipped
 * (recursion), and the pcap's drops. C has room for 3.
 */
static uint32_t counters(struct output *o, const struct capture_stats *pcap,
			 struct trail_counter *c)
{
	uint32_t n = 0;

	if (o->cfg.probes) {
		o->misses_last = probe_set__misses(o->cfg.probes);
		c[n].name = "bpf.recursion_misses";
		c[n++].value = o->misses_last - o->misses_base;
	}
	if (pcap) {
		c[n].name = "pcap.dropped";
		c[n++].value = pcap->dropped;
		c[n].name = "pcap.if_dropped";
		c[n++].value = pcap->if_dropped;
	}
	return n;
}

int output__loss(struct output *o, struct sink *s, const uint64_t *percpu, uint32_t ncpus,
		 int force)
{
	struct capture_stats st;
	struct trail_counter c[3];
	uint32_t n;

	if (o->cfg.cap)
		capture__file_stats(o->cfg.cap, &st);
	n = counters(o, o->cfg.cap ? &st : NULL, c);
	return sink__loss(s, percpu, ncpus, c, n, force);
}

/*
 * Totals, a last anchor and END; the writer is gone afterwards. PCAP: the
 * counters of the pcap file that went with it (NULL without --pcap).
 */
static int end_file(struct output *o, struct sink *s, const uint64_t *percpu, uint32_t ncpus,
		    const struct capture_stats *pcap)
{
	struct trail_counter c[3];
	char buf[32];
	uint32_t n;
	int err = 0, cerr;

	n = counters(o, pcap, c);
	if (pcap) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)pcap->packets);
		err = trail_writer__meta(o->w, "pcap.packets", buf);
	}
	/* events first: blocks stay in time order */
	if (!err)
		err = trail_writer__flush(o->w);
	if (!err)
		err = sink__loss(s, percpu, ncpus, c, n, 1);
	if (!err)
		err = meta__write_clock(o->w);
	o->bytes_done += trail_writer__bytes(o->w);
	cerr = trail_writer__close(o->w);
	o->w = NULL;
	return err ? err : cerr;
}

int output__over_limit(const struct output *o)
{
	uint64_t n;

	if (!o->cfg.limit_bytes || !o->w)
		return 0;
	n = trail_writer__bytes(o->w);
	/* a limit below the head's size: still one events block per file */
	if (n >= o->cfg.limit_bytes && n > o->head_bytes)
		return 1;
	/* a pcap holds at least its header and one packet */
	return o->cfg.cap && capture__bytes(o->cfg.cap) >= o->cfg.limit_bytes &&
	       capture__bytes(o->cfg.cap) > 24;
}

int output__rotate(struct output *o, struct sink *s, const uint64_t *percpu, uint32_t ncpus)
{
	struct trail_writer *old = o->w, *next;
	struct capture_stats st;
	char old_path[PATH_MAX];
	int err;

	/* the new pair first: the old file's pcap counters end at the swap */
	snprintf(old_path, sizeof(old_path), "%s", o->path);
	o->w = NULL;
	o->seq++;
	err = begin_file(o, &st);
	if (err) {
		/* keep writing the old file; the caller stops the recording */
		trail_writer__abandon(o->w);
		o->w = old;
		o->seq--;
		snprintf(o->path, sizeof(o->path), "%s", old_path);
		return err;
	}
	next = o->w;
	o->w = old;
	err = end_file(o, s, percpu, ncpus, o->cfg.cap ? &st : NULL);
	if (err)
		fprintf(stderr, "%s: finishing %s: %s\n", PROG, old_path, strerror(-err));
	o->w = next;
	if (!err)
		err = sink__rotate(s, o->w, percpu, ncpus);
	if (!err)
		err = output__loss(o, s, percpu, ncpus, 1);
	output__head_done(o);
	return err;
}

void output__head_done(struct output *o)
{
	o->head_bytes = trail_writer__bytes(o->w);
}

int output__close(struct output *o, struct sink *s, const uint64_t *percpu, uint32_t ncpus,
		  int write_err)
{
	struct capture_stats st;
	int err = 0, cerr;

	if (!o || !o->w)
		return 0;
	if (o->cfg.cap) {
		err = capture__close_file(o->cfg.cap, &st);
		if (err)
			fprintf(stderr, "%s: writing %s: %s\n", PROG, o->pcap_path, strerror(-err));
	}
	if (write_err) {
		/* the writer already cut the file back to its last complete block */
		o->bytes_done += trail_writer__bytes(o->w);
		cerr = trail_writer__close(o->w);
		o->w = NULL;
		return err ? err : cerr;
	}
	cerr = end_file(o, s, percpu, ncpus, o->cfg.cap ? &st : NULL);
	return err ? err : cerr;
}

void output__abandon(struct output *o)
{
	if (!o)
		return;
	trail_writer__abandon(o->w);
	free(o);
}
