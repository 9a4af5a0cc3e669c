/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* test_qload.c - the accept-queue load estimator on a simulated listener. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <cmocka.h>
#include "qload.h"
#include "law.h"

#define DT 0.1

/*
 * A listener with an accept queue of `backlog` and a service that accepts
 * `cap` connections per second while it has any waiting. Connections that
 * find the queue full are refused (ListenDrops); the others complete the
 * handshake (PassiveOpens). A refused client tries again one initial RTO
 * (1 s, 10 ticks) later, as TCP does, once; `pass` of those retries get
 * through the shed stage again.
 */
#define RTO_TICKS 10

struct listener {
	double cap;
	unsigned backlog;
	double credit;    /* fractional service left from the last tick */
	__u32 depth;
	__u64 opens, drops;
	double served;    /* total accepted */
	unsigned tick;
	unsigned retry[RTO_TICKS];   /* refused, due again RTO_TICKS later */
	double pass;      /* 0: every retry gets through */
	unsigned retries; /* retries that arrived, in total */
};

/* n new connections arrive during one tick, with the retries due, spread
 * evenly over it */
static void listener_tick(struct listener *l, unsigned n)
{
	unsigned slot = l->tick++ % RTO_TICKS, again = l->retry[slot];
	unsigned refused = 0;

	if (l->pass > 0)
		again = (unsigned)lround(again * l->pass);
	l->retry[slot] = 0;
	l->retries += again;
	n += again;
	double per = l->cap * DT / (n + 1);

	for (unsigned i = 0; i <= n; i++) {
		/* service between arrivals */
		l->credit += per;
		while (l->credit >= 1 && l->depth) {
			l->credit -= 1;
			l->depth--;
			l->served++;
		}
		if (!l->depth && l->credit > 1)
			l->credit = 1;   /* an idle service banks no work */
		if (i == n)
			break;
		if (l->depth >= l->backlog) {
			l->drops++;
			refused += i >= again;  /* a refused retry gives up */
		} else {
			l->opens++;
			l->depth++;
		}
	}
	l->retry[slot] = refused;
}

static struct qload_input input(const struct listener *l, double target)
{
	return (struct qload_input){ .dt_s = DT, .opens = l->opens, .drops = l->drops,
				     .depth = l->depth, .limit = l->backlog, .target = target };
}

static void test_unknown_until_busy(void **state)
{
	struct qload_params p;
	struct qload_state s;
	struct listener l = { .cap = 200, .backlog = 16 };

	(void)state;
	qload_params_default(&p);
	qload_init(&s);
	/* half load: the queue never holds a connection across a tick */
	for (int i = 0; i < 50; i++) {
		listener_tick(&l, 10);
		struct qload_input in = input(&l, 0.5);

		assert_true(qload_step(&p, &s, &in) == -1);
	}
	assert_true(s.cap == 0);
	assert_true(fabs(s.arrivals - 100) < 1e-9);
}

/* R for a full queue at a 50% target */
static double wanted_full(const struct qload_params *p, double cap)
{
	return cap * (1 - p->gain * 0.5);
}

static void test_capacity_and_load(void **state)
{
	struct qload_params p;
	struct qload_state s;
	struct listener l = { .cap = 200, .backlog = 16 };
	double v = -1;

	(void)state;
	qload_params_default(&p);
	qload_init(&s);
	/* 2x capacity: the queue fills and stays full; before the first
	 * refused client tries again (10 ticks) the load is 400 / R */
	for (int i = 0; i < RTO_TICKS; i++) {
		listener_tick(&l, 40);
		struct qload_input in = input(&l, 0.5);

		v = qload_step(&p, &s, &in);
	}
	assert_int_equal(l.retries, 0);
	assert_true(fabs(s.cap - 200) < 200 * 0.05);
	assert_true(fabs(s.wanted - wanted_full(&p, s.cap)) < 1e-6);
	assert_true(fabs(v - 400 / s.wanted) < 0.1 * v);
	/*
	 * Held there, the refused come back as retries and are refused again.
	 * The retries are not counted as new demand, so in this steady state
	 * the arrivals read as what the queue takes (C), and only the full
	 * queue keeps the load over target: 1 / (1 - gain / 2) = 1.11. The law
	 * walks it down with growing steps (test_law: saturated signal).
	 */
	for (int i = 0; i < 30; i++) {
		listener_tick(&l, 40);
		struct qload_input in = input(&l, 0.5);

		v = qload_step(&p, &s, &in);
	}
	assert_true(l.retries > 0);
	assert_true(v > 1.05);
	assert_true(v < 400 / s.wanted);
	/* back to half load: the queue drains, the load falls under 1, C stays */
	for (int i = 0; i < 30; i++) {
		listener_tick(&l, 10);
		struct qload_input in = input(&l, 0.5);

		v = qload_step(&p, &s, &in);
	}
	assert_int_equal(l.depth, 0);
	assert_true(v < 0.6);
	assert_true(fabs(s.cap - 200) < 200 * 0.05);
}

/* the load rises in proportion to the arrival rate */
static void test_proportional(void **state)
{
	double prev = 0;

	(void)state;
	for (unsigned n = 22; n <= 60; n += 4) {
		struct qload_params p;
		struct qload_state s;
		struct listener l = { .cap = 200, .backlog = 16 };
		double v = 0;

		qload_params_default(&p);
		qload_init(&s);
		for (int i = 0; i < RTO_TICKS; i++) {
			listener_tick(&l, n);
			struct qload_input in = input(&l, 0.5);

			v = qload_step(&p, &s, &in);
		}
		assert_true(v > prev);
		/* within 12% of arrivals over R of a full queue */
		assert_true(fabs(v - n / DT / wanted_full(&p, 200)) < 0.12 * v);
		prev = v;
	}
}

/*
 * One burst overflows the queue; the refused clients come back 1 s later
 * and find room. Counted as arrivals, the retries would read as a second
 * overload one RTO after the first; as echo they do not. When the shed
 * stage admits half as much as when they were refused, half the echo is
 * expected.
 */
static double burst_peak(double retry_s, double pass_then, double pass_now, double *echo)
{
	struct qload_params p;
	struct qload_state s;
	struct listener l = { .cap = 200, .backlog = 16, .pass = pass_now / pass_then };
	double peak = 0;

	qload_params_default(&p);
	p.retry_s = retry_s;
	qload_init(&s);
	*echo = 0;
	for (int i = 0; i < 40; i++) {
		/* a steady 15/tick, with a burst of 80 at tick 5 */
		listener_tick(&l, i == 5 ? 80 : 15);
		struct qload_input in = input(&l, 0.5);

		in.pass = i < 10 ? pass_then : pass_now;
		double v = qload_step(&p, &s, &in);

		if (i >= 12)
			peak = fmax(peak, v);
		if (i >= 12 && i < 20)   /* the retries of the burst */
			*echo += s.echo;
	}
	return peak;
}

static void test_retry_echo(void **state)
{
	double e_off, e_on, e_half;
	double off = burst_peak(0, 1, 1, &e_off);
	double on = burst_peak(1.0, 1, 1, &e_on);
	double half = burst_peak(1.0, 1, 0.5, &e_half);

	(void)state;
	print_message("# burst: peak load 1 s later %.3f without the echo, %.3f with it (echo %.1f),"
		      " %.3f at half the admission (echo %.1f)\n", off, on, e_on, half, e_half);
	/* without the echo the retries read as an overload 1 s later */
	assert_true(off > 1.3);
	assert_true(e_off == 0);
	/* with it, the second second stays under target */
	assert_true(on < 1.0);
	assert_true(e_on > 30);
	/* half the admission, half the echo */
	assert_true(fabs(e_half - e_on / 2) < 2);
	assert_true(half < 1.0);
}

static void test_bad_input(void **state)
{
	struct qload_params p;
	struct qload_state s;
	struct qload_input in = { .dt_s = DT, .opens = 1000, .drops = 10, .depth = 16,
				  .limit = 16, .target = 0.5 };

	(void)state;
	qload_params_default(&p);
	qload_init(&s);
	assert_true(qload_step(&p, &s, &in) == -1);
	in.opens += 20;
	assert_true(qload_step(&p, &s, &in) > 0);
	assert_true(fabs(s.cap - 200) < 1e-9);
	/* counters going back (a new namespace) re-prime without a sample */
	in.opens = 5;
	in.drops = 0;
	double before = s.cap;
	assert_true(qload_step(&p, &s, &in) >= 0);
	assert_true(s.cap == before);
	/* no time passed: no division, no sample */
	in.dt_s = 0;
	in.opens += 100;
	assert_true(isfinite(qload_step(&p, &s, &in)));
	assert_true(s.cap == before);
	/* a hung service: queue full, nothing accepted; C decays, load grows */
	in.dt_s = DT;
	double v0 = qload_step(&p, &s, &in), v = v0;
	for (int i = 0; i < 10; i++) {
		in.drops += 20;
		v = qload_step(&p, &s, &in);
	}
	assert_true(s.cap < before * 0.2);
	assert_true(v > 5);
	/* R never falls under min_r x C */
	assert_true(s.wanted >= p.min_r * s.cap - 1e-12);
}

/*
 * The law closed over the estimator and the listener: offered 3x capacity,
 * the shed stage admits `share` of it. The law must bring the admitted
 * rate to capacity, keep the service busy and the queue from overflowing
 * for good, and hold the share still once there.
 */
static void closed_loop(double offered_x, unsigned seed, double *util, double *osc,
			double *share_out)
{
	struct qload_params qp;
	struct qload_state qs;
	struct law_params lp;
	struct law_state ls;
	struct listener l = { .cap = 200, .backlog = 16 };
	double served0 = 0, lo = 1, hi = 0;

	qload_params_default(&qp);
	qload_init(&qs);
	law_params_default(&lp);
	law_init(&ls);
	srand(seed);
	for (int i = 0; i < 200; i++) {
		double lambda = offered_x * 200 * DT * ls.share;
		/* Poisson arrivals (seed 0: none of the noise) */
		unsigned n = 0;
		if (seed) {
			double t = exp(-lambda), prod = (double)rand() / RAND_MAX;
			while (prod > t && n < 1000) {
				n++;
				prod *= (double)rand() / RAND_MAX;
			}
		} else {
			n = (unsigned)lround(lambda);
		}
		listener_tick(&l, n);
		struct qload_input in = input(&l, 0.5);
		double v = qload_step(&qp, &qs, &in);

		law_step(&lp, &ls, v >= 0 ? v : l.depth / (0.5 * l.backlog));
		if (i == 100)
			served0 = l.served;
		if (i >= 180) {
			lo = fmin(lo, ls.share);
			hi = fmax(hi, ls.share);
		}
	}
	*util = (l.served - served0) / (100 * DT * 200);
	*osc = (hi - lo) / ls.share;
	*share_out = ls.share;
	print_message("# %.1fx, seed %u: service busy %.3f, share %.3f (%.3f..%.3f), C %.1f\n",
		      offered_x, seed, *util, *share_out, lo, hi, qs.cap);
}

static void test_closed_loop_steady(void **state)
{
	double util, osc, share;

	(void)state;
	closed_loop(3.0, 0, &util, &osc, &share);
	assert_true(util >= 0.95);
	assert_true(osc < 0.02);
	/* admitted about capacity: share near 1/3 */
	assert_true(fabs(share - 1 / 3.0) < 0.05);
	closed_loop(1.4, 0, &util, &osc, &share);
	assert_true(util >= 0.95);
	assert_true(osc < 0.02);
	assert_true(fabs(share - 1 / 1.4) < 0.07);
}

static void test_closed_loop_poisson(void **state)
{
	(void)state;
	for (unsigned seed = 1; seed <= 5; seed++) {
		double util, osc, share;

		closed_loop(3.0, seed, &util, &osc, &share);
		assert_true(util >= 0.90);
		assert_true(share > 0.2 && share < 0.5);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_until_busy),
		cmocka_unit_test(test_capacity_and_load),
		cmocka_unit_test(test_proportional),
		cmocka_unit_test(test_retry_echo),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_closed_loop_steady),
		cmocka_unit_test(test_closed_loop_poisson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
