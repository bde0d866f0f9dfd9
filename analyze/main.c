// SPDX-License-Identifier: BSD-2-Clause
/* tcptrail-analyze: explain a .trail capture. No BPF, no root needed. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ana.h"
#include "pcap.h"
#include "util.h"

#ifndef TCPTRAIL_VERSION
#define TCPTRAIL_VERSION "unknown"
#endif

static const char *prog = "tcptrail-analyze";

struct command {
	const char *name;
	int (*run)(struct ana_capture *cap, const struct ana_opts *o, FILE *out);
	const char *help;
	int hidden;		/* not in --help: for tests and debugging */
};

/* A NULL run marks a command planned but not in this version. */
static const struct command commands[] = {
	{ "summary", ana_summary__run,
	  "capture header, losses, listeners and connections (default)" },
	{ "connections", ana_connections__run, "the connections only" },
	{ "tcpstates", ana_tcpstates__run,
	  "state changes in the columns of bcc/libbpf-tools tcpstates" },
	{ "anomalies", ana_anomalies__run,
	  "what looks wrong, with evidence and explanation (--json, --markdown)" },
	{ "diagram", ana_diagram__run,
	  "sequence diagram of connection --conn ID (--format text|mermaid|svg)" },
	{ "report", ana_report__run, "one HTML file for a bug ticket (-o FILE)" },
	{ "scan", ana_scan__run,
	  "read and correlate in streaming mode; print counts, speed, peak memory" },
	{ "dump", ana_dump__run, "every record, one line each, all fields", 1 },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"Usage: %s [COMMAND] [OPTIONS] FILE\n"
		"Explain a tcptrail capture (.trail) written by tcptrail-record.\n"
		"FILE may be - for standard input.\n"
		"\n"
		"Commands:\n", prog);
	for (i = 0; i < NCOMMANDS; i++)
		if (!commands[i].hidden)
			fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
	fprintf(f,
		"\n"
		"Options:\n"
		"  --tcpstates     same as the tcpstates command\n"
		"  -T, --timestamp tcpstates: add the TIME(s) column (HH:MM:SS)\n"
		"  -w, --wide      tcpstates: wide columns (IPv6 addresses, IP column)\n"
		"  --utc           print times in UTC (the default)\n"
		"  --local         print times in the local time zone\n"
		"  --json, --markdown       anomalies: output format (default text)\n"
		"  --close-wait-ms MS       anomalies: close_wait_stuck threshold (default 5000)\n"
		"  --conn ID                diagram: the connection (ids as `connections` prints)\n"
		"  --format FMT             diagram: text (default), mermaid or svg\n"
		"  -o, --output FILE        report: where to write the HTML\n"
		"  --port PORT              connections: either end on PORT (repeatable)\n"
		"  --since S, --until S     connections: seconds after the first event\n"
		"  --state STATE            connections: a side entered STATE (e.g. CLOSE_WAIT)\n"
		"  --outcome WORD           connections: fin|abort|reset|refused|timeout|open|none\n"
		"  --pcap FILE              the pcap of the same traffic (default: the capture's\n"
		"                           pcap.file, looked up beside FILE by its base name)\n"
		"  --no-pcap                ignore any pcap\n"
		"  -h, --help      this help\n"
		"  -V, --version   print the version\n"
		"\n"
		"Times are the recording host's wall clock, converted from kernel boot\n"
		"time through the capture's clock anchors. A state change's pid/comm is\n"
		"the task running when the kernel made it: for changes made in softirq\n"
		"(SYN_SENT -> ESTABLISHED, ... ) that is whatever task was interrupted.\n"
		"\n"
		"Exit status:\n"
		"  0  analysed; a capture cut short (no END block, truncated) is analysed\n"
		"     up to its last complete block, with a warning on stderr\n"
		"  1  the file cannot be read as a capture (missing, not a capture, newer\n"
		"     major version, nothing readable)\n"
		"  2  usage error: unknown command or option, missing FILE\n"
		"  3  the capture is corrupt (bad checksum or malformed content); the data\n"
		"     before the damage was analysed and printed\n");
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int usage_error(const char *fmt, const char *arg)
{
	char buf[256];

	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, ana_safe(arg, buf, sizeof(buf)));
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return ANA_EXIT_USAGE;
}

enum { OPT_TCPSTATES = 256, OPT_UTC, OPT_LOCAL, OPT_JSON, OPT_MD, OPT_CW, OPT_CONN, OPT_FORMAT,
       OPT_PORT, OPT_SINCE, OPT_UNTIL, OPT_STATE, OPT_OUTCOME, OPT_PCAP, OPT_NO_PCAP };

static const struct option long_opts[] = {
	{ "tcpstates", no_argument, NULL, OPT_TCPSTATES },
	{ "timestamp", no_argument, NULL, 'T' },
	{ "wide", no_argument, NULL, 'w' },
	{ "utc", no_argument, NULL, OPT_UTC },
	{ "local", no_argument, NULL, OPT_LOCAL },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "markdown", no_argument, NULL, OPT_MD },
	{ "close-wait-ms", required_argument, NULL, OPT_CW },
	{ "conn", required_argument, NULL, OPT_CONN },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "output", required_argument, NULL, 'o' },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "outcome", required_argument, NULL, OPT_OUTCOME },
	{ "pcap", required_argument, NULL, OPT_PCAP },
	{ "no-pcap", no_argument, NULL, OPT_NO_PCAP },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Index in long_opts of the option with value VAL. */
static int fidx(int val)
{
	int i;

	for (i = 0; long_opts[i].name; i++)
		if (long_opts[i].val == val)
			return i;
	return 0;
}

/* The exit status for a capture that was read as far as it goes. */
static int status_of(const struct ana_capture *cap)
{
	if (cap->status == TRAIL_OK && cap->rc >= 0)
		return ANA_EXIT_OK;
	if (!cap->nrecords)
		return ANA_EXIT_UNREADABLE;
	if (cap->status == TRAIL_NO_END || cap->status == TRAIL_TRUNCATED)
		return ANA_EXIT_OK;
	return ANA_EXIT_CORRUPT;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL, *flag_cmd = NULL;
	struct ana_opts o = { 0 };
	struct ana_pcap_cfg pcap = { 0 };
	struct ana_capture *cap = NULL;
	char err[512], safe[512];
	const char *pos[2];
	int c, npos = 0, ret, i;
	uint64_t v;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":Twho:V", long_opts, NULL)) != -1) {
		switch (c) {
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		case OPT_TCPSTATES:
			flag_cmd = find_command("tcpstates");
			break;
		case 'T':
			o.timestamp = 1;
			break;
		case 'w':
			o.wide = 1;
			break;
		case OPT_UTC:
			o.local_time = 0;
			break;
		case OPT_LOCAL:
			o.local_time = 1;
			break;
		case OPT_JSON:
			o.json = 1;
			break;
		case OPT_MD:
			o.markdown = 1;
			break;
		case OPT_CW:
			if (parse_u64(optarg, 1, 1ull << 40, &v))
				return usage_error("bad --close-wait-ms '%s'", optarg);
			o.close_wait_ns = v * 1000000;
			break;
		case OPT_CONN:
			if (parse_u64(optarg, 1, UINT32_MAX, &v))
				return usage_error("bad --conn '%s' (a connection id)", optarg);
			o.conn_id = (uint32_t)v;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") && strcmp(optarg, "mermaid") && strcmp(optarg, "svg"))
				return usage_error("bad --format '%s' (text, mermaid or svg)", optarg);
			o.format = optarg;
			break;
		case 'o':
			o.output = optarg;
			break;
		case OPT_PORT:
		case OPT_SINCE:
		case OPT_UNTIL:
		case OPT_STATE:
		case OPT_OUTCOME:
			if (ana_filter__parse(&o.filter, long_opts[fidx(c)].name, optarg))
				return usage_error("bad filter value '%s'", optarg);
			break;
		case OPT_PCAP:
			if (!*optarg)
				return usage_error("%s--pcap needs a file name", "");
			pcap.path = optarg;
			break;
		case OPT_NO_PCAP:
			pcap.disabled = 1;
			break;
		case 'h':
			usage(stdout);
			return ANA_EXIT_OK;
		case 'V':
			printf("tcptrail-analyze %s (capture format %d.%d)\n", TCPTRAIL_VERSION,
			       TRAIL_MAJOR, TRAIL_MINOR);
			return ANA_EXIT_OK;
		default:
			if (optopt) {
				char s[2] = { (char)optopt, 0 };

				return usage_error("unknown option '-%s'", s);
			}
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	for (i = optind; i < argc; i++) {
		if (npos == 2)
			return usage_error("unexpected argument '%s'", argv[i]);
		pos[npos++] = argv[i];
	}
	if (npos == 2) {
		cmd = find_command(pos[0]);
		if (!cmd)
			return usage_error("unknown command '%s' (commands: summary, connections,"
					   " tcpstates, anomalies, diagram, report)", pos[0]);
		o.file = pos[1];
	} else if (npos == 1) {
		if (find_command(pos[0]))
			return usage_error("command '%s' needs a FILE", pos[0]);
		o.file = pos[0];
	} else {
		return usage_error("%smissing FILE", "");
	}
	if (flag_cmd) {
		if (cmd && cmd != flag_cmd)
			return usage_error("--tcpstates cannot be combined with the '%s' command",
					   cmd->name);
		cmd = flag_cmd;
	}
	if (!cmd)
		cmd = &commands[0];
	if (!cmd->run) {
		fprintf(stderr, "%s: the '%s' command is not in this version\n", prog, cmd->name);
		return ANA_EXIT_USAGE;
	}

	if (pcap.path && pcap.disabled)
		return usage_error("%s--pcap and --no-pcap together", "");

	if (!strcmp(cmd->name, "diagram") && !o.conn_id)
		return usage_error("%sdiagram needs --conn ID (ids as the connections command"
				   " prints them)", "");

	ret = ana_capture__open(&cap, o.file, err, sizeof(err));
	if (ret) {
		/* the reader's message names the file */
		fprintf(stderr, "%s: %s\n", prog, ana_safe(err, safe, sizeof(safe)));
		return ANA_EXIT_UNREADABLE;
	}
	if (pcap.path && (!strcmp(cmd->name, "tcpstates") || !strcmp(cmd->name, "dump") ||
			  !strcmp(cmd->name, "scan")))
		fprintf(stderr, "%s: note: the %s command does not use --pcap\n", prog, cmd->name);
	cap->pcap = &pcap;
	ret = cmd->run(cap, &o, stdout);
	fflush(stdout);
	ana_pkts__free(pcap.pkts);
	pcap.pkts = NULL;
	if (ret == -ENOENT) {	/* the command said what was not found */
		ana_capture__close(cap);
		return ANA_EXIT_USAGE;
	}
	if (ret) {
		fprintf(stderr, "%s: %s: %s\n", prog, ana_safe(o.file, safe, sizeof(safe)),
			strerror(-ret));
		ana_capture__close(cap);
		return ANA_EXIT_UNREADABLE;
	}
	ana_print__warnings(cap, prog);
	ret = status_of(cap);
	ana_capture__close(cap);
	return ret;
}
