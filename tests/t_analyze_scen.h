/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers shared by the scenario writer (t_analyze_scen.c) and its
 * scenarios (t_analyze_scen_cases.c). Times are ns after boot 1000 s. */
#ifndef T_ANALYZE_SCEN_H
#define T_ANALYZE_SCEN_H

#include <stdint.h>

#include "capgen.h"
#include "trail.h"

enum { RST_NO_SOCKET = 1, RST_ABORT_ON_CLOSE = 11, RST_ABORT_ON_LINGER = 12, RST_STATE = 14 };
enum { DROP_NO_SOCKET = 3, DROP_LISTEN_OVERFLOW = 40 };
enum { T_SERVER, T_CLIENT, T_SOFTIRQ };

extern struct trail_writer *w;

uint64_t sock(int kind, const char *sa, uint16_t sp, const char *da, uint16_t dp);
void tuple(uint64_t id, const char *sa, uint16_t sp, const char *da, uint16_t dp);
void st(uint64_t id, uint64_t t, int slot, int from, int to);
void lnk(uint64_t a, uint64_t b, int rel);
void life(uint64_t id, uint64_t t, int slot, int ev, uint64_t value);
void retire(uint64_t id);
struct trail_segment seg(const char *sa, uint16_t sp, const char *da, uint16_t dp,
			 uint8_t flags, uint32_t seq, uint32_t ack);
void stack(uint32_t id, const char *const *frames, uint32_t n);
void rst_sent(uint64_t t, uint64_t sk, int slot, int source, int state, int64_t reason,
	      uint32_t stack_id, struct trail_segment g);
void rst_recv(uint64_t t, uint64_t sk, int state, struct trail_segment g);
void retrans(uint64_t t, uint64_t sk, int kind, int state, struct trail_segment g);
void drop(uint64_t t, uint64_t sk, int64_t reason, struct trail_segment g);

struct scenario {
	const char *name;
	void (*write)(void);
};
extern const struct scenario scenarios[];

#endif
