/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * TCP state changes (inet_sock_set_state), and what else a state change
 * may be: a task's close() or the TIME_WAIT entry of an active closer
 * (closing.bpf.h). One program per attach type serves every probe that
 * chose it (state, close, timewait): each change costs one run, and when
 * its state record is kept the close() and TIME_WAIT entry ride on it
 * (tt_state_event.life), a ring record fewer each. Included last from
 * tcptrail.bpf.c.
 */
#ifndef TCPTRAIL_STATE_BPF_H
#define TCPTRAIL_STATE_BPF_H

/* TT_ROLE_* of each program, set by the recorder (record/probes.c) before load. */
const volatile __u32 state_btf_roles = 0;
const volatile __u32 state_tp_roles = 0;

/* What the close() or TIME_WAIT role adds to a kept state record. */
struct life_extra {
	__u64 tw, timeout_ns;
	__u8 life;		/* TT_STATE_* */
	__u8 substate;
};

/*
 * The paths most state changes do not take are subprograms: inlined, the
 * program's code would be many times the size of its common path, which
 * then spans more instruction cache lines. BTF is a literal in each call;
 * the verifier drops the branches it rules out.
 */

/* The TIME_WAIT entry of a kept state record (its tuple filter as
 * tw_by_state() has it): X->life, tw and its timer. */
static __noinline int tw_extra(const struct sock *sk, struct life_extra *x, const int btf)
{
	const struct sock_common *tw;
	struct sk_key k;

	sk_key(&k, sk, btf);
	if (tt_skip_tuple(k.family, k.sport, k.dport, k.netns))
		return 0;
	tw = find_tw(sk, &k, btf);
	x->life = TT_STATE_TW;
	x->tw = (__u64)(unsigned long)tw;
	x->substate = tw_substate(tw, btf);
	x->timeout_ns = tw ? tw_timeout_ns(tw, btf) : 0;
	return 0;
}

/* The close() of a kept state record: its filters as close_by_state()
 * (the task's too: it runs in the closer's context). */
static __noinline int close_extra(const struct sock *sk, struct life_extra *x, const int btf)
{
	struct sk_key k;

	if (!closed_by_task(sk, btf) || tt_skip_task())
		return 0;
	sk_key(&k, sk, btf);
	if (!tt_skip_tuple(k.family, k.sport, k.dport, k.netns))
		x->life = TT_STATE_CLOSE;
	return 0;
}

/* No state record: the roles' own records, if any. */
static __noinline int life_alone(const struct sock *sk, int old, int new, __u32 roles,
				 const int btf)
{
	return handle_life_state(sk, old, new, roles, btf);
}

/* BTF: sk is BTF-typed (tp_btf), read with plain loads. Inlined with
 * constant BTF and ROLES, so each program holds only its own branches. */
static __always_inline int handle_set_state(const struct sock *sk, int old, int new,
					    __u32 roles, const int btf)
{
	struct tt_state_tw_event *t;
	struct tt_state_event *e;
	struct life_extra x;
	__u16 family, size;

	if (!(roles & TT_ROLE_STATE) || tt_skip_sock_x(sk, btf))
		return life_alone(sk, old, new, roles, btf);
	family = TT_SK_READ(btf, sk, __sk_common.skc_family);
	x.life = 0;
	x.substate = 0;
	if ((roles & TT_ROLE_TW) && tw_transition(old, new))
		tw_extra(sk, &x, btf);
	else if ((roles & TT_ROLE_CLOSE) && close_transition(old, new))
		close_extra(sk, &x, btf);

	if (x.life & TT_STATE_TW) {
		t = reserve_event(sizeof(*t));
		if (t) {
			t->tw = x.tw;
			t->timeout_ns = x.timeout_ns;
		}
		e = (struct tt_state_event *)t;
		size = sizeof(*t);
	} else {
		e = reserve_event(sizeof(*e));
		size = sizeof(*e);
	}
	if (!e)
		return 0;
	fill_hdr(&e->h, TT_EV_STATE, size);
	e->oldstate = old;
	e->newstate = new;
	e->life = x.life;
	e->tw_substate = x.substate;
	e->_pad = 0;
	/* BTF: the cookie helper works on sk (and assigns one if unset);
	 * else only a cookie already set */
	if (btf)
		fill_sock_btf(&e->sk, sk, family, tt_sk_cookie_btf(sk));
	else
		fill_sock(&e->sk, sk, family, tt_sk_cookie_peek(sk));
	fill_task(&e->task, btf);
	submit(e);
	return 0;
}

/* sk_protocol with a plain load: a u16 since v5.6 (bf9765145b85); on v5.5,
 * where it is a bitfield, the load fails and the tracepoint method is used. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tt_state_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	return handle_set_state(sk, oldstate, newstate, state_btf_roles, 1);
}

/* Classic tracepoint: sk is a plain address, the cookie only if already set. */
SEC("tracepoint/sock/inet_sock_set_state")
int tt_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	return handle_set_state(ctx->skaddr, ctx->oldstate, ctx->newstate, state_tp_roles, 0);
}

#endif
