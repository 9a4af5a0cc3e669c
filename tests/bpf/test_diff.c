// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_diff.c - fixed-seed differential run: random and mutated frames
 * under random policies through corral_xdp and corral_tc_in
 * (BPF_PROG_TEST_RUN, fake clock) and through the reference model in
 * tests/model. Every disagreement in verdict or counters fails, printed as
 * a reproducible case (build/tools/diff_fuzz --seed S --policy P).
 * Regression cases found by the fuzzer run first, as a packet table.
 */
#include "../model/model.c"
#include "../model/diff_engine.c"
#include "tap.h"

TAP_DEFINE;

#define DIFF_SEED 0x636f7272616cULL
#define DIFF_POLICIES 200
#define DIFF_PKTS 500

#include "../model/regress.c"

int main(void)
{
	struct diff_opts o = {
		.seed = DIFF_SEED,
		.policies = DIFF_POLICIES,
		.pkts_per_policy = DIFF_PKTS,
		.min_packets = 100000,
		.only_policy = -1,
		.max_reports = 8,
	};
	struct diff_engine e;
	struct diff_result res;
	double t0, dev = 0;
	int err, frac_ok;

	libbpf_set_print(NULL);
	err = diff_engine_open(&e, &res);
	TAP_CHECK(!err, "two data plane instances (xdp, tc) and two models open%s%s",
		  err ? ": " : "", err ? strerror(-err) : "");
	if (err) {
		diff_engine_close(&e);
		return tap_done();
	}

	regress_run(&e, &o);

	t0 = mono_s();
	err = diff_run(&e, &o);
	diff_summary(&res, mono_s() - t0);
	TAP_CHECK(!err, "differential run completed without errors%s%s", err ? ": " : "",
		  err ? strerror(-err) : "");
	TAP_CHECK(res.packets >= 100000, "fixed-seed run covers at least 100000 packets (%ld)",
		  res.packets);
	TAP_CHECK(res.disagreements == 0,
		  "corral_xdp and corral_tc_in agree with the model: %ld disagreements in %ld "
		  "packets under %ld policies (seed %llu%s%ld)",
		  res.disagreements, res.packets, res.policies, (unsigned long long)o.seed,
		  res.disagreements ? ", first: --policy " : "",
		  res.disagreements ? res.first_policy : 0L);
	TAP_CHECK(res.oracle.conflicts == 0,
		  "shed and herd decisions fit one place per source (%llu conflicts)",
		  (unsigned long long)res.oracle.conflicts);
	frac_ok = diff_frac_ok(&res, &dev);
	TAP_CHECK(res.oracle.frac_decisions >= 100 && frac_ok,
		  "fractional shedding drops the fraction F of sources: %llu of %llu, expected "
		  "%.1f (%.1f sigma)",
		  (unsigned long long)res.oracle.frac_shed,
		  (unsigned long long)res.oracle.frac_decisions, res.oracle.frac_expect, dev);
	{
		long i, seen = 0;
		static const int need[] = { CORRAL_R_PASS, CORRAL_R_ALLOW, CORRAL_R_NONIP,
					    CORRAL_R_RATE, CORRAL_R_SHED, CORRAL_R_DENY,
					    CORRAL_R_MALFORMED, CORRAL_R_SYN_DEFER, CORRAL_R_SYN_CAP };

		for (i = 0; i < (long)(sizeof(need) / sizeof(need[0])); i++)
			seen += res.by_reason[need[i]] >= 100;
		TAP_CHECK(seen == (long)(sizeof(need) / sizeof(need[0])),
			  "every verdict reason is exercised at least 100 times (%ld of %ld)", seen,
			  (long)(sizeof(need) / sizeof(need[0])));
	}
	diff_engine_close(&e);
	return tap_done();
}
