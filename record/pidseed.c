// SPDX-License-Identifier: BSD-2-Clause
/*
 * --pid for sockets that existed before the recording: the kernel side
 * learns a socket's owner when it is born (bpf/filter.h), so the recorder
 * tells it about the sockets a process already holds. Their inodes come from
 * /proc/PID/fd, their cookies and ports from sock_diag in the process's
 * network namespace; cookies go into seed_cookies, listening and bound ports
 * into owned_ports (a listener's future children belong to its owner).
 * Runs right after attach: sockets born since then are seen being born.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "record.h"
#include "tcptrail.skel.h"

#define MAX_FD_SOCKS 65536

struct seed {
	struct tcptrail_bpf *skel;
	uint32_t netns;
	uint32_t *inodes;	/* sorted socket inodes of the process */
	size_t ninodes;
	uint64_t seeded;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Socket inodes of PID's open files, sorted. */
static int fd_inodes(uint32_t pid, struct seed *s)
{
	char dir[64], path[64 + 256], link[64];
	struct dirent *de;
	unsigned long ino;
	DIR *d;
	ssize_t n;

	snprintf(dir, sizeof(dir), "/proc/%u/fd", pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	s->inodes = calloc(MAX_FD_SOCKS, sizeof(*s->inodes));
	if (!s->inodes) {
		closedir(d);
		return -ENOMEM;
	}
	while ((de = readdir(d)) && s->ninodes < MAX_FD_SOCKS) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%lu]", &ino) == 1 && ino <= UINT32_MAX)
			s->inodes[s->ninodes++] = ino;
	}
	closedir(d);
	qsort(s->inodes, s->ninodes, sizeof(*s->inodes), cmp_u32);
	return 0;
}

static void seed_one(struct seed *s, const struct inet_diag_msg *m)
{
	uint64_t cookie = m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
	struct { uint32_t netns; uint16_t port, pad; } pk = { s->netns, ntohs(m->id.idiag_sport), 0 };
	uint32_t ino = m->idiag_inode;
	uint8_t one = 1;

	if (!ino || !bsearch(&ino, s->inodes, s->ninodes, sizeof(ino), cmp_u32))
		return;
	if (bpf_map__update_elem(s->skel->maps.seed_cookies, &cookie, sizeof(cookie),
				 &one, sizeof(one), BPF_ANY) == 0)
		s->seeded++;
	if (pk.port)
		bpf_map__update_elem(s->skel->maps.owned_ports, &pk, sizeof(pk), &one,
				     sizeof(one), BPF_ANY);
}

/* Dump FAMILY's TCP sockets on netlink socket FD, seeding the process's. */
static int dump(struct seed *s, int fd, int family)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.r = { .sdiag_family = family, .sdiag_protocol = IPPROTO_TCP,
		       .idiag_states = ~0u },
	};
	static char buf[32768] __attribute__((aligned(4)));
	struct nlmsghdr *h;
	ssize_t n;

	if (send(fd, &req, sizeof(req), 0) < 0)
		return -errno;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -EIO;
			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				seed_one(s, NLMSG_DATA(h));
		}
	}
}

/* A sock_diag socket in PID's network namespace. */
static int diag_socket(uint32_t pid, uint32_t *netns)
{
	char path[64];
	struct stat st;
	int self, target, fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0)
		return -errno;
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || fstat(target, &st) < 0) {
		err = -errno;
		goto cleanup;
	}
	*netns = st.st_ino;
	if (setns(target, CLONE_NEWNET) < 0) {
		err = -errno;
		goto cleanup;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	err = fd < 0 ? -errno : 0;
	/* back home; a socket stays in the namespace it was made in */
	if (setns(self, CLONE_NEWNET) < 0) {
		fprintf(stderr, "%s: cannot return to our network namespace: %s\n", PROG,
			strerror(errno));
		abort();
	}
	if (!err)
		err = fd;
cleanup:
	if (self >= 0)
		close(self);
	close(target);
	return err;
}

int filter__seed_pids(const struct filter_cfg *f, struct tcptrail_bpf *skel, int quiet)
{
	uint32_t i;
	int err, fd;

	for (i = 0; i < f->npids; i++) {
		struct seed s = { .skel = skel };

		err = fd_inodes(f->pids[i], &s);
		if (!err && s.ninodes) {
			fd = diag_socket(f->pids[i], &s.netns);
			err = fd < 0 ? fd : 0;
			if (!err) {
				err = dump(&s, fd, AF_INET);
				if (!err)
					err = dump(&s, fd, AF_INET6);
				close(fd);
			}
		}
		free(s.inodes);
		if (err) {
			/* the process may just have exited: its new sockets cannot exist */
			fprintf(stderr, "%s: warning: --pid %u: cannot list its sockets (%s); "
				"only sockets it creates from now on are recorded\n", PROG,
				f->pids[i], strerror(-err));
			continue;
		}
		if (!quiet && s.seeded)
			fprintf(stderr, "%s: --pid %u: %llu existing TCP sockets followed\n", PROG,
				f->pids[i], (unsigned long long)s.seeded);
	}
	return 0;
}
