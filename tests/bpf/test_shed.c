// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_shed.c - priority shedding by sources (bpf/shed.h).
 *
 * At level L.F, classes above L drop, class L drops the fraction F of its
 * *sources* (a keyed hash places each source on a circle; a window of width
 * F turns once per epoch), class 0 is never shed, and a controller-owned
 * shed word is ignored once the heartbeat is older than hb_timeout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "pkt.h"
#include "harness.h"

TAP_DEFINE;

#define NSEC 1000000000ULL
#define EPOCH (10 * NSEC)           /* h_cfg_defaults() epoch */
#define T0 (100 * EPOCH + NSEC / 1000)
#define NSRC 10000

static __u8 frame[NSRC][128];
static int flen;

/* source i: 10.78.(i >> 8).(i & 255) (or fd77:78:i::1 for v6), udp to 53 */
static void build_sources(int family, __u8 dscp)
{
	struct pkt_spec s;
	__u8 src[16], dst[16];
	int i;

	pkt_ip6(dst, 0xfd77, 0, 1, 0, 0, 0, 0, 2);
	for (i = 0; i < NSRC; i++) {
		if (family == 4)
			pkt_spec_v4(&s, PKT_IP4(10, 78, i >> 8, i & 255), PKT_IP4(10, 77, 0, 2),
				    PKT_UDP, 40000, 53);
		else {
			pkt_ip6(src, 0xfd77, 0x78, i, 0, 0, 0, 0, 1);
			pkt_spec_v6(&s, src, dst, PKT_UDP, 40000, 53);
		}
		s.dscp = dscp;
		s.payload_len = 8;
		flen = pkt_build(&s, frame[i], sizeof(frame[i]), NULL);
	}
}

/* run n sources once; drop[i] = 1 when dropped; returns drops or -errno */
static int run_sources(struct harness *h, enum h_prog p, int n, __u8 *drop)
{
	int i, d = 0;

	for (i = 0; i < n; i++) {
		int v = h_run(h, p, frame[i], flen);

		if (v < 0)
			return v;
		drop[i] = v == H_DROP;
		d += drop[i];
	}
	return d;
}

static void set_class(struct harness *h, __u8 dflt)
{
	struct corral_cfg c;

	h_cfg_get(h, &c);
	c.default_class = dflt;
	h_cfg_set(h, &c);
}

static int pct_ok(int n, int total, double want, double tol)
{
	double f = (double)n / total;

	return f >= want - tol && f <= want + tol;
}

static void test_fraction(struct harness *h, int family)
{
	static __u8 d1[NSRC], d2[NSRC], d3[NSRC];
	struct h_stats before, after;
	int n1, n2, n3, n4, same = 0, both = 0, i;
	const char *fam = family == 4 ? "v4" : "v6";

	h_reset(h);
	set_class(h, 5);
	h_set_now(h, T0);
	h_set_shed(h, CORRAL_SHED_PACK(5, 5000, CORRAL_SCOPE_NEW, CORRAL_SHED_ON));
	build_sources(family, 0);

	h_stats_read(h, &before);
	n1 = run_sources(h, H_XDP, NSRC, d1);
	h_stats_read(h, &after);
	TAP_CHECK(n1 >= 0 && pct_ok(n1, NSRC, 0.50, 0.03),
		  "%s level 5.50: %d of %d class-5 sources dropped (%.2f%%, want 50 +- 3)", fam,
		  n1, NSRC, 100.0 * n1 / NSRC);
	TAP_CHECK(h_pkts(&after, &before, 5, CORRAL_R_SHED) == (__u64)n1 &&
		  h_pkts(&after, &before, 5, CORRAL_R_PASS) == (__u64)(NSRC - n1),
		  "%s level 5.50: counters shed %llu pass %llu match the verdicts", fam,
		  (unsigned long long)h_pkts(&after, &before, 5, CORRAL_R_SHED),
		  (unsigned long long)h_pkts(&after, &before, 5, CORRAL_R_PASS));

	/* the same instant through the other hook: the same set */
	n2 = run_sources(h, H_TC_IN, NSRC, d2);
	for (i = 0; i < NSRC; i++)
		same += d1[i] == d2[i];
	TAP_CHECK(n2 == n1 && same == NSRC,
		  "%s level 5.50: corral_tc_in drops the same sources at the same instant "
		  "(%d of %d agree)", fam, same, NSRC);

	/* 0.5 s on the window has slid 5% of the circle: 5% left, 5% came in */
	h_set_now(h, T0 + EPOCH / 20);
	n2 = run_sources(h, H_XDP, NSRC, d2);
	same = 0;
	for (i = 0; i < NSRC; i++)
		same += d1[i] == d2[i];
	TAP_CHECK(n2 >= 0 && pct_ok(NSRC - same, NSRC, 0.10, 0.02) && pct_ok(n2, NSRC, 0.50, 0.03),
		  "%s +0.5 s: %d sources changed (%.2f%%, want 10 +- 2: the window slides, "
		  "no swap of the whole set), %d dropped", fam, NSRC - same,
		  100.0 * (NSRC - same) / NSRC, n2);

	/* half an epoch on, a window of half the circle covers the others */
	h_set_now(h, T0 + EPOCH / 2);
	n3 = run_sources(h, H_XDP, NSRC, d3);
	for (i = 0; i < NSRC; i++)
		both += d1[i] && d3[i];
	TAP_CHECK(n3 >= 0 && pct_ok(n3, NSRC, 0.50, 0.03) && both <= NSRC / 1000,
		  "%s +epoch/2: %d dropped, %d of them dropped at the start too (want 0: the "
		  "other half)", fam, n3, both);

	/* one epoch on: the same set again */
	h_set_now(h, T0 + EPOCH);
	n4 = run_sources(h, H_XDP, NSRC, d2);
	same = 0;
	for (i = 0; i < NSRC; i++)
		same += d1[i] == d2[i];
	TAP_CHECK(n4 == n1 && same == NSRC, "%s +1 epoch: the same %d sources (%d of %d agree)",
		  fam, n4, same, NSRC);
}

/*
 * Over an epoch every source is shed for the same share of the time, F,
 * in one stretch: no source is shed for good, none is never shed.
 */
static void test_fraction_fair(struct harness *h)
{
	static __u8 d[NSRC];
	static unsigned char times[NSRC], runs[NSRC], prev[NSRC];
	const int K = 100;
	int lo = K, hi = 0, split = 0, i, k;

	h_reset(h);
	set_class(h, 5);
	h_set_shed(h, CORRAL_SHED_PACK(5, 3000, CORRAL_SCOPE_NEW, CORRAL_SHED_ON));
	build_sources(4, 0);
	memset(times, 0, sizeof(times));
	memset(runs, 0, sizeof(runs));
	for (k = 0; k < K; k++) {
		h_set_now(h, T0 + (__u64)k * (EPOCH / K));
		if (run_sources(h, H_XDP, NSRC, d) < 0)
			break;
		for (i = 0; i < NSRC; i++) {
			times[i] += d[i];
			runs[i] += d[i] && (k == 0 || !prev[i]);
			prev[i] = d[i];
		}
	}
	for (i = 0; i < NSRC; i++) {
		/* a stretch that wraps around the end of the epoch shows as two */
		lo = times[i] < lo ? times[i] : lo;
		hi = times[i] > hi ? times[i] : hi;
		split += runs[i] > 2;
	}
	TAP_CHECK(k == K && lo >= 29 && hi <= 31 && split == 0,
		  "level 5.30 over one epoch (%d instants): every source shed at %d..%d of them "
		  "(want 30 +- 1), in at most two stretches (%d sources in more)", K, lo, hi, split);
}

static void test_fraction_scale(struct harness *h)
{
	static __u8 d[NSRC];
	const int fr[] = { 2500, 9000, 100 };
	unsigned int k;

	for (k = 0; k < sizeof(fr) / sizeof(fr[0]); k++) {
		int n;

		h_reset(h);
		set_class(h, 5);
		h_set_now(h, T0);
		h_set_shed(h, CORRAL_SHED_PACK(5, fr[k], CORRAL_SCOPE_ALL, CORRAL_SHED_ON));
		build_sources(4, 0);
		n = run_sources(h, H_XDP, NSRC, d);
		double want = fr[k] / 10000.0, tol = want < 0.06 ? want / 2 : 0.03;

		TAP_CHECK(n >= 0 && pct_ok(n, NSRC, want, tol),
			  "level 5.%04d: %.2f%% of sources dropped (want %.2f +- %.1f)", fr[k],
			  100.0 * n / NSRC, 100 * want, 100 * tol);
	}
}

static void test_levels(struct harness *h)
{
	static __u8 d[NSRC];
	const struct { __u8 dscp, cls; } c[] = { { 0, 5 }, { 8, 6 }, { 16, 7 }, { 24, 4 } };
	unsigned int k;
	int n;

	h_reset(h);
	set_class(h, 5);
	h_dscp_set(h, 8, 6);
	h_dscp_set(h, 16, 7);
	h_dscp_set(h, 24, 4);
	h_set_now(h, T0);
	h_set_shed(h, CORRAL_SHED_PACK(5, 0, CORRAL_SCOPE_ALL, CORRAL_SHED_ON));
	for (k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		int want = c[k].cls > 5 ? 2000 : 0;

		build_sources(4, c[k].dscp);
		n = run_sources(h, H_XDP, 2000, d);
		TAP_CHECK(n == want, "level 5.0: class %u drops %d of 2000 sources (want %d)",
			  c[k].cls, n, want);
	}

	/* class 0 is never shed, even at level 0 with the whole level dropped */
	h_reset(h);
	set_class(h, 0);
	h_set_now(h, T0);
	h_set_shed(h, CORRAL_SHED_PACK(0, CORRAL_FRAC_ONE, CORRAL_SCOPE_ALL, CORRAL_SHED_ON));
	build_sources(4, 0);
	n = run_sources(h, H_XDP, 2000, d);
	TAP_CHECK(n == 0, "level 0.100%%: class 0 drops %d of 2000 sources (want 0)", n);
	build_sources(6, 0);
	n = run_sources(h, H_TC_IN, 2000, d);
	TAP_CHECK(n == 0, "level 0.100%%: v6 class 0 through corral_tc_in drops %d (want 0)", n);
	set_class(h, 1);
	n = run_sources(h, H_XDP, 2000, d);
	TAP_CHECK(n == 2000, "level 0.100%%: class 1 drops %d of 2000 (want all)", n);
}

static void test_heartbeat(struct harness *h)
{
	static __u8 d[NSRC];
	const __u64 hb_timeout = 2 * NSEC;      /* h_cfg_defaults() */
	__u64 now = T0 + 50 * NSEC;
	int n;

	h_reset(h);
	set_class(h, 6);
	h_set_now(h, now);
	build_sources(4, 0);
	h_set_shed(h, CORRAL_SHED_PACK(5, 0, CORRAL_SCOPE_ALL, CORRAL_SHED_ON | CORRAL_SHED_HB));

	h_set_heartbeat(h, now - NSEC / 10);
	n = run_sources(h, H_XDP, 500, d);
	TAP_CHECK(n == 500, "heartbeat 100 ms old: shed word honoured (%d of 500 dropped)", n);
	h_set_heartbeat(h, now - hb_timeout);
	n = run_sources(h, H_XDP, 500, d);
	TAP_CHECK(n == 500, "heartbeat exactly hb_timeout old: honoured (%d of 500 dropped)", n);
	h_set_heartbeat(h, now - hb_timeout - 1);
	n = run_sources(h, H_XDP, 500, d);
	TAP_CHECK(n == 0, "heartbeat hb_timeout + 1 ns old: shed word ignored (%d dropped)", n);
	n = run_sources(h, H_TC_IN, 500, d);
	TAP_CHECK(n == 0, "heartbeat stale: ignored by corral_tc_in too (%d dropped)", n);
	h_set_now(h, now + 60 * NSEC);
	h_set_heartbeat(h, now + 60 * NSEC);
	n = run_sources(h, H_XDP, 500, d);
	TAP_CHECK(n == 500, "fresh heartbeat again: honoured (%d of 500 dropped)", n);
	h_set_heartbeat(h, 0);
	n = run_sources(h, H_XDP, 500, d);
	TAP_CHECK(n == 0, "controller gone (heartbeat 0): nothing shed (%d dropped)", n);
	/* a word without CORRAL_SHED_HB (set by an operator) needs no heartbeat */
	h_set_shed(h, CORRAL_SHED_PACK(5, 0, CORRAL_SCOPE_ALL, CORRAL_SHED_ON));
	n = run_sources(h, H_XDP, 500, d);
	TAP_CHECK(n == 500, "shed word without the HB flag: honoured with a stale heartbeat "
		  "(%d of 500 dropped)", n);
}

int main(void)
{
	struct harness h;
	int err;

	err = h_open(&h, NULL);
	if (err) {
		TAP_CHECK(0, "load corral.bpf.o with a fake clock: %s", strerror(-err));
		return tap_done();
	}
	test_fraction(&h, 4);
	test_fraction(&h, 6);
	test_fraction_scale(&h);
	test_fraction_fair(&h);
	test_levels(&h);
	test_heartbeat(&h);
	h_close(&h);
	return tap_done();
}
