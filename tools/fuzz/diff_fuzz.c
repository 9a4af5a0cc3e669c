// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * diff_fuzz.c - open-ended differential fuzzing of corral_xdp and
 * corral_tc_in against the reference model (the engine of
 * tests/bpf/test_diff.c, with a seed and a time budget).
 *
 *   diff_fuzz [--seed N] [--seconds S] [--policies N] [--packets N]
 *             [--policy P [--verbose]] [--max-reports N]
 *
 * Without --seed the seed comes from the clock and is printed first.
 * --policy P replays one policy of a seed exactly (every disagreement
 * report names it). Exit status 1 when any disagreement was found.
 */
#include <getopt.h>
#include <limits.h>
#include "../../tests/model/model.c"
#include "../../tests/model/diff_engine.c"

static void usage(FILE *f)
{
	fprintf(f, "usage: diff_fuzz [--seed N] [--seconds S] [--policies N] [--packets N]\n"
		   "                 [--policy P] [--verbose] [--max-reports N]\n");
}

static int parse_u64(const char *what, const char *s, unsigned long long max,
		     unsigned long long *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (!s || !*s || *s == '-') {
		fprintf(stderr, "corral: %s: \"%s\": not a number\n", what, s ? s : "");
		return -EINVAL;
	}
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max) {
		fprintf(stderr, "corral: %s: \"%s\": %s\n", what, s,
			errno ? strerror(errno) : *end ? "not a number" : "out of range");
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ "policies", required_argument, NULL, 'n' },
		{ "packets", required_argument, NULL, 'k' },
		{ "policy", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "max-reports", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct diff_opts o = {
		.seconds = 60,
		.pkts_per_policy = 1000,
		.only_policy = -1,
		.max_reports = 20,
	};
	int have_seed = 0, have_seconds = 0, have_policies = 0, c, err;
	struct diff_engine e;
	struct diff_result res;
	unsigned long long v;
	double t0, dev = 0;

	while ((c = getopt_long(argc, argv, "s:t:n:k:p:vr:h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_u64("seed", optarg, ULLONG_MAX, &v))
				return 2;
			o.seed = v;
			have_seed = 1;
			break;
		case 't':
			if (parse_u64("seconds", optarg, 1000000, &v))
				return 2;
			o.seconds = (double)v;
			have_seconds = 1;
			break;
		case 'n':
			if (parse_u64("policies", optarg, LONG_MAX, &v))
				return 2;
			o.policies = (long)v;
			have_policies = 1;
			break;
		case 'k':
			if (parse_u64("packets", optarg, 100000000, &v) || !v) {
				fprintf(stderr, "corral: packets: must be 1..100000000\n");
				return 2;
			}
			o.pkts_per_policy = (long)v;
			break;
		case 'p':
			if (parse_u64("policy", optarg, LONG_MAX, &v))
				return 2;
			o.only_policy = (long)v;
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'r':
			if (parse_u64("max-reports", optarg, INT_MAX, &v))
				return 2;
			o.max_reports = (int)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "corral: diff_fuzz: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		o.seed = (__u64)ts.tv_sec * 1000000007ULL ^ (__u64)ts.tv_nsec;
	}
	if (have_policies && !have_seconds)
		o.seconds = 0;
	printf("# diff_fuzz seed %llu\n", (unsigned long long)o.seed);

	libbpf_set_print(NULL);
	err = diff_engine_open(&e, &res);
	if (err) {
		fprintf(stderr, "corral: diff_fuzz: open: %s\n", strerror(-err));
		diff_engine_close(&e);
		return 2;
	}
	t0 = mono_s();
	err = diff_run(&e, &o);
	diff_summary(&res, mono_s() - t0);
	if (res.oracle.frac_decisions >= 100 && !diff_frac_ok(&res, &dev)) {
		printf("# fractional shedding off by %.1f sigma\n", dev);
		res.disagreements++;
	}
	diff_engine_close(&e);
	if (err) {
		fprintf(stderr, "corral: diff_fuzz: %s\n", strerror(-err));
		return 2;
	}
	return res.disagreements ? 1 : 0;
}
