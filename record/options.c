// SPDX-License-Identifier: BSD-2-Clause
/*
 * tcptrail-record's command line. Usage errors print what was wrong and
 * where; the caller exits with status 2.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/socket.h>

#include "record.h"

#define DEFAULT_RING_MB 8
#define MAX_RING_MB 1024
#define DEFAULT_MAX_SOCKS (256u << 10)
#define MAX_SNAPLEN 262144
#define MAX_FILES 100000

enum {
	OPT_DURATION = 256, OPT_RING, OPT_FORCE, OPT_MAX_SOCKS, OPT_PID, OPT_CGROUP,
	OPT_NETNS, OPT_PCAP, OPT_SNAPLEN, OPT_USER, OPT_LIST, OPT_STACKS,
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s -w FILE [options] [-- COMMAND [ARGS...]]\n"
"       %s --list-probes\n"
"Record TCP state changes, handshakes, TIME_WAIT, closes, resets,\n"
"retransmits and drops of all sockets into the capture FILE.\n"
"With COMMAND: record for exactly its life, exit with its status.\n"
"Without: record until SIGINT/SIGTERM or --duration.\n"
"\n"
"  -w, --write FILE      capture file to write (required), mode 0600\n"
"      --duration S      stop after S seconds (a command gets SIGTERM)\n"
"\n"
"Filters (in the kernel; combined with AND, a list within one with OR):\n"
"  -p, --port P[,P...]   sockets with P as local or remote port (repeatable)\n"
"      --pid PID[,PID]   sockets of these processes: those they connect or\n"
"                        listen on, their listeners' children, and the ones\n"
"                        they already have (repeatable)\n"
"      --cgroup PATH     sockets created in this cgroup v2 or below it\n"
"      --netns NS        all (default), self, an inode number, or a namespace\n"
"                        file such as /run/netns/NAME\n"
"  -4, -6                IPv4 or IPv6 sockets only\n"
"\n"
"Packets alongside:\n"
"      --pcap PCAP       also capture the same TCP traffic with libpcap into\n"
"                        PCAP (nanosecond pcap, mode 0600). Payload is\n"
"                        private: only link, IP and TCP headers are written\n"
"  -i, --interface IF    capture on IF (default: any, all interfaces)\n"
"      --snaplen N       keep the first N bytes of each packet instead of\n"
"                        its headers: this CAN WRITE PAYLOAD to disk\n"
"\n"
"Production:\n"
"  -C, --file-size SIZE  start a new file when the current one exceeds SIZE\n"
"                        (millions of bytes, or with a k/m/g suffix): FILE,\n"
"                        FILE1, FILE2, ... each a complete capture\n"
"  -W, --file-count N    with -C: keep at most N files, reusing the names\n"
"      --ring-size MB    BPF ring buffer size, power of two (default %d)\n"
"      --user USER       after attaching, run as USER (default: the sudo\n"
"                        user when run with sudo, else root without\n"
"                        capabilities)\n"
"      --list-probes     for this kernel, the method each probe would use, or\n"
"                        why none can, and exit\n"
"  -q, --quiet           only errors and warnings\n"
"  -v, --verbose         each attach fallback as it happens and libbpf's\n"
"                        messages (twice: libbpf debug)\n"
"  -h, --help            this text\n"
"  -V, --version         print the version\n",
		PROG, PROG, DEFAULT_RING_MB);
}

int options__parse_ul(const char *what, const char *s, unsigned long lo,
		      unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < lo || v > hi) {
		fprintf(stderr, "%s: %s wants a whole number from %lu to %lu, got '%s'\n",
			PROG, what, lo, hi, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* -C: millions of bytes as tcpdump has it, or NUMBER[kmg] (powers of 1000). */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v, mult = 1000000;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!errno && end != s && *s != '-' && *end && !end[1]) {
		switch (*end) {
		case 'k': case 'K': mult = 1000; end++; break;
		case 'm': case 'M': mult = 1000000; end++; break;
		case 'g': case 'G': mult = 1000000000; end++; break;
		}
	}
	if (errno || end == s || *end || *s == '-' || v == 0 || v > (1ull << 50) / mult ||
	    v * mult < 4000) {
		fprintf(stderr, "%s: -C wants a size of at least 4k, such as 100 (MB), 500k "
			"or 2g, got '%s'\n", PROG, s);
		return -EINVAL;
	}
	*out = v * mult;
	return 0;
}

static int check(const struct opts *o)
{
	if (o->list_probes)
		return 0;
	if (!o->path) {
		fprintf(stderr, "%s: -w FILE is required; try %s --help\n", PROG, PROG);
		return -EINVAL;
	}
	if (o->max_files && !o->limit_bytes) {
		fprintf(stderr, "%s: -W N needs -C SIZE\n", PROG);
		return -EINVAL;
	}
	if (!o->pcap_path && (o->iface || o->snaplen)) {
		fprintf(stderr, "%s: %s needs --pcap FILE\n", PROG,
			o->iface ? "-i/--interface" : "--snaplen");
		return -EINVAL;
	}
	/* before anything is loaded: a typo must not cost a recording */
	if (o->user && !getpwnam(o->user) && strspn(o->user, "0123456789") != strlen(o->user)) {
		fprintf(stderr, "%s: --user %s: no such user\n", PROG, o->user);
		return -EINVAL;
	}
	if (o->pcap_path && !strcmp(o->pcap_path, o->path)) {
		fprintf(stderr, "%s: --pcap and -w name the same file\n", PROG);
		return -EINVAL;
	}
	return 0;
}

int options__parse(struct opts *o, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "write", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "port", required_argument, NULL, 'p' },
		{ "pid", required_argument, NULL, OPT_PID },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "netns", required_argument, NULL, OPT_NETNS },
		{ "pcap", required_argument, NULL, OPT_PCAP },
		{ "interface", required_argument, NULL, 'i' },
		{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
		{ "file-size", required_argument, NULL, 'C' },
		{ "file-count", required_argument, NULL, 'W' },
		{ "ring-size", required_argument, NULL, OPT_RING },
		{ "user", required_argument, NULL, OPT_USER },
		{ "list-probes", no_argument, NULL, OPT_LIST },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		/* for tests and troubleshooting, not in --help */
		{ "force-method", required_argument, NULL, OPT_FORCE },
		{ "max-sockets", required_argument, NULL, OPT_MAX_SOCKS },
		{ "stacks-per-sec", required_argument, NULL, OPT_STACKS },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	char *end;
	int c;

	o->ring_mb = DEFAULT_RING_MB;
	o->max_socks = DEFAULT_MAX_SOCKS;
	/* '+': options end at the command, its own options are its own */
	while ((c = getopt_long(argc, argv, "+w:46p:i:C:W:qvhV", longs, NULL)) != -1) {
		switch (c) {
		case 'w':
			o->path = optarg;
			break;
		case OPT_DURATION:
			errno = 0;
			o->duration = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->duration > 0) ||
			    o->duration > 366.0 * 86400) {
				fprintf(stderr, "%s: --duration wants seconds > 0, got '%s'\n",
					PROG, optarg);
				return -EINVAL;
			}
			break;
		case '4':
		case '6':
			if (o->filter.family) {
				fprintf(stderr, "%s: give one of -4 and -6\n", PROG);
				return -EINVAL;
			}
			o->filter.family = c == '4' ? AF_INET : AF_INET6;
			break;
		case 'p':
			if (filter__add_ports(&o->filter, optarg))
				return -EINVAL;
			break;
		case OPT_PID:
			if (filter__add_pids(&o->filter, optarg))
				return -EINVAL;
			break;
		case OPT_CGROUP:
			if (o->filter.cgroup_path) {
				fprintf(stderr, "%s: give --cgroup once\n", PROG);
				return -EINVAL;
			}
			if (filter__set_cgroup(&o->filter, optarg))
				return -EINVAL;
			break;
		case OPT_NETNS:
			if (filter__set_netns(&o->filter, optarg))
				return -EINVAL;
			break;
		case OPT_PCAP:
			o->pcap_path = optarg;
			break;
		case 'i':
			if (!*optarg || strlen(optarg) >= 64) {
				fprintf(stderr, "%s: -i wants an interface name, got '%s'\n", PROG,
					optarg);
				return -EINVAL;
			}
			o->iface = optarg;
			break;
		case OPT_SNAPLEN:
			if (options__parse_ul("--snaplen", optarg, 1, MAX_SNAPLEN, &v))
				return -EINVAL;
			o->snaplen = v;
			break;
		case 'C':
			if (parse_size(optarg, &o->limit_bytes))
				return -EINVAL;
			break;
		case 'W':
			if (options__parse_ul("-W", optarg, 1, MAX_FILES, &v))
				return -EINVAL;
			o->max_files = v;
			break;
		case OPT_RING:
			if (options__parse_ul("--ring-size", optarg, 1, MAX_RING_MB, &v))
				return -EINVAL;
			o->ring_mb = v;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_LIST:
			o->list_probes = 1;
			break;
		case OPT_FORCE:
			if (probes__force(optarg))
				return -EINVAL;
			break;
		case OPT_STACKS:
			if (options__parse_ul("--stacks-per-sec", optarg, 1, 1000000000, &v))
				return -EINVAL;
			o->stacks_per_sec = v;
			break;
		case OPT_MAX_SOCKS:
			if (options__parse_ul("--max-sockets", optarg, 1, 1u << 24, &v))
				return -EINVAL;
			o->max_socks = v;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("%s %s\n", PROG, TCPTRAIL_VERSION);
			exit(0);
		default:
			/* getopt said which option */
			fprintf(stderr, "Try '%s --help'.\n", PROG);
			return -EINVAL;
		}
	}
	if (optind < argc)
		o->cmd = argv + optind;
	/* the ring buffer size must be a power of two */
	while (o->ring_mb & (o->ring_mb - 1))
		o->ring_mb += o->ring_mb & -o->ring_mb;
	return check(o);
}
