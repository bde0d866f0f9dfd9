// SPDX-License-Identifier: BSD-2-Clause
/* Progress on stderr for large captures, only when stderr is a terminal. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ana.h"

void ana_progress__start(struct ana_capture *cap)
{
	struct stat st;

	cap->progress = isatty(STDERR_FILENO) && cap->path && !stat(cap->path, &st) &&
			S_ISREG(st.st_mode) && st.st_size > (64 << 20);
	cap->size = cap->progress ? (uint64_t)st.st_size : 0;
}

void ana_capture__tick(struct ana_capture *cap)
{
	uint64_t off = trail_reader__offset(cap->r);

	fprintf(stderr, "\rtcptrail-analyze: %3u%% read, %llu records",
		cap->size ? (unsigned)(off * 100 / cap->size) : 0, (unsigned long long)cap->nrecords);
}

void ana_progress__end(struct ana_capture *cap)
{
	if (cap->progress)
		fprintf(stderr, "\r\033[K");
	cap->progress = 0;
}
