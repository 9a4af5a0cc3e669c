#!/bin/bash
# flood.sh - flood benchmark: the same lab, the same flood, every method.
#
#   tools/bench/flood.sh [quick|full]     (root; quick is the default)
#
# Lab (tools/bench/flood_lab.sh): generator namespace -> veth -> victim
# namespace; the generator (build/tools/flood_gen: XDP live frames where the
# kernel allows them, else AF_PACKET; CF_GEN=xdp-live|af-packet forces one) runs on
# CPU $CF_GCPU, the victim's threaded NAPI on CPU $CF_VCPU. Every method
# runs against every point, RUNS times, in one invocation. Per run it
# records offered frames, frames the victim took, frames that reached the
# victim's IP delivery, victim CPU, and the legit client's answers.
#
# Output: $OUT_MD (docs/bench-flood.md by default, overwritten), the raw
# CSV next to it (docs/bench-flood.csv), docs/flood-cpu.png and
# docs/flood-legit.png (when gnuplot is installed).
#
# Environment: METHODS (default: all available), RUNS, SECS, OUT_MD,
# AGG_RATE/AGG_BURST (aggregate limiter), CF_GCPU/CF_VCPU.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# corral state of its own: tests or other runs on the host use the default pins
export CORRAL_PIN_DIR=${CORRAL_PIN_DIR:-/sys/fs/bpf/corral_bench_flood}
SIZE=${1:-quick}
TAG=b
# shellcheck source=flood_lab.sh
. "$ROOT/tools/bench/flood_lab.sh"

case $SIZE in
quick)
	: "${RUNS:=3}" "${SECS:=1.5}"
	# name family sources rate burst table legit_pps
	POINTS="heavy-1 4 1 100 10 1024 50
spread-64k 4 65536 100 10 65536 50
over-64k 4 65536 1 2 65536 1
new-v6 6 random 100 10 65536 50"
	SWEEP_RATES="300000 1000000" ;;
full)
	: "${RUNS:=5}" "${SECS:=4}"
	POINTS="heavy-1 4 1 100 10 1024 50
heavy-1k 4 1000 100 10 1024 50
spread-64k 4 65536 100 10 65536 50
over-64k 4 65536 1 2 65536 1
v6-1m 6 1048576 100 10 1048576 50
new-v6 6 random 100 10 65536 50"
	SWEEP_RATES="100000 300000 600000 1000000 2000000" ;;
*) echo "usage: $0 [quick|full]" >&2; exit 2 ;;
esac
: "${AGG_RATE:=10000}" "${AGG_BURST:=100}"
export AGG_RATE AGG_BURST
OUT_MD=${OUT_MD:-$ROOT/docs/bench-flood.md}
OUT_CSV=${OUT_MD%.md}.csv
DOCS=$(dirname "$OUT_MD")
HZ=$(getconf CLK_TCK)

[ "$(id -u)" -eq 0 ] || { echo "flood: needs root" >&2; exit 1; }
[ -x "$GEN" ] || { echo "flood: $GEN missing (make all)" >&2; exit 1; }
if [ -z "${METHODS:-}" ]; then
	METHODS=
	for m in $METHODS_ALL; do
		if method_available "$m"; then METHODS="$METHODS $m"
		else echo "flood: skipping $m (not built)" >&2; fi
	done
fi

cleanup() {
	for m in $METHODS; do method_off "$m" > /dev/null 2>&1; done
	lab_down
}
trap cleanup EXIT
trap 'exit 130' INT TERM

lab_up || { echo "flood: lab setup failed" >&2; exit 1; }
echo_start || { echo "flood: responder did not start" >&2; exit 1; }

get() { sed -n "s/.*\\b$1=\\([0-9.-]*\\).*/\\1/p" <<< "$2"; }

# busy share of both CPUs over 1 s with nothing of ours running: the noise
noise() {
	local a b
	a=$(awk '/^cpu[0-9]/ {print $1, $2 + $3 + $4 + $7 + $8, $5 + $6}' /proc/stat)
	sleep 1
	b=$(awk '/^cpu[0-9]/ {print $1, $2 + $3 + $4 + $7 + $8, $5 + $6}' /proc/stat)
	join <(echo "$a") <(echo "$b") |
		awk '{busy = $4 - $2; idle = $5 - $3; printf "%s=%.0f%% ", $1, 100 * busy / (busy + idle + 1e-9)}'
}

echo "point,method,target_pps,run,sent,secs,vpkts,vdrop,delivered,busy_ticks,napi_ns,legit_sent,legit_ok,lat_p50_us,lat_p99_us,gen" > "$OUT_CSV"
NOISE_LOG=()

one_run() { # point fam nsrc rate burst table legit method target run
	local point=$1 fam=$2 nsrc=$3 legit=$7 m=$8 target=$9 run=${10} b a out ratearg=()
	[ "$target" != max ] && ratearg=(rate "$target")
	b=$(victim_stats)
	out=$(gen_send family "$fam" sources "$nsrc" count 1000000000 time "$SECS" \
		legit-pps "$legit" "${ratearg[@]}")
	a=$(victim_stats)
	if [ -z "$out" ]; then
		echo "flood: generator failed ($point $m run $run)" >&2
		return 1
	fi
	local d
	d() { echo $(( $(get "$1" "$a") - $(get "$1" "$b") )); }
	echo "$point,$m,$target,$run,$(get sent "$out"),$(get secs "$out"),$(d vpkts),$(d vdrop),$(d udp),$(d busy),$(d napi),$(get legit_sent "$out"),$(get legit_ok "$out"),$(get lat_p50_us "$out"),$(get lat_p99_us "$out"),$(sed -n 's/^gen=\([a-z-]*\).*/\1/p' <<< "$out")" >> "$OUT_CSV"
	printf '  %-10s %-19s %8s run %d: sent %s victim %s delivered %s legit %s/%s\n' \
		"$point" "$m" "$target" "$run" "$(get sent "$out")" "$(d vpkts)" "$(d udp)" \
		"$(get legit_ok "$out")" "$(get legit_sent "$out")"
}

run_point() { # point fam nsrc rate burst table legit targets...
	local point=$1 fam=$2 nsrc=$3 rate=$4 burst=$5 table=$6 legit=$7; shift 7
	local n
	n=$(noise)
	NOISE_LOG+=("$point: $n")
	echo "flood: $point ($fam, $nsrc sources, limit $rate/s burst $burst, table $table) idle load: $n"
	for m in $METHODS; do
		if ! method_on "$m" "$rate" "$burst" "$table"; then
			echo "flood: $m: setup failed, skipped at $point" >&2
			method_off "$m" > /dev/null 2>&1
			continue
		fi
		for target in "$@"; do
			for run in $(seq "$RUNS"); do
				one_run "$point" "$fam" "$nsrc" "$rate" "$burst" "$table" "$legit" "$m" "$target" "$run"
			done
		done
		method_off "$m" || echo "flood: $m: removal failed" >&2
	done
}

START=$(date -u +%Y-%m-%dT%H:%MZ)
first=1
while read -r point fam nsrc rate burst table legit; do
	if [ $first = 1 ]; then
		# shellcheck disable=SC2086
		run_point "$point" "$fam" "$nsrc" "$rate" "$burst" "$table" "$legit" max $SWEEP_RATES
		first=0
	else
		run_point "$point" "$fam" "$nsrc" "$rate" "$burst" "$table" "$legit" max
	fi
done <<< "$POINTS"

"$ROOT/tools/bench/flood_report.sh" "$OUT_CSV" "$OUT_MD" "$SIZE" "$START" "$HZ" \
	"$(printf '%s; ' "${NOISE_LOG[@]}")" "$DOCS"
