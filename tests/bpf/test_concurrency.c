// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_concurrency.c - one bucket hammered from two CPUs.
 *
 * Two threads pinned to CPU 0 and CPU 1 each send 10,000 packets of one
 * source (BPF_PROG_TEST_RUN with repeat = 10,000, or 10,000 single runs)
 * while the fake clock is frozen: exactly `burst` pass in total, counted
 * from corral_stats (pass + rate = 20,000). The CAS-retries-exhausted
 * counter is reported. A variant advances the clock from a third thread:
 * passes never exceed burst + floor(elapsed / cost). Another puts the
 * limit in a rule instead of the default: the rule's hit counters, whose
 * entry both CPUs race to create, count every packet and every drop.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "tap.h"
#include "pkt.h"
#include "harness.h"

TAP_DEFINE;

#define NSEC 1000000000ULL
#define T0 (100 * NSEC)
#define PER_THREAD 10000

struct worker {
	struct harness *h;
	enum h_prog prog;
	int cpu;
	int single;                 /* 1: 10,000 runs of repeat 1 */
	const __u8 *pkt;
	int len;
	pthread_barrier_t *bar;
	int err;
	int pinned;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	w->pinned = pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
	pthread_barrier_wait(w->bar);
	if (!w->single) {
		w->err = h_run_repeat(w->h, w->prog, w->pkt, w->len, PER_THREAD, NULL, NULL);
		return NULL;
	}
	for (i = 0; i < PER_THREAD; i++) {
		int v = h_run(w->h, w->prog, w->pkt, w->len);

		if (v < 0) {
			w->err = v;
			break;
		}
	}
	return NULL;
}

struct ticker {
	struct harness *h;
	volatile int stop;
	__u64 step;
	pthread_barrier_t *bar;
};

static void *tick(void *arg)
{
	struct ticker *t = arg;
	int n = 0;

	pthread_barrier_wait(t->bar);
	/* bounded: at most 100,000 steps */
	while (!t->stop && n++ < 100000) {
		h_set_now(t->h, h_now(t->h) + t->step);
		sched_yield();
	}
	return NULL;
}

/* returns 0 and fills pass/rate/retry, or a negative errno */
static int hammer(struct harness *h, enum h_prog prog, int single, __u64 rate, __u64 burst,
		  __u64 tick_step, __u64 *pass, __u64 *drop, __u64 *retry, __u64 *elapsed,
		  struct corral_hits *rule_hits)
{
	__u32 rule_pfx = PKT_IP4(10, 78, 9, 0);
	__u8 buf[PKT_BUF_MAX];
	struct pkt_spec s;
	struct h_stats before, after;
	struct worker w[2];
	struct ticker t = { .h = h, .step = tick_step };
	pthread_barrier_t bar;
	pthread_t th[3];
	int len, i, err = 0, nthreads = tick_step ? 3 : 2;

	err = h_reset(h);
	if (err)
		return err;
	h_set_now(h, T0);
	if (rule_hits) {
		struct corral_limit lim = { .pkt_rate = rate, .pkt_burst = burst };

		err = h_policy_limit(h, 4, &rule_pfx, 24, &lim);
		if (err)
			return err;
	} else {
		h_set_default_limit(h, rate, burst, 0, 0);
	}
	pkt_spec_v4(&s, PKT_IP4(10, 78, 9, 9), PKT_IP4(10, 77, 0, 2), PKT_UDP, 40000, 53);
	s.payload_len = 18;
	len = pkt_build(&s, buf, sizeof(buf), NULL);
	if (len < 0)
		return len;

	pthread_barrier_init(&bar, NULL, nthreads);
	t.bar = &bar;
	h_stats_read(h, &before);
	for (i = 0; i < 2; i++) {
		w[i] = (struct worker){ .h = h, .prog = prog, .cpu = i, .single = single,
					.pkt = buf, .len = len, .bar = &bar };
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	if (tick_step)
		pthread_create(&th[2], NULL, tick, &t);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	t.stop = 1;
	if (tick_step)
		pthread_join(th[2], NULL);
	pthread_barrier_destroy(&bar);
	h_stats_read(h, &after);
	for (i = 0; i < 2; i++) {
		if (w[i].err)
			err = w[i].err;
		if (!w[i].pinned)
			err = -EPERM;
	}
	*pass = h_pkts(&after, &before, 4, CORRAL_R_PASS);
	*drop = h_pkts(&after, &before, 4, CORRAL_R_RATE);
	*retry = h_gstat(&after, &before, CORRAL_G_BUCKET_RETRY);
	*elapsed = h_now(h) - T0;
	if (rule_hits && !err)
		err = h_hits_get(h, CORRAL_RULE_LIMIT, 4, &rule_pfx, 24, rule_hits);
	return err;
}

int main(void)
{
	const __u64 bursts[] = { 1, 100, 5000, 10000, 19999 };
	enum h_prog progs[] = { H_XDP, H_TC_IN };
	struct harness h;
	unsigned int p, b;
	int err, single;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (ncpu < 2) {
		TAP_SKIP("one CPU online", "two threads on two CPUs");
		return tap_done();
	}
	err = h_open(&h, NULL);
	if (err) {
		TAP_CHECK(0, "load corral.bpf.o with a fake clock: %s", strerror(-err));
		return tap_done();
	}
	for (p = 0; p < 2; p++) {
		for (single = 0; single <= 1; single++) {
			for (b = 0; b < sizeof(bursts) / sizeof(bursts[0]); b++) {
				__u64 pass, drop, retry, el;

				err = hammer(&h, progs[p], single, 1, bursts[b], 0, &pass, &drop,
					     &retry, &el, NULL);
				/*
				 * A packet that loses every CAS race is dropped (and
				 * counted); while 10,000+ packets follow, its token
				 * goes to a later one, so exactly burst pass. With
				 * burst 19,999 nothing follows: a shortfall of at most
				 * the exhausted retries is allowed there.
				 */
				int exact = bursts[b] <= PER_THREAD;
				int ok = exact ? pass == bursts[b] :
					 pass <= bursts[b] && pass + retry >= bursts[b];

				TAP_CHECK(!err && ok && pass + drop == 2 * PER_THREAD,
					  "[%s] 2 CPUs x %d packets (%s), frozen clock, burst %llu: "
					  "%llu pass%s, %llu rate drops (CAS retries exhausted: %llu)%s%s",
					  h_prog_name(progs[p]), PER_THREAD,
					  single ? "10,000 runs" : "repeat 10,000",
					  (unsigned long long)bursts[b], (unsigned long long)pass,
					  exact ? " (exactly burst)" : " (burst - retries .. burst)",
					  (unsigned long long)drop, (unsigned long long)retry,
					  err ? "; error: " : "", err ? strerror(-err) : "");
			}
		}
		/* the clock advancing in a third thread: never more than the bucket allows */
		{
			__u64 rate = 1000, burst = 50, pass, drop, retry, el, cap;

			err = hammer(&h, progs[p], 1, rate, burst, 100000, &pass, &drop, &retry, &el,
				     NULL);
			cap = burst + el / (NSEC / rate);
			TAP_CHECK(!err && pass >= burst && pass <= cap && pass + drop == 2 * PER_THREAD,
				  "[%s] 2 CPUs, clock advancing %llu ns in a 3rd thread: %llu pass "
				  "<= burst + elapsed/cost = %llu (retries exhausted %llu)",
				  h_prog_name(progs[p]), (unsigned long long)el,
				  (unsigned long long)pass, (unsigned long long)cap,
				  (unsigned long long)retry);
		}
		/* a limit rule: both CPUs count its hits, from the first packet on */
		for (single = 0; single <= 1; single++) {
			struct corral_hits hv;
			__u64 pass, drop, retry, el;

			err = hammer(&h, progs[p], single, 1, 100, 0, &pass, &drop, &retry, &el, &hv);
			TAP_CHECK(!err && hv.packets == 2 * PER_THREAD && hv.dropped == drop &&
				  pass + drop == 2 * PER_THREAD,
				  "[%s] 2 CPUs x %d packets (%s) under a limit rule: hits %llu "
				  "packets, %llu dropped = %llu rate drops%s%s",
				  h_prog_name(progs[p]), PER_THREAD,
				  single ? "10,000 runs" : "repeat 10,000",
				  (unsigned long long)hv.packets, (unsigned long long)hv.dropped,
				  (unsigned long long)drop, err ? "; error: " : "",
				  err ? strerror(-err) : "");
		}
	}
	h_close(&h);
	return tap_done();
}
