// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_herd_ctl.c - herd detection and SYN rate law on synthetic traces */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "herd_ctl.h"
#include "corral_shared.h"

#define TICK_NS 100000000ULL

struct rig {
	struct herd_params p;
	struct herd_state s;
	uint64_t now;
};

static int tick_capped(struct rig *r, double syns, double capped, double overflows, double fill)
{
	struct herd_input in = {
		.dt_s = 0.1, .syns = syns, .capped = capped, .overflows = overflows,
		.queue_fill = fill, .now_ns = r->now,
	};
	int ev = herd_step(&r->p, &r->s, &in, 0x1234);

	r->now += TICK_NS;
	return ev;
}

static int tick(struct rig *r, double syns, double overflows, double fill)
{
	return tick_capped(r, syns, 0, overflows, fill);
}

static void rig_init(struct rig *r, double rate)
{
	herd_params_default(&r->p);
	herd_state_init(&r->s, &r->p, rate);
	r->now = 1000 * TICK_NS;
}

static void steady_load_no_herd(void **st)
{
	struct rig r;
	int i, ev = 0;

	rig_init(&r, 1000);
	for (i = 0; i < 600; i++)           /* 60 s at 20 SYN/s, queue half empty */
		ev |= tick(&r, 2, 0, 0.3);
	assert_false(ev & HERD_EV_START);
	assert_false(r.s.active);
	assert_true(r.s.baseline > 18 && r.s.baseline < 22);
	/* steady, nothing capped: C does not move */
	assert_true(r.s.rate == 1000);
}

static void surge_starts_herd_with_window_n_over_c(void **st)
{
	struct rig r;
	int i, ev;

	rig_init(&r, 1000);
	for (i = 0; i < 100; i++)
		tick(&r, 1, 0, 0.3);
	ev = tick(&r, 2500, 0, 0.3);        /* first wave over two ticks */
	assert_true(ev & HERD_EV_START);
	assert_true(r.s.active);
	ev = tick(&r, 2500, 0, 0.3);
	assert_true(ev & HERD_EV_WINDOW);      /* 2500 -> 5000 ms: reported */
	assert_int_equal((int)r.s.est_size, 5000);
	assert_int_equal(r.s.window_ms, 5000);      /* N / C = 5000 / 1000 s */
	assert_true(CORRAL_SYN_FLAGS(herd_syn_word(&r.s)) & CORRAL_SYN_HERD);
	assert_int_equal(CORRAL_SYN_WINDOW_MS(herd_syn_word(&r.s)), 5000);
	/* clients retry from 1 s on: those SYNs do not inflate the estimate */
	for (i = 0; i < 8; i++)
		tick(&r, 0, 0, 0.3);
	for (i = 0; i < 20; i++)
		tick(&r, 400, 0, 0.3);
	assert_int_equal((int)r.s.est_size, 5000);
}

static void herd_ends_when_calm_after_window(void **st)
{
	struct rig r;
	int i, ev = 0, end_tick = -1;

	rig_init(&r, 1000);
	for (i = 0; i < 100; i++)
		tick(&r, 1, 0, 0.3);
	tick(&r, 3000, 0, 0.3);
	assert_true(r.s.active);
	/* silence until the first retry at 1 s, retries until the window ends */
	for (i = 0; i < 200; i++) {
		ev = tick(&r, i < 9 ? 0 : i < 30 ? 300 : 1, 0, 0.3);
		if ((ev & HERD_EV_END) && end_tick < 0)
			end_tick = i;
	}
	assert_false(r.s.active);
	/* not before the window (3 s = 30 ticks) nor before 2 s of calm after it */
	assert_true(end_tick >= 30 + 19);
	assert_true(end_tick <= 30 + 25);
	assert_false(CORRAL_SYN_FLAGS(herd_syn_word(&r.s)) & CORRAL_SYN_HERD);
}

static void small_bursts_are_not_herds(void **st)
{
	struct rig r;
	int i, ev = 0;

	rig_init(&r, 1000);
	for (i = 0; i < 100; i++)
		ev |= tick(&r, 5, 0, 0.3);
	ev |= tick(&r, 15, 0, 0.3);          /* 150/s: over 8x baseline, under min_herd_rate */
	assert_false(ev & HERD_EV_START);
}

static void overflow_cuts_rate_and_room_raises_it(void **st)
{
	struct rig r;
	int i;

	rig_init(&r, 1000);
	tick(&r, 1, 3, 0.3);
	assert_true(r.s.rate > 699.9 && r.s.rate < 700.1);
	/* the queue drains over the next second: no second cut meanwhile */
	for (i = 0; i < 9; i++)
		tick(&r, 1, 0, 0.95);
	assert_true(r.s.rate > 699.9 && r.s.rate < 700.1);
	tick(&r, 1, 0, 0.95);                /* still over q_high a second later */
	assert_true(r.s.rate > 489.9 && r.s.rate < 490.1);
	tick(&r, 1, 0, 0.7);                 /* between q_low and q_high: hold */
	assert_true(r.s.rate > 489.9 && r.s.rate < 490.1);
	tick(&r, 1, 0, 0.1);                 /* room but no demand: hold */
	assert_true(r.s.rate > 489.9 && r.s.rate < 490.1);
	tick_capped(&r, 10, 5, 0, 0.1);      /* room and capped SYNs: +2% of 1000 */
	assert_true(r.s.rate > 509.9 && r.s.rate < 510.1);
	for (i = 0; i < 10000; i++)
		tick_capped(&r, 10, 5, 0, 0.0);
	assert_true(r.s.rate <= r.p.max_rate);
	for (i = 0; i < 10000; i++)
		tick(&r, 1, 1, 1.0);
	assert_true(r.s.rate >= r.p.min_rate);
	/* unknown queue fill (-1) and no overflow: hold */
	r.s.rate = 800;
	tick(&r, 1, 0, -1);
	assert_true(r.s.rate == 800);
}

static void syn_word_carries_rate_and_heartbeat_flag(void **st)
{
	struct rig r;
	uint64_t w;

	rig_init(&r, 1234);
	w = herd_syn_word(&r.s);
	assert_int_equal(CORRAL_SYN_RATE(w), 1234);
	assert_true(CORRAL_SYN_FLAGS(w) & CORRAL_SYN_ACTIVE);
	assert_true(CORRAL_SYN_FLAGS(w) & CORRAL_SYN_HB);
	assert_int_equal(CORRAL_SYN_WINDOW_MS(w), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(steady_load_no_herd),
		cmocka_unit_test(surge_starts_herd_with_window_n_over_c),
		cmocka_unit_test(herd_ends_when_calm_after_window),
		cmocka_unit_test(small_bursts_are_not_herds),
		cmocka_unit_test(overflow_cuts_rate_and_room_raises_it),
		cmocka_unit_test(syn_word_carries_rate_and_heartbeat_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
