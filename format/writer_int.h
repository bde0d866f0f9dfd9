/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals shared by writer.c (file, blocks, tables) and
 * writer_records.c (records of EVENTS blocks). */
#ifndef TCPTRAIL_WRITER_INT_H
#define TCPTRAIL_WRITER_INT_H

#include <zstd.h>

#include "trail_int.h"

struct trail_writer {
	int fd;
	int err;		/* sticky: first write error */
	uint64_t off;		/* end of the last complete block */
	struct trail_writer_opts opts;
	struct tbuf ev;		/* records of the open events block */
	struct tbuf blk;	/* block being assembled */
	struct tbuf raw;	/* base_ts + records, before compression */
	struct tbuf rec;	/* body of the record being built */
	uint64_t base_ts, last_ts;
	int have_ts;
	uint64_t pend_ts;	/* time of the timed record being built */
	uint64_t last_sock;	/* last id handed out */
	uint64_t records, socks, blocks;
	ZSTD_CCtx *zc;
};

/* Frame PAYLOAD as one block and append it: 0 or a negative errno, after
 * which the file ends at the previous block and the writer stays failed. */
int wr_put_block(struct trail_writer *w, uint32_t type, const uint8_t *payload, size_t len);
/* Append record (KIND, BODY) to the open events block, flushing it when
 * full; a timed record's time counts only once it is in. */
int wr_put_record(struct trail_writer *w, uint8_t kind, const struct tbuf *body);

#endif
