// SPDX-License-Identifier: BSD-2-Clause
/*
 * tcptrail-loadgen: loopback TCP traffic of a known shape for the demo, the
 * tests and the benchmark. Connects to its own listener on 127.0.0.1 or ::1
 * only, exchanges a few bytes and closes, from one side or the other. Every
 * run is bounded in count and in time.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define PROG "tcptrail-loadgen"
#define MAX_CONNS 10000000ul
#define MAX_PARALLEL 256ul
#define MAX_BYTES (1ul << 20)
#define MAX_DURATION 3600.0
#define IO_TIMEOUT_S 5		/* per socket operation */
#define WATCHDOG_SLACK_S 30	/* hard stop after --duration plus this */

enum close_side { CLOSE_CLIENT, CLOSE_SERVER };

struct cfg {
	unsigned long conns, parallel, bytes;
	double duration;
	int family;		/* AF_INET, AF_INET6 */
	enum close_side close;
	int rst;		/* the closing side aborts: SO_LINGER 0 -> RST */
	int unread;		/* the closing side leaves the peer's last bytes unread -> RST */
	int refused;		/* connect to a port nobody listens on */
	unsigned port;
	int quiet;
};

static struct cfg cfg = {
	.conns = 100, .parallel = 1, .bytes = 64, .duration = 60.0,
	.family = AF_INET, .close = CLOSE_CLIENT,
};
static struct sockaddr_storage target;	/* listener (or refusing port) */
static socklen_t target_len;
static int listen_fd = -1;
static atomic_ulong next_conn, done, errors, accepted;
static atomic_int clients_done;
static double t_stop;		/* monotonic seconds: no new connection after */
static char last_error[160];
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void note_error(const char *what)
{
	int e = errno;

	atomic_fetch_add(&errors, 1);
	pthread_mutex_lock(&err_lock);
	snprintf(last_error, sizeof(last_error), "%s: %s", what, strerror(e));
	pthread_mutex_unlock(&err_lock);
}

static void on_alarm(int sig)
{
	static const char msg[] = PROG ": watchdog: still running past --duration, giving up\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing left to tell */
	}
	_exit(3);
}

static int set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

/* Close FD, with an RST instead of a FIN when asked to. */
static void close_sock(int fd, int rst)
{
	if (rst) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	close(fd);
}

static int write_n(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t r = send(fd, buf, n, MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Read exactly N bytes; -1 on error or early EOF. */
static int read_n(int fd, char *buf, size_t n)
{
	while (n) {
		ssize_t r = recv(fd, buf, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			errno = ECONNABORTED;
		if (r <= 0)
			return -1;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Wait for the peer's FIN (or RST, when it aborts). */
static int wait_eof(int fd)
{
	char c[256];
	ssize_t r;

	do {
		r = recv(fd, c, sizeof(c), 0);
	} while (r > 0 || (r < 0 && errno == EINTR));
	if (r < 0 && (cfg.rst || cfg.unread) && errno == ECONNRESET)
		return 0;
	return r == 0 ? 0 : -1;
}

/* Until the peer's bytes are in our receive queue (then left unread). */
static int wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do {
		r = poll(&p, 1, IO_TIMEOUT_S * 1000);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		errno = ETIMEDOUT;
	return r == 1 ? 0 : -1;
}

static void serve(int fd, char *buf)
{
	if (set_timeouts(fd) || read_n(fd, buf, cfg.bytes) || write_n(fd, buf, cfg.bytes)) {
		note_error("server exchange");
		close(fd);
		return;
	}
	if (cfg.close == CLOSE_SERVER) {
		if (cfg.unread && wait_readable(fd)) {
			note_error("server waiting for bytes to leave unread");
			close(fd);
			return;
		}
		close_sock(fd, cfg.rst);
		return;
	}
	/* bytes the client will close on without reading them */
	if (cfg.unread && write_n(fd, buf, cfg.bytes)) {
		note_error("server sending the bytes left unread");
		close(fd);
		return;
	}
	if (wait_eof(fd))
		note_error("server waiting for the client's close");
	close(fd);
}

static void *server_main(void *arg)
{
	char *buf = malloc(cfg.bytes);
	struct pollfd p = { .fd = listen_fd, .events = POLLIN };

	(void)arg;
	if (!buf)
		return NULL;
	/* until the clients are through and nothing waits to be accepted */
	for (;;) {
		int r = poll(&p, 1, 100), fd;

		if (r <= 0) {
			if (atomic_load(&clients_done))
				break;
			continue;
		}
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;	/* another server thread took it */
		atomic_fetch_add(&accepted, 1);
		serve(fd, buf);
	}
	free(buf);
	return NULL;
}

static int one_client(char *buf)
{
	int fd = socket(cfg.family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		note_error("socket");
		return -1;
	}
	if (set_timeouts(fd)) {
		note_error("setsockopt");
		close(fd);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&target, target_len) < 0) {
		if (cfg.refused && errno == ECONNREFUSED) {
			close(fd);
			return 0;
		}
		note_error("connect");
		close(fd);
		return -1;
	}
	if (cfg.refused) {
		errno = EISCONN;
		note_error("connect to the refusing port succeeded");
		close(fd);
		return -1;
	}
	memset(buf, 'x', cfg.bytes);
	if (write_n(fd, buf, cfg.bytes) || read_n(fd, buf, cfg.bytes)) {
		if (!(cfg.rst && cfg.close == CLOSE_SERVER && errno == ECONNRESET)) {
			note_error("client exchange");
			close(fd);
			return -1;
		}
	}
	if (cfg.close == CLOSE_CLIENT) {
		if (cfg.unread && wait_readable(fd)) {
			note_error("client waiting for bytes to leave unread");
			close(fd);
			return -1;
		}
		close_sock(fd, cfg.rst);
		return 0;
	}
	/* bytes the server will close on without reading them */
	if (cfg.unread && write_n(fd, buf, cfg.bytes)) {
		note_error("client sending the bytes left unread");
		close(fd);
		return -1;
	}
	if (wait_eof(fd)) {
		note_error("client waiting for the server's close");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void *client_main(void *arg)
{
	char *buf = malloc(cfg.bytes);

	(void)arg;
	if (!buf)
		return NULL;
	while (atomic_fetch_add(&next_conn, 1) < cfg.conns && now_s() < t_stop) {
		if (one_client(buf) == 0)
			atomic_fetch_add(&done, 1);
	}
	free(buf);
	return NULL;
}

/* Listener (or, with --refused, a bound port that does not listen). */
static int setup_target(void)
{
	int one = 1, fd = socket(cfg.family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&target, 0, sizeof(target));
	if (cfg.family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&target;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons(cfg.port);
		target_len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&target;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(cfg.port);
		target_len = sizeof(*a);
	}
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&target, target_len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&target, &target_len) < 0 ||
	    (!cfg.refused && listen(fd, 4096) < 0) ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	listen_fd = fd;
	return 0;
}

static unsigned target_port(void)
{
	if (target.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&target)->sin6_port);
	return ntohs(((struct sockaddr_in *)&target)->sin_port);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [options]\n"
"Loopback TCP connections against our own listener: connect, exchange\n"
"bytes, close. Prints one line: connections done, rate, errors.\n"
"\n"
"  --conns N         connections to make (default 100, at most %lu)\n"
"  --parallel P      client threads, same number of server threads (default 1)\n"
"  -4 | -6           127.0.0.1 (default) or ::1\n"
"  --close SIDE      client|server: which side closes first (default client)\n"
"  --rst             the closing side aborts with an RST (SO_LINGER 0)\n"
"  --unread          the closing side closes with its peer's last bytes unread\n"
"                    (the kernel then sends an RST)\n"
"  --refused         connect to a port nobody listens on (RST answers)\n"
"  --bytes B         bytes sent each way (default 64, 1..%lu)\n"
"  --duration S      no new connection after S seconds (default 60, max %.0f)\n"
"  --port P          listen on port P (default: an ephemeral port)\n"
"  -q                no result line\n"
"  -h, --help        this text\n",
		PROG, MAX_CONNS, MAX_BYTES, MAX_DURATION);
}

static int parse_ul(const char *what, const char *s, unsigned long lo,
		    unsigned long hi, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *out < lo || *out > hi) {
		fprintf(stderr, "%s: %s wants a whole number from %lu to %lu, got '%s'\n",
			PROG, what, lo, hi, s);
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv)
{
	enum { O_CONNS = 256, O_PAR, O_CLOSE, O_RST, O_REFUSED, O_BYTES, O_DUR, O_PORT, O_UNREAD };
	static const struct option longs[] = {
		{ "conns", required_argument, NULL, O_CONNS },
		{ "parallel", required_argument, NULL, O_PAR },
		{ "close", required_argument, NULL, O_CLOSE },
		{ "rst", no_argument, NULL, O_RST },
		{ "refused", no_argument, NULL, O_REFUSED },
		{ "unread", no_argument, NULL, O_UNREAD },
		{ "bytes", required_argument, NULL, O_BYTES },
		{ "duration", required_argument, NULL, O_DUR },
		{ "port", required_argument, NULL, O_PORT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "46qh", longs, NULL)) != -1) {
		switch (c) {
		case O_CONNS:
			if (parse_ul("--conns", optarg, 1, MAX_CONNS, &cfg.conns))
				return -1;
			break;
		case O_PAR:
			if (parse_ul("--parallel", optarg, 1, MAX_PARALLEL, &cfg.parallel))
				return -1;
			break;
		case O_CLOSE:
			if (!strcmp(optarg, "client")) {
				cfg.close = CLOSE_CLIENT;
			} else if (!strcmp(optarg, "server")) {
				cfg.close = CLOSE_SERVER;
			} else {
				fprintf(stderr, "%s: --close wants client or server, got '%s'\n",
					PROG, optarg);
				return -1;
			}
			break;
		case O_RST:
			cfg.rst = 1;
			break;
		case O_REFUSED:
			cfg.refused = 1;
			break;
		case O_UNREAD:
			cfg.unread = 1;
			break;
		case O_BYTES:
			if (parse_ul("--bytes", optarg, 1, MAX_BYTES, &cfg.bytes))
				return -1;
			break;
		case O_DUR:
			errno = 0;
			cfg.duration = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(cfg.duration > 0) ||
			    cfg.duration > MAX_DURATION) {
				fprintf(stderr, "%s: --duration wants seconds in (0, %.0f], got '%s'\n",
					PROG, MAX_DURATION, optarg);
				return -1;
			}
			break;
		case O_PORT:
			if (parse_ul("--port", optarg, 1, 65535, &v))
				return -1;
			cfg.port = v;
			break;
		case '4':
			cfg.family = AF_INET;
			break;
		case '6':
			cfg.family = AF_INET6;
			break;
		case 'q':
			cfg.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", PROG, argv[optind]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t *clients, *servers;
	unsigned long i, nserv;
	double t0, dt;
	int err;

	if (parse_args(argc, argv))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm((unsigned)cfg.duration + WATCHDOG_SLACK_S);

	err = setup_target();
	if (err) {
		fprintf(stderr, "%s: cannot set up the %s on %s port %u: %s\n", PROG,
			cfg.refused ? "refusing port" : "listener",
			cfg.family == AF_INET ? "127.0.0.1" : "::1", cfg.port, strerror(-err));
		return 1;
	}
	nserv = cfg.refused ? 0 : cfg.parallel;
	clients = calloc(cfg.parallel, sizeof(*clients));
	servers = calloc(cfg.parallel, sizeof(*servers));
	if (!clients || !servers) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return 1;
	}

	t0 = now_s();
	t_stop = t0 + cfg.duration;
	for (i = 0; i < nserv; i++) {
		if ((err = pthread_create(&servers[i], NULL, server_main, NULL))) {
			fprintf(stderr, "%s: cannot start a thread: %s\n", PROG, strerror(err));
			return 1;
		}
	}
	for (i = 0; i < cfg.parallel; i++) {
		if ((err = pthread_create(&clients[i], NULL, client_main, NULL))) {
			fprintf(stderr, "%s: cannot start a thread: %s\n", PROG, strerror(err));
			return 1;
		}
	}
	for (i = 0; i < cfg.parallel; i++)
		pthread_join(clients[i], NULL);
	/* the servers' last poll is not part of the rate */
	dt = now_s() - t0;
	atomic_store(&clients_done, 1);
	for (i = 0; i < nserv; i++)
		pthread_join(servers[i], NULL);
	close(listen_fd);

	if (!cfg.quiet)
		printf("loadgen: %lu connections in %.3f s (%.0f/s), family %d, port %u, close %s%s, "
		       "parallel %lu, errors %lu%s\n",
		       atomic_load(&done), dt, dt > 0 ? atomic_load(&done) / dt : 0.0,
		       cfg.family == AF_INET ? 4 : 6, target_port(),
		       cfg.refused ? "refused" : cfg.close == CLOSE_CLIENT ? "client" : "server",
		       cfg.rst ? " rst" : cfg.unread ? " unread" : "", cfg.parallel, atomic_load(&errors),
		       atomic_load(&done) + atomic_load(&errors) < cfg.conns ?
		       ", stopped by --duration" : "");
	if (atomic_load(&errors)) {
		fprintf(stderr, "%s: %lu errors, last: %s\n", PROG, atomic_load(&errors),
			last_error);
		return 1;
	}
	free(clients);
	free(servers);
	return 0;
}
