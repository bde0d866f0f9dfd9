// SPDX-License-Identifier: BSD-2-Clause
/* trail reader: walks a capture block by block, record by record. Every
 * capture is untrusted (it comes from a bug ticket): each length is
 * checked against what is left before it is used, allocations are bounded
 * by the limits in trail.h, and the first problem stops reading with a
 * message naming the offset while everything before it stays delivered. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "trail_int.h"

struct sockent {
	uint64_t id;		/* 0: empty slot */
	struct trail_sock s;
};

struct enumtab {
	char name[TRAIL_MAX_NAME + 1];
	struct trail_enum_entry *entries;
	char *names;		/* storage for the entry names */
	uint32_t count;
};

struct stackent {
	struct trail_stack st;
	char *mem;		/* frame pointers, then the strings */
	size_t bytes;
};

struct trail_reader {
	const uint8_t *data;
	size_t size;
	void *owned;		/* malloc'd copy, or NULL */
	void *map;		/* mmap'd file, or NULL */
	unsigned major, minor;

	uint64_t off;		/* next block */
	uint64_t blk_off;	/* block being read */
	int blk_type;		/* 0: none open */
	struct cur c;		/* inside the open block (or its raw events) */
	uint64_t ts;
	int done, end_seen;
	enum trail_status status;
	char msg[320];

	uint8_t *raw;
	size_t raw_cap;
	ZSTD_DCtx *zd;
	char key[TRAIL_MAX_STRING + 1], val[TRAIL_MAX_STRING + 1];
	uint64_t percpu[TRAIL_MAX_CPUS];
	struct trail_counter ctrs[TRAIL_MAX_COUNTERS];
	char ctrnames[TRAIL_MAX_COUNTERS][TRAIL_MAX_NAME + 1];

	struct sockent *socks;
	size_t sock_cap, sock_count;
	uint64_t last_sock, pending_retire;
	struct trail_task tasks[TRAIL_TASK_SLOTS];
	uint8_t task_def[TRAIL_TASK_SLOTS];
	struct enumtab enums[TRAIL_MAX_ENUMS];
	unsigned nenums;
	struct stackent *stacks;	/* TRAIL_MAX_STACKS + 1, on first use */
	size_t stack_bytes;
};

static const char *block_name(int type)
{
	switch (type) {
	case BLK_META: return "META";
	case BLK_ENUM: return "ENUM";
	case BLK_CLOCK: return "CLOCK";
	case BLK_EVENTS: return "EVENTS";
	case BLK_LOSS: return "LOSS";
	case BLK_END: return "END";
	default: return "unknown";
	}
}

__attribute__((format(printf, 3, 4)))
static int stop(struct trail_reader *r, enum trail_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->status = st;
	r->done = 1;
	r->blk_type = 0;
	return 0;
}

#define malformed(r, what, ...) \
	stop(r, TRAIL_CORRUPT, "malformed %s block at offset %llu: " what, \
	     block_name((r)->blk_type), (unsigned long long)(r)->blk_off, ##__VA_ARGS__)

/* ---- socket table: open addressing keyed by id, backward-shift delete ---- */

static size_t sock_slot(const struct trail_reader *r, uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 20) & (r->sock_cap - 1);
}

static struct sockent *sock_find(const struct trail_reader *r, uint64_t id)
{
	if (!r->sock_cap || !id)
		return NULL;
	for (size_t i = sock_slot(r, id);; i = (i + 1) & (r->sock_cap - 1)) {
		if (r->socks[i].id == id)
			return &r->socks[i];
		if (!r->socks[i].id)
			return NULL;
	}
}

static int sock_grow(struct trail_reader *r)
{
	size_t ncap = r->sock_cap ? r->sock_cap * 2 : 1024;
	struct sockent *old = r->socks, *n = calloc(ncap, sizeof(*n));
	size_t ocap = r->sock_cap;

	if (!n)
		return -ENOMEM;
	r->socks = n;
	r->sock_cap = ncap;
	for (size_t i = 0; i < ocap; i++) {
		if (!old[i].id)
			continue;
		size_t j = sock_slot(r, old[i].id);
		while (n[j].id)
			j = (j + 1) & (ncap - 1);
		n[j] = old[i];
	}
	free(old);
	return 0;
}

static struct sockent *sock_insert(struct trail_reader *r, uint64_t id)
{
	size_t i;

	if ((r->sock_count + 1) * 2 > r->sock_cap && sock_grow(r))
		return NULL;
	i = sock_slot(r, id);
	while (r->socks[i].id)
		i = (i + 1) & (r->sock_cap - 1);
	r->socks[i].id = id;
	r->sock_count++;
	return &r->socks[i];
}

static void sock_remove(struct trail_reader *r, uint64_t id)
{
	struct sockent *e = sock_find(r, id);
	size_t i, j, mask = r->sock_cap - 1;

	if (!e)
		return;
	i = (size_t)(e - r->socks);
	r->socks[i].id = 0;
	r->sock_count--;
	for (j = (i + 1) & mask; r->socks[j].id; j = (j + 1) & mask) {
		size_t home = sock_slot(r, r->socks[j].id);
		/* move j back into the hole unless its home lies in (i, j] */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		r->socks[i] = r->socks[j];
		r->socks[j].id = 0;
		i = j;
	}
}

/* ---- opening ---- */

static int check_preamble(struct trail_reader *r, char *err, size_t errlen)
{
	static const uint8_t pcap_le[4] = { 0xd4, 0xc3, 0xb2, 0xa1 }, pcapng[4] = { 0x0a, 0x0d, 0x0d, 0x0a };

	if (r->size < TRAIL_PREAMBLE_LEN) {
		if (r->size >= TRAIL_MAGIC_LEN && !memcmp(r->data, TRAIL_MAGIC, TRAIL_MAGIC_LEN))
			snprintf(err, errlen, "truncated at offset 0: preamble needs %d bytes, file has %zu",
				 TRAIL_PREAMBLE_LEN, r->size);
		else
			snprintf(err, errlen, "not a tcptrail capture: %zu bytes, shorter than the %d-byte preamble",
				 r->size, TRAIL_PREAMBLE_LEN);
		return -EINVAL;
	}
	if (memcmp(r->data, TRAIL_MAGIC, TRAIL_MAGIC_LEN)) {
		const char *hint = "";
		if (!memcmp(r->data, pcap_le, 4) || !memcmp(r->data, pcapng, 4))
			hint = " (this is a pcap file; tcptrail reads the .trail file recorded with it)";
		snprintf(err, errlen, "not a tcptrail capture: bad magic at offset 0%s", hint);
		return -EINVAL;
	}
	r->major = get_le16(r->data + 8);
	r->minor = get_le16(r->data + 10);
	if (r->major == 0 || r->major > TRAIL_MAJOR) {
		snprintf(err, errlen, "capture format version %u.%u is not readable by this tcptrail, "
			 "which reads version %u.x%s", r->major, r->minor, TRAIL_MAJOR,
			 r->major > TRAIL_MAJOR ? ": upgrade tcptrail" : "");
		return -EPROTONOSUPPORT;
	}
	r->off = TRAIL_PREAMBLE_LEN;
	return 0;
}

static int reader_init(struct trail_reader **out, struct trail_reader *r, char *err, size_t errlen)
{
	int rc = check_preamble(r, err, errlen);

	if (!rc) {
		r->zd = ZSTD_createDCtx();
		if (!r->zd) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
		}
	}
	if (rc) {
		trail_reader__close(r);
		return rc;
	}
	*out = r;
	return 0;
}

int trail_reader__open_mem(struct trail_reader **out, const void *data, size_t len,
			   char *err, size_t errlen)
{
	struct trail_reader *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->data = data;
	r->size = len;
	return reader_init(out, r, err, errlen);
}

/* Pipes and other unmappable inputs are read whole. */
static int slurp(int fd, uint8_t **buf, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	uint8_t *p = malloc(cap);

	if (!p)
		return -ENOMEM;
	for (;;) {
		ssize_t k;
		if (n == cap) {
			uint8_t *q = realloc(p, cap * 2);
			if (!q) {
				free(p);
				return -ENOMEM;
			}
			p = q;
			cap *= 2;
		}
		k = read(fd, p + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = -errno;
			free(p);
			return e;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*buf = p;
	*len = n;
	return 0;
}

int trail_reader__open(struct trail_reader **out, const char *path, char *err, size_t errlen)
{
	struct trail_reader *r;
	struct stat st;
	int fd, rc;

	*out = NULL;
	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			r->map = m;
			r->data = m;
			r->size = (size_t)st.st_size;
			madvise(m, r->size, MADV_SEQUENTIAL);
		}
	}
	if (!r->map) {
		uint8_t *buf = NULL;
		rc = slurp(fd, &buf, &r->size);
		if (rc) {
			close(fd);
			free(r);
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
			return rc;
		}
		r->owned = buf;
		r->data = buf;
	}
	close(fd);
	rc = reader_init(out, r, err, errlen);
	if (rc) {
		/* prefix the file name to the message */
		char tmp[512];
		snprintf(tmp, sizeof(tmp), "%s: %s", path, err);
		snprintf(err, errlen, "%s", tmp);
	}
	return rc;
}

void trail_reader__close(struct trail_reader *r)
{
	if (!r)
		return;
	if (r->map)
		munmap(r->map, r->size);
	free(r->owned);
	free(r->raw);
	free(r->socks);
	for (unsigned i = 0; i < r->nenums; i++) {
		free(r->enums[i].entries);
		free(r->enums[i].names);
	}
	if (r->stacks)
		for (uint32_t i = 0; i <= TRAIL_MAX_STACKS; i++)
			free(r->stacks[i].mem);
	free(r->stacks);
	ZSTD_freeDCtx(r->zd);
	free(r);
}

/* ---- block payload parsers ---- */

/* A string into BUF (size TRAIL_MAX_STRING+1 or MAX); 0 on success. */
static int get_string(struct cur *c, char *buf, size_t max)
{
	uint64_t n = cur_varint(c);
	const uint8_t *p;

	if (c->err || n > max)
		return -1;
	p = cur_bytes(c, (size_t)n);
	if (!p || memchr(p, 0, (size_t)n))
		return -1;
	memcpy(buf, p, (size_t)n);
	buf[n] = 0;
	return 0;
}

static int parse_enum(struct trail_reader *r, struct trail_record *rec)
{
	struct cur *c = &r->c;
	char name[TRAIL_MAX_NAME + 1], ent[TRAIL_MAX_NAME + 1];
	struct trail_enum_entry *entries;
	struct enumtab *t = NULL;
	uint64_t count;
	char *names;
	size_t used = 0;

	if (get_string(c, name, TRAIL_MAX_NAME))
		return malformed(r, "bad enum name");
	count = cur_varint(c);
	if (c->err || count > TRAIL_MAX_ENUM_ENTRIES)
		return malformed(r, "enum %s has %llu entries, at most %u allowed", name,
				 (unsigned long long)count, TRAIL_MAX_ENUM_ENTRIES);
	entries = calloc(count ? count : 1, sizeof(*entries));
	names = malloc(count * (TRAIL_MAX_NAME + 1) + 1);
	if (!entries || !names) {
		free(entries);
		free(names);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < count; i++) {
		int64_t v = unzigzag(cur_varint(c));
		if (get_string(c, ent, TRAIL_MAX_NAME)) {
			free(entries);
			free(names);
			return malformed(r, "enum %s entry %llu is cut or too long", name,
					 (unsigned long long)i);
		}
		entries[i].value = v;
		entries[i].name = names + used;
		memcpy(names + used, ent, strlen(ent) + 1);
		used += strlen(ent) + 1;
	}
	for (unsigned i = 0; i < r->nenums; i++)
		if (!strcmp(r->enums[i].name, name))
			t = &r->enums[i];
	if (!t) {
		if (r->nenums >= TRAIL_MAX_ENUMS) {
			free(entries);
			free(names);
			return malformed(r, "more than %u enum tables", TRAIL_MAX_ENUMS);
		}
		t = &r->enums[r->nenums++];
		snprintf(t->name, sizeof(t->name), "%s", name);
	} else {
		free(t->entries);
		free(t->names);
	}
	t->entries = entries;
	t->names = names;
	t->count = (uint32_t)count;
	rec->type = TRAIL_REC_ENUM;
	rec->enumt.name = t->name;
	rec->enumt.entries = t->entries;
	rec->enumt.count = t->count;
	return 1;
}

static int parse_loss(struct trail_reader *r, struct trail_record *rec)
{
	struct cur *c = &r->c;
	uint64_t n = cur_varint(c), k;

	if (c->err || n > TRAIL_MAX_CPUS)
		return malformed(r, "loss table for %llu CPUs, at most %u allowed",
				 (unsigned long long)n, TRAIL_MAX_CPUS);
	for (uint64_t i = 0; i < n; i++)
		r->percpu[i] = cur_varint(c);
	k = cur_varint(c);
	if (c->err || k > TRAIL_MAX_COUNTERS)
		return malformed(r, "bad loss counter count");
	for (uint64_t i = 0; i < k; i++) {
		if (get_string(c, r->ctrnames[i], TRAIL_MAX_NAME))
			return malformed(r, "loss counter %llu name is cut or too long",
					 (unsigned long long)i);
		r->ctrs[i].name = r->ctrnames[i];
		r->ctrs[i].value = cur_varint(c);
	}
	if (c->err)
		return malformed(r, "loss counters cut short");
	rec->type = TRAIL_REC_LOSS;
	rec->loss.percpu_ringbuf = r->percpu;
	rec->loss.ncpus = (uint32_t)n;
	rec->loss.counters = r->ctrs;
	rec->loss.ncounters = (uint32_t)k;
	return 1;
}

static int open_events(struct trail_reader *r)
{
	struct cur *c = &r->c;
	uint8_t codec = cur_u8(c);
	uint64_t raw_len = cur_varint(c);

	if (c->err || raw_len > TRAIL_MAX_BLOCK)
		return malformed(r, "raw length %llu over the %u-byte limit",
				 (unsigned long long)raw_len, TRAIL_MAX_BLOCK);
	if (codec == CODEC_RAW) {
		if (cur_left(c) != raw_len)
			return malformed(r, "raw length %llu but %zu bytes of records",
					 (unsigned long long)raw_len, cur_left(c));
	} else if (codec == CODEC_ZSTD) {
		size_t n;
		if (raw_len > r->raw_cap) {
			uint8_t *p = realloc(r->raw, raw_len);
			if (!p)
				return -ENOMEM;
			r->raw = p;
			r->raw_cap = raw_len;
		}
		n = ZSTD_decompressDCtx(r->zd, r->raw, raw_len, c->p, cur_left(c));
		if (ZSTD_isError(n))
			return malformed(r, "zstd: %s", ZSTD_getErrorName(n));
		if (n != raw_len)
			return malformed(r, "decompressed to %zu bytes, header says %llu", n,
					 (unsigned long long)raw_len);
		c->p = r->raw;
		c->end = r->raw + raw_len;
	} else {
		return malformed(r, "unknown codec %u", codec);
	}
	r->ts = cur_varint(c);
	if (c->err)
		return malformed(r, "no base time");
	return 1;
}

/* Resolve a back reference to a live socket. */
static struct sockent *ref_sock(struct trail_reader *r, struct cur *b, uint64_t *id)
{
	uint64_t ref = cur_varint(b);

	if (b->err || ref >= r->last_sock)
		return NULL;
	*id = r->last_sock - ref;
	return sock_find(r, *id);
}

static int get_tuple(struct cur *b, struct trail_sock *s)
{
	size_t alen = s->family == TRAIL_FAMILY_INET6 ? 16 : 4;
	uint64_t sp = cur_varint(b), dp = cur_varint(b);
	const uint8_t *sa = cur_bytes(b, alen), *da = cur_bytes(b, alen);

	if (b->err || sp > 0xffff || dp > 0xffff)
		return -1;
	s->sport = (uint16_t)sp;
	s->dport = (uint16_t)dp;
	memset(s->saddr, 0, sizeof(s->saddr));
	memset(s->daddr, 0, sizeof(s->daddr));
	memcpy(s->saddr, sa, alen);
	memcpy(s->daddr, da, alen);
	return 0;
}

/* Optional socket reference (0: none, else back reference + 1). */
static int ref_opt_sock(struct trail_reader *r, struct cur *b, uint64_t *id)
{
	uint64_t ref = cur_varint(b);

	*id = 0;
	if (b->err)
		return -1;
	if (!ref)
		return 0;
	if (ref - 1 >= r->last_sock)
		return -1;
	*id = r->last_sock - (ref - 1);
	return sock_find(r, *id) ? 0 : -1;
}

static int get_task_ref(struct trail_reader *r, struct cur *b, uint32_t *slot)
{
	uint64_t task = cur_varint(b);

	if (b->err || task > TRAIL_TASK_SLOTS || (task && !r->task_def[task - 1]))
		return -1;
	*slot = task ? (uint32_t)(task - 1) : TRAIL_NO_TASK;
	return 0;
}

static int get_reason(struct cur *b, int64_t *reason)
{
	uint64_t v = cur_varint(b);

	if (b->err || v > (uint64_t)INT64_MAX)
		return -1;
	*reason = v ? (int64_t)(v - 1) : TRAIL_NO_REASON;
	return 0;
}

static int get_state(struct cur *b, uint16_t *state)
{
	uint64_t v = cur_varint(b);

	if (b->err || v > 0xffff)
		return -1;
	*state = v ? (uint16_t)(v - 1) : TRAIL_NO_STATE;
	return 0;
}

static int get_segment(struct cur *b, struct trail_segment *g)
{
	size_t alen;
	uint64_t sp, dp, seq, ack, len;
	const uint8_t *sa, *da;

	memset(g, 0, sizeof(*g));
	g->family = cur_u8(b);
	if (b->err)
		return -1;
	if (!g->family)
		return 0;
	if (g->family != TRAIL_FAMILY_INET && g->family != TRAIL_FAMILY_INET6)
		return -1;
	alen = g->family == TRAIL_FAMILY_INET6 ? 16 : 4;
	sp = cur_varint(b);
	dp = cur_varint(b);
	sa = cur_bytes(b, alen);
	da = cur_bytes(b, alen);
	g->flags = cur_u8(b);
	seq = cur_varint(b);
	ack = cur_varint(b);
	len = cur_varint(b);
	if (b->err || sp > 0xffff || dp > 0xffff || seq > UINT32_MAX || ack > UINT32_MAX ||
	    len > UINT32_MAX)
		return -1;
	g->sport = (uint16_t)sp;
	g->dport = (uint16_t)dp;
	memcpy(g->saddr, sa, alen);
	memcpy(g->daddr, da, alen);
	g->seq = (uint32_t)seq;
	g->ack = (uint32_t)ack;
	g->len = (uint32_t)len;
	return 0;
}

static int get_stack_ref(struct trail_reader *r, struct cur *b, uint32_t *id)
{
	uint64_t v = cur_varint(b);

	if (b->err || v > TRAIL_MAX_STACKS || (v && (!r->stacks || !r->stacks[v].mem)))
		return -1;
	*id = (uint32_t)v;
	return 0;
}

/* A STACK record: frames copied into one allocation, bounded per file. */
static int stack_record(struct trail_reader *r, struct cur *b, struct trail_record *rec)
{
	uint64_t id = cur_varint(b), n = cur_varint(b);
	char frame[TRAIL_MAX_FRAME + 1];
	struct stackent *e;
	size_t bytes, used;
	char **ptrs;
	char *mem;

	if (b->err || !id || id > TRAIL_MAX_STACKS || n > TRAIL_MAX_STACK_DEPTH)
		return malformed(r, "bad stack record");
	/* worst case first, then checked against the file's budget */
	bytes = n * sizeof(char *) + n * (TRAIL_MAX_FRAME + 1);
	if (!r->stacks) {
		r->stacks = calloc(TRAIL_MAX_STACKS + 1, sizeof(*r->stacks));
		if (!r->stacks)
			return -ENOMEM;
	}
	e = &r->stacks[id];
	if (r->stack_bytes - e->bytes + bytes > TRAIL_MAX_STACK_BYTES)
		return malformed(r, "stacks over the %u-byte limit", TRAIL_MAX_STACK_BYTES);
	mem = malloc(bytes ? bytes : 1);
	if (!mem)
		return -ENOMEM;
	ptrs = (char **)mem;
	used = n * sizeof(char *);
	for (uint64_t i = 0; i < n; i++) {
		if (get_string(b, frame, TRAIL_MAX_FRAME)) {
			free(mem);
			return malformed(r, "stack %llu frame %llu cut or too long",
					 (unsigned long long)id, (unsigned long long)i);
		}
		ptrs[i] = mem + used;
		memcpy(mem + used, frame, strlen(frame) + 1);
		used += strlen(frame) + 1;
	}
	r->stack_bytes -= e->bytes;
	free(e->mem);
	e->mem = mem;
	e->bytes = bytes;
	r->stack_bytes += bytes;
	e->st.id = (uint32_t)id;
	e->st.nframes = (uint32_t)n;
	e->st.frames = (const char *const *)ptrs;
	rec->type = TRAIL_REC_STACK;
	rec->stack = e->st;
	return 1;
}

static int event_record(struct trail_reader *r, struct trail_record *rec)
{
	struct cur *c = &r->c;
	uint8_t kind = cur_u8(c);
	uint64_t len = cur_varint(c), id = 0;
	const uint8_t *body;
	struct cur b;
	struct sockent *e;

	if (c->err || len > cur_left(c))
		return malformed(r, "record cut short");
	body = cur_bytes(c, (size_t)len);
	b = (struct cur){ .p = body, .end = body + len };
	if (kind & REC_TIMED)
		r->ts += (uint64_t)unzigzag(cur_varint(&b));

	switch (kind) {
	case REC_SOCK: {
		struct trail_sock s = { 0 };
		s.cookie = cur_varint(&b);
		s.skaddr = cur_varint(&b);
		uint64_t ns = cur_varint(&b);
		s.family = cur_u8(&b);
		s.protocol = cur_u8(&b);
		if (b.err || ns > UINT32_MAX ||
		    (s.family != TRAIL_FAMILY_INET && s.family != TRAIL_FAMILY_INET6) ||
		    get_tuple(&b, &s))
			return malformed(r, "bad socket record");
		uint64_t sk_kind = cur_varint(&b);
		if (b.err || sk_kind > TRAIL_SOCK_TIMEWAIT)
			return malformed(r, "bad socket kind");
		s.kind = (uint8_t)sk_kind;
		s.netns = (uint32_t)ns;
		if (r->sock_count >= TRAIL_MAX_LIVE_SOCKS)
			return malformed(r, "more than %u live sockets", TRAIL_MAX_LIVE_SOCKS);
		s.id = ++r->last_sock;
		e = sock_insert(r, s.id);
		if (!e)
			return -ENOMEM;
		e->s = s;
		rec->type = TRAIL_REC_SOCK;
		rec->sock = s;
		return 1;
	}
	case REC_TUPLE:
		e = ref_sock(r, &b, &id);
		if (!e || get_tuple(&b, &e->s))
			return malformed(r, "bad tuple record (socket %llu)", (unsigned long long)id);
		rec->type = TRAIL_REC_TUPLE;
		rec->sock = e->s;
		return 1;
	case REC_RETIRE:
		e = ref_sock(r, &b, &id);
		if (!e)
			return malformed(r, "retire of unknown socket %llu", (unsigned long long)id);
		rec->type = TRAIL_REC_RETIRE;
		rec->retire = id;
		r->pending_retire = id;	/* still resolvable until the next record */
		return 1;
	case REC_TASK: {
		uint64_t slot = cur_varint(&b), pid = cur_varint(&b), tid = cur_varint(&b);
		char comm[17];
		if (b.err || slot >= TRAIL_TASK_SLOTS || pid > UINT32_MAX || tid > UINT32_MAX ||
		    get_string(&b, comm, 16))
			return malformed(r, "bad task record");
		struct trail_task *t = &r->tasks[slot];
		t->slot = (uint32_t)slot;
		t->pid = (uint32_t)pid;
		t->tid = (uint32_t)tid;
		memcpy(t->comm, comm, sizeof(t->comm));
		r->task_def[slot] = 1;
		rec->type = TRAIL_REC_TASK;
		rec->task = *t;
		return 1;
	}
	case REC_STATE: {
		e = ref_sock(r, &b, &id);
		uint64_t task = cur_varint(&b), os = cur_varint(&b), ns = cur_varint(&b);
		if (!e)
			return malformed(r, "state change of unknown socket %llu", (unsigned long long)id);
		if (b.err || os > 0xffff || ns > 0xffff || task > TRAIL_TASK_SLOTS ||
		    (task && !r->task_def[task - 1]))
			return malformed(r, "bad state record");
		rec->type = TRAIL_REC_STATE;
		rec->state.ts_ns = r->ts;
		rec->state.sock_id = id;
		rec->state.task_slot = task ? (uint32_t)(task - 1) : TRAIL_NO_TASK;
		rec->state.oldstate = (uint16_t)os;
		rec->state.newstate = (uint16_t)ns;
		return 1;
	}
	case REC_LINK: {
		uint64_t other;
		struct sockent *o;
		e = ref_sock(r, &b, &id);
		o = ref_sock(r, &b, &other);
		uint64_t rel = cur_varint(&b);
		if (!e || !o || b.err || rel < TRAIL_LINK_REQ_OF_LISTENER || rel > TRAIL_LINK_TIMEWAIT_OF)
			return malformed(r, "bad link record");
		rec->type = TRAIL_REC_LINK;
		rec->link.sock_id = id;
		rec->link.other_id = other;
		rec->link.relation = (uint8_t)rel;
		return 1;
	}
	case REC_STACK:
		return stack_record(r, &b, rec);
	case REC_LIFE: {
		struct trail_life *l = &rec->life;
		e = ref_sock(r, &b, &id);
		if (!e || get_task_ref(r, &b, &l->task_slot))
			return malformed(r, "bad lifecycle record");
		uint64_t ev = cur_varint(&b);
		l->value = cur_varint(&b);
		if (b.err || ev > 0xffff)
			return malformed(r, "bad lifecycle record");
		l->ts_ns = r->ts;
		l->sock_id = id;
		l->event = (uint16_t)ev;
		rec->type = TRAIL_REC_LIFE;
		return 1;
	}
	case REC_RESET: {
		struct trail_reset *x = &rec->reset;
		uint64_t netns;
		if (ref_opt_sock(r, &b, &x->sock_id) || get_task_ref(r, &b, &x->task_slot))
			return malformed(r, "bad reset record (socket or task)");
		netns = cur_varint(&b);
		x->dir = cur_u8(&b);
		x->source = cur_u8(&b);
		if (b.err || netns > UINT32_MAX || get_state(&b, &x->state) || get_reason(&b, &x->reason) ||
		    get_stack_ref(r, &b, &x->stack_id) || get_segment(&b, &x->seg))
			return malformed(r, "bad reset record");
		x->netns = (uint32_t)netns;
		x->ts_ns = r->ts;
		rec->type = TRAIL_REC_RESET;
		return 1;
	}
	case REC_RETRANS: {
		struct trail_retrans *x = &rec->retrans;
		e = ref_sock(r, &b, &id);
		if (!e || get_task_ref(r, &b, &x->task_slot))
			return malformed(r, "bad retransmit record (socket or task)");
		x->kind = cur_u8(&b);
		if (b.err || get_state(&b, &x->state) || get_segment(&b, &x->seg))
			return malformed(r, "bad retransmit record");
		x->sock_id = id;
		x->ts_ns = r->ts;
		rec->type = TRAIL_REC_RETRANS;
		return 1;
	}
	case REC_DROP: {
		struct trail_drop *x = &rec->drop;
		uint64_t netns;
		if (ref_opt_sock(r, &b, &x->sock_id) || get_task_ref(r, &b, &x->task_slot))
			return malformed(r, "bad drop record (socket or task)");
		netns = cur_varint(&b);
		if (b.err || netns > UINT32_MAX || get_reason(&b, &x->reason) ||
		    get_stack_ref(r, &b, &x->stack_id) || get_segment(&b, &x->seg))
			return malformed(r, "bad drop record");
		x->netns = (uint32_t)netns;
		x->ts_ns = r->ts;
		rec->type = TRAIL_REC_DROP;
		return 1;
	}
	default:
		if (b.err)
			return malformed(r, "record of kind %u cut short", kind);
		rec->type = TRAIL_REC_UNKNOWN;
		rec->unknown_kind = kind;
		return 1;
	}
}

/* Open the block at r->off; returns 1 if it produced a record, 0 to go on
 * (or stop, with r->done set), negative on allocation failure. */
static int next_block(struct trail_reader *r, struct trail_record *rec)
{
	const uint8_t *h = r->data + r->off;
	uint64_t left = r->size - r->off, len, total;
	uint32_t type, crc;

	if (left == 0)
		return r->end_seen ? stop(r, TRAIL_OK, "complete") :
		       stop(r, TRAIL_NO_END, "capture ends at offset %llu without an END block: "
			    "the recorder did not stop cleanly", (unsigned long long)r->off);
	if (r->end_seen)
		return stop(r, TRAIL_OK, "complete; %llu bytes after the END block at offset %llu ignored",
			    (unsigned long long)left, (unsigned long long)r->off);
	if (left < TRAIL_BLOCK_HDR)
		return stop(r, TRAIL_TRUNCATED, "truncated at offset %llu: wanted an 8-byte block header, got %llu",
			    (unsigned long long)r->off, (unsigned long long)left);
	type = get_le32(h);
	len = get_le32(h + 4);
	if (len > TRAIL_MAX_BLOCK)
		return stop(r, TRAIL_CORRUPT, "corrupt block at offset %llu: length %llu over the %u-byte limit",
			    (unsigned long long)r->off, (unsigned long long)len, TRAIL_MAX_BLOCK);
	total = TRAIL_BLOCK_HDR + ((len + 3) & ~3ull) + 4;
	if (total > left)
		return stop(r, TRAIL_TRUNCATED, "truncated at offset %llu: %s block wants %llu bytes, got %llu",
			    (unsigned long long)r->off, block_name((int)type), (unsigned long long)total,
			    (unsigned long long)left);
	crc = trail_crc32c(0, h, total - 4);
	if (crc != get_le32(h + total - 4))
		return stop(r, TRAIL_CORRUPT, "corrupt block at offset %llu: checksum %08x, expected %08x",
			    (unsigned long long)r->off, get_le32(h + total - 4), crc);
	for (uint64_t i = len; i < ((len + 3) & ~3ull); i++)
		if (h[TRAIL_BLOCK_HDR + i])
			return stop(r, TRAIL_CORRUPT, "corrupt block at offset %llu: non-zero padding",
				    (unsigned long long)r->off);

	r->blk_off = r->off;
	r->off += total;
	r->blk_type = (int)type;
	r->c = (struct cur){ .p = h + TRAIL_BLOCK_HDR, .end = h + TRAIL_BLOCK_HDR + len };
	rec->offset = r->blk_off;

	switch (type) {
	case BLK_META:
		return 0;	/* pairs come one per call */
	case BLK_ENUM: {
		int rc = parse_enum(r, rec);
		if (rc == 1)
			r->blk_type = 0;
		return rc;
	}
	case BLK_CLOCK: {
		struct cur *c = &r->c;
		rec->clock.boot_ns = cur_varint(c);
		rec->clock.real_ns = cur_varint(c);
		rec->clock.uncertainty_ns = cur_varint(c);
		if (c->err)
			return malformed(r, "clock anchor cut short");
		rec->type = TRAIL_REC_CLOCK;
		r->blk_type = 0;
		return 1;
	}
	case BLK_EVENTS: {
		int rc = open_events(r);
		return rc == 1 ? 0 : rc;
	}
	case BLK_LOSS: {
		int rc = parse_loss(r, rec);
		if (rc == 1)
			r->blk_type = 0;
		return rc;
	}
	case BLK_END: {
		struct cur *c = &r->c;
		rec->end.records = cur_varint(c);
		rec->end.socks = cur_varint(c);
		rec->end.blocks = cur_varint(c);
		if (c->err)
			return malformed(r, "end block cut short");
		rec->type = TRAIL_REC_END;
		r->end_seen = 1;
		r->blk_type = 0;
		return 1;
	}
	default:
		r->blk_type = 0;
		if (type & TRAIL_BLOCK_CRITICAL)
			return stop(r, TRAIL_CORRUPT, "block at offset %llu has type %#x, which this tcptrail "
				    "does not know and the writer marked as required: upgrade tcptrail",
				    (unsigned long long)r->blk_off, type);
		return 0;	/* optional block of a newer minor version */
	}
}

int trail_reader__next(struct trail_reader *r, struct trail_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	if (r->pending_retire) {
		sock_remove(r, r->pending_retire);
		r->pending_retire = 0;
	}
	while (!r->done) {
		int rc;

		if (r->blk_type && !cur_left(&r->c)) {
			r->blk_type = 0;
			continue;
		}
		if (r->blk_type == BLK_META) {
			rec->offset = r->blk_off;
			if (get_string(&r->c, r->key, TRAIL_MAX_STRING) ||
			    get_string(&r->c, r->val, TRAIL_MAX_STRING))
				return malformed(r, "key/value pair cut short or holding NUL");
			rec->type = TRAIL_REC_META;
			rec->meta.key = r->key;
			rec->meta.value = r->val;
			return 1;
		}
		if (r->blk_type == BLK_EVENTS) {
			rec->offset = r->blk_off;
			rc = event_record(r, rec);
		} else {
			rc = next_block(r, rec);
		}
		if (rc)
			return rc;
	}
	return 0;
}

enum trail_status trail_reader__status(const struct trail_reader *r)
{
	return r->status;
}

const char *trail_reader__message(const struct trail_reader *r)
{
	return r->msg;
}

uint64_t trail_reader__offset(const struct trail_reader *r)
{
	return r->off;
}

void trail_reader__version(const struct trail_reader *r, unsigned *major, unsigned *minor)
{
	*major = r->major;
	*minor = r->minor;
}

static const struct enumtab *find_enum(const struct trail_reader *r, const char *name)
{
	for (unsigned i = 0; i < r->nenums; i++)
		if (!strcmp(r->enums[i].name, name))
			return &r->enums[i];
	return NULL;
}

const char *trail_reader__enum_name(const struct trail_reader *r, const char *name, int64_t value)
{
	const struct enumtab *t = find_enum(r, name);

	for (uint32_t i = 0; t && i < t->count; i++)
		if (t->entries[i].value == value)
			return t->entries[i].name;
	return NULL;
}

int trail_reader__enum_value(const struct trail_reader *r, const char *name, const char *entry,
			     int64_t *value)
{
	const struct enumtab *t = find_enum(r, name);

	for (uint32_t i = 0; t && i < t->count; i++) {
		if (!strcmp(t->entries[i].name, entry)) {
			*value = t->entries[i].value;
			return 0;
		}
	}
	return -ENOENT;
}

const struct trail_sock *trail_reader__sock(const struct trail_reader *r, uint64_t id)
{
	const struct sockent *e = sock_find(r, id);

	return e ? &e->s : NULL;
}

const struct trail_stack *trail_reader__stack(const struct trail_reader *r, uint32_t id)
{
	if (!r->stacks || !id || id > TRAIL_MAX_STACKS || !r->stacks[id].mem)
		return NULL;
	return &r->stacks[id].st;
}

const struct trail_task *trail_reader__task(const struct trail_reader *r, uint32_t slot)
{
	return slot < TRAIL_TASK_SLOTS && r->task_def[slot] ? &r->tasks[slot] : NULL;
}
