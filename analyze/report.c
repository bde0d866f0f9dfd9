// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include "ana.h"
int ana_report__run(struct ana_capture *cap, const struct ana_opts *o, FILE *out)
{
	(void)cap; (void)o; (void)out;
	return -ENOSYS;
}
