/* SPDX-License-Identifier: BSD-2-Clause */
/* What the synthetic-capture writers (t_analyze_gen.c, t_analyze_scen.c)
 * share: the kernel's TCP state numbers, the test clock and two helpers. */
#ifndef CAPGEN_H
#define CAPGEN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {	/* include/net/tcp_states.h */
	ESTABLISHED = 1, SYN_SENT, SYN_RECV, FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE,
	CLOSE_WAIT, LAST_ACK, LISTEN, CLOSING, NEW_SYN_RECV,
};

/* boot 1000 s reads 2024-03-05 12:00:00 UTC */
#define S(x) (1000000000ull * (x))
#define MS(x) (1000000ull * (x))
#define US(x) (1000ull * (x))
#define BASE S(1000)
#define REAL0 (1709640000ull * 1000000000ull)

/* A writer error ends the generator: the test then fails on its exit code. */
static inline void capgen_check(const char *prog, int err, const char *what)
{
	if (err) {
		fprintf(stderr, "%s: %s: error %d\n", prog, what, err);
		exit(1);
	}
}

/* Dotted quad S into the 16-byte address A (IPv4 in the first 4). */
static inline void capgen_ip4(uint8_t *a, const char *s)
{
	unsigned x[4];

	memset(a, 0, 16);
	if (sscanf(s, "%u.%u.%u.%u", &x[0], &x[1], &x[2], &x[3]) != 4 ||
	    x[0] > 255 || x[1] > 255 || x[2] > 255 || x[3] > 255) {
		fprintf(stderr, "capgen: bad IPv4 address '%s'\n", s);
		exit(1);
	}
	for (int i = 0; i < 4; i++)
		a[i] = (uint8_t)x[i];
}

#endif
