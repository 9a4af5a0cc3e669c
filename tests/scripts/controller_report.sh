#!/bin/bash
# controller_report.sh - the controller benchmark's report on made-up runs:
# medians and spreads, summed success counts, per-run rows and the count of
# runs meeting each target (tools/bench/controller_report.sh), without a lab.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
has() { # WHAT LINE: the report holds LINE exactly
	if grep -qxF -- "$2" "$CR_DIR/out"; then ok "$1"; else nok "$1: no line \"$2\""; fi
}

for s in controller.sh controller_report.sh; do
	if bash -n "$ROOT/tools/bench/$s"; then ok "bash -n $s"; else nok "bash -n $s"; fi
done

# shellcheck source=tools/bench/controller_report.sh
. "$ROOT/tools/bench/controller_report.sh"
CR_DIR=$(mktemp -d /tmp/corral-crtest.XXXXXX)
trap 'rm -rf "$CR_DIR"' EXIT
# shellcheck disable=SC2034 # read by cr_report
MODE=full STEP_S=5 CR_C=200 CR_N=3 CR_PLOT_RUN=2

# three runs: goodput at 3x 88 / 95 / 99, class 1 at 3x 100 / 99 / 97 of 100,
# settling 0.2 / 0.4 / 3.0 s, oscillation 2 / 12 / 5 %
run() { # I GP2 C1OK2 SETTLE OSC
	mkdir -p "$CR_DIR/run$1"
	{
		for i in 0 1 3; do
			printf 'gp%d 50\ngpo%d 100\nc1ok%d 100\nc1sent%d 100\nc6ok%d 400\nc6sent%d 400\n' \
				"$i" "$i" "$i" "$i" "$i" "$i"
		done
		printf 'gp2 %s\ngpo2 %s\nc1ok2 %s\nc1sent2 100\nc6ok2 900\nc6sent2 2900\n' "$2" "$2" "$3"
		printf 'settle %s\nsettled yes\nfinal_share 0.33\novershoot 5\nmin_share 0.3\n' "$4"
		printf 'osc %s\nrelease 2.5\ntick_cpu_med 300\ntick_cpu_mean 500\nproc_us 800\nticks 200\n' "$5"
	} >"$CR_DIR/run$1/metrics"
}
run 1 88 100 0.2 2
run 2 95 99 0.4 12
run 3 99 97 3.0 5
cr_report >"$CR_DIR/out" 2>&1

has "3x row: goodput median and spread, class 1 summed" \
	"| 3.0x | 95 [88-99] | 95 [88-99] | 296/300 (98.7%) | 2700/8700 (31.0%) |"
has "settling median and spread" \
	"| settling time (last exit from +-10% of the final value) | 0.4 [0.2-3.0] s | <= 1 s |"
has "per-run row with the lowest class-1 step" "| 3 | 50% | 99% | 97.0% | 3.0 s | 5% |"
has "goodput target: median met, runs counted" "| goodput at 3x >= 90% of C | 95% | met | 2 of 3 runs |"
has "class-1 target on the median run's lowest step" \
	"| class 1 >= 99% at every step | lowest step 99% | met | 2 of 3 runs |"
has "settling target" "| settling after 1.4x within 1 s | 0.4 s | met | 2 of 3 runs |"
has "oscillation target: median 5, one run over" "| oscillation within 10% | 5% | met | 2 of 3 runs |"

# a median that misses says by how much
run 2 85 99 0.4 12
run 3 80 97 3.0 5
cr_report >"$CR_DIR/out" 2>&1
has "a missed target says by how much" \
	"| goodput at 3x >= 90% of C | 85% | missed by 5.0 | 0 of 3 runs |"

echo "1..$n"
[ "$failed" -eq 0 ]
