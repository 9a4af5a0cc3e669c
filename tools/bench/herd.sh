#!/bin/bash
# herd.sh - the reconnect-herd benchmark: N clients against a service of
# capacity C and backlog B, without corral, with a plain SYN bucket, with
# jittered admission (manual herd window N/C, opened before the herd) and
# with herd auto (corral run detects the herd and sizes the window from its
# first wave); for kernel-retry clients under both SYN schedules
# and for application reconnects with no backoff and with full jitter.
#
#   tools/bench/herd.sh [quick|full|defaults]
#       quick: N=5000 C=1000 B=4096 (default); full: also N=10000 C=1000
#       defaults: N=5000 C=1000 B=4096, every tools/herd retry mode, without
#       corral and with only "syn set ports P herd auto" + "controller ports
#       P" (no rate, no burst); writes docs/bench-herd-defaults.md
# Writes docs/bench-herd.md and docs/herd-*.png; prints the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE=${1:-quick}
BUILD=${BUILD:-build}
CORRAL=$PWD/$BUILD/corral
OUTROOT=$(mktemp -d /tmp/corral-herd-bench.XXXXXX)
export CORRAL_PIN_DIR=/sys/fs/bpf/corral_bench_herd
export HERD_PREFIX=bh
PORT=8080
trap 'rm -rf "$CORRAL_PIN_DIR" 2>/dev/null || true' EXIT

CLIENTS="kernel:linear kernel:exp none:linear full:linear"
METHODS="nocorral bucket jitter auto"
case $SIZE in
quick) POINTS="5000:1000:4096" ;;
full) POINTS="5000:1000:4096 10000:1000:4096" ;;
defaults)
	POINTS="5000:1000:4096"
	CLIENTS="kernel:linear kernel:exp none:linear expo:linear full:linear decorr:linear"
	METHODS="nocorral defaults" ;;
*) echo "herd bench: size quick|full|defaults, not \"$SIZE\"" >&2; exit 2 ;;
esac
[ -n "${HERD_METHODS:-}" ] && METHODS=$HERD_METHODS

runs=()
[ "${HERD_SYNFLOOD_ONLY:-0}" = 1 ] && POINTS_MAIN= || POINTS_MAIN=$POINTS
for point in $POINTS_MAIN; do
	IFS=: read -r N C B <<<"$point"
	window_ms=$(( N * 1000 / C ))
	# a wave may carry what the service serves within the clients' 2 s
	# timeout, with a margin: 1.5 s of capacity
	BURST=$(( C * 3 / 2 ))
	for cl in $CLIENTS; do
		IFS=: read -r mode sched <<<"$cl"
		for m in $METHODS; do
			dir=$OUTROOT/$N-$mode-$sched-$m
			setup= teardown=
			case $m in
			nocorral) ;;
			bucket)
				setup="$CORRAL attach dev bh-srv0 && $CORRAL syn set ports $PORT rate ${C}pps burst $BURST herd off"
				teardown="$CORRAL -j syn show > $dir/syn.json; $CORRAL detach dev bh-srv0" ;;
			jitter)
				setup="$CORRAL attach dev bh-srv0 && $CORRAL syn set ports $PORT rate ${C}pps burst $BURST herd on window ${window_ms}ms"
				teardown="$CORRAL -j syn show > $dir/syn.json; $CORRAL detach dev bh-srv0" ;;
			auto|defaults)
				mkdir -p "$dir"
				if [ "$m" = defaults ]; then
					printf '%s\n' "syn set ports $PORT herd auto" "controller ports $PORT" > "$dir/corral.conf"
				else
					printf '%s\n' "syn set ports $PORT rate ${C}pps burst $BURST herd auto" \
						"controller ports $PORT" "controller shed manual" > "$dir/corral.conf"
				fi
				setup="$CORRAL attach dev bh-srv0 && { CORRAL_RUN_DIR=$dir $CORRAL run -c $dir/corral.conf > $dir/controller.log 2>&1 & echo \$! > $dir/controller.pid; } && sleep 2"
				teardown="$CORRAL -j syn show > $dir/syn.json; kill \$(cat $dir/controller.pid); sleep 0.5; $CORRAL detach dev bh-srv0" ;;
			esac
			mkdir -p "$dir"
			label="$m, $mode"
			[ "$mode" = kernel ] && label="$label ($sched)"
			echo "$label" > "$dir/label"
			echo "herd bench: N=$N C=$C B=$B $label" >&2
			CORRAL_SETUP=$setup CORRAL_TEARDOWN=$teardown \
				tools/herd/herd.sh -q -n "$N" -c "$C" -b "$B" -m "$mode" -s "$sched" -d 40 \
				-o "$dir" > "$dir/out.txt" 2>&1 || echo "herd bench: run failed, see $dir/out.txt" >&2
			runs+=("$dir")
		done
	done
done

# The same herd under a concurrent spoofed SYN flood: 20,000 sources in
# 10.79.0.0/16, 5,000 SYN/s to the service port for 20 s, from the client
# namespace, without corral and with herd auto.
FLOOD_RUNS=()
if [ "${HERD_SYNFLOOD:-1}" = 1 ]; then
	IFS=: read -r N C B <<<"${POINTS%% *}"
	BURST=$(( C * 3 / 2 ))
	flood="$PWD/tools/herd/synflood.sh bh-cli bh-cli0 bh-srv bh-srv0 10.77.0.1 $PORT 20000 5000 20"
	FLOOD_METHODS="nocorral auto auto-cookies cookies"
	[ "$SIZE" = defaults ] && FLOOD_METHODS="nocorral defaults cookies"
	[ -n "${HERD_FLOOD_METHODS:-}" ] && FLOOD_METHODS=$HERD_FLOOD_METHODS
	for m in $FLOOD_METHODS; do
		dir=$OUTROOT/flood-$N-$m
		mkdir -p "$dir"
		echo "$m, kernel (linear), + SYN flood" > "$dir/label"
		case $m in
		nocorral)
			setup="{ $flood 2> $dir/synflood.txt & } ; sleep 1"
			teardown="true" ;;
		auto|defaults|cookies|auto-cookies)
			peer=
			if [ "$m" = defaults ]; then
				printf '%s\n' "syn set ports $PORT herd auto" "controller ports $PORT" > "$dir/corral.conf"
			elif [ "$m" = cookies ] || [ "$m" = auto-cookies ]; then
				# SYN cookies with the defaults (cookies) or with the
				# rate and burst of auto (auto-cookies); a veth delivers
				# XDP_TX frames only to a peer with an XDP program: a
				# pass-all one on the clients' end
				if [ "$m" = cookies ]; then
					printf '%s\n' "syn set ports $PORT herd auto cookies on" "controller ports $PORT" > "$dir/corral.conf"
				else
					printf '%s\n' "syn set ports $PORT rate ${C}pps burst $BURST herd auto cookies on" \
						"controller ports $PORT" "controller shed manual" > "$dir/corral.conf"
				fi
				peer="ip -n bh-cli link set bh-cli0 xdpdrv obj $PWD/$BUILD/peer_pass.bpf.o sec xdp && "
			else
				printf '%s\n' "syn set ports $PORT rate ${C}pps burst $BURST herd auto" \
					"controller ports $PORT" "controller shed manual" > "$dir/corral.conf"
			fi
			setup="$peer$CORRAL attach dev bh-srv0 && { CORRAL_RUN_DIR=$dir $CORRAL run -c $dir/corral.conf > $dir/controller.log 2>&1 & echo \$! > $dir/controller.pid; } && sleep 1 && { $flood 2> $dir/synflood.txt & } ; sleep 1"
			teardown="$CORRAL -j syn show > $dir/syn.json; $CORRAL -j status > $dir/status.json; kill \$(cat $dir/controller.pid); sleep 0.5; $CORRAL detach dev bh-srv0; ip -n bh-cli link set bh-cli0 xdpdrv off 2>/dev/null || true" ;;
		esac
		echo "herd bench: N=$N C=$C B=$B $m + SYN flood" >&2
		CORRAL_SETUP=$setup CORRAL_TEARDOWN=$teardown \
			tools/herd/herd.sh -q -n "$N" -c "$C" -b "$B" -m kernel -s linear -d 40 \
			-o "$dir" > "$dir/out.txt" 2>&1 || echo "herd bench: run failed, see $dir/out.txt" >&2
		FLOOD_RUNS+=("$dir")
	done
fi

flood_tail() {
	echo "20,000 spoofed sources (10.79.0.0/16) send 5,000 SYN/s to port $PORT for 20 s from the"
	echo "client namespace while the herd reconnects (kernel clients, linear schedule). The gate"
	echo "keeps no per-source state, so the flood evicts nothing; but without cookies a spoofed"
	echo "source whose offset has come takes SYN tokens like a real client does. With"
	echo "\`cookies on\` corral answers every SYN the gate would admit with a SYN cookie (XDP_TX),"
	echo "the gate only peeks at SYN time, and a token is taken when a real client's ACK checks:"
	echo "spoofed SYNs never reach the listener or take tokens. *cookies*: only"
	echo "\`syn set ports $PORT herd auto cookies on\` and \`controller ports $PORT\`; *auto-cookies*:"
	echo "the auto run's rate and burst with cookies on."
	echo
	tools/herd/table.sh "${FLOOD_RUNS[@]}"
	for d in "${FLOOD_RUNS[@]}"; do
		[ -s "$d/syn.json" ] && jq -r '"\nSYN gate counters with the flood (\(input_filename | split("/")[-2] | sub("flood-[0-9]+-"; ""))): seen \(.syn.counters.syn_seen), admitted \(.syn.counters.admitted), deferred \(.syn.counters.deferred), capped \(.syn.counters.capped), cookies sent \(.syn.counters.cookies_sent // 0)"' "$d/syn.json"
		[ -s "$d/status.json" ] && jq -r '.global | select(.cookie_ok > 0) | "cookies checked \(.cookie_ok), bad \(.cookie_bad), refused \(.cookie_refused), unanswered \(.cookie_unanswered)"' "$d/status.json"
	done
	echo
}

if [ ${#FLOOD_RUNS[@]} -gt 0 ] && [ "$SIZE" != defaults ]; then
	{
		echo "## Reconnect herd under a spoofed SYN flood"
		echo
		echo "Generated by \`make bench\` (tools/bench/herd.sh) on $(date -u +%Y-%m-%d), kernel $(uname -r)."
		echo "N=$N, C=$C/s, B=$B, request timeout 2 s."
		echo
		flood_tail
	} > docs/bench-herd-synflood.md
	cat docs/bench-herd-synflood.md
fi
[ "${HERD_SYNFLOOD_ONLY:-0}" = 1 ] && exit 0

# served by the clients' own count, from a run's summary
served_of() { awk '$1 == "SUMMARY" && $2 == "clients" { for (i = 3; i <= NF; i++) if ($i ~ /^served=/) { sub(/served=/, "", $i); print $i } }' "$1/summary.txt" 2>/dev/null; }

if [ "$SIZE" = defaults ]; then
	IFS=: read -r N C B <<<"$POINTS"
	{
		echo "## Reconnect herd with the defaults"
		echo
		echo "Generated by \`tools/bench/herd.sh defaults\` on $(date -u +%Y-%m-%d), kernel $(uname -r),"
		echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs."
		echo "N=$N, C=$C/s, B=$B, request timeout 2 s. **defaults**: only \`syn set ports $PORT herd auto\`"
		echo "and \`controller ports $PORT\` (no rate, no burst): the controller sizes the admission rate from"
		echo "the listener's accept rate and queue, and the burst from the rate and the backlog."
		echo
		tools/herd/table.sh "$OUTROOT/$N"-*
		echo
		echo "| clients | served without corral | served with the defaults | never worse |"
		echo "|---|---|---|---|"
		for cl in $CLIENTS; do
			IFS=: read -r mode sched <<<"$cl"
			a=$(served_of "$OUTROOT/$N-$mode-$sched-nocorral")
			b=$(served_of "$OUTROOT/$N-$mode-$sched-defaults")
			v=no
			[ -n "$a" ] && [ -n "$b" ] && [ "$b" -ge "$a" ] && v=yes
			echo "| $mode ($sched) | ${a:-?} | ${b:-?} | $v |"
		done
		if [ ${#FLOOD_RUNS[@]} -gt 0 ]; then
			echo
			echo "### The same herd under a spoofed SYN flood, with the defaults"
			echo
			flood_tail
		fi
	} > docs/bench-herd-defaults.md
	cat docs/bench-herd-defaults.md
	echo "herd bench: raw results in $OUTROOT" >&2
	exit 0
fi

{
	echo "## Reconnect herd"
	echo
	echo "Generated by \`make bench\` (tools/bench/herd.sh $SIZE) on $(date -u +%Y-%m-%d), kernel $(uname -r),"
	echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs."
	echo "Request timeout 2 s. Methods: **nocorral**; **bucket**: \`corral syn set ports $PORT rate C burst 1.5C herd off\`;"
	echo "**jitter**: the same plus \`herd on window N/C\` set before the herd (manual jittered admission);"
	echo "**auto**: \`herd auto\` with \`corral run\` watching port $PORT: it detects the herd, sizes the window"
	echo "from the first wave and adapts the SYN rate to the accept queue. Target with jittered admission:"
	echo "every client served, no timed-out request, no wasted work, no listen overflow, completion <= 1.5 x N/C + 2 s."
	echo
	for point in $POINTS; do
		IFS=: read -r N C B <<<"$point"
		echo "### N=$N, C=$C/s, B=$B (N/C = $(awk -v n="$N" -v c="$C" 'BEGIN { printf "%g", n / c }') s, target completion <= $(awk -v n="$N" -v c="$C" 'BEGIN { printf "%g", 1.5 * n / c + 2 }') s)"
		echo
		tools/herd/table.sh "$OUTROOT/$N"-*
		echo
	done
} > docs/bench-herd.md
if [ -x tools/herd/plot.sh ] && command -v gnuplot >/dev/null; then
	for m in $METHODS; do
		d=$(ls -d "$OUTROOT"/5000-kernel-linear-"$m" 2>/dev/null | head -n1)
		[ -n "$d" ] && tools/herd/plot.sh "$d" "docs/herd-$m.png" >/dev/null 2>&1 || true
	done
fi
cat docs/bench-herd.md
echo "herd bench: raw results in $OUTROOT" >&2
