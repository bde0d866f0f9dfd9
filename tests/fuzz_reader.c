// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer target for the capture reader: any input must end in a
 * status, never a crash, a hang or an unbounded allocation. */
#include <stddef.h>
#include <stdint.h>

#include "trail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trail_reader *r;
	struct trail_record rec;
	char err[512];

	if (trail_reader__open_mem(&r, data, size, err, sizeof(err)))
		return 0;
	while (trail_reader__next(r, &rec) == 1) {
		/* touch what the analyzer touches */
		if (rec.type == TRAIL_REC_STATE) {
			trail_reader__sock(r, rec.state.sock_id);
			trail_reader__task(r, rec.state.task_slot);
			trail_reader__enum_name(r, TRAIL_ENUM_TCP_STATE, rec.state.newstate);
		}
	}
	trail_reader__status(r);
	trail_reader__close(r);
	return 0;
}
