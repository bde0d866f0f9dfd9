// SPDX-License-Identifier: BSD-2-Clause
/*
 * --pcap: the same traffic as the .trail, captured with libpcap into a
 * nanosecond pcap file, in a thread of its own.
 *
 * Payload is private: by default the kernel hands over at most HDR_SNAPLEN
 * bytes and each packet is cut after its TCP header before it is written,
 * so no payload byte reaches the disk. --snaplen N keeps N bytes instead.
 * Memory is bounded by the kernel ring (PCAP_BUFFER_BYTES) and stdio's
 * buffer. Packet times are the kernel's receive time in CLOCK_REALTIME
 * (PCAP_TSTAMP_HOST, nanoseconds); the .trail's CLOCK blocks map them to the
 * boot-time clock of its events.
 *
 * META keys written into the paired .trail (capture__meta, capture__end):
 *   pcap.file              path of the pcap file that goes with this .trail
 *   pcap.interface         capture device ("any": all interfaces)
 *   pcap.netns             inode of the network namespace captured in
 *   pcap.linktype          "NUMBER NAME", e.g. "113 LINUX_SLL"
 *   pcap.snaplen           "headers" (cut after the TCP header) or N bytes
 *   pcap.filter            the capture filter expression
 *   pcap.tstamp_type       "host": the kernel's software time stamp
 *   pcap.tstamp_precision  "nano"
 *   pcap.clock             "CLOCK_REALTIME": map with the CLOCK blocks
 *   pcap.packets           (at the end of the file) packets written to it
 * LOSS counters: pcap.dropped (kernel ring full), pcap.if_dropped (driver).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <pcap/pcap.h>

#include "record.h"

#define HDR_SNAPLEN 192		/* link + IPv4/IPv6 with options + TCP with options */
#define PCAP_BUFFER_BYTES (8 << 20)
#define PCAP_TIMEOUT_MS 100	/* TPACKET_V3 block timeout */

struct capture {
	pcap_t *p;
	int dlt;
	int trim;		/* cut each packet after its TCP header */
	uint32_t snaplen;
	uint32_t netns;
	char iface[64];
	char filter[4200];

	pthread_t thread;
	int started;
	volatile int stop;
	int err;		/* first write error */

	pthread_mutex_t lock;	/* the dumper and the counters below */
	pcap_dumper_t *d;
	char path[4096];
	uint64_t packets;	/* into the current file */
	uint64_t bytes;		/* size of the current file, read without the lock */
	struct pcap_stat last, base;	/* latest stats; at the file's start */
};

/* Bytes of link, IP and TCP headers at the start of a packet of link type DLT. */
static uint32_t header_len(int dlt, const uint8_t *p, uint32_t caplen)
{
	uint32_t off, ethertype = 0, nh = 0, i;
	int version = 0;

	switch (dlt) {
	case DLT_EN10MB:
		off = 14;
		if (caplen < off)
			return caplen;
		ethertype = p[12] << 8 | p[13];
		/* VLAN tags, at most two */
		for (i = 0; i < 2 && (ethertype == 0x8100 || ethertype == 0x88a8); i++) {
			if (caplen < off + 4)
				return caplen;
			ethertype = p[off + 2] << 8 | p[off + 3];
			off += 4;
		}
		break;
	case DLT_LINUX_SLL:
		off = 16;
		if (caplen < off)
			return caplen;
		ethertype = p[14] << 8 | p[15];
		break;
	case DLT_LINUX_SLL2:
		off = 20;
		if (caplen < off)
			return caplen;
		ethertype = p[0] << 8 | p[1];
		break;
	case DLT_NULL:
	case DLT_LOOP:
		off = 4;
		break;
	default:		/* DLT_RAW */
		off = 0;
		break;
	}
	if (caplen <= off)
		return caplen;
	if (ethertype == 0x0800 || (!ethertype && p[off] >> 4 == 4))
		version = 4;
	else if (ethertype == 0x86dd || (!ethertype && p[off] >> 4 == 6))
		version = 6;
	else
		return off;	/* not IP: the link header only */

	if (version == 4) {
		if (caplen < off + 20)
			return caplen;
		nh = p[off + 9];
		/* a later fragment has no TCP header */
		if ((p[off + 6] << 8 | p[off + 7]) & 0x1fff)
			return off + (p[off] & 0xf) * 4;
		off += (p[off] & 0xf) * 4;
	} else {
		if (caplen < off + 40)
			return caplen;
		nh = p[off + 6];
		off += 40;
		/* extension headers, bounded */
		for (i = 0; i < 8; i++) {
			if (nh == 0 || nh == 43 || nh == 60) {
				if (caplen < off + 2)
					return caplen;
				nh = p[off];
				off += (p[off + 1] + 1) * 8;
			} else if (nh == 44) {
				if (caplen < off + 8)
					return caplen;
				if ((p[off + 2] << 8 | p[off + 3]) & 0xfff8)
					return off + 8;
				nh = p[off];
				off += 8;
			} else if (nh == 51) {
				if (caplen < off + 2)
					return caplen;
				nh = p[off];
				off += (p[off + 1] + 2) * 4;
			} else {
				break;
			}
		}
	}
	if (nh != 6 || caplen < off + 13)
		return off < caplen ? off : caplen;
	off += (p[off + 12] >> 4) * 4;
	return off < caplen ? off : caplen;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture *c = (struct capture *)user;
	struct pcap_pkthdr out = *h;

	if (c->trim)
		out.caplen = header_len(c->dlt, bytes, h->caplen);
	else if (out.caplen > c->snaplen)
		out.caplen = c->snaplen;
	pthread_mutex_lock(&c->lock);
	if (c->d) {
		pcap_dump((u_char *)c->d, &out, bytes);
		c->packets++;
		/* record header of a pcap file: 4 x 32 bits */
		__atomic_store_n(&c->bytes, c->bytes + 16 + out.caplen, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&c->lock);
}

static void take_stats(struct capture *c)
{
	struct pcap_stat st;

	if (pcap_stats(c->p, &st) == 0) {
		pthread_mutex_lock(&c->lock);
		c->last = st;
		pthread_mutex_unlock(&c->lock);
	}
}

static void *capture_thread(void *arg)
{
	struct capture *c = arg;
	int n;

	while (!c->stop) {
		n = pcap_dispatch(c->p, -1, on_packet, (u_char *)c);
		if (n == PCAP_ERROR) {
			fprintf(stderr, "%s: pcap capture stopped: %s\n", PROG, pcap_geterr(c->p));
			c->err = -EIO;
			break;
		}
		take_stats(c);
	}
	return NULL;
}

/* Run pcap_activate() in the network namespace NETNS_PATH (NULL: ours). */
static int activate_in(pcap_t *p, const char *netns_path)
{
	int self = -1, target = -1, rc;

	if (netns_path) {
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		target = open(netns_path, O_RDONLY | O_CLOEXEC);
		if (self < 0 || target < 0 || setns(target, CLONE_NEWNET) < 0) {
			fprintf(stderr, "%s: --pcap: cannot enter network namespace %s: %s\n",
				PROG, netns_path, strerror(errno));
			if (self >= 0)
				close(self);
			if (target >= 0)
				close(target);
			return PCAP_ERROR;
		}
	}
	/* the packet socket lives in the namespace it is made in */
	rc = pcap_activate(p);
	if (netns_path) {
		if (setns(self, CLONE_NEWNET) < 0) {
			fprintf(stderr, "%s: cannot return to our network namespace: %s\n", PROG,
				strerror(errno));
			abort();
		}
		close(self);
		close(target);
	}
	return rc;
}

int capture__open(struct capture **out, const struct capture_cfg *cfg)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	struct capture *c;
	struct stat st;
	int rc;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	snprintf(c->iface, sizeof(c->iface), "%s", cfg->iface ? cfg->iface : "any");
	snprintf(c->filter, sizeof(c->filter), "%s", cfg->filter);
	c->trim = cfg->snaplen == 0;
	c->snaplen = c->trim ? HDR_SNAPLEN : cfg->snaplen;
	c->netns = stat(cfg->netns_path ? cfg->netns_path : "/proc/self/ns/net", &st) == 0 ?
		   st.st_ino : 0;

	c->p = pcap_create(c->iface, errbuf);
	if (!c->p) {
		fprintf(stderr, "%s: --pcap on %s: %s\n", PROG, c->iface, errbuf);
		free(c);
		return -ENODEV;
	}
	pcap_set_snaplen(c->p, c->snaplen);
	pcap_set_promisc(c->p, 0);
	pcap_set_timeout(c->p, PCAP_TIMEOUT_MS);
	pcap_set_buffer_size(c->p, PCAP_BUFFER_BYTES);
	pcap_set_tstamp_type(c->p, PCAP_TSTAMP_HOST);
	if (pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_NANO) != 0) {
		fprintf(stderr, "%s: --pcap: this libpcap cannot give nanosecond time stamps\n",
			PROG);
		goto fail;
	}
	rc = activate_in(c->p, cfg->netns_path);
	if (rc < 0) {
		fprintf(stderr, "%s: --pcap: cannot capture on %s: %s%s\n", PROG, c->iface,
			pcap_statustostr(rc), rc == PCAP_ERROR_PERM_DENIED ? " (needs CAP_NET_RAW)" :
			rc == PCAP_ERROR_NO_SUCH_DEVICE ? " (no such interface)" : "");
		if (*pcap_geterr(c->p))
			fprintf(stderr, "%s: libpcap said: %s\n", PROG, pcap_geterr(c->p));
		goto fail;
	}
	c->dlt = pcap_datalink(c->p);
	if (c->trim && c->dlt != DLT_EN10MB && c->dlt != DLT_LINUX_SLL &&
	    c->dlt != DLT_LINUX_SLL2 && c->dlt != DLT_RAW && c->dlt != DLT_NULL &&
	    c->dlt != DLT_LOOP) {
		fprintf(stderr, "%s: --pcap on %s: link type %s is not one whose headers tcptrail "
			"can cut; give --snaplen N to keep N bytes per packet\n", PROG, c->iface,
			pcap_datalink_val_to_name(c->dlt));
		goto fail;
	}
	if (pcap_compile(c->p, &prog, c->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		fprintf(stderr, "%s: --pcap: bad capture filter '%s': %s\n", PROG, c->filter,
			pcap_geterr(c->p));
		goto fail;
	}
	rc = pcap_setfilter(c->p, &prog);
	pcap_freecode(&prog);
	if (rc < 0) {
		fprintf(stderr, "%s: --pcap: cannot set the capture filter: %s\n", PROG,
			pcap_geterr(c->p));
		goto fail;
	}
	*out = c;
	return 0;
fail:
	pcap_close(c->p);
	free(c);
	return -EINVAL;
}

/* Counters of the current file; call with the lock held. */
static void file_stats(const struct capture *c, struct capture_stats *st)
{
	st->packets = c->packets;
	st->dropped = (uint32_t)(c->last.ps_drop - c->base.ps_drop);
	st->if_dropped = (uint32_t)(c->last.ps_ifdrop - c->base.ps_ifdrop);
}

/* Make D (NULL: none) the current file; the previous one is closed. */
static int swap_file(struct capture *c, pcap_dumper_t *d, const char *path,
		     struct capture_stats *prev)
{
	pcap_dumper_t *old;
	int err = 0;

	pthread_mutex_lock(&c->lock);
	if (prev)
		file_stats(c, prev);
	old = c->d;
	c->d = d;
	snprintf(c->path, sizeof(c->path), "%s", path ? path : "");
	c->packets = 0;
	/* the file header */
	__atomic_store_n(&c->bytes, d ? 24 : 0, __ATOMIC_RELAXED);
	c->base = c->last;
	pthread_mutex_unlock(&c->lock);
	if (old) {
		if (pcap_dump_flush(old) < 0)
			err = -EIO;
		if (fsync(fileno(pcap_dump_file(old))) < 0 && !err)
			err = -errno;
		pcap_dump_close(old);
	}
	return err;
}

int capture__file(struct capture *c, const char *path, struct capture_stats *prev)
{
	pcap_dumper_t *d;
	FILE *f;
	int fd, err;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* an older file of the same name keeps its mode through O_TRUNC */
	if (fchmod(fd, 0600) < 0 || !(f = fdopen(fd, "w"))) {
		err = -errno;
		close(fd);
		return err;
	}
	d = pcap_dump_fopen(c->p, f);
	if (!d) {
		fprintf(stderr, "%s: --pcap %s: %s\n", PROG, path, pcap_geterr(c->p));
		fclose(f);
		return -EIO;
	}
	return swap_file(c, d, path, prev);
}

int capture__close_file(struct capture *c, struct capture_stats *prev)
{
	return swap_file(c, NULL, NULL, prev);
}

int capture__start(struct capture *c)
{
	sigset_t all, old;
	int err;

	/* signals go to the main thread, whose poll they must interrupt */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&c->thread, NULL, capture_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	c->started = 1;
	return 0;
}

uint64_t capture__bytes(struct capture *c)
{
	return __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
}

void capture__file_stats(struct capture *c, struct capture_stats *st)
{
	pthread_mutex_lock(&c->lock);
	file_stats(c, st);
	pthread_mutex_unlock(&c->lock);
}

int capture__stop(struct capture *c)
{
	const struct timespec settle = { 0, (PCAP_TIMEOUT_MS + 50) * 1000000L };

	if (!c || !c->started)
		return c ? c->err : 0;
	/* let the kernel hand over its last partly filled block, then drain */
	nanosleep(&settle, NULL);
	c->stop = 1;
	pcap_breakloop(c->p);
	pthread_join(c->thread, NULL);
	c->started = 0;
	if (!c->err && pcap_setnonblock(c->p, 1, NULL) == 0)
		while (pcap_dispatch(c->p, -1, on_packet, (u_char *)c) > 0)
			;
	take_stats(c);
	return c->err;
}

int capture__meta(struct capture *c, struct trail_writer *w)
{
	char buf[64];
	int err;

	pthread_mutex_lock(&c->lock);
	err = trail_writer__meta(w, "pcap.file", c->path);
	pthread_mutex_unlock(&c->lock);
	if (!err)
		err = trail_writer__meta(w, "pcap.interface", c->iface);
	snprintf(buf, sizeof(buf), "%u", c->netns);
	if (!err)
		err = trail_writer__meta(w, "pcap.netns", buf);
	snprintf(buf, sizeof(buf), "%d %s", c->dlt, pcap_datalink_val_to_name(c->dlt) ?: "?");
	if (!err)
		err = trail_writer__meta(w, "pcap.linktype", buf);
	snprintf(buf, sizeof(buf), "%u", c->snaplen);
	if (!err)
		err = trail_writer__meta(w, "pcap.snaplen", c->trim ? "headers" : buf);
	if (!err)
		err = trail_writer__meta(w, "pcap.filter", c->filter);
	if (!err)
		err = trail_writer__meta(w, "pcap.tstamp_type",
					 pcap_tstamp_type_val_to_name(PCAP_TSTAMP_HOST));
	if (!err)
		err = trail_writer__meta(w, "pcap.tstamp_precision", "nano");
	if (!err)
		err = trail_writer__meta(w, "pcap.clock", "CLOCK_REALTIME");
	return err;
}

void capture__destroy(struct capture *c)
{
	if (!c)
		return;
	capture__stop(c);
	capture__close_file(c, NULL);
	pcap_close(c->p);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
