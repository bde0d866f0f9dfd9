// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

char *ana_safe(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (!len)
		return buf;
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f) {
			if (o + 1 >= len)
				break;
			buf[o++] = c;
			continue;
		}
		if (o + 4 >= len)
			break;
		buf[o++] = '\\';
		buf[o++] = 'x';
		buf[o++] = hex[c >> 4];
		buf[o++] = hex[c & 15];
	}
	buf[o] = 0;
	return buf;
}

char *ana_addr(uint8_t family, const uint8_t addr[16], char *buf, size_t len)
{
	int af = family == TRAIL_FAMILY_INET ? AF_INET :
		 family == TRAIL_FAMILY_INET6 ? AF_INET6 : 0;

	if (!af || !inet_ntop(af, addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

char *ana_endpoint(uint8_t family, const uint8_t addr[16], uint16_t port, char *buf,
		   size_t len)
{
	char a[ANA_ADDRSTRLEN];

	ana_addr(family, addr, a, sizeof(a));
	if (family == TRAIL_FAMILY_INET6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
	return buf;
}

char *ana_ms(int64_t ns, char *buf, size_t len)
{
	uint64_t a = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;

	snprintf(buf, len, "%s%llu.%03llu", ns < 0 ? "-" : "",
		 (unsigned long long)(a / 1000000), (unsigned long long)(a % 1000000 / 1000));
	return buf;
}

uint64_t ana_sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

int ana_grow(void **v, size_t *cap, size_t len, size_t elem)
{
	size_t ncap;
	void *n;

	if (len < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	n = realloc(*v, ncap * elem);
	if (!n)
		return -ENOMEM;
	*v = n;
	*cap = ncap;
	return 0;
}

void ana_append(char *buf, size_t len, const char *fmt, ...)
{
	size_t o = strlen(buf);
	va_list ap;

	if (o + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + o, len - o, fmt, ap);
	va_end(ap);
}
