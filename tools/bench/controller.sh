#!/bin/bash
# controller.sh - the controller under a stepped overload (make bench).
#
#   tools/bench/controller.sh [quick|full]      as root, after make
#
# Lab: tools/lab/overload_lab.sh (namespaces covb-v, covb-c): herd_service
# with capacity C = 200 requests/s (4 workers, backlog 16) on port 8080,
# corral attached, `corral run` with `controller target queue 50%`.
# Offered load (open loop, loadgen, one TCP connection per request, 2 s
# timeout) steps through 0.5x -> 1.4x -> 3x -> 0.5x of C: class 1 (critical,
# 16 sources) offers 0.1 x C throughout, class 6 (bulk, 1024 sources) the
# rest. /metrics is sampled every 100 ms.
#
# Reports per step: goodput (responses on time, % of C, from the step's
# second second on), class-1 and class-6 success; after the 1.4x step:
# settling time and overshoot of the admitted share (the law's variable,
# which sets the shed level) and the oscillation once settled; the
# controller's CPU per tick (corral_tick_cpu_seconds, and /proc/PID/stat
# over the run).
# full: RUNS (5) runs with steps of 5 s, medians and spread, writes
#       docs/bench-controller.md and docs/controller-step.png (the run
#       with the median oscillation); quick: RUNS (1) run with steps of
#       3 s, prints only. The report is made by controller_report.sh.
set -u
cd "$(dirname "$0")/../.." || exit 1
MODE=${1:-full}
case $MODE in
quick) STEP_S=3 RUNS=${RUNS:-1} ;;
full) STEP_S=5 RUNS=${RUNS:-5} ;;
once) STEP_S=${2:?} OUT=${3:?} ;;   # internal: one run, metrics to OUT
-h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "controller.sh: unknown mode \"$MODE\" (quick or full)" >&2; exit 2 ;;
esac
DOC=docs/bench-controller.md
PNG=docs/controller-step.png

if [ "$MODE" != once ]; then
	# shellcheck source=tools/bench/controller_report.sh
	source tools/bench/controller_report.sh
	ctl_bench_main
	exit $?
fi

export OV_P=${OV_P:-covb}
export CORRAL_PIN_DIR=/sys/fs/bpf/cov_$$
export CORRAL_RUN_DIR
CORRAL_RUN_DIR=$(mktemp -d /tmp/corral-ov-run.XXXXXX)
export OV_METRICS=${OV_METRICS:-19479}
# shellcheck source=tools/lab/overload_lab.sh
source tools/lab/overload_lab.sh

missing=$(ov_missing)
if [ -n "$missing" ]; then
	echo "controller.sh: needs $missing" >&2
	exit 1
fi
SAMPLER=
cleanup() {
	[ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null && wait "$SAMPLER" 2>/dev/null
	ov_lab_down
	rm -rf "$CORRAL_RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

C=$OV_CAP
C1=$((C / 10))
# total offered per step, in tenths of C
STEPS_X10="5 14 30 5"
c6_steps='' labels=()
for x in $STEPS_X10; do
	c6_steps+="${c6_steps:+,}$((C * x / 10 - C1)):${STEP_S}s"
	labels+=("$(awk -v x="$x" 'BEGIN { printf "%.1fx", x / 10 }')")
done
NSTEPS=4
TOTAL_S=$((STEP_S * NSTEPS))

ov_lab_up || { echo "controller.sh: lab setup failed" >&2; exit 1; }
ov_svc_start $((TOTAL_S + 20)) || exit 1
ov_ctl_start || exit 1
CTL_PID=$OV_CTL_PID

# sampler: one line per 100 ms: unix_ms level share queue load tick_cpu ticks
# queue_load conn_rate conn_capacity
sample_loop() {
	while :; do
		ov_scrape 2>/dev/null | awk -v t="$(date +%s%3N)" '
			$1 == "corral_shed_level" { l = $2 }
			$1 == "corral_admitted_share" { s = $2 }
			$1 == "corral_signal{name=\"queue\"}" { q = $2 }
			$1 == "corral_signal{name=\"load\"}" { d = $2 }
			$1 == "corral_tick_cpu_seconds" { c = $2 }
			$1 == "corral_ticks_total" { n = $2 }
			$1 == "corral_signal{name=\"queue_load\"}" { ql = $2 }
			$1 == "corral_signal{name=\"conn_rate\"}" { cr = $2 }
			$1 == "corral_signal{name=\"conn_capacity\"}" { cc = $2 }
			END { if (n != "") print t, l, s, q + 0, d + 0, c, n, ql + 0, cr + 0, cc + 0 }'
		sleep 0.1
	done
}
sample_loop >"$OV_WORK/samples.txt" &
SAMPLER=$!

cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
cpu0=$(cpu_ticks "$CTL_PID")
sleep 1
start_ms=$(($(date +%s%3N) + 300))
echo "controller.sh: C = $C/s; steps ${labels[*]} of ${STEP_S}s each; class 1 at $C1/s"
ov_load c6 "$OV_C6_SRC" "$OV_C6_SRCS" "$c6_steps" --start-at "$start_ms"
ov_load c1 "$OV_C1_SRC" "$OV_C1_SRCS" "$C1:${TOTAL_S}s" --start-at "$start_ms"
ov_load_wait c6 || exit 1
ov_load_wait c1 || exit 1
cpu1=$(cpu_ticks "$CTL_PID")
kill "$SAMPLER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null
SAMPLER=
ov_ctl_stop
ov_svc_stop

t0=$(ov_field c6 start_unix_ms)
hz=$(getconf CLK_TCK)

# ---- per step ------------------------------------------------------------
for ((i = 0; i < NSTEPS; i++)); do
	a=$((t0 + i * STEP_S * 1000)) b=$((t0 + (i + 1) * STEP_S * 1000))
	x=$(echo "$STEPS_X10" | awk -v i=$((i + 1)) '{ print $i }')
	gp=$(ov_goodput $((a + 1000)) "$b")
	read -r c1s c1o < <(awk -F, -v a="$a" -v b="$b" 'NR > 1 && $2 >= a && $2 < b { s += $3; o += $4 }
		END { print s + 0, o + 0 }' "$OV_WORK/c1.csv")
	c6s=$(jq ".steps[$i].sent" "$OV_WORK/c6.json") c6o=$(jq ".steps[$i].ok" "$OV_WORK/c6.json")
	# goodput against what could be served: min(offered, C)
	gpo=$(awk -v g="$gp" -v x="$x" 'BEGIN { m = x < 10 ? x * 10 : 100; printf "%.1f", g * 100 / m }')
	gp_x[i]=$gp gpo_x[i]=$gpo c1_ok[i]=$c1o c1_sent[i]=$c1s c6_ok[i]=$c6o c6_sent[i]=$c6s
done

# ---- settling after the 1.4x step ------------------------------------------
# admitted share samples within the 1.4x step, time from the step
a=$((t0 + STEP_S * 1000)) b=$((t0 + 2 * STEP_S * 1000))
settle=$(awk -v a="$a" -v b="$b" '
	$1 >= a && $1 < b { n++; t[n] = ($1 - a) / 1000; s[n] = $3; l[n] = $2 }
	END {
		if (n < 10) { print "n/a n/a n/a n/a n/a"; exit }
		# final value: mean over the last 2 s of the step
		for (i = 1; i <= n; i++) if (t[i] >= t[n] - 2) { f += s[i]; k++ }
		f /= k
		lo = 1e9; hi = -1e9; mn = 1e9; lmin = 1e9; lmax = -1
		for (i = 1; i <= n; i++) {
			if (s[i] < mn) mn = s[i]
			if (t[i] >= t[n] - 2) { if (s[i] < lo) lo = s[i]; if (s[i] > hi) hi = s[i] }
		}
		# settled: the last time the share was outside +-10% of the final value
		st = 0
		for (i = 1; i <= n; i++) if (s[i] > f * 1.1 || s[i] < f * 0.9) st = t[i]
		# overshoot of shedding: how far the admitted share went below the final value
		printf "%.2f %.3f %.1f %.1f %.3f\n", st, f, (f - mn) * 100 / f, (hi - lo) * 100 / f, mn
	}' "$OV_WORK/samples.txt")
read -r settle_s final_share overshoot_pct osc_pct min_share <<<"$settle"
# after the load falls back to 0.5x: how long the controller still sheds
a=$((t0 + 3 * STEP_S * 1000))
release_s=$(awk -v a="$a" '$1 >= a && $2 >= 8 { printf "%.1f", ($1 - a) / 1000; f = 1; exit }
	END { if (!f) print "more than the step" }' "$OV_WORK/samples.txt")
settled=$(awk -v s="$settle_s" -v d="$STEP_S" 'BEGIN { print (s != "n/a" && s < d - 2) ? "yes" : "no" }')

# ---- controller cost -------------------------------------------------------
read -r tick_cpu_us ticks < <(awk -v a="$t0" '$1 >= a { c += $6; k++; n = $7 } END {
	printf "%.0f %d\n", (k ? c * 1e6 / k : 0), n }' "$OV_WORK/samples.txt")
tick_cpu_med=$(awk -v a="$t0" '$1 >= a { print $6 * 1e6 }' "$OV_WORK/samples.txt" | sort -n |
	awk '{ v[NR] = $1 } END { printf "%.0f", (NR ? v[int((NR + 1) / 2)] : 0) }')
ticks0=$(awk -v a="$t0" '$1 >= a { print $7; exit }' "$OV_WORK/samples.txt")
proc_us=$(awk -v u="$((cpu1 - cpu0))" -v hz="$hz" -v n="$((ticks - ticks0))" \
	'BEGIN { printf "%.0f", (n > 0 ? u * 1e6 / hz / n : 0) }')

# ---- time series and plot --------------------------------------------------
# t (s from the first step), offered (% of C), goodput (% of C, 100 ms),
# shed level, admitted share, queue fill (% of backlog)
awk -F, -v t0="$t0" -v c="$C" -v st="$STEP_S" -v xs="$STEPS_X10" -v samples="$OV_WORK/samples.txt" '
	BEGIN {
		split(xs, x, " ")
		while ((getline line < samples) > 0) {
			split(line, f, " "); k = int((f[1] - t0) / 100)
			lv[k] = f[2]; sh[k] = f[3]; q[k] = f[4] * 100
		}
		print "t_s,offered_pct,goodput_pct,shed_level,admitted_share,queue_pct"
	}
	NR > 1 && $2 >= t0 && $2 < t0 + 4 * st * 1000 {
		k = int(($2 - t0) / 100); s = int(k / (st * 10)) + 1
		if (lv[k] != "") { l = lv[k]; a = sh[k]; qq = q[k] }
		printf "%.1f,%d,%.1f,%s,%s,%s\n", k / 10, x[s] * 10, $4 * 10 * 100 / c, l, a, qq
	}' "$OV_WORK/service.csv" >"$OV_WORK/step.csv"

# ---- this run's figures, for controller_report.sh ---------------------------
mkdir -p "$OUT"
cp "$OV_WORK/step.csv" "$OV_WORK/samples.txt" "$OUT/"
{
	for ((i = 0; i < NSTEPS; i++)); do
		echo "gp$i ${gp_x[i]}"
		echo "gpo$i ${gpo_x[i]}"
		echo "c1ok$i ${c1_ok[i]}"
		echo "c1sent$i ${c1_sent[i]}"
		echo "c6ok$i ${c6_ok[i]}"
		echo "c6sent$i ${c6_sent[i]}"
	done
	echo "settle $settle_s"
	echo "settled $settled"
	echo "final_share $final_share"
	echo "overshoot $overshoot_pct"
	echo "min_share $min_share"
	echo "osc $osc_pct"
	echo "release $release_s"
	echo "tick_cpu_med $tick_cpu_med"
	echo "tick_cpu_mean $tick_cpu_us"
	echo "proc_us $proc_us"
	echo "ticks $((ticks - ticks0))"
} >"$OUT/metrics"
