// SPDX-License-Identifier: BSD-2-Clause
/*
 * After the probes are attached (and the pcap socket is open), the recorder
 * needs almost nothing: it reads a ring buffer it has mapped, looks up a
 * counters map through a descriptor it holds and writes files. So it gives
 * the rest up, with the raw capget/capset syscalls (no libcap):
 *
 * - with --user NAME, or SUDO_UID/SUDO_GID when run through sudo, it becomes
 *   that user (the files it already created are handed over to them);
 * - it keeps only the capabilities a test shows it still needs, normally
 *   none: CAP_BPF (or CAP_SYS_ADMIN) if this kernel refuses map lookups
 *   without it (before v6.5 with unprivileged BPF disabled), CAP_DAC_OVERRIDE
 *   if rotated files must be created where its user could not write,
 *   CAP_KILL to pass signals on to a recorded command running as root;
 * - it empties the bounding and ambient sets and sets no_new_privs.
 *
 * Capabilities are per thread: this runs before the pcap thread starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/bpf.h>

#include "record.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#define CAP_BIT(c) (1ull << (c))

static int caps_get(uint64_t *eff, uint64_t *perm)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	return 0;
}

static int caps_set(uint64_t eff, uint64_t perm)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = (uint32_t)eff;
	d[1].effective = eff >> 32;
	d[0].permitted = (uint32_t)perm;
	d[1].permitted = perm >> 32;
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int n = 40;

	if (f) {
		if (fscanf(f, "%d", &n) != 1 || n < 0 || n > 63)
			n = 40;
		fclose(f);
	}
	return n;
}

static int parse_id(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > UINT32_MAX - 1)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Whom to become: 1 with UID and GID set, 0 to stay, or a negative errno. */
static int target_user(const char *user, uint32_t *uid, uint32_t *gid, const char **name)
{
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
	struct passwd *pw;

	*name = NULL;
	if (user) {
		pw = getpwnam(user);
		if (pw) {
			*uid = pw->pw_uid;
			*gid = pw->pw_gid;
			*name = pw->pw_name;
			return 1;
		}
		if (parse_id(user, uid) == 0) {
			*gid = *uid;
			return 1;
		}
		fprintf(stderr, "%s: --user %s: no such user\n", PROG, user);
		return -ENOENT;
	}
	if (su && sg && parse_id(su, uid) == 0 && parse_id(sg, gid) == 0 && *uid != 0) {
		pw = getpwuid(*uid);
		*name = pw ? pw->pw_name : NULL;
		return 1;
	}
	return 0;
}

static int become(uint32_t uid, uint32_t gid, const char *name, const struct privs_cfg *cfg)
{
	gid_t g = gid;
	int i;

	/* the files made as root are theirs, as later ones will be */
	for (i = 0; i < 2; i++) {
		if (cfg->paths[i] && chown(cfg->paths[i], uid, gid) < 0) {
			fprintf(stderr, "%s: cannot hand %s over to uid %u: %s\n", PROG,
				cfg->paths[i], uid, strerror(errno));
			return -errno;
		}
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
	    (name ? initgroups(name, gid) : setgroups(1, &g)) < 0 ||
	    setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
		fprintf(stderr, "%s: cannot switch to uid %u gid %u: %s\n", PROG, uid, gid,
			strerror(errno));
		return -errno;
	}
	return 0;
}

/* 1 if the map can no longer be read without capabilities. */
static int bpf_needs_cap(const struct privs_cfg *cfg)
{
	uint32_t key = 0;
	void *buf;
	int err;

	if (cfg->bpf_map_fd < 0)
		return 0;
	buf = calloc(1, cfg->bpf_value_size ? cfg->bpf_value_size : 8);
	if (!buf)
		return 1;
	err = bpf_map_lookup_elem(cfg->bpf_map_fd, &key, buf) ? -errno : 0;
	free(buf);
	return err == -EPERM || err == -EACCES;
}

/* 1 if a new file cannot be created next to PATH without DAC override. */
static int dir_needs_cap(const char *path)
{
	char buf[PATH_MAX];

	if (!path)
		return 0;
	snprintf(buf, sizeof(buf), "%s", path);
	return faccessat(AT_FDCWD, dirname(buf), W_OK | X_OK, AT_EACCESS) < 0;
}

static void describe(uint64_t keep, char *buf, size_t cap)
{
	static const struct { int cap; const char *name; } names[] = {
		{ CAP_DAC_OVERRIDE, "cap_dac_override" }, { CAP_KILL, "cap_kill" },
		{ CAP_SYS_ADMIN, "cap_sys_admin" }, { CAP_BPF, "cap_bpf" },
	};
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (keep & CAP_BIT(names[i].cap))
			len += snprintf(buf + len, cap - len, "%s%s", len ? "," : "",
					names[i].name);
	if (!len)
		snprintf(buf, cap, "none");
}

int privs__drop(const struct privs_cfg *cfg, int quiet)
{
	uint64_t eff = 0, perm = 0, keep = 0;
	uint32_t uid = 0, gid = 0;
	const char *name;
	char what[128];
	int err, sw, c, i;

	err = caps_get(&eff, &perm);
	if (err)
		goto fail;
	sw = target_user(cfg->user, &uid, &gid, &name);
	if (sw < 0)
		return sw;
	if (sw) {
		err = become(uid, gid, name, cfg);
		if (err)
			return err;
	}
	/* test with nothing effective, what is permitted still at hand */
	err = caps_set(0, perm);
	if (err)
		goto fail;
	if (bpf_needs_cap(cfg))
		keep |= perm & CAP_BIT(CAP_BPF) ? CAP_BIT(CAP_BPF) : CAP_BIT(CAP_SYS_ADMIN);
	for (i = 0; i < 2 && cfg->rotate; i++)
		if (dir_needs_cap(cfg->paths[i]))
			keep |= CAP_BIT(CAP_DAC_OVERRIDE);
	if (sw && cfg->has_child)
		keep |= CAP_BIT(CAP_KILL);
	keep &= perm;

	/* the bounding set needs CAP_SETPCAP in effect to shrink */
	if (perm & CAP_BIT(CAP_SETPCAP)) {
		err = caps_set(CAP_BIT(CAP_SETPCAP), perm);
		if (err)
			goto fail;
		for (c = 0; c <= last_cap(); c++)
			if (!(keep & CAP_BIT(c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
			    errno != EINVAL) {
				err = -errno;
				goto fail;
			}
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	err = caps_set(keep, keep);
	if (err)
		goto fail;
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		err = -errno;
		goto fail;
	}
	if (!quiet) {
		describe(keep, what, sizeof(what));
		fprintf(stderr, "%s: privileges dropped: uid %u, capabilities kept: %s\n", PROG,
			(unsigned)getuid(), what);
	}
	return 0;
fail:
	fprintf(stderr, "%s: cannot give up privileges: %s\n", PROG, strerror(-err));
	return err;
}
