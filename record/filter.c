// SPDX-License-Identifier: BSD-2-Clause
/*
 * Filters (-p, --pid, --cgroup, --netns, -4/-6): parsed here, enforced in the
 * kernel by bpf/filter.h, written into the capture as META filter.* keys and
 * turned into the pcap capture filter. The kernel side's semantics (owner
 * filters follow sockets) are described at the top of bpf/filter.h.
 *
 * META keys (only for filters in force):
 *   filter.family   "4" or "6"
 *   filter.port     ports, ascending, comma-separated: "80,443"
 *   filter.pid      pids as given, comma-separated (initial pid namespace)
 *   filter.cgroup   "PATH (id ID, level LEVEL)": cgroup v2 id and depth
 *   filter.netns    network namespace inode
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "record.h"
#include "tcptrail.skel.h"

/* Calls ONE for each comma-separated item of LIST. */
static int each_item(struct filter_cfg *f, const char *what, const char *list,
		     int (*one)(struct filter_cfg *, const char *))
{
	char buf[256], *item, *save = NULL;
	int err;

	if (strlen(list) >= sizeof(buf) || !*list) {
		fprintf(stderr, "%s: %s: bad list '%s'\n", PROG, what, list);
		return -EINVAL;
	}
	strcpy(buf, list);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		err = one(f, item);
		if (err)
			return err;
	}
	return 0;
}

static int add_port(struct filter_cfg *f, const char *s)
{
	unsigned long v;

	if (options__parse_ul("-p/--port", s, 1, 65535, &v))
		return -EINVAL;
	if (f->port_bits[v >> 3] & (1u << (v & 7)))
		return 0;
	/* bounds the META value and the pcap filter expression */
	if (f->nports >= FILTER_MAX_PORTS) {
		fprintf(stderr, "%s: -p/--port: at most %d ports\n", PROG, FILTER_MAX_PORTS);
		return -E2BIG;
	}
	f->port_bits[v >> 3] |= 1u << (v & 7);
	f->nports++;
	return 0;
}

int filter__add_ports(struct filter_cfg *f, const char *list)
{
	return each_item(f, "-p/--port", list, add_port);
}

static int add_pid(struct filter_cfg *f, const char *s)
{
	char path[64];
	unsigned long v;
	uint32_t i;

	if (options__parse_ul("--pid", s, 1, INT_MAX, &v))
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%lu", v);
	if (access(path, F_OK) < 0) {
		fprintf(stderr, "%s: --pid %lu: no such process\n", PROG, v);
		return -ESRCH;
	}
	for (i = 0; i < f->npids; i++)
		if (f->pids[i] == v)
			return 0;
	if (f->npids >= FILTER_MAX_PIDS) {
		fprintf(stderr, "%s: --pid: at most %d processes\n", PROG, FILTER_MAX_PIDS);
		return -E2BIG;
	}
	f->pids[f->npids++] = v;
	return 0;
}

int filter__add_pids(struct filter_cfg *f, const char *list)
{
	return each_item(f, "--pid", list, add_pid);
}

int filter__set_cgroup(struct filter_cfg *f, const char *path)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	struct statfs sfs;
	struct stat st, up;
	int mount_id, fd, pfd, level = 0, err = 0;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "%s: --cgroup %s: %s\n", PROG, path, strerror(-err));
		return err;
	}
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		fprintf(stderr, "%s: --cgroup %s: not a cgroup v2 directory (sockets carry "
			"their cgroup v2 only; see the cgroup2 mount in /proc/mounts)\n", PROG, path);
		close(fd);
		return -EINVAL;
	}
	/* the kernel's cgroup id is the file handle of the directory */
	h.fh.handle_bytes = sizeof(h.id);
	if (name_to_handle_at(fd, "", &h.fh, &mount_id, AT_EMPTY_PATH) < 0 ||
	    h.fh.handle_bytes != sizeof(h.id)) {
		err = errno ? -errno : -EINVAL;
		fprintf(stderr, "%s: --cgroup %s: cannot get the cgroup id: %s\n", PROG, path,
			strerror(-err));
		close(fd);
		return err;
	}
	memcpy(&f->cgroup_id, h.fh.f_handle, sizeof(f->cgroup_id));
	/* depth below the cgroup2 root: walk up while still on the same mount
	 * (inside a cgroup namespace the root seen is the namespace's) */
	while (fstat(fd, &st) == 0 && level < FILTER_MAX_CGROUP_LEVEL) {
		pfd = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0)
			break;
		if (fstat(pfd, &up) < 0 || up.st_dev != st.st_dev || up.st_ino == st.st_ino) {
			close(pfd);
			break;
		}
		close(fd);
		fd = pfd;
		level++;
	}
	close(fd);
	if (level >= FILTER_MAX_CGROUP_LEVEL) {
		fprintf(stderr, "%s: --cgroup %s: nested deeper than %d levels\n", PROG, path,
			FILTER_MAX_CGROUP_LEVEL - 1);
		return -EINVAL;
	}
	f->cgroup_path = path;
	f->cgroup_level = level;
	return 0;
}

int filter__set_netns(struct filter_cfg *f, const char *arg)
{
	struct stat st;
	unsigned long v;

	f->netns_path = NULL;
	if (!strcmp(arg, "all")) {
		f->netns = 0;
		return 0;
	}
	if (!strcmp(arg, "self"))
		arg = "/proc/self/ns/net";
	if (strchr(arg, '/')) {
		if (stat(arg, &st) < 0) {
			fprintf(stderr, "%s: --netns %s: %s\n", PROG, arg, strerror(errno));
			return -errno;
		}
		f->netns = st.st_ino;
		f->netns_path = arg;
		return 0;
	}
	if (options__parse_ul("--netns (all, self, an inode number or a path such as "
		     "/run/netns/NAME)", arg, 1, UINT32_MAX, &v))
		return -EINVAL;
	f->netns = v;
	return 0;
}

void filter__rodata(const struct filter_cfg *f, struct tcptrail_bpf *skel)
{
	skel->rodata->target_family = f->family;
	skel->rodata->target_netns = f->netns;
	skel->rodata->filter_ports = f->nports > 0;
	memcpy((void *)skel->rodata->port_bits, f->port_bits, sizeof(f->port_bits));
	skel->rodata->filter_pids = f->npids > 0;
	skel->rodata->pid_seeded = f->npids > 0;
	skel->rodata->filter_cgroup = f->cgroup_path != NULL;
	skel->rodata->target_cgroup_id = f->cgroup_id;
	skel->rodata->target_cgroup_level = f->cgroup_level;
}

int filter__maps(const struct filter_cfg *f, struct tcptrail_bpf *skel)
{
	uint8_t one = 1;
	uint32_t i;
	int err;

	for (i = 0; i < f->npids; i++) {
		err = bpf_map__update_elem(skel->maps.pids, &f->pids[i], sizeof(f->pids[i]),
					   &one, sizeof(one), BPF_ANY);
		if (err)
			return err;
	}
	return 0;
}

/* Comma-separated ports of the filter into BUF; SEP between them. */
static void port_list(const struct filter_cfg *f, char *buf, size_t cap,
		      const char *fmt_first, const char *fmt_next)
{
	size_t len = 0;
	int p, n = 0;

	buf[0] = '\0';
	for (p = 1; p < 65536 && len < cap; p++) {
		if (!(f->port_bits[p >> 3] & (1u << (p & 7))))
			continue;
		len += snprintf(buf + len, cap - len, n++ ? fmt_next : fmt_first, p);
	}
}

int filter__meta(const struct filter_cfg *f, struct trail_writer *w)
{
	char buf[4096];
	size_t len = 0;
	uint32_t i;
	int err = 0;

	if (f->family)
		err = trail_writer__meta(w, "filter.family", f->family == AF_INET6 ? "6" : "4");
	if (!err && f->nports) {
		port_list(f, buf, sizeof(buf), "%d", ",%d");
		err = trail_writer__meta(w, "filter.port", buf);
	}
	if (!err && f->npids) {
		for (i = 0; i < f->npids && len < sizeof(buf); i++)
			len += snprintf(buf + len, sizeof(buf) - len, i ? ",%u" : "%u", f->pids[i]);
		err = trail_writer__meta(w, "filter.pid", buf);
	}
	if (!err && f->cgroup_path) {
		snprintf(buf, sizeof(buf), "%s (id %llu, level %u)", f->cgroup_path,
			 (unsigned long long)f->cgroup_id, f->cgroup_level);
		err = trail_writer__meta(w, "filter.cgroup", buf);
	}
	if (!err && f->netns) {
		snprintf(buf, sizeof(buf), "%u", f->netns);
		err = trail_writer__meta(w, "filter.netns", buf);
	}
	return err;
}

int filter__pcap_expr(const struct filter_cfg *f, char *buf, size_t cap)
{
	char ports[4096];
	const char *fam = f->family == AF_INET ? "ip and " : f->family == AF_INET6 ? "ip6 and " : "";

	if (!f->nports)
		return snprintf(buf, cap, "%stcp", fam) < (int)cap ? 0 : -ENAMETOOLONG;
	port_list(f, ports, sizeof(ports), "port %d", " or port %d");
	return snprintf(buf, cap, "%stcp and (%s)", fam, ports) < (int)cap ? 0 : -ENAMETOOLONG;
}

int filter__netns_path(const struct filter_cfg *f, char *buf, size_t cap)
{
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (f->netns_path) {
		snprintf(buf, cap, "%s", f->netns_path);
		return 0;
	}
	if (!f->netns)
		return -ENOENT;
	/* a namespace given by inode: find a process living in it */
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(buf, cap, "/proc/%s/ns/net", de->d_name);
		if (stat(buf, &st) == 0 && st.st_ino == f->netns) {
			closedir(d);
			return 0;
		}
	}
	closedir(d);
	return -ENOENT;
}
