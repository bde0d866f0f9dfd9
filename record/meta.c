// SPDX-License-Identifier: BSD-2-Clause
/*
 * What a capture says about itself (FORMAT.md: META, ENUM, CLOCK), so that a
 * file read months later on another machine still explains itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <bpf/btf.h>

#include "record.h"

#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

/* Append S to BUF (of CAP bytes, at *LEN), quoted for a POSIX shell if needed. */
static void shell_quote(char *buf, size_t cap, size_t *len, const char *s)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_@%+=:,./-";
	int plain = *s && strspn(s, safe) == strlen(s);
	const char *p;

#define PUT(c) do { if (*len + 1 < cap) buf[(*len)++] = (c); } while (0)
	if (plain) {
		for (p = s; *p; p++)
			PUT(*p);
	} else {
		PUT('\'');
		for (p = s; *p; p++) {
			if (*p == '\'') {
				/* close, escaped quote, reopen */
				PUT('\''); PUT('\\'); PUT('\''); PUT('\'');
			} else {
				PUT(*p);
			}
		}
		PUT('\'');
	}
#undef PUT
	buf[*len] = '\0';
}

static int write_cmdline(struct trail_writer *w, int argc, char **argv)
{
	size_t cap = 1, len = 0;
	char *buf;
	int i, err;

	for (i = 0; i < argc; i++)
		cap += 4 * strlen(argv[i]) + 3;
	if (cap > TRAIL_MAX_STRING)
		cap = TRAIL_MAX_STRING;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	buf[0] = '\0';
	for (i = 0; i < argc; i++) {
		if (i && len + 1 < cap) {
			buf[len++] = ' ';
			buf[len] = '\0';
		}
		shell_quote(buf, cap, &len, argv[i]);
	}
	err = trail_writer__meta(w, "cmdline", buf);
	free(buf);
	return err;
}

/* Boot id without its newline, or "unknown". */
static void read_boot_id(char *buf, size_t cap)
{
	FILE *f = fopen(BOOT_ID_PATH, "re");

	if (!f || !fgets(buf, cap, f))
		snprintf(buf, cap, "unknown");
	else
		buf[strcspn(buf, "\n")] = '\0';
	if (f)
		fclose(f);
}

int meta__write(struct trail_writer *w, const struct meta_info *mi)
{
	char buf[256], key[64];
	struct utsname u;
	struct timespec now;
	struct tm tm;
	int i, err;

	if (uname(&u) < 0)
		return -errno;
	read_boot_id(buf, sizeof(buf));
	if ((err = trail_writer__meta(w, "tool.version", TCPTRAIL_VERSION)) ||
	    (err = trail_writer__meta(w, "host.name", u.nodename)) ||
	    (err = trail_writer__meta(w, "kernel.release", u.release)) ||
	    (err = trail_writer__meta(w, "kernel.version", u.version)) ||
	    (err = trail_writer__meta(w, "kernel.machine", u.machine)) ||
	    (err = trail_writer__meta(w, "boot.id", buf)) ||
	    (err = write_cmdline(w, mi->argc, mi->argv)))
		return err;

	for (i = 0; i < probe_set__count(mi->probes); i++) {
		snprintf(key, sizeof(key), "probe.%s", probe_set__name(mi->probes, i));
		err = trail_writer__meta(w, key, probe_set__method(mi->probes, i));
		if (err)
			return err;
	}
	err = filter__meta(mi->filter, w);
	if (err)
		return err;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, now.tv_nsec);
	return trail_writer__meta(w, "start.realtime", buf);
}

/* ---- kernel enums from BTF ---- */

static int enum_has(const struct btf *btf, const struct btf_type *t, const char *name)
{
	int i, n = btf_vlen(t);

	for (i = 0; i < n; i++) {
		__u32 off = btf_is_enum(t) ? btf_enum(t)[i].name_off : btf_enum64(t)[i].name_off;

		if (!strcmp(btf__name_by_offset(btf, off), name))
			return 1;
	}
	return 0;
}

static int write_enum(struct trail_writer *w, const struct btf *btf,
		      const struct btf_type *t, const char *name)
{
	struct trail_enum_entry *ents;
	uint32_t i, n = btf_vlen(t);
	int err;

	if (n > TRAIL_MAX_ENUM_ENTRIES) {
		fprintf(stderr, "%s: warning: enum %s has %u entries, keeping the first %u\n",
			PROG, name, n, TRAIL_MAX_ENUM_ENTRIES);
		n = TRAIL_MAX_ENUM_ENTRIES;
	}
	ents = calloc(n ? n : 1, sizeof(*ents));
	if (!ents)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (btf_is_enum(t)) {
			const struct btf_enum *e = &btf_enum(t)[i];

			/* kind_flag set: signed values */
			ents[i].value = btf_kflag(t) ? (int64_t)(int32_t)e->val
						     : (int64_t)(uint32_t)e->val;
			ents[i].name = btf__name_by_offset(btf, e->name_off);
		} else {
			const struct btf_enum64 *e = &btf_enum64(t)[i];

			ents[i].value = (int64_t)btf_enum64_value(e);
			ents[i].name = btf__name_by_offset(btf, e->name_off);
		}
	}
	err = trail_writer__enum(w, name, ents, n);
	free(ents);
	return err;
}

static struct btf *vmlinux_btf;

int meta__write_enums(struct trail_writer *w)
{
	static int warned;
	static const char *named[] = { TRAIL_ENUM_RST_REASON, TRAIL_ENUM_DROP_REASON };
	int found[2] = { 0, 0 }, tcp_state = 0;
	struct btf *btf;
	__u32 id, n;
	size_t k;
	int err = 0;

	/* kept: every rotated file repeats the tables */
	if (!vmlinux_btf)
		vmlinux_btf = btf__load_vmlinux_btf();
	btf = vmlinux_btf;
	if (!btf) {
		err = errno ? -errno : -ENOENT;
		fprintf(stderr, "%s: cannot read kernel BTF for enum names: %s\n", PROG,
			strerror(-err));
		return err;
	}
	n = btf__type_cnt(btf);
	for (id = 1; id < n && !err; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name;

		if (!btf_is_enum(t) && !btf_is_enum64(t))
			continue;
		name = btf__name_by_offset(btf, t->name_off);
		if (!tcp_state && (!name || !*name) && enum_has(btf, t, "TCP_ESTABLISHED")) {
			tcp_state = 1;
			err = write_enum(w, btf, t, TRAIL_ENUM_TCP_STATE);
			continue;
		}
		for (k = 0; k < sizeof(named) / sizeof(named[0]); k++) {
			if (!found[k] && name && !strcmp(name, named[k])) {
				found[k] = 1;
				err = write_enum(w, btf, t, named[k]);
			}
		}
	}
	if (!err && !tcp_state && !warned) {
		warned = 1;
		fprintf(stderr, "%s: warning: kernel BTF has no TCP state enum; "
			"state names will be missing from the capture\n", PROG);
	}
	return err;
}

void meta__cleanup(void)
{
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
}

/* ---- clock anchors ---- */

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

int meta__write_clock(struct trail_writer *w)
{
	struct trail_clock best = { 0, 0, UINT64_MAX };
	struct timespec r1, b, r2;
	int i;

	/* best of a few: a preemption between the reads widens the window */
	for (i = 0; i < 5; i++) {
		uint64_t a, c;

		clock_gettime(CLOCK_REALTIME, &r1);
		clock_gettime(CLOCK_BOOTTIME, &b);
		clock_gettime(CLOCK_REALTIME, &r2);
		a = ts_ns(&r1);
		c = ts_ns(&r2);
		if (c < a)
			continue;	/* realtime stepped back in between */
		if ((c - a) / 2 < best.uncertainty_ns) {
			best.boot_ns = ts_ns(&b);
			best.real_ns = a + (c - a) / 2;
			best.uncertainty_ns = (c - a) / 2;
		}
	}
	if (best.uncertainty_ns == UINT64_MAX)
		return 0;	/* realtime kept stepping: no anchor this time */
	return trail_writer__clock(w, &best);
}
