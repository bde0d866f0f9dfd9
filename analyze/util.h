/* SPDX-License-Identifier: BSD-2-Clause */
/* Small helpers for printing values that come from an untrusted file. */
#ifndef TCPTRAIL_ANA_UTIL_H
#define TCPTRAIL_ANA_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "trail.h"

/* Copy S into BUF with control and non-ASCII bytes shown as \xNN, so a
 * crafted capture cannot drive the terminal. Always NUL-terminates. */
char *ana_safe(const char *s, char *buf, size_t len);
/* Address ADDR of FAMILY as text ("?" for an unknown family). */
char *ana_addr(uint8_t family, const uint8_t addr[16], char *buf, size_t len);
/* "addr:port", IPv6 as "[addr]:port". */
char *ana_endpoint(uint8_t family, const uint8_t addr[16], uint16_t port, char *buf,
		   size_t len);
/* Milliseconds with microsecond precision, from a signed ns difference. */
char *ana_ms(int64_t ns, char *buf, size_t len);
/* a + b, saturating at UINT64_MAX: counts in a file cannot wrap totals. */
uint64_t ana_sat_add(uint64_t a, uint64_t b);

#define ANA_ADDRSTRLEN 48	/* INET6_ADDRSTRLEN plus margin */
#define ANA_EPSTRLEN 64

#endif
