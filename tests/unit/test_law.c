/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* test_law.c - the control law on synthetic signal traces. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>
#include "law.h"

static struct law_params P;

static int setup(void **state)
{
	(void)state;
	law_params_default(&P);
	return law_params_check(&P);
}

/* closed-loop plant: utilization follows the admitted load one tick late */
struct plant {
	double load;       /* offered load / capacity */
	double target;     /* utilization target */
	double prev_share;
};

static double plant_signal(struct plant *pl, double share)
{
	double u = pl->load * pl->prev_share;

	pl->prev_share = share;
	if (u > 1)
		u = 1;
	return u / pl->target;
}

static void test_defaults_valid(void **state)
{
	struct law_params bad = P;

	(void)state;
	assert_int_equal(law_params_check(&P), 0);
	bad.alpha = 0;
	assert_int_equal(law_params_check(&bad), -EINVAL);
	bad = P;
	bad.md_floor = 1.0;
	assert_int_equal(law_params_check(&bad), -EINVAL);
}

/* the factor of one small step at smoothed signal e, no acceleration */
static double trim_factor(double e)
{
	return 1 - P.trim * (e - 1) / e;
}

static void test_cuts_when_over(void **state)
{
	struct law_state s;
	double prev = 1.0;
	int cuts = 0, last_cut = -1000;

	(void)state;
	law_init(&s);
	for (int i = 0; i < 200; i++) {
		double sh = law_step(&P, &s, 1.5);

		assert_true(sh <= prev);                 /* over target: never up */
		/* one step never takes more than the floor allows */
		assert_true(sh >= prev * P.md_floor - 1e-12);
		if (sh < prev * trim_factor(1.5) - 1e-12) {
			/* a cut: at most one per `hold` ticks, the Breakwater size */
			assert_true(i - last_cut >= (int)P.hold);
			assert_true(fabs(sh - prev * (1 - P.md * 0.5 / 1.5)) < 1e-9 ||
				    sh == P.min_share);
			last_cut = i;
			cuts++;
		}
		prev = sh;
	}
	assert_true(cuts >= 3);
	assert_true(fabs(prev - P.min_share) < 1e-12);
}

static void test_cut_scales_with_overshoot(void **state)
{
	struct law_state a, b, c;

	(void)state;
	law_init(&a);
	law_init(&b);
	law_init(&c);
	law_step(&P, &a, 1.1);     /* near the target: a small step */
	law_step(&P, &b, 1.4);     /* far over: one cut by the overshoot */
	law_step(&P, &c, 50.0);
	assert_true(a.share > b.share);
	assert_true(fabs(a.share - trim_factor(1.1)) < 1e-9);
	assert_true(fabs(b.share - (1 - P.md * 0.4 / 1.4)) < 1e-9);
	assert_true(fabs(c.share - P.md_floor) < 1e-9);   /* bounded cut */
}

/*
 * An integrator (a queue) responds late: after a cut the signal stays over
 * target for a few ticks while the queue drains. The law cuts once and
 * then only takes small steps until `hold` ticks have passed.
 */
static void test_no_repeated_cuts(void **state)
{
	/* raw samples: the queue fills, then drains after the first cut */
	static const double trace[] = { 2.0, 2.0, 2.0, 0.9, 0.6, 0.2, 0.0, 0.0 };
	struct law_state s;
	int cuts = 0;
	double prev = 1.0, after_cut = 0;

	(void)state;
	law_init(&s);
	for (size_t i = 0; i < sizeof(trace) / sizeof(trace[0]); i++) {
		double sh = law_step(&P, &s, trace[i]);

		if (sh < prev && sh < prev * trim_factor(s.ewma) - 1e-12)
			cuts++;
		if (i == 0)
			after_cut = sh;
		prev = sh;
	}
	assert_int_equal(cuts, 1);
	assert_true(fabs(s.share_hi - 1.0) < 1e-12);
	/* the small steps while the queue drained took less than 10% more */
	double lowest = after_cut;
	law_init(&s);
	for (size_t i = 0; i < sizeof(trace) / sizeof(trace[0]); i++)
		lowest = fmin(lowest, law_step(&P, &s, trace[i]));
	assert_true(lowest > 0.9 * after_cut);
	/* saturated for good: the next cut comes after `hold` ticks, not sooner */
	law_init(&s);
	law_step(&P, &s, 2.0);
	double first = s.share;
	prev = first;
	for (unsigned i = 1; i < P.hold; i++) {
		double sh = law_step(&P, &s, 2.0);

		assert_true(fabs(sh - prev * trim_factor(2.0)) < 1e-9);
		prev = sh;
	}
	assert_true(law_step(&P, &s, 2.0) < prev * P.md_floor + 1e-9);
}

/*
 * A cut the floor bounded falls short, and the law knows it: the next cut
 * may come `hold_floored` ticks later instead of `hold`. A proportional
 * plant one tick late at 3.3x: cut to 0.5 (floored), small steps while the
 * smoothing of the signal settles, a second cut at tick hold_floored that
 * lands within 10% of the target, then no more cuts.
 */
static void test_floored_cut_follows(void **state)
{
	struct law_state s;
	const double x = 3.3;
	double sh = 1.0;
	int cuts[8], n = 0;

	(void)state;
	law_init(&s);
	for (int i = 0; i < 40; i++) {
		sh = law_step(&P, &s, x * sh);
		if (s.since_cut == 0 && n < 8)
			cuts[n++] = i;
		if (i > (int)P.hold_floored)
			assert_true(fabs(x * sh - 1) < 0.1);
	}
	assert_int_equal(n, 2);
	assert_int_equal(cuts[0], 0);
	assert_int_equal(cuts[1], (int)P.hold_floored);
	assert_true(cuts[1] < (int)P.hold);   /* sooner than after a full cut */
	print_message("# 3.3x: cuts at ticks %d and %d, share %.3f (equilibrium %.3f)\n",
		      cuts[0], cuts[1], sh, 1 / x);
	/* a cut the floor did not bound holds for `hold` ticks */
	law_init(&s);
	law_step(&P, &s, 1.8);
	assert_int_equal(s.since_cut, 0);
	for (unsigned i = 1; i < P.hold; i++) {
		law_step(&P, &s, 1.8);
		assert_int_equal(s.since_cut, i);
	}
}

static void test_recovers_when_under(void **state)
{
	struct law_state s;

	(void)state;
	law_init(&s);
	for (int i = 0; i < 50; i++)
		law_step(&P, &s, 3.0);
	double low = s.share, prev = low;
	assert_true(low < 0.1);
	int ticks = 0;
	while (s.share < 1.0 && ticks < 1000) {
		double sh = law_step(&P, &s, 0.0);

		if (s.ewma < 1 - P.band)
			assert_true(sh > prev);   /* up every tick once under target */
		prev = sh;
		ticks++;
	}
	assert_true(s.share == 1.0);
	print_message("# recovery from %.3f to 1 with an idle host: %d ticks\n", low, ticks);
	/* the increase grows while the host stays idle: far quicker than
	 * plain additive steps of ai (98 ticks from 0.02) */
	assert_true(ticks <= 35);
}

/* after a cut the share comes back toward the share of the cut, stopping short of it */
static void test_return_toward_cut(void **state)
{
	struct law_state s;

	(void)state;
	law_init(&s);
	s.share = 0.8;
	law_step(&P, &s, 1.6);                   /* cut to 0.8 * (1 - 0.6 / 1.6) = 0.5 */
	assert_true(fabs(s.share - 0.8 * (1 - P.md * 0.6 / 1.6)) < 1e-9);
	assert_true(fabs(s.share_hi - 0.8) < 1e-12);
	double prev = s.share;
	for (int i = 0; i < 40; i++) {
		double sh = law_step(&P, &s, 0.5);   /* smoothed under target */

		if (s.ewma >= 1 - P.band)
			continue;
		assert_true(sh >= prev);
		if (prev < 0.8 - P.gap - 1e-9)
			assert_true(sh <= 0.8 - P.gap + 1e-9);  /* never straight back to the cut */
		prev = sh;
	}
	assert_true(s.share > 0.8);   /* then probes above it */
}

static void test_within_bounds(void **state)
{
	struct law_state s;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	double rate[CORRAL_NCLASS];

	(void)state;
	law_init(&s);
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double d = (double)(x % 10000) / 1000.0;  /* 0..10 */
		if (i % 997 == 0)
			d = NAN;
		if (i % 991 == 0)
			d = -1;
		double sh = law_step(&P, &s, d);
		assert_true(sh >= P.min_share && sh <= 1.0);
		for (int c = 0; c < CORRAL_NCLASS; c++)
			rate[c] = (double)((x >> (c * 8)) & 0xff);
		struct law_level lv;
		law_map(sh, rate, &lv);
		assert_true(lv.level < CORRAL_NCLASS);
		assert_true(lv.frac < CORRAL_FRAC_ONE);
		if (lv.level == 0)
			assert_int_equal(lv.frac, 0);
	}
}

static void test_steady_on_steady_load(void **state)
{
	struct law_state s;

	(void)state;
	/* on target: nothing moves */
	law_init(&s);
	s.share = 0.6;
	for (int i = 0; i < 100; i++)
		assert_true(law_step(&P, &s, 1.0) == 0.6);
	/* inside the hysteresis band: nothing moves either */
	for (int i = 0; i < 100; i++)
		assert_true(law_step(&P, &s, i & 1 ? 1 + P.band * 0.9 : 1 - P.band * 0.9) == 0.6);
	/* under target with nothing shed: stays at 1 */
	law_init(&s);
	for (int i = 0; i < 100; i++)
		assert_true(law_step(&P, &s, 0.7) == 1.0);
}

/*
 * Step 0.5x -> 1.4x of capacity, 100 ms ticks, CPU-like signal: it
 * saturates at 1 / 0.85 = 1.18 x target, never far over, so no cut; the
 * small steps grow while it stays over and bring it within 10% in about
 * 2 s, then hold.
 */
static void test_step_settles(void **state)
{
	struct law_state s;
	struct plant pl = { .load = 0.5, .target = 0.85, .prev_share = 1.0 };
	double sh = 1.0;

	(void)state;
	law_init(&s);
	for (int i = 0; i < 50; i++)
		sh = law_step(&P, &s, plant_signal(&pl, sh));
	assert_true(sh == 1.0);
	pl.load = 1.4;
	int settled = -1;
	double lo = 2, hi = 0;
	for (int i = 0; i < 300; i++) {
		sh = law_step(&P, &s, plant_signal(&pl, sh));
		double u = fmin(1, pl.load * sh) / pl.target;
		if (settled < 0 && fabs(u - 1) <= 0.10)
			settled = i;
		if (i >= 20) {
			lo = fmin(lo, sh);
			hi = fmax(hi, sh);
		}
	}
	print_message("# step to 1.4x: within 10%% of target after %d ticks, share %.3f..%.3f\n",
		      settled + 1, lo, hi);
	assert_true(settled >= 0 && settled < 25);
	/* the equilibrium is 0.85 / 1.4 = 0.607; oscillation within 10% of it */
	assert_true(hi - lo <= 0.1 * (0.85 / 1.4));
	assert_true(fabs((lo + hi) / 2 - 0.85 / 1.4) < 0.1 * (0.85 / 1.4));
}

/*
 * The same step with a proportional signal (the queue load: arrivals over
 * the rate the queue can take, not capped), one tick late: one cut brings
 * it back, then nothing moves.
 */
static void test_step_proportional(void **state)
{
	struct law_state s;
	double sh = 1.0, prev_share = 1.0, load = 0.5;
	int settled = -1, moves = 0;

	(void)state;
	law_init(&s);
	for (int i = 0; i < 50; i++) {
		double d = load * prev_share;

		prev_share = sh;
		sh = law_step(&P, &s, d);
	}
	assert_true(sh == 1.0);
	load = 1.4;
	for (int i = 0; i < 100; i++) {
		double d = load * prev_share, before = sh;

		prev_share = sh;
		sh = law_step(&P, &s, d);
		if (settled < 0 && fabs(load * sh - 1) <= 0.10)
			settled = i;
		if (i >= 20 && sh != before)
			moves++;
	}
	print_message("# proportional step to 1.4x: within 10%% after %d ticks, share %.3f\n",
		      settled + 1, sh);
	assert_true(settled >= 0 && settled <= 3);
	assert_int_equal(moves, 0);
	assert_true(fabs(sh - 1 / 1.4) < 0.1 / 1.4);
}

static void test_map_examples(void **state)
{
	double r[CORRAL_NCLASS] = { 10, 10, 0, 0, 0, 0, 30, 0 };
	struct law_level lv;

	(void)state;
	law_map(1.0, r, &lv);
	assert_int_equal(lv.shed, 0);
	assert_int_equal(law_shed_word(&lv), 0);
	/* budget 25 of 50: classes 0 and 1 (20), then 5 of class 6's 30 */
	law_map(0.5, r, &lv);
	assert_int_equal(lv.shed, 1);
	assert_int_equal(lv.level, 6);
	assert_int_equal(lv.frac, 8333);
	/* budget 20: exactly classes 0 and 1; empty classes 2..5 cost nothing */
	law_map(0.4, r, &lv);
	assert_int_equal(lv.shed, 1);
	assert_int_equal(lv.frac, 0);
	assert_true(lv.level >= 1 && lv.level <= 5);
	assert_true(fabs(law_share_of(&lv, r) - 0.4) < 1e-9);
	/* budget smaller than class 1: class 1 partially, class 0 whole */
	law_map(0.3, r, &lv);
	assert_int_equal(lv.level, 1);
	assert_int_equal(lv.frac, 5000);
	/* the word the data plane reads */
	__u64 w = law_shed_word(&lv);
	assert_int_equal(CORRAL_SHED_LEVEL(w), 1);
	assert_int_equal(CORRAL_SHED_FRAC(w), 5000);
	assert_int_equal(CORRAL_SHED_FLAGS(w), CORRAL_SHED_ON | CORRAL_SHED_HB);
	struct law_level back;
	law_level_of_word(w, &back);
	assert_int_equal(back.level, 1);
	assert_int_equal(back.frac, 5000);
	assert_int_equal(back.shed, 1);
}

static void test_never_moves_class0(void **state)
{
	double r[CORRAL_NCLASS] = { 80, 5, 0, 0, 0, 0, 15, 0 };
	struct law_level lv;

	(void)state;
	/* budget below class 0 alone: everything else dropped, class 0 kept */
	for (double sh = 0.01; sh < 0.8; sh += 0.01) {
		law_map(sh, r, &lv);
		assert_int_equal(lv.shed, 1);
		assert_int_equal(lv.level, 0);
		assert_int_equal(lv.frac, 0);
		assert_true(law_share_of(&lv, r) >= 0.8 - 1e-9);
	}
	/* only class 0 offered: no share ever sheds it */
	double only0[CORRAL_NCLASS] = { 100 };
	for (double sh = 0.01; sh <= 1.0; sh += 0.01) {
		law_map(sh, only0, &lv);
		assert_true(!lv.shed || (lv.level == 0 && lv.frac == 0));
		assert_true(law_share_of(&lv, only0) == 1.0);
	}
	/* a corrupt word asking to shed part of class 0 decodes as class 0 kept */
	law_level_of_word(CORRAL_SHED_PACK(0, 5000, 0, CORRAL_SHED_ON), &lv);
	assert_int_equal(lv.frac, 0);
}

/*
 * Shedding class 6 (scope new) leaves it only SYN retries, so its measured
 * packet rate collapses and class 1 looks bigger each tick. The weights
 * hold a shed class at its rate from before the shedding: a share above
 * class 0 + class 1 never sheds class 1.
 */
static void test_weights_keep_class1(void **state)
{
	struct law_weights lw = { { 0 } };
	struct law_level lv = { 0 };
	(void)state;
	for (int t = 0; t < 50; t++) {
		/* class 1: 120 pkt/s; class 6: 1560 pkt/s unshed, 2 per shed flow instead of 6 */
		double keep6 = 1.0;
		if (lv.shed && lv.level < 6)
			keep6 = 0;
		else if (lv.shed && lv.level == 6)
			keep6 = 1.0 - (double)lv.frac / CORRAL_FRAC_ONE;
		double rate[CORRAL_NCLASS] = { 0, 120, 0, 0, 0, 0, 260 * (2 + 4 * keep6), 0 };

		law_weights_update(&lw, rate, &lv);
		law_map(0.3, lw.w, &lv);
		assert_true(!law_level_sheds(&lv, 1));
		assert_true(lw.w[6] >= 1560 - 1e-9);
	}
	/* without holding, the same share sheds class 1 in the feedback loop */
	memset(&lv, 0, sizeof(lv));
	int shed1 = 0;
	for (int t = 0; t < 50; t++) {
		double keep6 = !lv.shed ? 1.0 : lv.level < 6 ? 0 : 1.0 - (double)lv.frac / CORRAL_FRAC_ONE;
		double rate[CORRAL_NCLASS] = { 0, 120, 0, 0, 0, 0, 260 * (2 + 4 * keep6), 0 };

		law_map(0.1, rate, &lv);
		shed1 |= law_level_sheds(&lv, 1);
	}
	assert_true(shed1);
	/* a class no longer shed follows its measured rate again */
	struct law_level none = { 0 };
	double low[CORRAL_NCLASS] = { 0, 120, 0, 0, 0, 0, 100, 0 };
	law_weights_update(&lw, low, &none);
	assert_true(lw.w[6] == 100);
}

static void test_map_inverse(void **state)
{
	double r[CORRAL_NCLASS] = { 3, 7, 11, 13, 17, 19, 23, 29 };
	double none[CORRAL_NCLASS] = { 0 };
	struct law_level lv;

	(void)state;
	for (double sh = 0.05; sh < 1.0; sh += 0.01) {
		law_map(sh, r, &lv);
		assert_true(fabs(law_share_of(&lv, r) - sh) < 1e-3);
		/* no traffic: classes 1..7 weigh the same */
		law_map(sh, none, &lv);
		assert_true(fabs(law_share_of(&lv, none) - sh) < 1e-3);
	}
	/* adopting a published level gives back the share it admits */
	law_map(0.5, r, &lv);
	struct law_level back;
	law_level_of_word(law_shed_word(&lv), &back);
	assert_true(fabs(law_share_of(&back, r) - 0.5) < 1e-3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_valid),
		cmocka_unit_test(test_cuts_when_over),
		cmocka_unit_test(test_cut_scales_with_overshoot),
		cmocka_unit_test(test_no_repeated_cuts),
		cmocka_unit_test(test_floored_cut_follows),
		cmocka_unit_test(test_recovers_when_under),
		cmocka_unit_test(test_return_toward_cut),
		cmocka_unit_test(test_within_bounds),
		cmocka_unit_test(test_steady_on_steady_load),
		cmocka_unit_test(test_step_settles),
		cmocka_unit_test(test_step_proportional),
		cmocka_unit_test(test_map_examples),
		cmocka_unit_test(test_never_moves_class0),
		cmocka_unit_test(test_weights_keep_class1),
		cmocka_unit_test(test_map_inverse),
	};
	return cmocka_run_group_tests_name("law", tests, setup, NULL);
}
