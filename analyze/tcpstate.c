// SPDX-License-Identifier: BSD-2-Clause
#include <stdio.h>
#include <string.h>

#include "tcpstate.h"
#include "util.h"

/* Enumerator names in the kernel's enum (include/net/tcp_states.h). */
static const char *const kernel_names[ST__COUNT] = {
	[ST_ESTABLISHED] = "TCP_ESTABLISHED",
	[ST_SYN_SENT] = "TCP_SYN_SENT",
	[ST_SYN_RECV] = "TCP_SYN_RECV",
	[ST_FIN_WAIT1] = "TCP_FIN_WAIT1",
	[ST_FIN_WAIT2] = "TCP_FIN_WAIT2",
	[ST_TIME_WAIT] = "TCP_TIME_WAIT",
	[ST_CLOSE] = "TCP_CLOSE",
	[ST_CLOSE_WAIT] = "TCP_CLOSE_WAIT",
	[ST_LAST_ACK] = "TCP_LAST_ACK",
	[ST_LISTEN] = "TCP_LISTEN",
	[ST_CLOSING] = "TCP_CLOSING",
	[ST_NEW_SYN_RECV] = "TCP_NEW_SYN_RECV",
	[ST_BOUND_INACTIVE] = "TCP_BOUND_INACTIVE",
};

void ana_states__load(struct ana_states *s, const struct trail_reader *r)
{
	int64_t v;
	int i;

	memset(s, 0, sizeof(*s));
	s->r = r;
	for (i = 1; i < ST__COUNT; i++) {
		if (trail_reader__enum_value(r, TRAIL_ENUM_TCP_STATE, kernel_names[i], &v))
			continue;
		s->known[i] = 1;
		s->value[i] = v;
		s->have_table = 1;
	}
	/* the first of equal values wins, as in the scan below */
	for (i = ST__COUNT - 1; i > 0; i--)
		if (s->known[i] && s->value[i] >= 0 && s->value[i] < 256)
			s->small[s->value[i]] = (uint8_t)i;
}

enum ana_st ana_states__kind(const struct ana_states *s, int64_t value)
{
	int i;

	if (value >= 0 && value < 256)
		return s->small[value];
	for (i = 1; i < ST__COUNT; i++)
		if (s->known[i] && s->value[i] == value)
			return i;
	return ST_UNKNOWN;
}

const char *ana_states__name(const struct ana_states *s, int64_t value, char *buf, size_t len)
{
	const char *name = s->r ? trail_reader__enum_name(s->r, TRAIL_ENUM_TCP_STATE, value) : NULL;

	if (name && *name) {
		if (!strncmp(name, "TCP_", 4) && name[4])
			name += 4;
		return ana_safe(name, buf, len);	/* names come from the file */
	}
	snprintf(buf, len, "%lld", (long long)value);
	return buf;
}
