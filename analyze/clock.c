// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

/* One anchor per 10 s is written; this covers months of recording. */
#define ANA_MAX_ANCHORS (1u << 20)

int ana_clock__add(struct ana_clock *c, const struct trail_clock *a)
{
	struct trail_clock *n;
	size_t ncap;

	if (c->len >= ANA_MAX_ANCHORS) {
		c->dropped++;
		return 0;
	}
	if (c->len == c->cap) {
		ncap = c->cap ? c->cap * 2 : 16;
		n = realloc(c->anchors, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		c->anchors = n;
		c->cap = ncap;
	}
	/* anchors normally arrive in order; others are sorted when needed */
	if (c->len && c->anchors[c->len - 1].boot_ns > a->boot_ns)
		c->unsorted = 1;
	c->anchors[c->len++] = *a;
	return 0;
}

static int cmp_anchor(const void *a, const void *b)
{
	const struct trail_clock *x = a, *y = b;

	return x->boot_ns < y->boot_ns ? -1 : x->boot_ns > y->boot_ns;
}

static void sort_anchors(struct ana_clock *c)
{
	if (!c->unsorted)
		return;
	qsort(c->anchors, c->len, sizeof(*c->anchors), cmp_anchor);
	c->unsorted = 0;
}

static uint64_t dist(int64_t a, int64_t b)
{
	return a > b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
}

/* The anchor nearest to BOOT_NS (BY_REAL: to realtime REAL_NS; the anchors
 * are sorted by boot time and realtime follows it between steps, so the
 * same binary search finds the neighbours). C has at least one anchor. */
static const struct trail_clock *nearest(struct ana_clock *c, int by_real, uint64_t boot_ns,
					 int64_t real_ns)
{
	size_t lo = 0, hi = c->len;

	sort_anchors(c);
	while (lo < hi) {	/* first anchor at or after the time */
		size_t mid = lo + (hi - lo) / 2;

		if (by_real ? (int64_t)c->anchors[mid].real_ns < real_ns :
			      c->anchors[mid].boot_ns < boot_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == c->len)
		return &c->anchors[lo - 1];
	if (lo == 0)
		return &c->anchors[0];
	if (by_real ? dist(real_ns, (int64_t)c->anchors[lo - 1].real_ns) <=
		      dist(real_ns, (int64_t)c->anchors[lo].real_ns) :
		      boot_ns - c->anchors[lo - 1].boot_ns <= c->anchors[lo].boot_ns - boot_ns)
		return &c->anchors[lo - 1];
	return &c->anchors[lo];
}

int ana_clock__real(struct ana_clock *c, uint64_t boot_ns, int64_t *real_ns)
{
	const struct trail_clock *a;

	if (!c->len)
		return -ENOENT;
	a = nearest(c, 0, boot_ns, 0);
	/* unsigned wrap-around then signed view: exact for |diff| < 292 years */
	*real_ns = (int64_t)(a->real_ns + (boot_ns - a->boot_ns));
	return 0;
}

int ana_clock__boot(struct ana_clock *c, int64_t real_ns, uint64_t *boot_ns)
{
	const struct trail_clock *a;

	if (!c->len)
		return -ENOENT;
	a = nearest(c, 1, 0, real_ns);
	/* unsigned: wraps instead of overflowing on a crafted anchor */
	*boot_ns = a->boot_ns + ((uint64_t)real_ns - a->real_ns);
	return 0;
}

int64_t ana_clock__max_step(struct ana_clock *c)
{
	int64_t worst = 0, d;
	size_t i;

	sort_anchors(c);
	for (i = 1; i < c->len; i++) {
		d = (int64_t)(c->anchors[i].real_ns - c->anchors[i].boot_ns) -
		    (int64_t)(c->anchors[i - 1].real_ns - c->anchors[i - 1].boot_ns);
		if (d < 0)
			d = -d;
		if (d > worst)
			worst = d;
	}
	return worst;
}

static int split(struct ana_clock *c, uint64_t boot_ns, struct tm *tm, long *usec)
{
	int64_t real, rem;
	time_t sec;

	if (ana_clock__real(c, boot_ns, &real))
		return -ENOENT;
	/* floor division: times before 1970 stay well-formed */
	sec = real / 1000000000;
	rem = real % 1000000000;
	if (rem < 0) {
		sec--;
		rem += 1000000000;
	}
	*usec = (long)(rem / 1000);
	if (!(c->local ? localtime_r(&sec, tm) : gmtime_r(&sec, tm)))
		return -ERANGE;
	return 0;
}

static char *fmt_boot(uint64_t boot_ns, char *buf, size_t len)
{
	snprintf(buf, len, "boot+%llu.%06llu", (unsigned long long)(boot_ns / 1000000000),
		 (unsigned long long)(boot_ns % 1000000000 / 1000));
	return buf;
}

char *ana_clock__fmt(struct ana_clock *c, uint64_t boot_ns, char *buf, size_t len)
{
	struct tm tm;
	long usec;

	if (split(c, boot_ns, &tm, &usec))
		return fmt_boot(boot_ns, buf, len);
	snprintf(buf, len, "%02d:%02d:%02d.%06ld", tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
	return buf;
}

char *ana_clock__fmt_full(struct ana_clock *c, uint64_t boot_ns, char *buf, size_t len)
{
	struct tm tm;
	long usec;

	if (split(c, boot_ns, &tm, &usec))
		return fmt_boot(boot_ns, buf, len);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%06ld %s", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec,
		 c->local ? (tm.tm_zone ? tm.tm_zone : "local") : "UTC");
	return buf;
}

char *ana_clock__fmt_date(struct ana_clock *c, uint64_t boot_ns, char *buf, size_t len)
{
	struct tm tm;
	long usec;

	if (split(c, boot_ns, &tm, &usec)) {
		if (len)
			buf[0] = 0;
		return buf;
	}
	snprintf(buf, len, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	return buf;
}

char *ana_clock__fmt_hms(struct ana_clock *c, uint64_t boot_ns, char *buf, size_t len)
{
	struct tm tm;
	long usec;

	if (split(c, boot_ns, &tm, &usec)) {
		snprintf(buf, len, "%llu", (unsigned long long)(boot_ns / 1000000000));
		return buf;
	}
	snprintf(buf, len, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	return buf;
}

void ana_clock__free(struct ana_clock *c)
{
	if (!c)
		return;
	free(c->anchors);
	c->anchors = NULL;
	c->len = c->cap = 0;
}
