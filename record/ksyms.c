// SPDX-License-Identifier: BSD-2-Clause
/*
 * Kernel symbols from /proc/kallsyms, to turn stack addresses into
 * "func+0xoff" frames. The file is opened early, while the recorder still
 * has its privileges (kallsyms decides at open time whether to show
 * addresses), and parsed only when the first stack needs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"

#define KALLSYMS "/proc/kallsyms"
#define KALLSYMS_MAX (256u << 20)	/* bytes read at most */
#define MAX_SYM_DIST (1u << 24)		/* farther from any symbol: print the address */

struct ksym {
	uint64_t addr;
	const char *name;	/* into ksyms.text */
	const char *module;	/* NULL for the kernel image */
};

struct ksyms {
	int fd;			/* -1 once parsed or if it could not be opened */
	int parsed;
	char *text;		/* the whole file, names cut into strings */
	struct ksym *syms;
	size_t nsyms;
};

int ksyms__open(struct ksyms **out)
{
	struct ksyms *k = calloc(1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	k->fd = open(KALLSYMS, O_RDONLY | O_CLOEXEC);
	*out = k;
	return 0;
}

void ksyms__free(struct ksyms *k)
{
	if (!k)
		return;
	if (k->fd >= 0)
		close(k->fd);
	free(k->text);
	free(k->syms);
	free(k);
}

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int read_all(int fd, char **out, size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap + 1), *nb;
	ssize_t r;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap >= KALLSYMS_MAX)
				break;
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;

			free(buf);
			return err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Lines "ADDR TYPE NAME[\t[MODULE]]"; text symbols only. */
static int parse(struct ksyms *k)
{
	size_t len = 0, cap = 0, n = 0;
	struct ksym *syms = NULL, *ns;
	char *p, *line, *end;
	int err;

	k->parsed = 1;
	if (k->fd < 0)
		return -ENOENT;
	err = read_all(k->fd, &k->text, &len);
	close(k->fd);
	k->fd = -1;
	if (err)
		return err;
	for (line = k->text; line < k->text + len; line = p) {
		char *type, *name, *mod;
		uint64_t addr;

		p = strchr(line, '\n');
		p = p ? p + 1 : k->text + len;
		if (p > line && p[-1] == '\n')
			p[-1] = '\0';
		errno = 0;
		addr = strtoull(line, &end, 16);
		if (errno || end == line || *end != ' ' || !addr)
			continue;
		type = end + 1;
		if (!strchr("tTwW", *type) || type[1] != ' ')
			continue;
		name = type + 2;
		mod = strchr(name, '\t');
		if (mod) {
			*mod++ = '\0';
			if (*mod == '[') {
				mod++;
				mod[strcspn(mod, "]")] = '\0';
			}
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			ns = realloc(syms, cap * sizeof(*syms));
			if (!ns) {
				free(syms);
				return -ENOMEM;
			}
			syms = ns;
		}
		syms[n].addr = addr;
		syms[n].name = name;
		syms[n].module = mod && *mod ? mod : NULL;
		n++;
	}
	qsort(syms, n, sizeof(*syms), cmp_ksym);
	k->syms = syms;
	k->nsyms = n;
	return 0;
}

/* The symbol at or below ADDR, or NULL. */
static const struct ksym *lookup(const struct ksyms *k, uint64_t addr)
{
	size_t lo = 0, hi = k->nsyms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &k->syms[lo - 1] : NULL;
}

int ksyms__name(struct ksyms *k, uint64_t addr, char *buf, size_t len)
{
	const struct ksym *s;

	if (!k->parsed)
		parse(k);	/* without symbols every frame is an address */
	s = lookup(k, addr);
	if (!s || addr - s->addr >= MAX_SYM_DIST) {
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
		return -ENOENT;
	}
	if (s->module)
		snprintf(buf, len, "%s+0x%llx [%s]", s->name,
			 (unsigned long long)(addr - s->addr), s->module);
	else
		snprintf(buf, len, "%s+0x%llx", s->name, (unsigned long long)(addr - s->addr));
	return 0;
}

size_t ksyms__count(const struct ksyms *k)
{
	return k->nsyms;
}
