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
/* Append what FMT says to the string in BUF (LEN bytes), cut at the end. */
void ana_append(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* a + b, saturating at UINT64_MAX: counts in a file cannot wrap totals. */
uint64_t ana_sat_add(uint64_t a, uint64_t b);
/* Room for one more ELEM-sized entry in *V (LEN used of *CAP), doubling
 * from 64: 0, or -ENOMEM with *V untouched. */
int ana_grow(void **v, size_t *cap, size_t len, size_t elem);

/* Hash of endpoint (FAMILY, ADDR, PORT) mixed into H: word-wise, for the
 * connection indexes; only the family's address bytes are read. */
static inline uint64_t ana_hash_ep(uint64_t h, uint8_t family, const uint8_t *addr, uint16_t port)
{
	uint64_t a = 0, b = 0;

	if (family == TRAIL_FAMILY_INET6) {
		__builtin_memcpy(&a, addr, 8);
		__builtin_memcpy(&b, addr + 8, 8);
	} else {
		uint32_t v4;

		__builtin_memcpy(&v4, addr, 4);
		a = v4;
	}
	h ^= a + 0x9e3779b97f4a7c15ull + ((uint64_t)family << 56);
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= b + ((uint64_t)port << 32) + (h >> 29);
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 32);
}

#define ANA_ADDRSTRLEN 48	/* INET6_ADDRSTRLEN plus margin */
#define ANA_EPSTRLEN 64

#endif
