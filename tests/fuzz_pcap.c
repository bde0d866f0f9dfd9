// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target: the analyzer's pcap frame decoder. The first byte picks
 * the link type, the rest is the frame, in a buffer of exactly its size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/dlt.h>

#include "../analyze/pcap.h"

static const int dlts[] = { DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_EN10MB, DLT_RAW, DLT_NULL,
			    DLT_LOOP, DLT_IPV4, DLT_IPV6 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ana_pkt k;
	const char *why;
	uint8_t *p;

	if (!size || size > 65536)
		return 0;
	p = malloc(size - 1 ? size - 1 : 1);
	if (!p)
		return 0;
	memcpy(p, data + 1, size - 1);
	if (ana_pcap__decode(dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))], p,
			     (uint32_t)(size - 1), &k, &why) < 0 && !why[0])
		abort();	/* every rejection says why */
	free(p);
	return 0;
}
