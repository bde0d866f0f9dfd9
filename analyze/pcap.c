// SPDX-License-Identifier: BSD-2-Clause
/*
 * Reading the pcap beside a capture with libpcap offline, at nanosecond
 * precision: packets decoded, their CLOCK_REALTIME times put on the
 * capture's boot-time clock through its CLOCK anchors, copies of one packet
 * folded, the result sorted by time.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pcap/pcap.h>

#include "capture.h"
#include "load.h"
#include "pcap.h"
#include "util.h"

#define MAX_BAD_SHOWN 5u	/* bad packets named one by one; the rest counted */

static int by_time(const void *a, const void *b)
{
	const struct ana_pkt *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->num < y->num ? -1 : x->num > y->num;
}

static int same_headers(const struct ana_pkt *a, const struct ana_pkt *b)
{
	size_t al = a->seg.family == TRAIL_FAMILY_INET6 ? 16 : 4;

	return a->seg.family == b->seg.family && a->seg.sport == b->seg.sport &&
	       a->seg.dport == b->seg.dport && a->seg.seq == b->seg.seq &&
	       a->seg.ack == b->seg.ack && a->seg.flags == b->seg.flags &&
	       a->seg.len == b->seg.len && a->ipid == b->ipid &&
	       !memcmp(a->seg.saddr, b->seg.saddr, al) && !memcmp(a->seg.daddr, b->seg.daddr, al);
}

void ana_pkts__dedup(struct ana_pkts *p)
{
	size_t i, j, k, w = 0;
	uint8_t *gone;

	if (p->n < 2)
		return;
	gone = calloc(p->n, 1);
	if (!gone)
		return;	/* shown twice rather than not at all */
	for (i = 0; i < p->n; i++) {
		if (gone[i])
			continue;
		/* bounded: a copy follows within a few packets */
		for (j = i + 1; j < p->n && j - i <= ANA_PKT_DUP_SCAN &&
		     p->v[j].ts - p->v[i].ts <= ANA_PKT_DUP_NS; j++) {
			if (gone[j] || !same_headers(&p->v[i], &p->v[j]))
				continue;
			/* seen the same way twice: the same IPv4 id says one packet on two
			 * interfaces (a resend gets a new id); IPv6 has none to tell */
			if (p->v[i].dir && p->v[i].dir == p->v[j].dir &&
			    p->v[i].seg.family == TRAIL_FAMILY_INET6)
				continue;
			gone[j] = 1;
			p->v[i].dir |= p->v[j].dir;
			if (p->v[i].copies < UINT8_MAX)
				p->v[i].copies++;
			p->dups++;
		}
	}
	for (k = 0; k < p->n; k++)
		if (!gone[k])
			p->v[w++] = p->v[k];
	p->n = w;
	free(gone);
}

static void bad_packet(struct ana_pkts *p, const char *prog, uint64_t num, const char *why,
		       uint32_t caplen)
{
	char safe[4200];

	p->bad++;
	if (p->bad <= MAX_BAD_SHOWN)
		fprintf(stderr, "%s: pcap %s: packet %" PRIu64 ": %s (%u bytes captured);"
			" skipped\n", prog, ana_safe(p->path, safe, sizeof(safe)), num, why, caplen);
}

int ana_pkts__read(struct ana_pkts *p, const char *path, struct ana_capture *cap,
		   const char *prog, char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "", safe[4200];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pc;
	int rc;

	snprintf(p->path, sizeof(p->path), "%s", path);
	if (!cap->clock.len) {
		snprintf(err, errlen, "the capture has no CLOCK anchor: pcap times cannot be"
			 " put on its clock");
		return -EINVAL;
	}
	pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc) {
		snprintf(err, errlen, "cannot read pcap %s: %s", ana_safe(path, safe, sizeof(safe)),
			 errbuf);
		return -EINVAL;
	}
	p->linktype = pcap_datalink(pc);
	if (!ana_pcap__dlt_ok(p->linktype)) {
		snprintf(err, errlen, "pcap %s: link type %d (%s) is not one tcptrail decodes"
			 " (LINUX_SLL, LINUX_SLL2, EN10MB, RAW, IPV4, IPV6, NULL, LOOP)",
			 ana_safe(path, safe, sizeof(safe)), p->linktype,
			 pcap_datalink_val_to_name(p->linktype) ?: "?");
		pcap_close(pc);
		return -EINVAL;
	}
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		struct ana_pkt k = { 0 };
		const char *why = "";
		int64_t real;
		int d;

		p->read++;
		if (h->caplen > h->len) {
			bad_packet(p, prog, p->read, "captured length over the packet's length",
				   h->caplen);
			continue;
		}
		d = ana_pcap__decode(p->linktype, data, h->caplen, &k, &why);
		if (d < 0) {
			bad_packet(p, prog, p->read, why, h->caplen);
			continue;
		}
		if (d > 0) {
			p->other++;
			continue;
		}
		if (p->n >= ANA_MAX_PACKETS) {
			p->not_kept++;
			continue;
		}
		/* nanosecond precision: tv_usec holds nanoseconds */
		real = (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec;
		if (ana_clock__boot(&cap->clock, real, &k.ts)) {
			p->other++;
			continue;
		}
		k.real_ns = real;
		k.num = p->read > UINT32_MAX ? UINT32_MAX : (uint32_t)p->read;
		k.copies = 1;
		if (ana_grow((void **)&p->v, &p->cap, p->n, sizeof(*p->v))) {
			pcap_close(pc);
			snprintf(err, errlen, "out of memory reading pcap");
			return -ENOMEM;
		}
		p->v[p->n++] = k;
	}
	if (rc == PCAP_ERROR) {
		p->file_error = 1;
		snprintf(p->message, sizeof(p->message), "%s", pcap_geterr(pc));
		fprintf(stderr, "%s: pcap %s: packet %" PRIu64 ": %s; the %" PRIu64 " packets"
			" before it are used\n", prog, ana_safe(path, safe, sizeof(safe)), p->read + 1,
			ana_safe(p->message, errbuf, sizeof(errbuf)), p->read);
	}
	pcap_close(pc);
	if (p->bad > MAX_BAD_SHOWN)
		fprintf(stderr, "%s: pcap %s: %" PRIu64 " bad packets skipped in all\n", prog,
			ana_safe(path, safe, sizeof(safe)), p->bad);
	if (p->n > 1)
		qsort(p->v, p->n, sizeof(*p->v), by_time);
	ana_pkts__dedup(p);
	return 0;
}

void ana_pkts__free(struct ana_pkts *p)
{
	if (!p)
		return;
	free(p->v);
	free(p->byev);
	free(p->order);
	free(p->first);
	free(p);
}

/* The default pcap: META pcap.file PF's base name in the .trail's directory. */
static int beside_of(const struct ana_capture *cap, const char *pf, char *buf, size_t len)
{
	char t[4096], f[4096];

	if (!pf || !*pf || !strcmp(cap->path, "-"))
		return -ENOENT;
	snprintf(t, sizeof(t), "%s", cap->path);
	snprintf(f, sizeof(f), "%s", pf);
	if ((size_t)snprintf(buf, len, "%s/%s", dirname(t), basename(f)) >= len)
		return -ENAMETOOLONG;
	return access(buf, R_OK) ? -ENOENT : 0;
}

static int beside(const struct ana_capture *cap, char *buf, size_t len)
{
	return beside_of(cap, ana_capture__meta(cap, "pcap.file"), buf, len);
}

int ana_pkts__wanted(const struct ana_capture *cap)
{
	const struct ana_pcap_cfg *cfg = cap->pcap;
	struct trail_reader *r = NULL;
	struct trail_record rec;
	char err[256], path[4096];
	int n, found = 0;

	if (!cfg || cfg->disabled)
		return 0;
	if (cfg->path)
		return 1;
	if (!strcmp(cap->path, "-") || trail_reader__open(&r, cap->path, err, sizeof(err)))
		return 0;
	/* the recorder writes its META first: look no further than the first events */
	for (n = 0; n < 4096 && trail_reader__next(r, &rec) > 0; n++) {
		if (rec.type == TRAIL_REC_META && rec.meta.key && rec.meta.value &&
		    !strcmp(rec.meta.key, "pcap.file"))
			found = !beside_of(cap, rec.meta.value, path, sizeof(path));
		if (rec.type == TRAIL_REC_STATE || rec.type == TRAIL_REC_SOCK)
			break;
	}
	trail_reader__close(r);
	return found;
}

int ana_pkts__load(struct ana_capture *cap, const struct ana_load *ld)
{
	struct ana_pcap_cfg *cfg = cap->pcap;
	struct ana_pkts *p;
	char path[4096], err[512], safe[4200];
	int ret;

	if (!cfg || cfg->disabled || cfg->pkts)
		return 0;
	if (cfg->path) {
		snprintf(path, sizeof(path), "%s", cfg->path);
	} else if (beside(cap, path, sizeof(path))) {
		const char *pf = ana_capture__meta(cap, "pcap.file");

		if (pf && *pf)	/* recorded with --pcap, but the pcap did not come along */
			fprintf(stderr, "tcptrail-analyze: the capture's pcap %s is not beside it;"
				" packets not used (--pcap FILE names it)\n",
				ana_safe(pf, safe, sizeof(safe)));
		return 0;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->from = cfg->path ? "--pcap" : "the capture's pcap.file";
	if (ana_capture__meta(cap, "probe.reset"))
		p->flags |= ANA_PKTS_SENT_RST_PROBED;
	if (cap->have_ts) {
		p->events_from = cap->first_ts;
		p->events_to = cap->last_ts;
	}
	ret = ana_pkts__read(p, path, cap, "tcptrail-analyze", err, sizeof(err));
	if (!ret)
		ret = ana_pkts__attach(p, ld);
	if (ret == -ENOMEM) {
		ana_pkts__free(p);
		return ret;
	}
	if (ret) {
		fprintf(stderr, "tcptrail-analyze: %s%s\n", ana_safe(err, safe, sizeof(safe)),
			cfg->path ? "" : " (packets not used; --no-pcap hides this)");
		ana_pkts__free(p);
		return cfg->path ? ret : 0;
	}
	fprintf(stderr, "tcptrail-analyze: pcap %s (from %s): %zu TCP packets, %" PRIu64
		" attached, %" PRIu64 " unmatched\n", ana_safe(path, safe, sizeof(safe)), p->from,
		p->n, p->attached, p->unmatched);
	cfg->pkts = p;
	return 0;
}
